-- buffer_counted.lua -- fixture for t_frame.c's buffer_counted: memcached's
-- set and get in buffer framing, each value read with one input:counted:
--   set KEY FLAGS EXPTIME BYTES CRLF, BYTES bytes, CRLF   "STORED" CRLF
--   get KEY CRLF       "VALUE KEY FLAGS BYTES" CRLF, the value, CRLF, "END"
--                      CRLF; "END" CRLF alone when there is none
--   any other line     "ERROR" CRLF
-- A value over 64 bytes, or not followed by CRLF, gets
-- "CLIENT_ERROR bad data chunk" and the close.
local MAX_VALUE = 64
local store = {}

function on_connect(conn)
    conn:frame("buffer", {max = 1024})
end

-- One reply (and an action), or nil while the request is not whole.
local function request(input)
    local value, key, flags = input:counted("^set (%S+) (%d+) %d+ (%d+)$",
                                            "\r\n", MAX_VALUE)
    if value == nil then return nil end             -- not all there yet
    if value then
        store[key] = {flags = flags, value = value}
        return "STORED\r\n"
    end
    if key ~= "line" then                           -- false, why
        return "CLIENT_ERROR bad data chunk\r\n", "close"
    end
    key = input:line("^get (%S+)$")
    if not key then
        input:line()
        return "ERROR\r\n"
    end
    local item = store[key]
    if item == nil then return "END\r\n" end
    return "VALUE " .. key .. " " .. item.flags .. " " .. #item.value
           .. "\r\n" .. item.value .. "\r\nEND\r\n"
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
