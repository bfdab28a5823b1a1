/* lconn.c -- the Lua layer's side of a connection: the `conn` object's
 * fields and methods (which call down into conn.h), and conn:after. */
#include "lconn.h"

#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "lbudget.h"
#include "log.h"
#include "lsandbox.h"

/* The userdata: its lconn while the connection lives. */
typedef struct lobj {
    lconn *lc;       /* NULL once the connection is gone */
    lua_Integer id;
} lobj;

/* A conn:after timer. */
struct ltimer {
    timer t;
    lconn *lc;
    const lconn_env *env;
    int fn_ref;              /* the function to call */
    ltimer *prev, *next;
};

/* The lconn behind the `conn` at idx; raises when idx is not a `conn` or
 * its connection is closed. */
static lconn *check(lua_State *L, int idx)
{
    lobj *o = luaL_checkudata(L, idx, LCONN_METATABLE);
    if (o->lc == NULL)
        luaL_error(L, "connection %I is closed", o->id);
    return o->lc;
}

void lconn_init(lconn *lc, conn *c, lua_State *L, void *owner)
{
    lc->c = c;
    lc->L = L;
    lc->owner = owner;
    lc->obj_ref = LUA_NOREF;
    lc->warned_discard = 0;
    lc->timers = NULL;
    lc->refs = 1;
    lc->up_failed = 0;
    lc->up = NULL;
}

void lconn_push(lua_State *L, lconn *lc)
{
    if (lc->obj_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, lc->obj_ref); /* conn */
        return;
    }
    lobj *o = lua_newuserdatauv(L, sizeof *o, 1);       /* conn */
    o->lc = lc;
    o->id = (lua_Integer)conn_id(lc->c);
    luaL_setmetatable(L, LCONN_METATABLE);
    lua_pushvalue(L, -1);                               /* conn conn */
    lc->obj_ref = luaL_ref(L, LUA_REGISTRYINDEX);       /* conn */
}

void lconn_warn_discard(lconn *lc, const char *what, size_t len)
{
    if (lc->warned_discard)
        return;
    lc->warned_discard = 1;
    log_warn("conn %llu: %s of %zu bytes discarded: the sending side is %s",
             (unsigned long long)conn_id(lc->c), what, len,
             conn_state_name(conn_state(lc->c)));
}

/* conn:send(s): true, or nil and a message when our side is shut. The
 * bytes are copied out of Lua: charged to the budget. */
static int l_send(lua_State *L)
{
    lconn *lc = check(L, 1);
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len);
    lbudget_charge_bytes(L, len);
    int rc = conn_send(lc->c, s, len);
    if (rc == 0) {
        lua_pushboolean(L, 1);
        return 1;
    }
    if (rc == ERR_ENOTWRITABLE)
        lconn_warn_discard(lc, "conn:send", len);
    lua_pushnil(L);
    lua_pushstring(L, rc == ERR_ENOTWRITABLE ? "connection is not writable"
                                             : "out of memory");
    return 2;
}

static int l_shutdown(lua_State *L)
{
    conn_shutdown(check(L, 1)->c);
    return 0;
}

static int l_close(lua_State *L)
{
    conn_close(check(L, 1)->c);
    return 0;
}

static int l_reset(lua_State *L)
{
    conn_reset(check(L, 1)->c, CONN_REASON_RESET);
    return 0;
}

/* --- conn:after ---------------------------------------------------------- */

static void timer_unlink(ltimer *lt)
{
    lconn *lc = lt->lc;
    if (lt->prev)
        lt->prev->next = lt->next;
    else
        lc->timers = lt->next;
    if (lt->next)
        lt->next->prev = lt->prev;
}

static void timer_free(ltimer *lt)
{
    luaL_unref(lt->lc->L, LUA_REGISTRYINDEX, lt->fn_ref);
    free(lt);
}

static void timer_fired(timer *t)
{
    ltimer *lt = t->data;
    lconn *lc = lt->lc;
    timer_unlink(lt);
    if (conn_state(lc->c) != CONN_CLOSED) {
        conn_note(lc->c, "timer fired");
        lt->env->on_timer(lc, lt->fn_ref);
    }
    timer_free(lt);
}

/* conn:after(ms, fn): call fn(conn) in ms milliseconds; it returns
 * `reply, action` like a hook. Pending timers end with the connection. */
static int l_after(lua_State *L)
{
    const lconn_env *env = lua_touserdata(L, lua_upvalueindex(1));
    lconn *lc = check(L, 1);
    lua_Number ms = luaL_checknumber(L, 2);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    luaL_argcheck(L, ms >= 0 && ms <= 1e12, 2, "delay out of range");
    ms = ceil(ms); /* as the shaping calls do: 0.5 ms is 1 */
    lua_pushvalue(L, 3);                          /* ... fn */
    int fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);  /* ... */
    ltimer *lt = malloc(sizeof *lt);
    if (lt == NULL) {
        luaL_unref(L, LUA_REGISTRYINDEX, fn_ref);
        return luaL_error(L, "not enough memory");
    }
    lt->fn_ref = fn_ref;
    lt->lc = lc;
    lt->env = env;
    timer_init(&lt->t, timer_fired, lt);
    if (loop_timer_start(env->loop, &lt->t, (uint64_t)ms) != 0) {
        luaL_unref(L, LUA_REGISTRYINDEX, lt->fn_ref);
        free(lt);
        return luaL_error(L, "not enough memory");
    }
    lt->prev = NULL;
    lt->next = lc->timers;
    if (lc->timers)
        lc->timers->prev = lt;
    lc->timers = lt;
    return 0;
}

void lconn_detach(lconn *lc)
{
    while (lc->timers) {
        ltimer *lt = lc->timers;
        timer_unlink(lt);
        loop_timer_stop(lt->env->loop, &lt->t);
        timer_free(lt);
    }
    if (lc->obj_ref == LUA_NOREF)
        return;
    lua_State *L = lc->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, lc->obj_ref);     /* conn */
    lobj *o = lua_touserdata(L, -1);
    o->lc = NULL;
    lua_pop(L, 1);                                      /* */
    luaL_unref(L, LUA_REGISTRYINDEX, lc->obj_ref);
    lc->obj_ref = LUA_NOREF;
}

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
                                        "length", NULL};
    static const char *const keys[] = {"max", "keep", NULL};
    conn *c = check(L, 1)->c;
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
    conn *c = check(L, 1)->c;
    uint64_t ms = check_amount(L, 2, MAX_MS);
    return shaped(L, conn_delay(c, ms, opt_amount(L, 3, MAX_MS)));
}

/* conn:rate(bytes_per_second): bandwidth; 0 or nil lifts it. */
static int l_rate(lua_State *L)
{
    conn *c = check(L, 1)->c;
    return shaped(L, conn_rate(c, opt_amount(L, 2, MAX_BYTES)));
}

/* conn:slice(size [, variation [, gap_ms]]): small writes; 0 or nil: off */
static int l_slice(lua_State *L)
{
    conn *c = check(L, 1)->c;
    uint64_t size = opt_amount(L, 2, 1 << 30);
    uint64_t variation = opt_amount(L, 3, 1 << 30);
    uint64_t gap_ms = opt_amount(L, 4, MAX_MS);
    return shaped(L, conn_slice(c, (size_t)size, (size_t)variation, gap_ms));
}

static int l_stall(lua_State *L)
{
    return shaped(L, conn_stall(check(L, 1)->c));
}

static int l_resume(lua_State *L)
{
    conn_resume(check(L, 1)->c);
    return 0;
}

/* conn:close_after{bytes = N, ms = T}: whichever comes first ends our
 * sending: the rest is dropped and FIN goes out. */
static int l_close_after(lua_State *L)
{
    static const char *const keys[] = {"bytes", "ms", NULL};
    conn *c = check(L, 1)->c;
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
    conn *c = check(L, 1)->c;
    return shaped(L, conn_reset_after(c, check_amount(L, 2, MAX_MS)));
}

static const luaL_Reg methods[] = {
    {"send", l_send},
    {"shutdown", l_shutdown},
    {"close", l_close},
    {"reset", l_reset},
    {"after", l_after},
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

/* Read-only fields computed from the connection; NULL name ends. */
static int push_field(lua_State *L, lobj *o, const char *key)
{
    if (strcmp(key, "id") == 0) {
        lua_pushinteger(L, o->id);
        return 1;
    }
    int is_field = strcmp(key, "peer") == 0 ||
                   strcmp(key, "bytes_in") == 0 ||
                   strcmp(key, "bytes_out") == 0;
    if (!is_field)
        return 0;
    if (o->lc == NULL)
        return luaL_error(L, "connection %I is closed", o->id);
    const conn *c = o->lc->c;
    if (key[0] == 'p')
        lua_pushstring(L, conn_peer(c));
    else if (key[6] == 'i')
        lua_pushinteger(L, (lua_Integer)conn_bytes_in(c));
    else
        lua_pushinteger(L, (lua_Integer)conn_bytes_out(c));
    return 1;
}

static int is_reserved(lua_State *L, const char *key)
{
    static const char *const fields[] = {"id", "peer", "bytes_in",
                                         "bytes_out", NULL};
    for (int i = 0; fields[i]; i++)
        if (strcmp(key, fields[i]) == 0)
            return 1;
    lua_getfield(L, lua_upvalueindex(1), key); /* ... method|nil */
    int method = !lua_isnil(L, -1);
    lua_pop(L, 1);                             /* ... */
    return method;
}

/* __index(conn, key): methods, then fields, then the script's own. */
static int l_index(lua_State *L)
{
    lobj *o = luaL_checkudata(L, 1, LCONN_METATABLE);
    if (lua_type(L, 2) == LUA_TSTRING) {
        const char *key = lua_tostring(L, 2);
        lua_getfield(L, lua_upvalueindex(1), key); /* method|nil */
        if (!lua_isnil(L, -1))
            return 1;
        lua_pop(L, 1);
        if (push_field(L, o, key))
            return 1;
    }
    if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) /* fields|nil */
        return 1;
    lua_pushvalue(L, 2);                           /* fields key */
    lua_rawget(L, -2);                             /* fields value */
    return 1;
}

/* __newindex(conn, key, value): the script's own fields. */
static int l_newindex(lua_State *L)
{
    luaL_checkudata(L, 1, LCONN_METATABLE);
    if (lua_type(L, 2) == LUA_TSTRING && is_reserved(L, lua_tostring(L, 2)))
        return luaL_error(L, "conn.%s is read-only", lua_tostring(L, 2));
    if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) { /* nil */
        lua_pop(L, 1);
        lua_createtable(L, 0, 2);                  /* fields */
        lua_pushvalue(L, -1);                      /* fields fields */
        lua_setiuservalue(L, 1, 1);                /* fields */
    }
    lua_pushvalue(L, 2);                           /* fields key */
    lua_pushvalue(L, 3);                           /* fields key value */
    lua_rawset(L, -3);                             /* fields */
    return 0;
}

static int l_tostring(lua_State *L)
{
    lobj *o = luaL_checkudata(L, 1, LCONN_METATABLE);
    if (o->lc)
        lua_pushfstring(L, "conn %I (%s)", o->id, conn_peer(o->lc->c));
    else
        lua_pushfstring(L, "conn %I (closed)", o->id);
    return 1;
}

void lconn_open(lua_State *L, lconn_env *env)
{
    luaL_newmetatable(L, LCONN_METATABLE);    /* mt */
    luaL_newlibtable(L, methods);             /* mt methods */
    lua_pushlightuserdata(L, env);            /* mt methods env */
    luaL_setfuncs(L, methods, 1);             /* mt methods */
    lua_pushvalue(L, -1);                     /* mt methods methods */
    lua_pushcclosure(L, l_index, 1);          /* mt methods __index */
    lua_setfield(L, -3, "__index");           /* mt methods */
    lua_pushcclosure(L, l_newindex, 1);       /* mt __newindex */
    lua_setfield(L, -2, "__newindex");        /* mt */
    lua_pushcfunction(L, l_tostring);         /* mt __tostring */
    lua_setfield(L, -2, "__tostring");        /* mt */
    lua_pushliteral(L, "conn");               /* mt name */
    lua_setfield(L, -2, "__name");            /* mt */
    /* Shared by every conn: a script that reached it could add __gc,
     * and every later conn would carry a finalizer that runs outside
     * the budget (hooks are off in the collector and in lua_close). */
    lsandbox_protect(L, -1);
    lua_pop(L, 1);                            /* */
}
