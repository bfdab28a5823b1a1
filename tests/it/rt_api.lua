-- Fixture: the ricochet table. on_data:
--   "ID?\n"      the connection's id
--   "LOG\n"      ricochet.log("warn", "rt-api-log-marker", 1)
--   "NOW\n"      ricochet.now() now and from a conn:after(100) callback
--   "RANDOM\n"   draws from ricochet.random and math.random
--   "INFO\n"     ricochet.args, ricochet.script, ricochet.version
function on_data(conn, data)
    if data == "ID?\n" then
        return tostring(conn.id) .. "\n"
    elseif data == "LOG\n" then
        ricochet.log("warn", "rt-api-log-marker", 1)
        return "logged\n"
    elseif data == "NOW\n" then
        local t0 = ricochet.now()
        conn:after(100, function(c)
            local t1 = ricochet.now()
            return string.format("%s %s %d\n", math.type(t0), math.type(t1),
                                 t1 - t0)
        end)
        return nil
    elseif data == "RANDOM\n" then
        local out = {}
        for _ = 1, 4 do
            out[#out + 1] = ricochet.random(1, 1000000000)
        end
        out[#out + 1] = ricochet.random(6)
        out[#out + 1] = string.format("%.17g", ricochet.random())
        for _ = 1, 3 do
            out[#out + 1] = math.random(1, 1000000000)
        end
        return table.concat(out, " ") .. "\n"
    elseif data == "INFO\n" then
        local keys = {}
        for k in pairs(ricochet.args) do
            keys[#keys + 1] = k
        end
        table.sort(keys)
        local out = {}
        for _, k in ipairs(keys) do
            out[#out + 1] = k .. "=" .. ricochet.args[k]
        end
        return "args: " .. table.concat(out, " ") .. "\nscript: "
               .. ricochet.script .. "\nversion: " .. ricochet.version .. "\n"
    end
    return data
end
