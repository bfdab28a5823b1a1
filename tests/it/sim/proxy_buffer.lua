-- Buffer framing on both sides in proxy mode: the client's whole lines
-- go to the upstream as one table reply each call; the upstream's whole
-- lines come back bracketed, one table for all the lines of a call; a
-- SWITCH line from the client, in a call whose input began with held
-- bytes, turns its framing to lines mid-call, and the lines after it
-- come one a call, as "{...}".
function on_connect(conn)
    conn:frame("buffer")
    conn:connect()              -- the --upstream one, now
    conn.upstream:frame("buffer")
end

function on_data(conn, input)
    if type(input) == "string" then return "{" .. input .. "}\n" end
    local out = {}
    local line = input:line()
    while line do
        input:commit()
        if line == "SWITCH" then
            conn:frame("line")
            return out
        end
        out[#out + 1] = line
        out[#out + 1] = "\n"
        line = input:line()
    end
    return out
end

function on_upstream_data(conn, input)
    local out = {}
    local line = input:line()
    while line do
        input:commit()
        out[#out + 1] = "<" .. line .. ">\n"
        line = input:line()
    end
    return out
end
