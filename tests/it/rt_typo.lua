-- Fixture: a typo'd hook name. on_dat is not a hook: the script loads,
-- with a warning naming it; without on_data the bytes are echoed by C.
function on_dat(conn, data)
    return "never called"
end

function on_close(conn, reason)
end
