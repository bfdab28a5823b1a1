-- Fixture: on_timout is a typo of on_timeout: the script loads with a
-- warning naming it, and the idle timeout keeps its default.
function on_timout(conn)
    return "never called"
end
