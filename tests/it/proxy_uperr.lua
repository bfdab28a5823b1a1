-- proxy_uperr.lua -- the relay, and an answer from the proxy itself when
-- the upstream cannot be reached: the client reads this line, then EOF.
function on_upstream_error(conn, reason)
    return "-ERR upstream down\r\n"
end
