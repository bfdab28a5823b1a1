-- Fixture: compiles, but running the top level fails on line 4.
function on_data(conn, data) return data end

error("toplevel failure")
