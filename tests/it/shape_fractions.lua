-- Fixture: shaping amounts below one. on_connect calls the shaping
-- function the script argument what= names with a fraction that the
-- server once truncated to 0, which means "off" (or "now"):
--   delay   conn:delay(0.9)          each reply 1 ms later
--   rate    conn:rate(0.5)           1 byte a second
--   slice   conn:slice(0.5, 0, 100)  1-byte writes, 100 ms apart
--   after   conn:after(0.4, ...)     "timer\n" 1 ms after the connect
-- on_data echoes.
local what = ricochet.args.what

function on_connect(conn)
    if what == "delay" then
        conn:delay(0.9)
    elseif what == "rate" then
        conn:rate(0.5)
    elseif what == "slice" then
        conn:slice(0.5, 0, 100)
    elseif what == "after" then
        conn:after(0.4, function() return "timer\n" end)
    end
end

function on_data(conn, data)
    return data
end
