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

lconn *lconn_check(lua_State *L, int idx, lobj **obj)
{
    lobj *o = luaL_checkudata(L, idx, LCONN_METATABLE);
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
    lobj *o = lua_newuserdatauv(L, sizeof *o, 1);       /* conn */
    o->lc = lc;
    o->id = (lua_Integer)conn_id(lc->c);
    o->upstream = 0;
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

/* Push the read-only field key of the object at index 1 and return 1,
 * or return 0 when key is not one. */
static int push_field(lua_State *L, lobj *o, const char *key)
{
    if (strcmp(key, "id") == 0) {
        lua_pushinteger(L, o->id);
        return 1;
    }
    if (strcmp(key, "upstream") == 0) {
        if (o->upstream)
            lua_pushnil(L);   /* the upstream's side has none */
        else
            lconn_push_upstream(L, lconn_check(L, 1, NULL));
        return 1;
    }
    int is_field = strcmp(key, "peer") == 0 ||
                   strcmp(key, "bytes_in") == 0 ||
                   strcmp(key, "bytes_out") == 0;
    if (!is_field)
        return 0;
    const conn *c = lconn_target(L, 1);
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
                                         "bytes_out", "upstream", NULL};
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
    lobj *o = luaL_checkudata(L, 1, LCONN_METATABLE);
    if (lua_type(L, 2) == LUA_TSTRING && is_reserved(L, lua_tostring(L, 2)))
        return luaL_error(L, "conn.%s%s is read-only",
                          o->upstream ? "upstream." : "", lua_tostring(L, 2));
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
