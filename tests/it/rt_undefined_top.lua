-- Fixture: the top level reads a global that was never set (line 3).
local defined = "fine"
local value = undefined_at_top
function on_data(conn, data)
    return defined .. tostring(value)
end
