-- Fixture: library calls whose work grows with their arguments, each in a
-- loop that would hold the worker for minutes (or, for MOVE_HUGE, for
-- ever, in one call) if a call cost one instruction. on_data, one command
-- per chunk:
--   "ID?\n"        the connection's id
--   "NAME\n"       the loop NAME of the table below: it must be stopped
--   "REP_EMPTY\n"  string.rep("", math.maxinteger): "" at once (the stock
--                  one loops 2^63 times)
-- The tests find each loop's line by its "-- charged: NAME" comment.
local big = string.rep("x", 1 << 20)                  -- 1 MiB
local spaces = string.rep(" ", 1 << 20)
local comment = "--" .. big
local formats = string.rep("<", 1 << 20)
local named = setmetatable({}, {__name = big})
local empties, numbers, bytes, codepoints = {}, {}, {}, {}
for i = 1, 100000 do
    empties[i], numbers[i] = "", i
    bytes[i], codepoints[i] = 65, 0x263A
end

local loops = {}
loops.REP = function()
    for _ = 1, 3000 do local _ = string.rep("x", 1e7) end -- charged: REP
end
loops.CONCAT_OP = function()
    for _ = 1, 1e6 do local _ = big .. big end -- charged: CONCAT_OP
end
loops.TABLE_CONCAT = function()
    local concat = table.concat
    for _ = 1, 1e6 do local _ = concat(empties) end -- charged: TABLE_CONCAT
end
loops.FORMAT = function()
    for _ = 1, 1e6 do local _ = string.format("%s", big) end -- charged: FORMAT
end
loops.PACKSIZE = function()
    local packsize = string.packsize
    for _ = 1, 1e6 do local _ = packsize(formats) end -- charged: PACKSIZE
end
loops.UNPACK = function()
    local unpack, format = string.unpack, formats .. "B"
    for _ = 1, 1e6 do local _ = unpack(format, "A") end -- charged: UNPACK
end
loops.BYTE = function()
    for _ = 1, 1e6 do local _ = string.byte(big, 1, 100000) end -- charged: BYTE
end
loops.CHAR = function()
    local char, unpack = string.char, table.unpack
    for _ = 1, 1e6 do local _ = char(unpack(bytes)) end -- charged: CHAR
end
loops.TOSTRING = function()
    for _ = 1, 1e6 do local _ = tostring(named) end -- charged: TOSTRING
end
loops.UTF8_CHAR = function()
    local char, unpack, cps = utf8.char, table.unpack, codepoints
    for _ = 1, 1e6 do local _ = char(unpack(cps)) end -- charged: UTF8_CHAR
end
loops.UTF8_LEN = function()
    for _ = 1, 1e6 do local _ = utf8.len(big) end -- charged: UTF8_LEN
end
loops.LOAD = function()
    for _ = 1, 1e6 do local _ = load(comment) end -- charged: LOAD
end
loops.LOAD_READER = function()
    local _ = load(function() return spaces end) -- charged: LOAD_READER
end
loops.TONUMBER = function()
    for _ = 1, 1e6 do local _ = tonumber(spaces) end -- charged: TONUMBER
end
loops.SORT = function()
    for _ = 1, 1e6 do table.sort(numbers, nil) end -- charged: SORT
end
loops.INSERT = function()
    local insert, remove, t = table.insert, table.remove, numbers
    for _ = 1, 1e6 do insert(t, 1, 0) remove(t, 1) end -- charged: INSERT
end
loops.MOVE_HUGE = function()
    table.move({}, 1, math.maxinteger - 1, 2) -- charged: MOVE_HUGE
end
loops.SUB = function()
    for _ = 1, 1e6 do local _ = big:sub(1, -1) end -- charged: SUB
end
loops.UPPER = function()
    for _ = 1, 1e6 do local _ = big:upper() end -- charged: UPPER
end
loops.SPIN = function()
    while true do end -- charged: SPIN
end

function on_data(conn, data)
    local name = data:match("^([%u_%d]+)\n$")
    if data == "ID?\n" then
        return tostring(conn.id) .. "\n"
    elseif data == "REP_EMPTY\n" then
        return "rep_empty=" .. #string.rep("", math.maxinteger) .. "\n"
    elseif name and loops[name] then
        loops[name]()
        return "survived\n"
    end
    return data
end
