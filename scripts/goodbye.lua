-- goodbye.lua -- echo, then a delayed goodbye and half-close.
--
-- When the client has finished sending, on_done keeps our sending side open
-- ("wait") and schedules a timer; DELAY_MS later the server sends
-- "goodbye\r\n" and only then half-closes. Shows how a script decides when
-- the graceful shutdown starts.
--
--   ricochet scripts/goodbye.lua
--   printf 'hi' | nc -N 127.0.0.1 7007     -> hi, then goodbye after 300 ms

local DELAY_MS = 300

function on_done(conn)
    conn:after(DELAY_MS, function(c)
        return "goodbye\r\n", "shutdown"
    end)
    return nil, "wait"
end
