-- Fixture: a top level that fills the state's memory (run it with a
-- small --lua-memory).
local t = {}
for i = 1, 1e8 do
    t[i] = i
end
