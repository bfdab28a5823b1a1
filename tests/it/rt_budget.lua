-- Fixture: the instruction budget (--hook-budget). on_data echoes, except
-- for a few commands that each come as one chunk:
--   "ID?\n"      the connection's id
--   "LOOP\n"     a runaway loop in on_data itself
--   "NESTED\n"   a runaway loop in a function on_data calls
--   "PCALL\n"    runaway loops inside pcall, then "survived" (must not come)
--   "TIMER\n"    "armed\n" now, and a runaway loop in a conn:after callback
--   "PATTERN\n"  a catastrophic pattern match
--   "WORK\n"     a normal hook: about 2,000,000 instructions, then the sum
--   "LONG\n"     a long hook: about 60,000,000 instructions, then the sum
--   "CO_WRAP\n"  runaway coroutines, each under pcall, then "survived"
--   "CO_TOP\n"   a runaway loop in a coroutine the top level made
--   "CO_SPLIT\n" endless work split over coroutines, each under the budget
--   "XPCALL\n"   a runaway loop under xpcall whose message handler loops
--   "GC\n"       a __gc finalizer that loops (the sandbox refuses __gc)
-- The tests find the lines of the loops by their "-- runaway:" comments.
local function spin()
    while true do end -- runaway: spin
end

local spin_made_at_load = coroutine.wrap(spin)

local function some_work() -- about 600,000 instructions
    for _ = 1, 300000 do end
end

function on_data(conn, data)
    if data == "ID?\n" then
        return tostring(conn.id) .. "\n"
    elseif data == "LOOP\n" then
        while true do end -- runaway: on_data
    elseif data == "LONG\n" then
        local sum = 0
        for i = 1, 30000000 do sum = sum + i end
        return tostring(sum) .. "\n"
    elseif data == "NESTED\n" then
        spin()
    elseif data == "PCALL\n" then
        for _ = 1, 100 do
            pcall(spin)
        end
        return "survived\n"
    elseif data == "TIMER\n" then
        conn:after(0, function(c)
            while true do end -- runaway: timer
        end)
        return "armed\n"
    elseif data == "PATTERN\n" then
        local found = string.rep("a", 30000):find(".-.-.-.-x")
        return "pattern done: " .. tostring(found) .. "\n"
    elseif data == "WORK\n" then
        local sum = 0
        for i = 1, 1000000 do
            sum = sum + i
        end
        return string.format("%d\n", sum)
    elseif data == "CO_WRAP\n" then
        for _ = 1, 20 do
            pcall(coroutine.wrap(spin))
        end
        return "survived\n"
    elseif data == "CO_TOP\n" then
        spin_made_at_load()
        return "survived\n"
    elseif data == "CO_SPLIT\n" then
        while true do
            coroutine.wrap(some_work)()
        end
    elseif data == "XPCALL\n" then
        xpcall(spin, function(message)
            while true do end -- runaway: message handler
        end)
        return "survived\n"
    elseif data == "GC\n" then
        setmetatable({}, {__gc = function()
            while true do end -- runaway: finalizer
        end})
        collectgarbage()
        return "survived\n"
    end
    return data
end
