-- Fixture: the summary line's fields. Every connection is tagged at
-- on_connect and on_close; on_data echoes, but "fin\n" answers "bye\n"
-- and half-closes first, "boom\n" raises, and "limits\n" answers with
-- what conn:tag says past its bounds, one line a try.
function on_connect(conn)
    conn:tag("user", "alice smith")   -- a space: quoted in text
    conn:tag("n", 42)
    conn:tag("ratio", 0.25)
    conn:tag("ok", true)
    conn:tag("esc", "a\n\"b\"")
    conn:tag("gone", "removed below")
    conn:tag("gone", nil)
    conn:tag("n", 43)                 -- replaced in its place
end

function on_data(conn, data)
    if data == "fin\n" then
        return "bye\n", "shutdown"
    elseif data == "boom\n" then
        error("boom in on_data")
    elseif data == "limits\n" then
        local out = {}
        local function try(...)
            local ok, err = pcall(conn.tag, conn, ...)
            out[#out + 1] = ok and "ok" or err
        end
        try("1bad", "x")
        try("a-b", "x")
        try(string.rep("k", 33), "x")
        try("k", {})
        for i = 1, 11 do conn:tag("t" .. i, i) end  -- 16 with the 5
        try("t12", 1)
        try("t11", string.rep("x", 1000))
        try("t11", string.rep("x", 900))
        try("t11", 11)
        return table.concat(out, "\n") .. "\n"
    end
    return data
end

function on_close(conn, reason)
    conn:tag("closed", reason)
end
