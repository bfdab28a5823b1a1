/* lconn_shape.c -- the `conn` methods that frame its input and shape its
 * output: frame, delay, rate, slice, stall, resume, close_after and
 * reset_after. On conn.upstream they act on the upstream's side: its
 * frames go to on_upstream_data, and its shaping is of what goes to the
 * upstream. */
#include "lconn_int.h"

#include <lauxlib.h>
#include <math.h>
#include <string.h>

#include "frame.h"

/* A conn.h result as Lua sees it: ERR_ENOMEM raises (the connection
 * has been reset already). */
static int shaped(lua_State *L, int rc)
{
    if (rc != 0)
        return luaL_error(L, "not enough memory");
    return 0;
}

/* --- framing ------------------------------------------------------------ */

/* Raise unless every key of the options table at idx is one of names. */
static void check_keys(lua_State *L, int idx, const char *what,
                       const char *const *names)
{
    lua_pushnil(L);                                /* ... nil */
    while (lua_next(L, idx) != 0) {                /* ... key value */
        int known = 0;
        if (lua_type(L, -2) == LUA_TSTRING)
            for (int i = 0; names[i] && !known; i++)
                known = strcmp(lua_tostring(L, -2), names[i]) == 0;
        if (!known) {
            lua_pop(L, 1);                         /* ... key */
            luaL_error(L, "%s: unknown option '%s'", what,
                       luaL_tolstring(L, -1, NULL));
        }
        lua_pop(L, 1);                             /* ... key */
    }
}

/* An integer field of the table at idx in [lo, hi]; *out unchanged when
 * the field is nil. Returns 1 when it was set. */
static int opt_integer(lua_State *L, int idx, const char *what,
                       const char *key, lua_Integer lo, lua_Integer hi,
                       lua_Integer *out)
{
    int isnum;
    if (lua_getfield(L, idx, key) == LUA_TNIL) {   /* ... value */
        lua_pop(L, 1);                             /* ... */
        return 0;
    }
    lua_Integer v = lua_tointegerx(L, -1, &isnum);
    if (!isnum || v < lo || v > hi)
        luaL_error(L, "%s: %s must be an integer from %I to %I", what, key,
                   lo, hi);
    lua_pop(L, 1);                                 /* ... */
    *out = v;
    return 1;
}

/* conn:frame(mode, ...): how input is cut before on_data sees it.
 *   "raw" | "line" [, opts] | "delim", s [, opts] | "fixed", n [, opts]
 *   | "length", fmt [, opts]   with opts {max = N, keep = bool} */
static int l_frame(lua_State *L)
{
    static const char *const modes[] = {"raw", "line", "delim", "fixed",
                                        "length", "buffer", NULL};
    static const char *const keys[] = {"max", "keep", NULL};
    conn *c = lconn_target(L, 1);
    frame_spec spec;
    int opts = 3;
    size_t len;
    const char *s;
    frame_spec_init(&spec, (frame_mode)luaL_checkoption(L, 2, NULL, modes));
    switch (spec.mode) {
    case FRAME_DELIM:
        s = luaL_checklstring(L, 3, &len);
        luaL_argcheck(L, len >= 1 && len <= FRAME_DELIM_MAX, 3,
                      "the delimiter must be 1 to 64 bytes");
        memcpy(spec.delim, s, len);
        spec.delim_len = len;
        opts = 4;
        break;
    case FRAME_FIXED: {
        lua_Integer n = luaL_checkinteger(L, 3);
        luaL_argcheck(L, n >= 1 && n <= FRAME_MAX_LIMIT, 3,
                      "the size must be from 1 to 64 MiB");
        spec.size = spec.max = (size_t)n;
        opts = 4;
        break;
    }
    case FRAME_LENGTH:
        s = luaL_checklstring(L, 3, &len);
        if (frame_parse_length_format(s, len, &spec) != 0)
            luaL_argerror(L, 3, "expected a string.pack integer format "
                          "of 1 to 8 bytes, such as \">I2\" or \"<I4\"");
        opts = 4;
        break;
    default:
        break;
    }
    if (!lua_isnoneornil(L, opts)) {
        lua_Integer max = (lua_Integer)spec.max;
        luaL_checktype(L, opts, LUA_TTABLE);
        check_keys(L, opts, "conn:frame", keys);
        if (spec.mode != FRAME_FIXED)
            opt_integer(L, opts, "conn:frame", "max", 0, FRAME_MAX_LIMIT,
                        &max);
        spec.max = (size_t)max;
        lua_getfield(L, opts, "keep");             /* ... keep */
        spec.keep = lua_toboolean(L, -1);
        lua_pop(L, 1);                             /* ... */
    }
    return shaped(L, conn_frame(c, &spec));
}

/* --- shaping ------------------------------------------------------------ */

/* A non-negative number argument (milliseconds, bytes) up to hi. A
 * fraction rounds up: conn:rate(0.5) is one byte a second, not 0 ("off"),
 * and conn:delay(0.9) one millisecond. */
static uint64_t check_amount(lua_State *L, int arg, double hi)
{
    lua_Number v = luaL_checknumber(L, arg);
    luaL_argcheck(L, v >= 0 && v <= hi, arg, "out of range");
    return (uint64_t)ceil(v);
}

static uint64_t opt_amount(lua_State *L, int arg, double hi)
{
    return lua_isnoneornil(L, arg) ? 0 : check_amount(L, arg, hi);
}

#define MAX_MS 1e10    /* about 115 days */
#define MAX_BYTES 1e15

/* conn:delay(ms [, jitter_ms]): each reply goes out ms +- jitter later. */
static int l_delay(lua_State *L)
{
    conn *c = lconn_target(L, 1);
    uint64_t ms = check_amount(L, 2, MAX_MS);
    return shaped(L, conn_delay(c, ms, opt_amount(L, 3, MAX_MS)));
}

/* conn:rate(bytes_per_second): bandwidth; 0 or nil lifts it. */
static int l_rate(lua_State *L)
{
    conn *c = lconn_target(L, 1);
    return shaped(L, conn_rate(c, opt_amount(L, 2, MAX_BYTES)));
}

/* conn:slice(size [, variation [, gap_ms]]): small writes; 0 or nil: off */
static int l_slice(lua_State *L)
{
    conn *c = lconn_target(L, 1);
    uint64_t size = opt_amount(L, 2, 1 << 30);
    uint64_t variation = opt_amount(L, 3, 1 << 30);
    uint64_t gap_ms = opt_amount(L, 4, MAX_MS);
    return shaped(L, conn_slice(c, (size_t)size, (size_t)variation, gap_ms));
}

static int l_stall(lua_State *L)
{
    return shaped(L, conn_stall(lconn_target(L, 1)));
}

static int l_resume(lua_State *L)
{
    conn_resume(lconn_target(L, 1));
    return 0;
}

/* conn:close_after{bytes = N, ms = T}: whichever comes first ends our
 * sending: the rest is dropped and FIN goes out. */
static int l_close_after(lua_State *L)
{
    static const char *const keys[] = {"bytes", "ms", NULL};
    conn *c = lconn_target(L, 1);
    lua_Integer bytes = -1, ms = -1;
    luaL_checktype(L, 2, LUA_TTABLE);
    check_keys(L, 2, "conn:close_after", keys);
    opt_integer(L, 2, "conn:close_after", "bytes", 0, (lua_Integer)MAX_BYTES,
                &bytes);
    opt_integer(L, 2, "conn:close_after", "ms", 0, (lua_Integer)MAX_MS, &ms);
    if (bytes < 0 && ms < 0)
        return luaL_error(L, "conn:close_after: give bytes = N or ms = T");
    if (ms >= 0 && conn_close_after_ms(c, (uint64_t)ms) != 0)
        return luaL_error(L, "not enough memory");
    if (bytes >= 0 && conn_close_after_bytes(c, (uint64_t)bytes) != 0)
        return luaL_error(L, "not enough memory");
    return 0;
}

/* conn:reset_after(ms): an abortive close (RST) in ms. */
static int l_reset_after(lua_State *L)
{
    conn *c = lconn_target(L, 1);
    return shaped(L, conn_reset_after(c, check_amount(L, 2, MAX_MS)));
}


const luaL_Reg lconn_shape_methods[] = {
    {"frame", l_frame},
    {"delay", l_delay},
    {"rate", l_rate},
    {"slice", l_slice},
    {"stall", l_stall},
    {"resume", l_resume},
    {"close_after", l_close_after},
    {"reset_after", l_reset_after},
    {NULL, NULL}
};
