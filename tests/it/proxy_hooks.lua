-- proxy_hooks.lua -- proxy mode with both data hooks, each returning its
-- bytes unchanged (the relay through Lua); a client's chunk "boom" is a
-- hook error, which must end that pair only.
function on_data(conn, data)
    if data == "boom" then
        error("boom in on_data")
    end
    return data
end

function on_upstream_data(conn, data)
    return data
end
