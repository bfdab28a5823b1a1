-- Fixture: echo through Lua, but on_data raises an error when the data
-- contains "boom". "ID?\n" asks for the connection's id; "hold\n" keeps
-- the worker busy for a while (about 8 million instructions), so that what
-- other clients send meanwhile is read in one batch of events after it.
function on_data(conn, data)
    if data == "ID?\n" then
        return tostring(conn.id) .. "\n"
    end
    if data == "hold\n" then
        local n = 0
        for i = 1, 4000000 do n = n + 1 end
        return "held\n"
    end
    if data:find("boom", 1, true) then
        error("boom in on_data")
    end
    return data
end
