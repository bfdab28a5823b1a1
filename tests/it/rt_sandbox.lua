-- Fixture: what the sandbox lets a script reach. on_data:
--   "REPORT\n"  one "name=value" line per library or function checked
--   "PRINT\n"   print() a marker (it must go to the log, not stdout)
local function report()
    local out = {}
    local function add(name, value)
        out[#out + 1] = name .. "=" .. tostring(value) .. "\n"
    end
    -- rawget: reading an undefined global would raise
    for _, name in ipairs({"io", "debug", "loadfile", "dofile"}) do
        add(name, type(rawget(_G, name)))
    end
    for _, name in ipairs({"execute", "exit", "getenv", "remove", "rename",
                           "setlocale", "tmpname", "time", "clock",
                           "date"}) do
        add("os." .. name, type(os[name]))
    end
    add("package.loadlib", type(package.loadlib))
    add("package.cpath", package.cpath == "" and "empty" or "set")

    -- A C searcher would find rt_mod.lua through this cpath and try to
    -- load it as a shared library; without one the module is not found.
    local dir = ricochet.script:match("^(.*)/") or "."
    local path, cpath = package.path, package.cpath
    package.path, package.cpath = "", dir .. "/rt_?.lua"
    local ok, err = pcall(require, "mod")
    package.path, package.cpath = path, cpath
    add("require(C)", ok and "loaded"
        or (err:find("not found", 1, true) and not err:find("error loading")
            and "not found" or "tried to load"))

    -- require looks beside the script whatever package.path says, and
    -- scripts get no path search of their own (it probes any file).
    add("package.searchpath", type(package.searchpath))
    package.path = dir .. "/rt_?.lua"
    ok = pcall(require, "mod")
    package.path = path
    add("require(package.path elsewhere)", ok and "loaded" or "not found")

    local chunk = string.dump(function() return 7 end)
    local f, msg = load(chunk)
    add("load(binary)", f and "loaded" or msg)
    for _, mode in ipairs({"b", "bt"}) do
        local loaded, lerr = pcall(load, chunk, "=bin", mode)
        add("load(binary, " .. mode .. ")", loaded and "loaded" or lerr)
    end
    add("load(text)", load("return 6 * 7")())
    add("load(text, env)", load("return x", "=t", "t", {x = "env"})())
    return table.concat(out)
end

function on_data(conn, data)
    if data == "REPORT\n" then
        return report()
    elseif data == "REQUIRE\n" then
        return "require(lua)=" .. require("rt_mod").answer .. "\n"
    elseif data == "PRINT\n" then
        print("rt-sandbox-print-marker", 42)
        return "printed\n"
    end
    return data
end
