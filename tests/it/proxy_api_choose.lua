-- Proxy mode, the upstream chosen per connection: odd connections go to
-- the upstream of argument a, even ones to b's (no --upstream).
local n = 0
function on_connect(conn)
    n = n + 1
    conn:connect(n % 2 == 1 and ricochet.args.a or ricochet.args.b)
end
