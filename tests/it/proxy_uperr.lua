-- proxy_uperr.lua -- the relay, and an answer from the proxy itself when
-- the upstream cannot be reached: the client reads this line, then EOF.
-- The reason is printed (to the log), for the test to count.
function on_upstream_error(conn, reason)
    print("on_upstream_error: " .. reason)
    return "-ERR upstream down\r\n"
end
