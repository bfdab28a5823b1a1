-- Fixture for the half-close drain. A connection that sends "WATCH\n"
-- becomes the watcher: it is told "<id>=<reason>\n" whenever another
-- connection closes. Any other connection gets "id=<id>\n" for its first
-- data and the server half-closes it ("shutdown"); later data is drained
-- without a reply.
local watcher

function on_data(conn, data)
    if data == "WATCH\n" then
        watcher = conn
        return "OK\n"
    end
    if not conn.replied then
        conn.replied = true
        return "id=" .. tostring(conn.id) .. "\n", "shutdown"
    end
    return nil
end

function on_close(conn, reason)
    if watcher ~= nil and conn ~= watcher then
        watcher:send(tostring(conn.id) .. "=" .. tostring(reason) .. "\n")
    end
end
