-- Fixture: logs what a client sends, then echoes it: print(data) for data
-- that starts with "P", fifty times ricochet.log("warn", "flood") for
-- data that starts with "F", ricochet.log("warn", data) for any other.
function on_data(conn, data)
    local first = data:sub(1, 1)
    if first == "P" then
        print(data)
    elseif first == "F" then
        for _ = 1, 50 do
            ricochet.log("warn", "flood")
        end
    else
        ricochet.log("warn", data)
    end
    return data
end
