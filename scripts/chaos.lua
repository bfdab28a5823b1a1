-- chaos.lua -- Toxiproxy's faults on an echo server, or in front of a real
-- one, chosen by arguments.
--
-- Every connection is a plain echo (done in C), or with --upstream a plain
-- relay to the upstream (done in C too); the arguments add faults to what
-- the client receives (or, with dir=, the upstream) and to how the
-- connection ends. Any of them combine, on every connection or on a
-- random share of them. Each connection's summary line says which were hit,
-- and by what: tag.chaos=true tag.faults=latency,rate (or tag.chaos=false).
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
--   dir=SIDE            with --upstream, which direction the faults shape:
--                       client (the default: what the client receives, and
--                       our FIN to it), upstream (what the upstream
--                       receives, and our FIN to it) or both
--
--   ricochet scripts/chaos.lua -- latency=200 jitter=50 rate=4096 \
--       probability=0.3
--   ricochet --seed 7 scripts/chaos.lua -- slice=10 slice_gap=20 limit_data=100
--   ricochet --upstream 127.0.0.1:6379 scripts/chaos.lua -- latency=100 \
--       dir=upstream
--
-- With --admin, `curl -d latency=200 http://127.0.0.1:9901/args` changes
-- them live (on_args): the connections that open next get the new faults.

local known = {
    latency = true, jitter = true, rate = true, slice = true,
    slice_variation = true, slice_gap = true, slow_close = true,
    timeout = true, reset_peer = true, limit_data = true, down = true,
    blackhole = true, probability = true,
}

local dirs = { client = true, upstream = true, both = true }
local dir, opt, probability

-- Read the arguments: at load, and again when POST /args (--admin)
-- changes them; an error leaves the faults as they were.
local function configure(args)
    local new_dir = args.dir or "client"
    if not dirs[new_dir] then
        error("chaos.lua: dir must be client, upstream or both, not '"
              .. new_dir .. "'", 0)
    end
    if new_dir ~= "client" and not ricochet.upstream then
        error("chaos.lua: dir=" .. new_dir .. " needs --upstream (it shapes "
              .. "what goes to the upstream)", 0)
    end
    local new_opt = {}
    for key, value in pairs(args) do
        if not known[key] and key ~= "dir" then
            error("chaos.lua: unknown argument '" .. key .. "' (chaos.lua "
                  .. "takes the arguments listed at its top)", 0)
        end
        local n = value == "true" and 1 or tonumber(value)  -- a bare flag
        if key ~= "dir" and (n == nil or n < 0) then
            error("chaos.lua: " .. key .. " must be a number >= 0, not '"
                  .. value .. "'", 0)
        end
        new_opt[key] = n
    end
    local p = new_opt.probability or 1
    if p > 1 then
        error("chaos.lua: probability must be from 0 to 1", 0)
    end
    dir, opt, probability = new_dir, new_opt, p
end

configure(ricochet and ricochet.args or {})

-- POST /args: the new arguments shape the connections that open next.
function on_args(new_args)
    configure(new_args)
end

-- The faults a hit connection gets, named as the arguments are, for its
-- summary line (tag.faults=latency,rate): "down", or the list.
local faults = {}
for _, name in ipairs{"down", "blackhole", "timeout", "latency", "jitter",
                      "rate", "slice", "limit_data", "reset_peer",
                      "slow_close"} do
    if (opt[name] or 0) > 0 or (name == "timeout" and opt.timeout) then
        faults[#faults + 1] = name
    end
end
faults = #faults > 0 and table.concat(faults, ",") or "none"

-- The faults on one side: conn (what the client receives) or
-- conn.upstream (what the upstream receives).
local function shape(side)
    if (opt.blackhole or 0) > 0 then
        side:stall()
        return
    end
    if opt.timeout then
        side:stall()
        if opt.timeout > 0 then side:close_after{ms = opt.timeout} end
    end
    if opt.latency or opt.jitter then
        side:delay(opt.latency or 0, opt.jitter or 0)
    end
    if opt.rate then side:rate(opt.rate) end
    if opt.slice then
        side:slice(opt.slice, opt.slice_variation or 0, opt.slice_gap or 0)
    end
    if opt.limit_data then side:close_after{bytes = opt.limit_data} end
    if opt.reset_peer then side:reset_after(opt.reset_peer) end
end

function on_connect(conn)
    if probability < 1 and ricochet.random() >= probability then
        conn:tag("chaos", false)    -- spared: a plain echo (or relay)
        return
    end
    conn.chaos = true
    conn:tag("chaos", true)         -- and by what, in its summary line
    conn:tag("faults", faults)
    if (opt.down or 0) > 0 then
        return nil, "reset"         -- in proxy mode, before any connect
    end
    if dir ~= "client" then
        conn:connect()              -- --upstream's, now: to shape it here
        if conn.upstream then shape(conn.upstream) end
    end
    if dir ~= "upstream" then shape(conn) end
end

-- slow_close: our FIN to a side waits MS ms. Without an upstream, or
-- with one for dir=client, it is the FIN to the client (on_done in echo
-- mode, on_upstream_done in proxy mode); for dir=upstream, the FIN that
-- passes the client's on to the upstream (on_done).
local function slow_close(conn, side)
    conn:after(opt.slow_close, function()
        if side == conn then return nil, "shutdown" end
        pcall(side.shutdown, side)  -- the upstream may be gone by then
    end)
    return nil, "wait"
end

function on_done(conn)
    if conn.chaos and opt.slow_close then
        local up = conn.upstream
        if up == nil and dir == "client" then
            return slow_close(conn, conn)
        elseif up ~= nil and dir ~= "client" then
            return slow_close(conn, up)
        end
    end
    return nil, "shutdown"          -- in proxy mode: passed on upstream
end

function on_upstream_done(conn)
    if conn.chaos and opt.slow_close and dir ~= "upstream" then
        return slow_close(conn, conn)
    end
end
