-- proxy_hooks.lua -- proxy mode with both data hooks, each returning its
-- bytes unchanged (the relay through Lua); a client's chunk "boom" is a
-- hook error, an upstream's chunk "spin" a runaway hook and a client's
-- chunk "bomb" a hook that eats memory without end, each of which must
-- end its own pair only.
function on_data(conn, data)
    if data == "boom" then
        error("boom in on_data")
    end
    if data == "bomb" then
        local t, i = {}, 0
        while true do
            i = i + 1
            t[i] = {i}
        end
    end
    return data
end

function on_upstream_data(conn, data)
    if data == "spin" then
        while true do end
    end
    return data
end
