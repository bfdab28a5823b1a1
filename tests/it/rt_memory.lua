-- Fixture: the memory cap (--lua-memory). on_data echoes, except for:
--   "ID?\n"     the connection's id
--   "TABLE\n"   a table that grows forever
--   "REP\n"     a 1 GiB string.rep
--   "CREATE\n"  table.create with room for 2^30 elements (16 GiB)
--   "COUNT\n"   the Lua heap in KiB (collectgarbage "count"), no collection
function on_data(conn, data)
    if data == "ID?\n" then
        return tostring(conn.id) .. "\n"
    elseif data == "TABLE\n" then
        local t, i = {}, 0
        while true do
            i = i + 1
            t[i] = {i}
        end
    elseif data == "REP\n" then
        return string.rep("x", 1 << 30)
    elseif data == "CREATE\n" then
        return tostring(#table.create(1 << 30))
    elseif data == "COUNT\n" then
        return string.format("%.0f\n", collectgarbage("count"))
    end
    return data
end
