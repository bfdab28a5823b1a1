-- fin-first.lua -- the server half-closes first: the client gets the
-- first reply the server sends, then our FIN, while everything the
-- client sends afterwards still reaches the server (whose later replies
-- are dropped). Shows what a client does when its server finishes first:
-- does it notice the EOF, does it still send, does it close its side?
--
--   ricochet --upstream 127.0.0.1:6379 examples/fin-first.lua
--   printf 'PING\r\n' | socat -t 5 - TCP:127.0.0.1:7007
--
-- "The first reply" is the first read from the server (one chunk, as it
-- arrived). No arguments.

for key in pairs(ricochet.args) do
    error("fin-first.lua: unknown argument '" .. key .. "' (it takes none)",
          0)
end

function on_upstream_data(conn, data)
    if conn.finished then
        return nil                  -- the client's side is shut: dropped
    end
    conn.finished = true
    return data, "shutdown"         -- the reply, then FIN to the client
end
