/* lricochet.c -- the `ricochet` library (see lricochet.h). Its functions
 * find the lricochet through their first upvalue. */
#include "lricochet.h"

#include <lauxlib.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "lbudget.h"
#include "log.h"
#include "lupstream.h"
#include "net.h"
#include "rng.h"

static lricochet *lib_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* Push the arguments from index first on, as print would show them. The
 * line is charged to the budget (the log copies it, formats it and
 * writes it). */
static const char *join_args(lua_State *L, int first)
{
    luaL_Buffer b;
    int n = lua_gettop(L);
    luaL_buffinit(L, &b);
    for (int i = first; i <= n; i++) {
        if (i > first)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    lbudget_charge_bytes(L, lua_rawlen(L, -1));
    return lua_tostring(L, -1);
}

/* print() goes to the log: stdout carries the readiness lines. */
static int l_print(lua_State *L)
{
    log_info("%s", join_args(L, 1));
    return 0;
}

/* ricochet.log(level, ...): one log line, tagged with the connection whose
 * hook is running. */
static int l_log(lua_State *L)
{
    lricochet *lib = lib_of(L);
    log_level level;
    if (log_parse_level(luaL_checkstring(L, 1), &level) != 0)
        return luaL_argerror(L, 1, "error, warn, info, debug or trace "
                             "expected");
    if (level > log_get_level())
        return 0;
    const char *msg = join_args(L, 2);
    if (lib->current_id)
        log_msg(level, "conn %llu: %s", (unsigned long long)lib->current_id,
                msg);
    else
        log_msg(level, "%s", msg);
    return 0;
}

/* ricochet.now(): milliseconds on the server's monotonic (or, under
 * --simulate, virtual) clock. */
static int l_now(lua_State *L)
{
    lricochet *lib = lib_of(L);
    uint64_t ms = lib->loop ? loop_now(lib->loop) : clock_monotonic_ms();
    lua_pushinteger(L, (lua_Integer)ms);
    return 1;
}

/* ricochet.random([m [, n]]): as math.random, from the --seed source. */
static int l_random(lua_State *L)
{
    lua_Integer low, up;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, (lua_Number)rng_uniform());
        return 1;
    case 1:
        low = 1;
        up = luaL_checkinteger(L, 1);
        break;
    default:
        low = luaL_checkinteger(L, 1);
        up = luaL_checkinteger(L, 2);
        break;
    }
    luaL_argcheck(L, low <= up, lua_gettop(L), "interval is empty");
    uint64_t span = (uint64_t)up - (uint64_t)low;
    uint64_t draw = span == UINT64_MAX ? rng_next()
                                       : rng_next() % (span + 1);
    lua_pushinteger(L, (lua_Integer)((uint64_t)low + draw));
    return 1;
}

/* ricochet.resolve("NAME:PORT"): the numeric "ADDR:PORT" (or
 * "[ADDR]:PORT") for conn:connect, or nil and the reason. It blocks on
 * the system's resolver, so only the top level may call it (at load and
 * reload): in a hook it would stall every connection of the worker. */
static int l_resolve(lua_State *L)
{
    lricochet *lib = lib_of(L);
    const char *spec = luaL_checkstring(L, 1);
    char host[ADDR_HOST_MAX], addr[ADDR_HOST_MAX], err[160], out[96];
    int port;
    if (!lib->loading)
        return luaL_error(L, "ricochet.resolve may be called only from the "
                          "script's top level, as it loads: it waits for "
                          "the resolver, which a hook must never do");
    int rc = lupstream_parse(spec, host, sizeof host, &port, err,
                             sizeof err);
    if (rc < 0)
        return luaL_argerror(L, 1, err);
    if (rc == 1) {
        uint64_t waited_from = clock_monotonic_us();
        rc = net_resolve(host, addr, sizeof addr);
        /* --hook-timeout bounds the script, not the resolver */
        lbudget_exclude_us(L, clock_monotonic_us() - waited_from);
        if (rc != 0) {
            lua_pushnil(L);
            lua_pushfstring(L, "%s: %s", host, err_strerror(rc));
            return 2;
        }
        lupstream_format(out, sizeof out, addr, port);
    } else {
        lupstream_format(out, sizeof out, host, port);
    }
    lua_pushstring(L, out);
    return 1;
}

void lricochet_open(lua_State *L, lricochet *lib)
{
    static const luaL_Reg funcs[] = {
        {"log", l_log}, {"now", l_now}, {"random", l_random},
        {"resolve", l_resolve}, {NULL, NULL}
    };
    luaL_newlibtable(L, funcs);                       /* r */
    lua_pushlightuserdata(L, lib);                    /* r lib */
    luaL_setfuncs(L, funcs, 1);                       /* r */
    lua_createtable(L, 0, lib->nargs);                /* r args */
    for (int i = 0; i < lib->nargs; i++) {
        const char *kv = lib->args[i];
        const char *eq = strchr(kv, '=');
        if (eq == NULL) {
            lua_pushstring(L, kv);                    /* r args key */
            lua_pushliteral(L, "true");               /* flag: "true" */
        } else {
            lua_pushlstring(L, kv, (size_t)(eq - kv));
            lua_pushstring(L, eq + 1);                /* r args key value */
        }
        lua_rawset(L, -3);                            /* r args */
    }
    lua_setfield(L, -2, "args");                      /* r */
    lua_pushstring(L, lib->script);
    lua_setfield(L, -2, "script");
    lua_pushliteral(L, RICOCHET_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushinteger(L, lib->worker > 0 ? lib->worker : 1);
    lua_setfield(L, -2, "worker");
    if (lib->upstream != NULL) {
        lua_pushstring(L, lib->upstream);
        lua_setfield(L, -2, "upstream");
    }
    lua_setglobal(L, "ricochet");                     /* */
    if (lua_getglobal(L, "print") != LUA_TNIL) {      /* print */
        lua_pushcfunction(L, l_print);
        lua_setglobal(L, "print");
    }
    lua_pop(L, 1);                                    /* */
}
