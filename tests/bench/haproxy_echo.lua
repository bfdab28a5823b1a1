-- haproxy_echo.lua -- HAProxy's Lua TCP service as an echo server, the
-- optional "haproxy" column of tests/bench/run.sh (HAProxy 2.6 with Lua):
--
--   global
--       lua-load haproxy_echo.lua
--   frontend echo
--       bind 127.0.0.1:PORT
--       tcp-request content use-service lua.echo
--
-- It echoes what the client sends and ends like the reference server:
-- once the client has half-closed and everything is sent back, the
-- service returns and HAProxy closes the connection.
--
-- The read size is fixed because HAProxy 2.6's applet:receive(size) waits
-- for exactly size bytes or the end of the stream; there is no "whatever
-- is available" form. A size larger than the client's message would wait
-- forever for a reply that never comes (pingpong, idle), so run.sh sets
-- RICOCHET_HAPROXY_READ to the mode's message size (16384 for bulk, where
-- the client streams and only the last read ends short, at the end of the
-- stream). It is read once, when HAProxy loads this file.

local read_size = tonumber(os.getenv("RICOCHET_HAPROXY_READ") or "")
if read_size == nil or read_size < 1 or read_size % 1 ~= 0 then
    error("haproxy_echo.lua: set RICOCHET_HAPROXY_READ to the message"
          .. " size in bytes (a whole number >= 1)")
end
read_size = math.tointeger(read_size)

core.register_service("echo", "tcp", function(applet)
    while true do
        local data = applet:receive(read_size)
        -- nil or "": the client has half-closed and nothing is left
        if data == nil or data == "" then
            return
        end
        applet:send(data)
    end
end)
