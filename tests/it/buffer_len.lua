-- buffer_len.lua -- fixture for t_frame.c's buffer_patterns: a small
-- length-prefixed protocol in buffer framing, read with input:line(pattern)
-- and input:take(n, "\r\n"):
--   PUT key len CRLF, len bytes, CRLF   "+key len" CRLF (the value kept)
--   GET key CRLF                        "$len" CRLF value CRLF, or "$-1"
--   any other line                      "-ERR unknown 'line'"
-- A value not followed by CRLF gets "-ERR expected CRLF" and the close.
local store = {}

function on_connect(conn)
    conn:frame("buffer", {max = 1024})
end

-- One reply (and an action), or nil while the request is not whole.
local function request(input)
    local key, len = input:line("^PUT (%w+) (%d+)$")
    if key == nil then return nil end               -- no whole line yet
    if key then
        local value = input:take(tonumber(len), "\r\n")
        if value == nil then return nil end
        if value == false then return "-ERR expected CRLF\r\n", "close" end
        store[key] = value
        return "+" .. key .. " " .. #value .. "\r\n"
    end
    key = input:line("^GET (%w+)$")
    if key then
        local value = store[key]
        if value == nil then return "$-1\r\n" end
        return "$" .. #value .. "\r\n" .. value .. "\r\n"
    end
    return "-ERR unknown '" .. input:line() .. "'\r\n"
end

function on_data(_, input)
    local replies = {}
    while true do
        local reply, action = request(input)
        if reply == nil then return replies end     -- the rest comes again
        replies[#replies + 1] = reply
        if action then return replies, action end
        input:commit()
    end
end
