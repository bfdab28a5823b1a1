-- cut.lua -- cut what the client receives after N bytes: the client gets
-- the first N bytes the server sent, then a FIN (a clean half-close, not
-- a reset), as from a server that stopped mid-reply. The client may go on
-- sending: its bytes still reach the server, whose later replies are
-- dropped.
--
--   ricochet --upstream 127.0.0.1:8080 examples/cut.lua -- bytes=100
--   curl http://127.0.0.1:7007/big      -> (18) transfer closed with
--                                           outstanding read data remaining
--
-- Argument (after --): bytes=N (default 0: the client gets nothing).

local args = ricochet.args
for key in pairs(args) do
    if key ~= "bytes" then
        error("cut.lua: unknown argument '" .. key .. "' (bytes=N)", 0)
    end
end
local bytes = tonumber(args.bytes or "0")
if bytes == nil or bytes < 0 or bytes ~= math.floor(bytes) then
    error("cut.lua: bytes must be an integer >= 0, not '" .. args.bytes
          .. "'", 0)
end

function on_connect(conn)
    conn:close_after{bytes = bytes}
end
