-- Proxy mode: what goes to the upstream is held back 300 ms; what comes
-- back is not.
function on_connect(conn)
    conn:connect()
    conn.upstream:delay(300)
end
