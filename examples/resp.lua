-- resp.lua -- a Redis-protocol (RESP2) server: PING, ECHO, SET, GET, DEL.
--
-- Shows framing switched between frames: a request is an array header
-- line (*N), then N bulk strings, each a header line ($LEN) and a body of
-- exactly LEN bytes plus CRLF, cut with conn:frame("fixed", LEN + 2), so
-- values may hold any bytes, CR and LF included. Inline commands
-- ("PING\r\n", as typed into nc) work too. Pipelined requests need
-- nothing special: frames come one at a time, replies go out in order.
-- The keys live in one Lua table shared by every connection.
--
--   ricochet examples/resp.lua -- port is --listen's, e.g.:
--   ricochet --listen 127.0.0.1:6380 examples/resp.lua
--   redis-cli -p 6380 SET greeting hello && redis-cli -p 6380 GET greeting
--   redis-benchmark -p 6380 -t ping,set,get -q

local MAX_BULK = 1024 * 1024
local store = {}

local function bulk(s)
    if s == nil then return "$-1\r\n" end
    return "$" .. #s .. "\r\n" .. s .. "\r\n"
end

local commands = {}
function commands.PING(argv)
    if argv[2] then return bulk(argv[2]) end
    return "+PONG\r\n"
end
function commands.ECHO(argv) return bulk(argv[2]) end
function commands.SET(argv) store[argv[2]] = argv[3]; return "+OK\r\n" end
function commands.GET(argv) return bulk(store[argv[2]]) end
function commands.DEL(argv)
    local n = 0
    for i = 2, #argv do
        if store[argv[i]] ~= nil then n = n + 1; store[argv[i]] = nil end
    end
    return ":" .. n .. "\r\n"
end
local config = {save = "", appendonly = "no"}        -- redis-benchmark asks
function commands.CONFIG(argv)
    local value = config[(argv[3] or ""):lower()]
    if (argv[2] or ""):upper() ~= "GET" or value == nil then
        return "*0\r\n"
    end
    return "*2\r\n" .. bulk(argv[3]) .. bulk(value)
end
local arity = {PING = -1, ECHO = 2, SET = 3, GET = 2, DEL = -2, CONFIG = -2}

local function execute(argv)
    local name = (argv[1] or ""):upper()
    local run = commands[name]
    if run == nil then
        return "-ERR unknown command '" .. (argv[1] or "") .. "'\r\n"
    end
    local want = arity[name]
    if (want > 0 and #argv ~= want) or (want < 0 and #argv < -want) then
        return "-ERR wrong number of arguments for '" .. name:lower()
               .. "' command\r\n"
    end
    return run(argv)
end

function on_connect(conn)
    conn:frame("line", {max = 64 * 1024})
end

function on_data(conn, frame)
    if conn.bulk_len then                      -- a bulk body, CRLF included
        conn.bulk_len = nil
        conn:frame("line", {max = 64 * 1024})
        local argv = conn.argv
        argv[#argv + 1] = frame:sub(1, -3)
    else
        local kind, number = frame:sub(1, 1), tonumber(frame:sub(2))
        if kind == "*" and conn.argv == nil then        -- a new request
            if number == nil or number < 1 or number > 1024 then
                return "-ERR Protocol error: invalid multibulk length\r\n",
                       "close"
            end
            conn.argv, conn.argc = {}, number
            return nil
        elseif kind == "$" and conn.argv then           -- a bulk header
            if number == nil or number < 0 or number > MAX_BULK then
                return "-ERR Protocol error: invalid bulk length\r\n", "close"
            end
            conn.bulk_len = number
            conn:frame("fixed", number + 2)
            return nil
        elseif conn.argv == nil then                    -- an inline command
            local argv = {}
            for word in frame:gmatch("%S+") do argv[#argv + 1] = word end
            if #argv == 0 then return nil end
            return execute(argv)
        else
            return "-ERR Protocol error: expected '$', got '" .. kind
                   .. "'\r\n", "close"
        end
    end
    if #conn.argv < conn.argc then return nil end
    local argv = conn.argv
    conn.argv = nil
    return execute(argv)
end
