-- stall.lua -- fixture for t_shape.c: a line "stall" makes the server hang
-- (neither reading nor sending) for 300 ms; every line is echoed tagged.
-- At the resume the server says how many bytes it had read by then.
function on_connect(conn)
    conn:frame("line")
end

function on_data(conn, line)
    if line == "stall" then
        conn:stall()
        conn:after(300, function(c)
            local seen = c.bytes_in
            c:resume()
            return "in=" .. seen .. "\n"
        end)
    end
    return "[" .. line .. "]\n"
end
