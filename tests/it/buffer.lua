-- buffer.lua -- fixture for t_frame.c's buffer_frames: a line protocol in
-- buffer framing (max= bounds the unused bytes held). Every whole line in
-- the input is answered, all in one reply table of several items (one a
-- number: the line's length); a line cut short waits, uncommitted, for
-- its end. At the client's FIN the unfinished line comes back as rest.
local max = tonumber(ricochet.args.max or "65536")

function on_connect(conn)
    conn:frame("buffer", {max = max})
end

function on_data(_, input)
    local replies = {}
    local line = input:line()
    while line ~= nil do
        input:commit()
        local n = #replies
        replies[n + 1] = "<"
        replies[n + 2] = line
        replies[n + 3] = ">"
        replies[n + 4] = #line
        replies[n + 5] = "\n"
        line = input:line()
    end
    return replies
end

function on_done(_, rest)
    return {"rest=", rest or "nil", "\n"}
end
