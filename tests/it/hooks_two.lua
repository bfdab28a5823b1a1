-- Fixture for --check: on_data and on_connect (defined in that order).
function on_data(conn, data) return data end
function on_connect(conn) return nil end
