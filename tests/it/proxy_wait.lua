-- proxy_wait.lua -- on_upstream_done holds the upstream's end back
-- ("wait") after a last line, and a timer passes it on to the client
-- 200 ms later.
function on_upstream_done(conn)
    conn:after(200, function()
        conn:shutdown()
    end)
    return "[held]", "wait"
end
