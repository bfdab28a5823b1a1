-- Both directions scripted in proxy mode: what the client sends goes to
-- the upstream in upper case, what the upstream sends comes back in
-- brackets, and the upstream's FIN reaches the client after a last line
-- from the proxy itself (on_upstream_done's reply; a nil action passes
-- the FIN on).
function on_data(conn, data)
    return data:upper()
end

function on_upstream_data(conn, data)
    return "<" .. data .. ">"
end

function on_upstream_done(conn)
    return "bye\r\n"
end
