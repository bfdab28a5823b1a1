-- quit.lua -- a line echo that the client ends with QUIT.
--
-- Lines (LF or CRLF terminated) are echoed as they complete. A line QUIT
-- gets "BYE\r\n" and the server starts the graceful shutdown itself, before
-- the client has finished sending: it half-closes once BYE is out, then
-- waits for the client to close. A client that half-closes first gets the
-- default: its last partial line is echoed, then the half-close.
--
--   ricochet scripts/quit.lua
--   nc 127.0.0.1 7007      (type lines, then QUIT)

-- No arguments: one given is refused, so a typo does not pass unnoticed.
for key in pairs(ricochet and ricochet.args or {}) do
    error("quit.lua: unknown argument '" .. key .. "' (quit.lua takes "
          .. "none)", 0)
end

function on_data(conn, data)
    local pending = (conn.pending or "") .. data
    local out = {}
    for line, eol in pending:gmatch("([^\n]*)(\n)") do
        local text = line:gsub("\r$", "")
        if text == "QUIT" then
            conn.pending = ""
            out[#out + 1] = "BYE\r\n"
            return table.concat(out), "shutdown"
        end
        out[#out + 1] = line .. eol
    end
    conn.pending = pending:match("[^\n]*$")
    return table.concat(out)
end

function on_done(conn)
    -- The client finished without QUIT: give back its unfinished line.
    return conn.pending, "shutdown"
end
