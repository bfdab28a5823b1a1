-- redis-faults.lua -- protocol-aware faults in front of a Redis server
-- (proxy mode): every Nth GET is answered "-ERR injected" by the proxy
-- itself, without reaching Redis, and one key's reads can be slowed down.
--
--   ricochet --upstream 127.0.0.1:6379 examples/redis-faults.lua -- every=3
--   redis-cli -p 7007 GET k  ->  the value, the value, (error) ERR injected
--
-- Arguments (after --):
--   every=N      answer every Nth GET with an error (default 3; 0: never).
--                GETs are counted across all connections of the script
--                (per worker with --workers), so N separate redis-cli runs
--                see the fault too.
--   error=TEXT   the error's text (default "ERR injected")
--   slow_key=K   hold the replies to GET K back ...
--   slow_ms=MS   ... MS milliseconds (default 100)
--
-- When Redis cannot be reached (refused, timed out, reset, not found), a
-- client gets "-ERR upstream down (REASON)" and the proxy closes it, as
-- a Redis client expects an error reply rather than a bare reset.
--
-- How it keeps RESP framing: the client's requests (arrays of bulk
-- strings, as redis-cli sends them, or inline commands) are cut as
-- examples/resp.lua cuts them, a header line, then each bulk body with
-- conn:frame("fixed", LEN + 2), so a request split across reads or many
-- requests in one read come out one at a time. A request goes on to Redis
-- whole. Redis's replies are passed on as they arrive, in C-sized chunks,
-- while a small parser counts where each reply ends (simple strings,
-- errors, integers, bulk strings, nested arrays); an injected error waits
-- for the replies to the requests before it, so a pipelined client gets
-- its replies in the order it asked.

local args = ricochet.args
if not ricochet.upstream then
    error("redis-faults.lua needs --upstream HOST:PORT (a Redis server)", 0)
end
local known = {every = true, error = true, slow_key = true, slow_ms = true}
for key in pairs(args) do
    if not known[key] then
        error("redis-faults.lua: unknown argument '" .. key .. "'", 0)
    end
end
local function number_arg(name, default)
    local v = args[name]
    if v == nil then return default end
    local n = tonumber(v)
    if n == nil or n < 0 or n ~= math.floor(n) then
        error("redis-faults.lua: " .. name .. " must be an integer >= 0, "
              .. "not '" .. v .. "'", 0)
    end
    return n
end
local every = number_arg("every", 3)
local slow_ms = number_arg("slow_ms", 100)
local slow_key = args.slow_key
local injected = "-" .. (args.error or "ERR injected") .. "\r\n"

local MAX_LINE = 64 * 1024
local MAX_BULK = 512 * 1024 * 1024   -- Redis's own proto-max-bulk-len
local gets = 0                       -- every GET seen, all connections
local SLOW = {}                      -- in a queue: a reply held back

-- --- the client's requests ----------------------------------------------

local function expect_line(conn)
    conn:frame("line", {max = MAX_LINE, keep = true})
end

function on_connect(conn)
    conn.queue = {}     -- what the client waits for, in order: true (a
    conn.head = 1       -- reply from Redis; SLOW if it is held back)
    conn.tail = 0       -- or a string (an injected reply)
    conn.stack = {}     -- the reply parser: elements left per array level
    conn.skip = 0       -- bulk bytes (and CRLF) still to pass
    conn.partial = ""   -- an unfinished header line of a reply
    conn.delayed = false
    expect_line(conn)
end

local function push(conn, item)
    conn.tail = conn.tail + 1
    conn.queue[conn.tail] = item
end

-- A whole request: its argv (the command name upper-cased) and its bytes.
-- Returns what goes on to Redis (nil: nothing).
local function request(conn, argv, bytes)
    local name = (argv[1] or ""):upper()
    if name == "GET" then
        gets = gets + 1
        if every > 0 and gets % every == 0 then
            if conn.head > conn.tail then   -- nothing pending: answer now
                if conn.delayed then conn:delay(0); conn.delayed = false end
                conn:send(injected)
            else
                push(conn, injected)     -- after the replies before it
            end
            return nil
        end
        if slow_key and argv[2] == slow_key then
            push(conn, SLOW)
            return bytes
        end
    end
    push(conn, true)
    return bytes
end

function on_data(conn, frame)
    if conn.bulk_left then                 -- a bulk body, CRLF included
        local argv = conn.argv
        argv[#argv + 1] = frame:sub(1, -3)
        conn.parts[#conn.parts + 1] = frame
        conn.bulk_left = nil
        expect_line(conn)
        if #argv < conn.argc then return nil end
        local bytes = table.concat(conn.parts)
        conn.argv, conn.parts = nil, nil
        return request(conn, argv, bytes)
    end
    local kind, number = frame:sub(1, 1), tonumber(frame:match("^.(%-?%d+)"))
    if conn.argv == nil and kind == "*" then        -- a new request
        if number == nil or number > 1024 * 1024 then
            return nil, "reset"
        end
        if number < 1 then return frame end        -- *0, *-1: Redis's own
        conn.argv, conn.argc, conn.parts = {}, number, {frame}
        return nil
    elseif conn.argv and kind == "$" then           -- a bulk header
        if number == nil or number < 0 or number > MAX_BULK then
            return nil, "reset"
        end
        conn.parts[#conn.parts + 1] = frame
        conn.bulk_left = number
        conn:frame("fixed", number + 2)
        return nil
    elseif conn.argv == nil then                    -- an inline command
        local argv = {}
        for word in frame:gmatch("%S+") do argv[#argv + 1] = word end
        if #argv == 0 then return frame end         -- Redis skips it
        return request(conn, argv, frame)
    end
    return nil, "reset"         -- not RESP: what Redis would refuse too
end

-- --- Redis's replies -----------------------------------------------------

-- Send part of a reply that belongs to the queue's head, held back when it
-- is the slow key's.
local function pass(conn, bytes)
    if bytes == "" then return end
    local slow = conn.queue[conn.head] == SLOW
    if slow ~= conn.delayed then
        conn:delay(slow and slow_ms or 0)
        conn.delayed = slow
    end
    conn:send(bytes)
end

-- A reply ended: its request leaves the queue, and the injected errors
-- queued behind it go out.
local function reply_done(conn)
    if conn.head > conn.tail then return end -- a reply nobody asked for
    conn.queue[conn.head] = nil
    conn.head = conn.head + 1
    while conn.head <= conn.tail
          and type(conn.queue[conn.head]) == "string" do
        pass(conn, conn.queue[conn.head])
        conn.queue[conn.head] = nil
        conn.head = conn.head + 1
    end
end

-- One element of a reply ended: returns true when it ended the reply.
local function element_done(conn)
    local stack = conn.stack
    while #stack > 0 do
        stack[#stack] = stack[#stack] - 1
        if stack[#stack] > 0 then return false end
        stack[#stack] = nil                  -- an array ended: one element
    end
    return true
end

function on_upstream_data(conn, data)
    local pos, from, len = 1, 1, #data
    while pos <= len do
        if conn.skip > 0 then                -- inside a bulk string
            local take = math.min(conn.skip, len - pos + 1)
            pos = pos + take
            conn.skip = conn.skip - take
            if conn.skip == 0 and element_done(conn) then
                pass(conn, data:sub(from, pos - 1))
                from = pos
                reply_done(conn)
            end
        else                                 -- a header line
            local lf = data:find("\n", pos, true)
            if lf == nil then
                conn.partial = conn.partial .. data:sub(pos)
                if #conn.partial > MAX_LINE then return nil, "reset" end
                break
            end
            local line = conn.partial .. data:sub(pos, lf)
            conn.partial = ""
            pos = lf + 1
            local kind = line:sub(1, 1)
            local number = tonumber(line:match("^.(%-?%d+)"))
            local ended
            if (kind == "$" or kind == "=" or kind == "!")
               and number and number >= 0 then
                conn.skip = number + 2       -- the body and its CRLF
            elseif (kind == "*" or kind == ">" or kind == "~")
                   and number and number > 0 then
                conn.stack[#conn.stack + 1] = number
            elseif kind == "%" and number and number > 0 then
                conn.stack[#conn.stack + 1] = 2 * number   -- RESP3 map
            else                             -- +, -, :, $-1, *0, ...
                ended = element_done(conn)
            end
            if ended then
                pass(conn, data:sub(from, pos - 1))
                from = pos
                reply_done(conn)
            end
        end
    end
    pass(conn, data:sub(from))
    return nil
end

-- Redis cannot be reached: answer as Redis would, then close (the nil
-- action of on_upstream_error).
function on_upstream_error(conn, reason)
    return "-ERR upstream down (" .. reason .. ")\r\n"
end
