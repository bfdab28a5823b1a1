-- Fixture: a failing hook in a state with a huge _G. on_data:
--   "ID?\n"   the connection's id
--   "GROW\n"  50,000 more globals, then "globals N\n"
--   "FAIL\n"  an error 30 calls deep
local count = 0

local function deep(n)
    if n == 0 then
        error("failed deep down")
    end
    deep(n - 1)
    return n
end

function on_data(conn, data)
    if data == "ID?\n" then
        return tostring(conn.id) .. "\n"
    elseif data == "GROW\n" then
        for i = count + 1, count + 50000 do
            rawset(_G, "g" .. i, i)
        end
        count = count + 50000
        return "globals " .. count .. "\n"
    elseif data == "FAIL\n" then
        deep(30)
    end
    return data
end
