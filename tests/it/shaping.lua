-- shaping.lua -- fixture for t_shape.c: the echo (C fast path, no on_data)
-- shaped by the script arguments: delay= jitter= rate= slice= variation=
-- gap= close_bytes= close_ms= reset_ms=.
local args = ricochet.args
local function num(key) return args[key] and tonumber(args[key]) end

function on_connect(conn)
    if args.delay then conn:delay(num("delay"), num("jitter") or 0) end
    if args.rate then conn:rate(num("rate")) end
    if args.slice then
        conn:slice(num("slice"), num("variation") or 0, num("gap") or 0)
    end
    if args.close_bytes then conn:close_after{bytes = num("close_bytes")} end
    if args.close_ms then conn:close_after{ms = num("close_ms")} end
    if args.reset_ms then conn:reset_after(num("reset_ms")) end
end
