-- Shaping in proxy mode: what goes to the client (the upstream's replies,
-- relayed in C) is held back 100 ms.
function on_connect(conn)
    conn:delay(100)
end
