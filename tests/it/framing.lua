-- framing.lua -- fixture for t_frame.c: one framing mode per run, chosen
-- by the script argument mode= (line, delim, length, switch); max= bounds
-- the frames. Each frame comes back tagged, so the client sees the cuts.
local args = ricochet.args
local max = tonumber(args.max or "65536")

function on_connect(conn)
    if args.mode == "line" or args.mode == "switch" then
        conn:frame("line", {max = max})
    elseif args.mode == "delim" then
        conn:frame("delim", "\r\n\r\n", {max = max})
    elseif args.mode == "length" then
        conn:frame("length", ">I2", {max = max})
    end
end

function on_data(conn, frame)
    if args.mode == "switch" then
        local n = frame:match("^LEN (%d+)$")
        if n and not conn.in_body then
            conn:frame("fixed", tonumber(n))    -- the body, whatever it holds
            conn.in_body = true
            return nil
        end
        if conn.in_body then
            conn.in_body = false
            conn:frame("line", {max = max})     -- back to lines
            return "body[" .. frame .. "]\n"
        end
    end
    if args.mode == "length" then
        return string.pack(">s2", frame:upper())
    end
    return "[" .. frame .. "]\n"
end

function on_done(conn, rest)
    return "rest=" .. (rest or "nil") .. "\n"
end
