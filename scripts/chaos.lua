-- chaos.lua -- Toxiproxy's faults on an echo server, chosen by arguments.
--
-- Every connection is a plain echo (done in C); the arguments add faults
-- to what the server sends back and to how the connection ends. Any of
-- them combine, on every connection or on a random share of them.
--
-- Arguments (after --; numbers are milliseconds or bytes):
--   latency=MS          hold each reply back MS ms            (latency)
--   jitter=MS           ... plus or minus up to MS ms, uniform (latency)
--   rate=BYTES          at most BYTES bytes per second        (bandwidth;
--                       Toxiproxy counts KB/s, this counts bytes/s)
--   slice=BYTES         send in writes of about BYTES bytes   (slicer)
--   slice_variation=B   ... each write BYTES plus or minus B
--   slice_gap=MS        ... MS ms between two writes
--   slow_close=MS       at the client's end, wait MS ms before our FIN
--                                                             (slow_close)
--   timeout=MS          pass nothing either way, then after MS ms drop it
--                       all and half-close; 0: never           (timeout)
--   reset_peer=MS       reset (RST) the connection MS ms after it opens
--                                                             (reset_peer)
--   limit_data=BYTES    after BYTES bytes sent back, half-close
--                                                             (limit_data)
--   down                reset every connection as soon as it opens (down:
--                       the closest a listening server gets to refusing)
--   blackhole           accept, then never read nor send (timeout=0)
--   probability=P       apply the faults to a connection with probability
--                       P, 0 to 1 (default 1), drawn per connection from
--                       ricochet.random(): the same --seed, the same picks
--
--   ricochet scripts/chaos.lua -- latency=200 jitter=50 rate=4096 \
--       probability=0.3
--   ricochet --seed 7 scripts/chaos.lua -- slice=10 slice_gap=20 limit_data=100

local args = ricochet and ricochet.args or {}

local known = {
    latency = true, jitter = true, rate = true, slice = true,
    slice_variation = true, slice_gap = true, slow_close = true,
    timeout = true, reset_peer = true, limit_data = true, down = true,
    blackhole = true, probability = true,
}

local opt = {}
for key, value in pairs(args) do
    if not known[key] then
        error("chaos.lua: unknown argument '" .. key .. "' (chaos.lua "
              .. "takes the arguments listed at its top)", 0)
    end
    local n = value == "true" and 1 or tonumber(value)  -- a bare flag
    if n == nil or n < 0 then
        error("chaos.lua: " .. key .. " must be a number >= 0, not '"
              .. value .. "'", 0)
    end
    opt[key] = n
end
local probability = opt.probability or 1
if probability > 1 then
    error("chaos.lua: probability must be from 0 to 1", 0)
end

function on_connect(conn)
    if probability < 1 and ricochet.random() >= probability then
        return                      -- spared: a plain echo
    end
    conn.chaos = true
    if (opt.down or 0) > 0 then
        return nil, "reset"
    end
    if (opt.blackhole or 0) > 0 then
        conn:stall()
        return
    end
    if opt.timeout then
        conn:stall()
        if opt.timeout > 0 then conn:close_after{ms = opt.timeout} end
    end
    if opt.latency or opt.jitter then
        conn:delay(opt.latency or 0, opt.jitter or 0)
    end
    if opt.rate then conn:rate(opt.rate) end
    if opt.slice then
        conn:slice(opt.slice, opt.slice_variation or 0, opt.slice_gap or 0)
    end
    if opt.limit_data then conn:close_after{bytes = opt.limit_data} end
    if opt.reset_peer then conn:reset_after(opt.reset_peer) end
end

function on_done(conn)
    if conn.chaos and opt.slow_close then
        conn:after(opt.slow_close, function()
            return nil, "shutdown"
        end)
        return nil, "wait"
    end
    return nil, "shutdown"
end
