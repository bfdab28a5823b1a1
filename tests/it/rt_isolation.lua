-- Fixture: the objects the server makes for a script, attacked without
-- the debug library. on_data, one command per chunk:
--   "ID?\n"      the connection's id
--   "ATTACK\n"   try to reach and change the metatables the server made
--                (conn's, the strings', _G's) and to plant a finalizer
--                that never ends: one "what=outcome" line each
--   "COLLECT\n"  a full garbage collection, then "collected"
-- Anything else is echoed.
-- The report must survive the attacks it reports on: its string functions
-- are taken now, not through the string metatable later.
local gsub, concat = string.gsub, table.concat

local function spin()
    while true do end
end

-- "name=done", or "name=error: message" without the "file:line: " head.
local function try(out, name, f)
    local ok, err = pcall(f)
    local outcome = ok and "done"
        or "error: " .. gsub(tostring(err), "^[^:]*:%d+: ", "")
    out[#out + 1] = name .. "=" .. outcome .. "\n"
end

-- What getmetatable gives for v: "table" (the real one) or the value.
local function shown(v)
    local mt = getmetatable(v)
    return type(mt) == "table" and "table" or tostring(mt)
end

local function attack(conn)
    local out = {}
    out[#out + 1] = "getmetatable(conn)=" .. shown(conn) .. "\n"
    out[#out + 1] = "getmetatable('')=" .. shown("") .. "\n"
    out[#out + 1] = "getmetatable(_G)=" .. shown(_G) .. "\n"
    try(out, "conn mt.__gc", function()
        local mt = getmetatable(conn)
        mt.__gc = spin
    end)
    try(out, "rawset(conn mt)", function()
        rawset(getmetatable(conn), "__gc", spin)
    end)
    try(out, "setmetatable(conn mt)", function()
        setmetatable(getmetatable(conn), {__index = {__gc = spin}})
    end)
    try(out, "setmetatable(conn)", function()
        setmetatable(conn, {})
    end)
    try(out, "conn mt.__index", function()
        local mt = getmetatable(conn)
        mt.__index = function() spin() end
    end)
    try(out, "string mt.__gc", function()
        local smt = getmetatable("")
        smt.__gc = spin
    end)
    try(out, "rawset(string mt)", function()
        rawset(getmetatable(""), "__index", {upper = spin})
    end)
    try(out, "setmetatable(t, string mt)", function()
        setmetatable({}, getmetatable(""))
    end)
    try(out, "_G mt.__gc", function()
        local gmt = getmetatable(_G)
        gmt.__gc = spin
    end)
    try(out, "setmetatable(_G)", function()
        setmetatable(_G, nil)
    end)
    try(out, "setmetatable(t, {__gc})", function()
        setmetatable({}, {__gc = spin})
    end)
    return concat(out)
end

function on_data(conn, data)
    if data == "ID?\n" then
        return tostring(conn.id) .. "\n"
    elseif data == "ATTACK\n" then
        return attack(conn)
    elseif data == "COLLECT\n" then
        collectgarbage()
        collectgarbage()
        return "collected\n"
    end
    return data
end
