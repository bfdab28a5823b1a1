-- Fixture: globals. Reading one that was never set raises; setting one
-- works, at the top level and in a hook. on_data:
--   "TYPO\n"       reads undefined_thing
--   "SET <v>\n"    sets the global last_set to <v>
--   "GET\n"        answers with the top-level global and last_set
greeting = "hello from the top level"

function on_data(conn, data)
    if data == "TYPO\n" then
        return tostring(undefined_thing) .. "\n"
    end
    local value = data:match("^SET (.*)\n$")
    if value then
        last_set = value
        return "set\n"
    elseif data == "GET\n" then
        return greeting .. "; last_set=" .. tostring(rawget(_G, "last_set"))
               .. "\n"
    end
    return data
end
