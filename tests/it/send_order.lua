-- Fixture: several sends from one hook call, of sizes on both sides of the
-- limit for sends that wait for the end of the loop iteration, and sends
-- from a timer; every connection must get its bytes in the order sent.
function on_data(conn, data)
    if data == "MIX\n" then
        conn:send(string.rep("a", 10))
        conn:send(string.rep("b", 20000)) -- over the limit: sent at once
        conn:send(string.rep("c", 5))
        return string.rep("d", 100)
    elseif data == "MANY\n" then
        for i = 1, 2000 do -- 34,000 bytes in 17-byte sends
            conn:send(string.format("%016d\n", i))
        end
        return "end\n"
    elseif data == "TIMER\n" then
        conn:after(0, function(c)
            return "from the timer\n"
        end)
        return "before the timer\n"
    elseif data == "FILL\n" then -- from many at once: past the total
        return string.rep(string.char(65 + conn.id % 26), 16000)
    elseif data == "ID?\n" then
        return tostring(conn.id) .. "\n"
    elseif data == "DELAY\n" then
        conn:send("sent before the delay\n")
        conn:delay(20)
        return "delayed\n"
    end
    return data
end
