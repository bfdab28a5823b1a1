-- pop3.lua -- a POP3 server (RFC 1939) over a read-only maildrop.
--
-- Shows a line protocol with a banner, a state per connection, multi-line
-- replies, and a server that ends the session itself: QUIT gets its +OK
-- and then the server half-closes ("shutdown"), before the client has
-- finished sending. A client that half-closes first gets answers to every
-- command it sent, then the server's half-close. Commands are cut into
-- lines in C (conn:frame("line")); a line over 255 bytes resets the
-- connection.
--
--   USER name, PASS secret (any), STAT, LIST [n], RETR n, DELE n, RSET,
--   NOOP, QUIT. Deletions last for the session only.
--
--   ricochet --listen 127.0.0.1:1110 examples/pop3.lua
--   nc -C 127.0.0.1 1110        (type USER bob, PASS x, LIST, RETR 1, QUIT)

local mailbox = {
    "From: alice@example.org\r\nTo: bob@example.org\r\nSubject: hello\r\n"
        .. "\r\nHi Bob,\r\n.a line that starts with a dot\r\nAlice\r\n",
    "From: carol@example.org\r\nTo: bob@example.org\r\nSubject: second\r\n"
        .. "\r\nTwo.\r\n",
}

local function count(conn)
    local n, octets = 0, 0
    for i, msg in ipairs(mailbox) do
        if not conn.deleted[i] then n, octets = n + 1, octets + #msg end
    end
    return n, octets
end

-- The message numbered arg, or nil and an -ERR line.
local function message(conn, arg)
    local i = math.tointeger(tonumber(arg or ""))
    if i == nil or mailbox[i] == nil or conn.deleted[i] then
        return nil, "-ERR no such message\r\n"
    end
    return i
end

local transaction = {}
function transaction.STAT(conn)
    return string.format("+OK %d %d\r\n", count(conn))
end
function transaction.LIST(conn, arg)
    if arg then
        local i, err = message(conn, arg)
        if not i then return err end
        return string.format("+OK %d %d\r\n", i, #mailbox[i])
    end
    local out = {string.format("+OK %d messages (%d octets)\r\n",
                               count(conn))}
    for i, msg in ipairs(mailbox) do
        if not conn.deleted[i] then
            out[#out + 1] = string.format("%d %d\r\n", i, #msg)
        end
    end
    out[#out + 1] = ".\r\n"
    return table.concat(out)
end
function transaction.RETR(conn, arg)
    local i, err = message(conn, arg)
    if not i then return err end
    local body = mailbox[i]:gsub("\n%.", "\n.."):gsub("^%.", "..")
    return "+OK " .. #mailbox[i] .. " octets\r\n" .. body .. ".\r\n"
end
function transaction.DELE(conn, arg)
    local i, err = message(conn, arg)
    if not i then return err end
    conn.deleted[i] = true
    return "+OK message " .. i .. " deleted\r\n"
end
function transaction.RSET(conn)
    conn.deleted = {}
    return "+OK\r\n"
end
function transaction.NOOP() return "+OK\r\n" end

function on_connect(conn)
    conn:frame("line", {max = 255})
    conn.deleted = {}
    return "+OK ricochet POP3 server ready\r\n"
end

function on_data(conn, line)
    local cmd, arg = line:match("^(%a+)%s*(.-)%s*$")
    cmd = (cmd or ""):upper()
    if arg == "" then arg = nil end
    if cmd == "QUIT" then
        local n = count(conn)
        return "+OK ricochet POP3 server signing off (" .. n
               .. " messages left)\r\n", "shutdown"
    end
    if not conn.user_ok then                  -- AUTHORIZATION
        if cmd == "USER" and arg then
            conn.user = arg
            return "+OK " .. arg .. " is welcome here\r\n"
        elseif cmd == "PASS" and conn.user then
            conn.user_ok = true
            local n, octets = count(conn)
            return string.format("+OK %s's maildrop has %d messages (%d "
                                 .. "octets)\r\n", conn.user, n, octets)
        end
        return "-ERR USER name, then PASS secret\r\n"
    end
    local run = transaction[cmd]              -- TRANSACTION
    if run == nil then return "-ERR unknown command\r\n" end
    return run(conn, arg)
end

function on_done(conn, rest)
    -- The client finished first: no QUIT, so nothing would be deleted.
    if rest then return "-ERR unfinished command ignored\r\n" end
end
