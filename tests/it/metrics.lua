-- Fixture of the metrics cases: echo through Lua, with a failure on
-- demand: "boom" raises an error, "spin" runs past any instruction
-- budget, "grow" asks for more memory than a small --lua-memory allows.
function on_data(conn, data)
    if data == "boom" then
        error("boom in on_data")
    elseif data == "spin" then
        while true do end
    elseif data == "grow" then
        return string.rep("x", 4 << 20)
    end
    return data
end
