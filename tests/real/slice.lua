-- slice.lua -- a relay (proxy mode) that writes what it passes to its
-- client in slices of `size` bytes, `gap` ms apart: put between a proxy
-- under test and the real server, it makes the proxy read the server's
-- replies in small pieces, cut at every place in turn.
--   ricochet --upstream 127.0.0.1:6379 tests/real/slice.lua -- size=1 gap=1
local size = tonumber(ricochet.args.size or "1")
local gap = tonumber(ricochet.args.gap or "1")
assert(size and size >= 1 and gap and gap >= 0, "slice.lua: size=N gap=MS")

function on_connect(conn)
    conn:slice(size, 0, gap)
end
