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

-- No arguments: one given is refused, so a typo does not pass unnoticed.
for key in pairs(ricochet and ricochet.args or {}) do
    error("goodbye.lua: unknown argument '" .. key .. "' (goodbye.lua takes "
          .. "none)", 0)
end

function on_done(conn)
    conn:after(DELAY_MS, function()
        return "goodbye\r\n", "shutdown"
    end)
    return nil, "wait"
end
