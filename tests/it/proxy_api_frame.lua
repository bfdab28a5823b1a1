-- Proxy mode: what the upstream sends is cut into lines, one
-- on_upstream_data call each; the client gets each one bracketed.
-- What the client sends goes through in C.
function on_connect(conn)
    conn:connect()
    conn.upstream:frame("line")
end

function on_upstream_data(conn, line)
    return "<" .. line .. ">"
end
