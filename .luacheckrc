-- luacheck's settings for ricochet's scripts (scripts/, examples/):
-- luacheck scripts examples. A script runs under Lua 5.4, may define the
-- hooks as globals, and reads the `ricochet` table the server adds.
std = "lua54"

-- The hooks a script may define (and nothing else as a global: the
-- server reads every other undefined global as an error).
globals = {
    "on_connect", "on_data", "on_done", "on_upstream_data",
    "on_upstream_done", "on_upstream_error", "on_timeout", "on_close",
    "on_args",
}

-- A hook's first argument is always the connection; a hook that does not
-- use it still names it, so that its signature reads as the contract.
ignore = { "212/conn" }

-- The server's library (src/lua/lricochet.c); its fields are read, not
-- set.
read_globals = {
    ricochet = {
        fields = {
            "args", "script", "version", "worker", "upstream",
            "log", "now", "random", "resolve",
        },
    },
    -- Lua 5.5's table.create, which the server adds to 5.4
    -- (src/lua/lcharge.c)
    table = { fields = { "create" } },
}

-- The definition file declares the hooks and the library for editors
-- (and table.create, for an editor set to Lua 5.4): empty stubs, whose
-- arguments are unused and whose class tables are only annotated, on
-- purpose.
files["scripts/ricochet.d.lua"] = {
    globals = { "ricochet", table = { fields = { "create" } } },
    unused = false,
    redefined = false,
}
