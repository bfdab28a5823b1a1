-- http.lua -- an HTTP/1.1 responder with keep-alive and Content-Length.
--
-- Shows framing by delimiter, then by size: the request head is cut at the
-- blank line (conn:frame("delim", "\r\n\r\n")), a body of Content-Length
-- bytes with conn:frame("fixed", n), then back to heads. Connections stay
-- open between requests (HTTP/1.1 keep-alive) until the client sends
-- "Connection: close" (or speaks HTTP/1.0 without keep-alive); then the
-- server half-closes after the response, as HTTP wants.
--
--   GET  /          hello
--   POST /echo      the request body back
--   GET  /headers   the request head back
--   anything else   404
--
--   ricochet --listen 127.0.0.1:8080 examples/http.lua
--   curl -s http://127.0.0.1:8080/ http://127.0.0.1:8080/   (one connection)
--   wrk -t2 -c50 -d5s http://127.0.0.1:8080/

local MAX_HEAD = 8 * 1024
local MAX_BODY = 1024 * 1024

-- connection: nil, "close" or "keep-alive" (which HTTP/1.0 must be told)
local function response(status, body, connection)
    return "HTTP/1.1 " .. status .. "\r\n"
        .. "Content-Type: text/plain\r\n"
        .. "Content-Length: " .. #body .. "\r\n"
        .. (connection and "Connection: " .. connection .. "\r\n" or "")
        .. "\r\n" .. body
end

local function handle(req, body)
    if req.method == "GET" and req.path == "/" then
        return "200 OK", "hello from ricochet\n"
    elseif req.method == "POST" and req.path == "/echo" then
        return "200 OK", body
    elseif req.method == "GET" and req.path == "/headers" then
        return "200 OK", req.head .. "\r\n"
    end
    return "404 Not Found", "no route for " .. req.method .. " "
           .. req.path .. "\n"
end

local function reply(conn, req, body)
    local status, text = handle(req, body)
    return response(status, text, req.connection),
           req.close and "shutdown" or nil
end

function on_connect(conn)
    conn:frame("delim", "\r\n\r\n", {max = MAX_HEAD})
end

function on_data(conn, frame)
    local req = conn.req
    if req then                             -- the body of req
        conn.req = nil
        conn:frame("delim", "\r\n\r\n", {max = MAX_HEAD})
        return reply(conn, req, frame)
    end
    local method, path, version = frame:match("^(%u+) (%S+) HTTP/(1%.%d)")
    if method == nil then
        return response("400 Bad Request", "bad request line\n", "close"),
               "shutdown"
    end
    req = {method = method, path = path, head = frame}
    local connection = (frame:match("\n[Cc]onnection:%s*([^\r\n]*)") or "")
                       :lower()
    req.close = connection == "close" or
                (version == "1.0" and connection ~= "keep-alive")
    if req.close then
        req.connection = "close"
    elseif version == "1.0" then
        req.connection = "keep-alive"
    end
    local length = tonumber(frame:match("\n[Cc]ontent%-[Ll]ength:%s*(%d+)")
                            or "0")
    if length > MAX_BODY then
        return response("413 Content Too Large", "body over 1 MiB\n",
                        "close"),
               "shutdown"
    end
    if length > 0 then                      -- wait for the body
        conn.req = req
        conn:frame("fixed", length)
        return nil
    end
    return reply(conn, req, "")
end
