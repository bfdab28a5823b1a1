-- lines.lua -- a line echo with a bounded line length.
--
-- Input is cut into lines in C (LF or CRLF), so on_data sees one whole
-- line per call, however the bytes arrived; each line goes back as it
-- came, terminator included. A line longer than max bytes (terminator not
-- counted) ends that connection: it is reset, and the log says which
-- connection, the mode and the max. At the client's end, an unfinished
-- last line is echoed too, then the server half-closes.
--
-- Arguments (after --):
--   max=N      the longest line in bytes, 1 to 67108864 (default 1024)
--
--   ricochet scripts/lines.lua -- max=80
--   nc 127.0.0.1 7007          (type lines; Ctrl-D half-closes)

local args = ricochet and ricochet.args or {}
for key in pairs(args) do
    if key ~= "max" then
        error("lines.lua: unknown argument '" .. key .. "' (lines.lua "
              .. "takes max=N)", 0)
    end
end
local max = tonumber(args.max or "1024")
if max == nil or max < 1 or max > 64 * 1024 * 1024 or max % 1 ~= 0 then
    error("lines.lua: max must be a whole number of bytes from 1 to "
          .. "67108864, not '" .. tostring(args.max) .. "'", 0)
end
max = math.tointeger(max)

function on_connect(conn)
    conn:frame("line", {max = max, keep = true})
end

function on_data(conn, line)
    return line
end

function on_done(conn, rest)
    return rest, "shutdown"   -- the unfinished line (or nil), then FIN
end
