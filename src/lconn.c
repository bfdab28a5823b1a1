/* lconn.c -- the `conn` object that scripts see: fields and methods that
 * call down into conn.c. */
#include "lconn.h"

#include <lauxlib.h>
#include <string.h>

#include "log.h"

typedef struct lconn {
    conn *c;     /* NULL once the connection is gone */
    lua_Integer id;
} lconn;

conn *lconn_check(lua_State *L, int idx)
{
    lconn *lc = luaL_checkudata(L, idx, LCONN_METATABLE);
    if (lc->c == NULL)
        luaL_error(L, "connection %d is closed", (int)lc->id);
    return lc->c;
}

void lconn_detach(lua_State *L, int idx)
{
    lconn *lc = lua_touserdata(L, idx);
    if (lc != NULL)
        lc->c = NULL;
}

void lconn_push(lua_State *L, conn *c)
{
    lconn *lc = lua_newuserdatauv(L, sizeof *lc, 1); /* conn */
    lc->c = c;
    lc->id = (lua_Integer)c->id;
    luaL_setmetatable(L, LCONN_METATABLE);
}

/* conn:send(s): true, or nil and a message when our side is shut. */
static int l_send(lua_State *L)
{
    conn *c = lconn_check(L, 1);
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len);
    int rc = conn_send(c, s, len);
    if (rc == 0) {
        lua_pushboolean(L, 1);
        return 1;
    }
    if (rc == CONN_ENOTWRITABLE && !c->warned_discard) {
        c->warned_discard = 1;
        log_warn("conn %llu: conn:send of %zu bytes refused: the sending "
                 "side is %s", (unsigned long long)c->id, len,
                 conn_state_name(c->state));
    }
    lua_pushnil(L);
    lua_pushstring(L, rc == CONN_ENOTWRITABLE ? "connection is not writable"
                                              : "out of memory");
    return 2;
}

static int l_shutdown(lua_State *L)
{
    conn_shutdown(lconn_check(L, 1));
    return 0;
}

static int l_close(lua_State *L)
{
    conn_close(lconn_check(L, 1));
    return 0;
}

static int l_reset(lua_State *L)
{
    conn_reset(lconn_check(L, 1), CONN_REASON_RESET);
    return 0;
}

static const luaL_Reg methods[] = {
    {"send", l_send},
    {"shutdown", l_shutdown},
    {"close", l_close},
    {"reset", l_reset},
    {NULL, NULL}
};

/* Read-only fields computed from the connection; NULL name ends. */
static int push_field(lua_State *L, lconn *lc, const char *key)
{
    if (strcmp(key, "id") == 0) {
        lua_pushinteger(L, lc->id);
        return 1;
    }
    int is_field = strcmp(key, "peer") == 0 ||
                   strcmp(key, "bytes_in") == 0 ||
                   strcmp(key, "bytes_out") == 0;
    if (!is_field)
        return 0;
    if (lc->c == NULL)
        return luaL_error(L, "connection %d is closed", (int)lc->id);
    if (key[0] == 'p')
        lua_pushstring(L, lc->c->peer);
    else if (key[6] == 'i')
        lua_pushinteger(L, (lua_Integer)lc->c->bytes_in);
    else
        lua_pushinteger(L, (lua_Integer)lc->c->bytes_out);
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
    lconn *lc = luaL_checkudata(L, 1, LCONN_METATABLE);
    if (lua_type(L, 2) == LUA_TSTRING) {
        const char *key = lua_tostring(L, 2);
        lua_getfield(L, lua_upvalueindex(1), key); /* method|nil */
        if (!lua_isnil(L, -1))
            return 1;
        lua_pop(L, 1);
        if (push_field(L, lc, key))
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
    lconn *lc = luaL_checkudata(L, 1, LCONN_METATABLE);
    if (lc->c)
        lua_pushfstring(L, "conn %d (%s)", (int)lc->id, lc->c->peer);
    else
        lua_pushfstring(L, "conn %d (closed)", (int)lc->id);
    return 1;
}

void lconn_open(lua_State *L, const luaL_Reg *extra)
{
    luaL_newmetatable(L, LCONN_METATABLE);    /* mt */
    luaL_newlib(L, methods);                  /* mt methods */
    if (extra)
        luaL_setfuncs(L, extra, 0);
    lua_pushvalue(L, -1);                     /* mt methods methods */
    lua_pushcclosure(L, l_index, 1);          /* mt methods __index */
    lua_setfield(L, -3, "__index");           /* mt methods */
    lua_pushcclosure(L, l_newindex, 1);       /* mt __newindex */
    lua_setfield(L, -2, "__newindex");        /* mt */
    lua_pushcfunction(L, l_tostring);         /* mt __tostring */
    lua_setfield(L, -2, "__tostring");        /* mt */
    lua_pushliteral(L, "conn");               /* mt name */
    lua_setfield(L, -2, "__name");            /* mt */
    lua_pop(L, 1);                            /* */
}
