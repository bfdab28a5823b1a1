-- Fixture: on_data returns the data unchanged (echo through Lua).
function on_data(conn, data)
    return data
end
