-- hooks.lua -- the script behind fuzz_simulate: every hook, and commands
-- in the client's data that reach framing, shaping, timers, actions and
-- the log, so a fuzzed transcript drives the engine through all of them.
--
-- A chunk (or a frame, once framing is on) that starts with a command word
-- runs it; anything else comes back in upper case. Numbers are clamped
-- small: time is virtual, but every shaped byte and every timer is work.
--
--   frame raw | frame line MAX | frame delim TEXT | frame fixed N
--   frame length FMT MAX       | frame ... keep (as the last word)
--   delay MS JITTER | rate BYTES | slice SIZE VARIATION GAP
--   stall | resume | close_after BYTES | close_after_ms MS
--   reset_after MS | after MS TEXT | send TEXT | log TEXT | print TEXT
--   shutdown | close | reset | error TEXT | bad (a reply that is no string)
--   wait (on_done then waits, and shuts down 50 ms later)

local function num(s, default, max)
    local n = tonumber(s)
    if n == nil or n ~= n then return default end
    n = math.floor(math.abs(n))
    if n > max then return max end
    return n
end

local function action_of(word)
    if word == "shutdown" or word == "close" or word == "reset" then
        return word
    end
    return nil
end

local function set_frame(conn, mode, a, b, keep)
    if mode == "raw" then
        conn:frame("raw")
    elseif mode == "line" then
        conn:frame("line", {max = num(a, 64, 4096), keep = keep})
    elseif mode == "delim" then
        conn:frame("delim", a ~= "" and a or "|", {max = num(b, 64, 4096),
                                                   keep = keep})
    elseif mode == "fixed" then
        conn:frame("fixed", math.max(1, num(a, 4, 4096)))
    elseif mode == "length" then
        conn:frame("length", a, {max = num(b, 64, 4096), keep = keep})
    end
end

local function command(conn, data)
    local word, rest = data:match("^(%l[%l_]*)%s?(.*)$")
    if word == nil then return nil end
    local a, b, c = rest:match("^(%S*)%s?(%S*)%s?(%S*)")
    if word == "frame" then
        set_frame(conn, a, b, c, rest:find("keep%s*$") ~= nil)
        return "framed " .. a .. "\n"
    elseif word == "delay" then
        conn:delay(num(a, 10, 1000), num(b, 0, 1000))
    elseif word == "rate" then
        conn:rate(num(a, 0, 100000))
    elseif word == "slice" then
        conn:slice(num(a, 0, 64), num(b, 0, 64), num(c, 0, 100))
    elseif word == "stall" then
        conn:stall()
    elseif word == "resume" then
        conn:resume()
    elseif word == "close_after" then
        conn:close_after{bytes = num(a, 0, 100000)}
    elseif word == "close_after_ms" then
        conn:close_after{ms = num(a, 0, 100000)}
    elseif word == "reset_after" then
        conn:reset_after(num(a, 0, 100000))
    elseif word == "after" then
        conn:after(num(a, 0, 100000), function(cn)
            return b ~= "" and b or nil, action_of(c)
        end)
    elseif word == "send" then
        conn:send(rest)
    elseif word == "log" then
        ricochet.log("info", "says", rest)
    elseif word == "print" then
        print(rest, conn.bytes_in, conn.bytes_out, conn.peer)
    elseif word == "shutdown" or word == "close" or word == "reset" then
        return rest, word
    elseif word == "error" then
        error(rest)
    elseif word == "bad" then
        return {}
    elseif word == "wait" then
        conn.wait = true
    else
        return nil
    end
    return word .. " ok\n"
end

function on_connect(conn)
    conn.frames = 0
    return "hello " .. conn.peer .. "\r\n"
end

function on_data(conn, data)
    conn.frames = conn.frames + 1
    local reply, action = command(conn, data)
    if reply == nil and action == nil then
        return data:upper():gsub("%s+$", "") .. "\n"
    end
    return reply, action
end

function on_done(conn, rest)
    if conn.wait then
        conn:after(50, function() return "late bye\n", "shutdown" end)
        return rest, "wait"
    end
    return "bye after " .. conn.frames .. " frames, rest " ..
           tostring(rest) .. "\n", "shutdown"
end

function on_close(conn, reason)
    ricochet.log("debug", "closed: ", reason)
end
