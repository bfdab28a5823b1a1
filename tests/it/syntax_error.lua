-- Fixture: the parser stops on line 4.
function on_data(conn, data)
    local reply = data
    local broken = = reply
    return reply
end
