-- Fixture: logs what a client sends, both ways a script can, then echoes
-- it: print(data) for a line that starts with "P", ricochet.log("warn",
-- data) for any other.
function on_data(conn, data)
    if data:sub(1, 1) == "P" then
        print(data)
    else
        ricochet.log("warn", data)
    end
    return data
end
