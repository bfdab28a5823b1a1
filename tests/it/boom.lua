-- Fixture: echo through Lua, but on_data raises an error when the data
-- contains "boom". "ID?\n" asks for the connection's id.
function on_data(conn, data)
    if data == "ID?\n" then
        return tostring(conn.id) .. "\n"
    end
    if data:find("boom", 1, true) then
        error("boom in on_data")
    end
    return data
end
