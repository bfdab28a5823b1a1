-- Fixture: a key-value store in a module-level table, so every connection
-- of the script's state sees the others' writes. One command a line:
-- "SET KEY VALUE" answers "OK", "GET KEY" the value or "(nil)", "BOOM"
-- raises an error, "LATER" answers "OK" and raises one 5 ms later (in a
-- timer), anything else "ERR".
local store = {}

function on_data(conn, data)
    local out = {}
    for line in data:gmatch("([^\n]*)\n") do
        local key, value = line:match("^SET (%S+) (.*)$")
        if key then
            store[key] = value
            out[#out + 1] = "OK\n"
        elseif line:match("^GET %S+$") then
            out[#out + 1] = (store[line:sub(5)] or "(nil)") .. "\n"
        elseif line == "BOOM" then
            error("boom on connection " .. conn.id)
        elseif line == "LATER" then
            conn:after(5, function()
                error("late boom on connection " .. conn.id)
            end)
            out[#out + 1] = "OK\n"
        else
            out[#out + 1] = "ERR\n"
        end
    end
    return table.concat(out)
end
