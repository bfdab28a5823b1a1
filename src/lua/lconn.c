/* lconn.c -- the Lua layer's side of a connection: the `conn` object's
 * fields and methods (which call down into conn.h), and conn:after. The
 * framing and shaping methods are in lconn_shape.c, conn:connect and
 * conn.upstream in lupstream.c. */
#include "lconn_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbudget.h"
#include "log.h"
#include "lsandbox.h"

/* A conn:after timer. */
struct ltimer {
    timer t;
    lconn *lc;
    const lconn_env *env;
    int fn_ref;              /* the function to call */
    ltimer *prev, *next;
};

/* The key under which an object's table holds its lobj (see lconn_int.h):
 * a light userdata, which no script can make. */
static const char object_key;

/* The lobj of the object at idx, or NULL when idx is not one. A script
 * may read the key with next() and store anything under it in any
 * table; only a full userdata of lobj's size holding its own address,
 * which only lconn_new_object makes, passes. */
static lobj *object_at(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        return NULL;
    lobj *o = NULL;
    if (lua_rawgetp(L, idx, &object_key) == LUA_TUSERDATA &&   /* ud */
        lua_rawlen(L, -1) == sizeof *o) {
        o = lua_touserdata(L, -1);
        if (o->self != o)
            o = NULL;
    }
    lua_pop(L, 1);                                            /* */
    return o;
}

/* The conn or conn.upstream object at idx; raises as luaL_checkudata. */
static lobj *check_obj(lua_State *L, int idx)
{
    lobj *o = object_at(L, idx);
    if (o == NULL)
        luaL_typeerror(L, idx, "conn");
    return o;
}

lobj *lconn_new_object(lua_State *L, lconn *lc, lua_Integer id, int upstream,
                       int *ref)
{
    lua_createtable(L, 0, 1);                           /* t */
    lobj *o = lua_newuserdatauv(L, sizeof *o, 0);       /* t ud */
    o->lc = lc;
    o->id = id;
    o->upstream = upstream;
    o->self = o;
    lua_rawsetp(L, -2, &object_key);                    /* t */
    luaL_setmetatable(L, LCONN_METATABLE);
    lua_pushvalue(L, -1);                               /* t t */
    *ref = luaL_ref(L, LUA_REGISTRYINDEX);              /* t */
    return o;
}

void lconn_drop_object(lua_State *L, int *ref)
{
    if (*ref == LUA_NOREF)
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, *ref);            /* t */
    lobj *o = object_at(L, -1);
    if (o != NULL)    /* else the script replaced it: nothing points here */
        o->lc = NULL;
    lua_pop(L, 1);                                      /* */
    luaL_unref(L, LUA_REGISTRYINDEX, *ref);
    *ref = LUA_NOREF;
}

lconn *lconn_check(lua_State *L, int idx, lobj **obj)
{
    lobj *o = check_obj(L, idx);
    if (obj != NULL)
        *obj = o;
    if (o->upstream && (o->lc == NULL || o->lc->up == NULL))
        luaL_error(L, "upstream connection %I is closed", o->id);
    if (o->lc == NULL)
        luaL_error(L, "connection %I is closed", o->id);
    return o->lc;
}

conn *lconn_target(lua_State *L, int idx)
{
    lobj *o;
    lconn *lc = lconn_check(L, idx, &o);
    return o->upstream ? lc->up : lc->c;
}

/* The lconn behind the client's `conn` at idx (not conn.upstream): for
 * what only the client's side has. */
static lconn *check_client(lua_State *L, int idx, const char *method)
{
    lobj *o;
    lconn *lc = lconn_check(L, idx, &o);
    if (o->upstream)
        luaL_error(L, "conn.upstream:%s: only the client's conn has it "
                   "(use conn:%s)", method, method);
    return lc;
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
    lc->choosing = 0;
    lc->chose = 0;
    lc->proxied = 0;
    lc->up_err = 0;
    lc->up_obj_ref = LUA_NOREF;
    lc->up_id = 0;
    lc->up = NULL;
    lc->hooks = 0;
    lc->failed_hook = -1;
    lc->failure = 0;
    lc->tags = NULL;
    lc->up_info = NULL;
}

void lconn_push(lua_State *L, lconn *lc)
{
    if (lc->obj_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, lc->obj_ref); /* conn */
        return;
    }
    lconn_new_object(L, lc, (lua_Integer)conn_id(lc->c), 0, &lc->obj_ref);
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
    lobj *o;
    lconn *lc = lconn_check(L, 1, &o);
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len);
    lbudget_charge_bytes(L, len);
    int rc = conn_send(o->upstream ? lc->up : lc->c, s, len);
    if (rc == 0) {
        lua_pushboolean(L, 1);
        return 1;
    }
    if (rc == ERR_ENOTWRITABLE)
        lconn_warn_discard(lc, o->upstream ? "conn.upstream:send"
                                           : "conn:send", len);
    lua_pushnil(L);
    lua_pushstring(L, rc == ERR_ENOTWRITABLE ? "connection is not writable"
                                             : "out of memory");
    return 2;
}

static int l_shutdown(lua_State *L)
{
    conn_shutdown(lconn_target(L, 1));
    return 0;
}

static int l_close(lua_State *L)
{
    conn_close(lconn_target(L, 1));
    return 0;
}

static int l_reset(lua_State *L)
{
    conn_reset(lconn_target(L, 1), CONN_REASON_RESET);
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
    lconn *lc = check_client(L, 1, "after");
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
    lconn_detach_upstream(lc);
    free(lc->tags);
    lc->tags = NULL;
    free(lc->up_info);
    lc->up_info = NULL;
    lconn_drop_object(lc->L, &lc->obj_ref);
}

void lconn_keep_upstream(lconn *lc, conn *up)
{
    if (lc->up_info == NULL && (lc->up_info = malloc(sizeof *lc->up_info))
                                   == NULL)
        return;
    lup_info *info = lc->up_info;
    snprintf(info->peer, sizeof info->peer, "%s", conn_peer(up));
    info->bytes_in = conn_bytes_in(up);
    info->bytes_out = conn_bytes_out(up);
    info->first_fin = conn_first_fin(up);
    info->reason = conn_reason(up);
    info->shaped = conn_get_shaping(up, &info->shaping);
}

/* --- conn:tag ------------------------------------------------------------- */

static int is_tag_key(const char *key, size_t len)
{
    if (len == 0 || len > LCONN_TAG_KEY_MAX || (key[0] >= '0' &&
                                                key[0] <= '9'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = key[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_'))
            return 0;
    }
    return 1;
}

/* Give back tag k's string bytes (packed in tags->bytes); k stays. */
static void drop_string(ltags *tags, int k)
{
    ltag *t = &tags->tag[k];
    if (t->type != LUA_TSTRING)
        return;
    memmove(tags->bytes + t->off, tags->bytes + t->off + t->len,
            tags->strings - (t->off + t->len));
    for (int j = 0; j < tags->count; j++)
        if (tags->tag[j].type == LUA_TSTRING && tags->tag[j].off > t->off)
            tags->tag[j].off -= t->len;
    tags->strings -= t->len;
    t->type = LUA_TNIL;
    t->len = 0;
}

/* Bytes the tags take (keys and strings), without tag skip. */
static size_t tags_size(const ltags *tags, int skip)
{
    size_t size = 0;
    for (int j = 0; j < tags->count; j++)
        if (j != skip)
            size += strlen(tags->tag[j].key) + tags->tag[j].len;
    return size;
}

/* conn:tag(key, value): a field of the connection's summary line, as
 * tag.KEY=VALUE; value a string, number or boolean (nil removes it).
 * Tagging a key again replaces its value, in its place. */
static int l_tag(lua_State *L)
{
    lconn *lc = lconn_check(L, 1, NULL);
    size_t key_len, len = 0;
    const char *key = luaL_checklstring(L, 2, &key_len);
    int type = lua_type(L, 3);
    if (!is_tag_key(key, key_len))
        return luaL_error(L, "conn:tag: the key must be a name of at most "
                          "%d bytes ([A-Za-z_][A-Za-z0-9_]*), not '%s'",
                          LCONN_TAG_KEY_MAX, key);
    if (type != LUA_TSTRING && type != LUA_TNUMBER &&
        type != LUA_TBOOLEAN && type != LUA_TNIL)
        return luaL_error(L, "conn:tag: the value of '%s' must be a string, "
                          "a number, a boolean or nil, not a %s", key,
                          luaL_typename(L, 3));
    const char *value = type == LUA_TSTRING ? lua_tolstring(L, 3, &len)
                                            : NULL;
    lbudget_charge_bytes(L, key_len + len);
    if (lc->tags == NULL) {
        if (type == LUA_TNIL)
            return 0;
        if ((lc->tags = calloc(1, sizeof *lc->tags)) == NULL)
            return luaL_error(L, "not enough memory");
    }
    ltags *tags = lc->tags;
    int k = 0;
    while (k < tags->count && strcmp(tags->tag[k].key, key) != 0)
        k++;
    if (type == LUA_TNIL) {
        if (k < tags->count) {
            drop_string(tags, k);
            memmove(&tags->tag[k], &tags->tag[k + 1],
                    (size_t)(tags->count - k - 1) * sizeof tags->tag[0]);
            tags->count--;
        }
        return 0;
    }
    if (k == LCONN_TAGS_MAX)
        return luaL_error(L, "conn:tag: a connection has at most %d tags "
                          "('%s' is one too many)", LCONN_TAGS_MAX, key);
    size_t size = tags_size(tags, k) + key_len + len;
    if (size > LCONN_TAG_BYTES)
        return luaL_error(L, "conn:tag: the tags of a connection take at "
                          "most %d bytes (keys and string values; '%s' "
                          "would make %d)", LCONN_TAG_BYTES, key,
                          (int)size); /* size < 2^20: lua_pushfstring
                                         knows no %zu */
    if (k < tags->count)
        drop_string(tags, k);  /* replaced in its place */
    else
        tags->count++;
    ltag *t = &tags->tag[k];
    memset(t, 0, sizeof *t);
    memcpy(t->key, key, key_len + 1);
    t->type = type;
    if (type == LUA_TSTRING) {
        t->off = tags->strings;
        t->len = len;
        memcpy(tags->bytes + t->off, value, len);
        tags->strings += len;
    } else if (type == LUA_TBOOLEAN) {
        t->i = lua_toboolean(L, 3);
    } else if (lua_isinteger(L, 3)) {
        t->is_integer = 1;
        t->i = lua_tointeger(L, 3);
    } else {
        t->d = lua_tonumber(L, 3);
    }
    return 0;
}

static const luaL_Reg methods[] = {
    {"tag", l_tag},
    {"send", l_send},
    {"shutdown", l_shutdown},
    {"close", l_close},
    {"reset", l_reset},
    {"after", l_after},
    {"connect", lconn_connect_method},
    {NULL, NULL}
};

/* The read-only fields. Their names sit in the methods table with these
 * codes as values, so one lookup there tells a method, a field and a
 * script's own key apart. */
enum { FIELD_ID = 1, FIELD_UPSTREAM, FIELD_PEER, FIELD_BYTES_IN,
       FIELD_BYTES_OUT };
static const char *const field_names[] = {
    NULL, "id", "upstream", "peer", "bytes_in", "bytes_out"
};

/* Push the read-only field of code field of the object o at index 1. */
static void push_field(lua_State *L, lobj *o, lua_Integer field)
{
    if (field == FIELD_ID) {
        lua_pushinteger(L, o->id);
        return;
    }
    if (field == FIELD_UPSTREAM) {
        if (o->upstream)
            lua_pushnil(L);   /* the upstream's side has none */
        else
            lconn_push_upstream(L, lconn_check(L, 1, NULL));
        return;
    }
    const conn *c = lconn_target(L, 1);
    if (field == FIELD_PEER)
        lua_pushstring(L, conn_peer(c));
    else if (field == FIELD_BYTES_IN)
        lua_pushinteger(L, (lua_Integer)conn_bytes_in(c));
    else
        lua_pushinteger(L, (lua_Integer)conn_bytes_out(c));
}

/* __index(conn, key) and __newindex(conn, key, value) run only for the
 * keys a conn's table does not hold: methods, read-only fields, and the
 * script's fields not set yet. Their upvalue is the methods table. */
static int l_index(lua_State *L)
{
    lua_pushvalue(L, 2);                           /* key */
    int type = lua_rawget(L, lua_upvalueindex(1)); /* method|code|nil */
    if (type == LUA_TNUMBER)
        push_field(L, check_obj(L, 1), lua_tointeger(L, -1));
    return 1;
}

static int l_newindex(lua_State *L)
{
    lua_pushvalue(L, 2);                           /* key */
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) /* method|code */
        return luaL_error(L, "conn.%s%s is read-only",
                          check_obj(L, 1)->upstream ? "upstream." : "",
                          lua_tostring(L, 2));
    lua_settop(L, 3);                              /* conn key value */
    lua_rawset(L, 1);                              /* conn */
    return 0;
}

/* next() over a conn's table that passes over the private key. */
static int l_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);                              /* t key */
    while (lua_next(L, 1) != 0) {                  /* t key value */
        if (lua_touserdata(L, -2) != &object_key ||
            lua_type(L, -2) != LUA_TLIGHTUSERDATA)
            return 2;
        lua_pop(L, 1);                             /* t key */
    }
    return 0;
}

/* __pairs(conn): the script's own fields. */
static int l_pairs(lua_State *L)
{
    lua_pushcfunction(L, l_next);                  /* conn next */
    lua_pushvalue(L, 1);                           /* conn next conn */
    lua_pushnil(L);                                /* conn next conn nil */
    return 3;
}

static int l_tostring(lua_State *L)
{
    lobj *o = check_obj(L, 1);
    const char *what = o->upstream ? "upstream" : "conn";
    conn *c = o->lc == NULL ? NULL : o->upstream ? o->lc->up : o->lc->c;
    if (c != NULL)
        lua_pushfstring(L, "%s %I (%s)", what, o->id, conn_peer(c));
    else
        lua_pushfstring(L, "%s %I (closed)", what, o->id);
    return 1;
}

void lconn_open(lua_State *L, lconn_env *env)
{
    luaL_newmetatable(L, LCONN_METATABLE);    /* mt */
    lua_createtable(L, 0, 16);                /* mt methods */
    lua_pushlightuserdata(L, env);            /* mt methods env */
    luaL_setfuncs(L, methods, 1);             /* mt methods */
    lua_pushlightuserdata(L, env);            /* mt methods env */
    luaL_setfuncs(L, lconn_shape_methods, 1); /* mt methods */
    for (int f = FIELD_ID; f <= FIELD_BYTES_OUT; f++) {
        lua_pushinteger(L, f);                /* mt methods code */
        lua_setfield(L, -2, field_names[f]);  /* mt methods */
    }
    lua_pushvalue(L, -1);                     /* mt methods methods */
    lua_pushcclosure(L, l_index, 1);          /* mt methods __index */
    lua_setfield(L, -3, "__index");           /* mt methods */
    lua_pushcclosure(L, l_newindex, 1);       /* mt __newindex */
    lua_setfield(L, -2, "__newindex");        /* mt */
    lua_pushcfunction(L, l_pairs);            /* mt __pairs */
    lua_setfield(L, -2, "__pairs");           /* mt */
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
