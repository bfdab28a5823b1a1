-- Fixture: on_timeout. A client that sent "keep" gets a question at its
-- first idle timeout and one more idle period; one that sent "reset" is
-- reset; the others get a last line, then the graceful close (the
-- default action). on_close logs the reason.
function on_data(conn, data)
    if data == "keep\n" then
        conn.keep = true
    elseif data == "reset\n" then
        conn.wants_reset = true
    end
    return data
end

function on_timeout(conn)
    conn.idles = (conn.idles or 0) + 1
    if conn.wants_reset then
        return nil, "reset"
    end
    if conn.keep and conn.idles == 1 then
        return "still there?\n", "wait"
    end
    return "idle " .. conn.idles .. ", bye\n"
end

function on_close(conn, reason)
    ricochet.log("info", "closed: " .. reason)
end
