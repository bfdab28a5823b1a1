-- Fixture for --check: all five hooks, defined out of order, plus a
-- helper function that is not a hook.
function on_close(conn, reason) end
function helper() return 1 end
function on_timeout(conn) return "idle\n" end
function on_done(conn) return nil, "shutdown" end
function on_data(conn, data) return data end
function on_connect(conn) return nil end
