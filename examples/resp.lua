-- resp.lua -- a Redis-protocol (RESP2) server: PING, ECHO, SET, GET, DEL.
--
-- Shows the buffer framing: with conn:frame("buffer"), on_data gets an
-- input holding every byte that came and is not used yet. A request is an
-- array header line (*N), then N bulk strings, each a header line ($LEN)
-- and a body of exactly LEN bytes plus CRLF, all three taken with one
-- input:counted("^%$(.*)", "\r\n"), so values may hold any bytes, CR
-- and LF included. read_request takes a whole request or returns nil, and
-- input:commit() marks what it took as used: a request cut anywhere
-- comes again, whole, with the next bytes.
-- Pipelined requests all come in one call, and their replies go back as
-- one table, written together. Inline commands ("PING\r\n", as typed
-- into nc) work too. The keys live in one Lua table shared by every
-- connection.
--
--   ricochet examples/resp.lua -- port is --listen's, e.g.:
--   ricochet --listen 127.0.0.1:6380 examples/resp.lua
--   redis-cli -p 6380 SET greeting hello && redis-cli -p 6380 GET greeting
--   redis-benchmark -p 6380 -t ping,set,get -q

local MAX_BULK = 1024 * 1024
local BUFFER = {max = 4 * MAX_BULK}  -- the most a request may take
local store = {}
local tonumber, create = tonumber, table.create   -- one lookup, not one a use

-- "$LEN\r\n" for the short lengths, each made once: turning a number
-- into a string costs more than the rest of a reply
local bulk_header = setmetatable({}, {__index = function(headers, len)
    local header = "$" .. len .. "\r\n"
    if len < 1024 then headers[len] = header end
    return header
end})

local function bulk(s)
    if not s then return "$-1\r\n" end
    return bulk_header[#s] .. s .. "\r\n"
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
    local name = argv[1]
    local run = commands[name]             -- as sent, else in upper case
    if not run then
        name = (name or ""):upper()
        run = commands[name]
    end
    if not run then
        return "-ERR unknown command '" .. (argv[1] or "") .. "'\r\n"
    end
    local want = arity[name]
    if (want > 0 and #argv ~= want) or (want < 0 and #argv < -want) then
        return "-ERR wrong number of arguments for '" .. name:lower()
               .. "' command\r\n"
    end
    return run(argv)
end

-- One request from input into argv (a new table when argv is nil): the
-- table read into; nil when the input holds
-- only part of it; or nil and the error reply for a request that is not
-- RESP. input:line(pattern) takes a line only when it matches, and gives
-- its captures (false, taking nothing, when the line does not match);
-- input:counted(pattern, "\r\n", max) takes a header line whose last
-- capture is a length, a body of that length and the CRLF after it, and
-- gives the body (false and why, taking nothing, when they are not
-- that). Both give nil while the bytes are not all there.
local bulk_errors = {
    count = "-ERR Protocol error: invalid bulk length\r\n",
    delimiter = "-ERR Protocol error: expected CRLF after a bulk\r\n",
}
local function read_request(input, argv)
    local count = input:line("^%*(.*)")
    if not count then
        if count == nil then return nil end
        argv = {}                                   -- not '*': inline
        for word in input:line():gmatch("%S+") do argv[#argv + 1] = word end
        return argv
    end
    count = tonumber(count, 10)
    if not count or count < 1 or count > 1024 then
        return nil, "-ERR Protocol error: invalid multibulk length\r\n"
    end
    if argv then
        for i = count + 1, #argv do argv[i] = nil end   -- a longer one's
    else
        argv = create(count)
    end
    for i = 1, count do
        local arg, why = input:counted("^%$(.*)", "\r\n", MAX_BULK)
        if not arg then
            if arg == nil then return nil end
            return nil, bulk_errors[why] or
                ("-ERR Protocol error: expected '$', got '"
                 .. input:line():sub(1, 1) .. "'\r\n")
        end
        argv[i] = arg
    end
    return argv
end

function on_connect(conn)
    conn:frame("buffer", BUFFER)
end

-- One argv table for the whole call, each request read into the one
-- before's (commands keep its strings, never the table): a table a
-- request was most of the garbage a request left.
function on_data(conn, input)
    local replies, n, argv = {}, 0, nil
    while true do
        local err
        argv, err = read_request(input, argv)
        if err then
            replies[n + 1] = err
            return replies, "close"
        end
        if not argv then return replies end      -- the rest comes again
        input:commit()
        if argv[1] then
            n = n + 1
            replies[n] = execute(argv)
        end
    end
end
