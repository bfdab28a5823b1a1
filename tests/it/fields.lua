-- Fixture: reply with the conn fields and a per-connection script counter.
function on_data(conn, data)
    conn.count = (conn.count or 0) + 1
    return string.format("id=%s peer=%s in=%d out=%d count=%d len=%d\n",
                         tostring(conn.id), conn.peer, conn.bytes_in,
                         conn.bytes_out, conn.count, #data)
end
