-- The upstream cannot be reached: the client gets an answer from the
-- proxy itself, then the close (the default action after the reply).
function on_upstream_error(conn, reason)
    ricochet.log("info", "upstream error: " .. reason)
    return "-ERR upstream down\r\n"
end
