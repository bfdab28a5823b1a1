-- Fixture: the client's line picks a reply and an action.
function on_data(conn, data)
    if data == "RESET\n" then
        return nil, "reset"
    elseif data == "CLOSE\n" then
        return "closing\n", "close"
    elseif data == "SHUTDOWN\n" then
        return "half\n", "shutdown"
    elseif data == "M_RESET\n" then
        conn:reset()
        return nil
    elseif data == "M_CLOSE\n" then
        conn:send("bye\n")
        conn:close()
        return nil
    elseif data == "M_SHUTDOWN\n" then
        conn:send("sd\n")
        conn:shutdown()
        return nil
    end
    return data
end
