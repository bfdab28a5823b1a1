-- Fixture for --trace: on_data upper-cases each chunk; at the client's
-- FIN, on_done waits, and a timer 10 ms later says "bye\n" and half-closes.
function on_data(conn, data)
    return data:upper()
end

function on_done(conn)
    conn:after(10, function(c)
        return "bye\n", "shutdown"
    end)
    return nil, "wait"
end
