-- Fixture for t_record.c: a banner, then each chunk answered at once in
-- upper case and again 30 ms later ("late ..."), so that a recording has
-- a wait that the script's own timer decides.
function on_connect(conn)
    return "hi\r\n"
end

function on_data(conn, data)
    conn:after(30, function(c) c:send("late " .. data) end)
    return data:upper()
end
