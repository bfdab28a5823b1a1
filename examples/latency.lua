-- latency.lua -- hold back what the client receives: in front of a real
-- server (proxy mode), every reply reaches the client MS milliseconds
-- after the server sent it; the client's requests go through at once.
-- Without --upstream it is an echo whose replies are late.
--
--   ricochet --upstream 127.0.0.1:6379 examples/latency.lua -- ms=100
--   redis-cli -p 7007 --latency            -> min 100 ms and up
--
-- Arguments (after --): ms=MS (default 100), jitter=MS (default 0: each
-- reply MS plus or minus up to jitter, drawn from the --seed source;
-- replies never overtake each other). The bytes go across in C: there is
-- no data hook, only the shaping set when the connection opens.

local args = ricochet.args
local function number_arg(name, default)
    local v = args[name]
    if v == nil then return default end
    local n = tonumber(v)
    if n == nil or n < 0 then
        error("latency.lua: " .. name .. " must be a number >= 0, not '"
              .. v .. "'", 0)
    end
    return n
end
for key in pairs(args) do
    if key ~= "ms" and key ~= "jitter" then
        error("latency.lua: unknown argument '" .. key .. "' (ms=, jitter=)",
              0)
    end
end
local ms = number_arg("ms", 100)
local jitter = number_arg("jitter", 0)

function on_connect(conn)
    conn:delay(ms, jitter)
end
