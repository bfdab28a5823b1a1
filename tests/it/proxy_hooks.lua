-- proxy_hooks.lua -- proxy mode with both data hooks, each returning its
-- bytes unchanged (the relay through Lua); a client's chunk "boom" is a
-- hook error and an upstream's chunk "spin" a runaway hook, each of which
-- must end its own pair only.
function on_data(conn, data)
    if data == "boom" then
        error("boom in on_data")
    end
    return data
end

function on_upstream_data(conn, data)
    if data == "spin" then
        while true do end
    end
    return data
end
