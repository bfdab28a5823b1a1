/* ladmin.c -- the admin API's view of a script's state (see ladmin.h). */
#include "ladmin.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "lcall.h"
#include "lhook.h"

void ladmin_set_version(policy *p, unsigned long version)
{
    p->version = version;
}

unsigned long ladmin_version(const policy *p)
{
    return p->version;
}

unsigned long ladmin_conn_version(const conn *c)
{
    const lconn *lc = conn_owner(c);
    if (lc == NULL || lc->owner == NULL)
        return 0;
    return ((const policy *)lc->owner)->version;
}

conn *ladmin_conn_upstream(const conn *c)
{
    const lconn *lc = conn_owner(c);
    if (lc == NULL || lc->c != c)
        return NULL;
    return lc->up;
}

typedef struct args_call {
    char *const *kv;
    int n;
} args_call;

/* Lay the pairs over the table on top of the stack. */
static void put_pairs(lua_State *L, const args_call *ac)
{
    for (int i = 0; i < ac->n; i++) {
        const char *kv = ac->kv[i];
        const char *eq = strchr(kv, '=');
        if (eq == NULL) {
            lua_pushstring(L, kv);                    /* t key */
            lua_pushliteral(L, "true");               /* t key "true" */
        } else {
            lua_pushlstring(L, kv, (size_t)(eq - kv));
            lua_pushstring(L, eq + 1);                /* t key value */
        }
        lua_rawset(L, -3);                            /* t */
    }
}

/* Runs protected (lcall): on_args gets a copy of ricochet.args with the
 * pairs laid over it; once it has returned (or when there is none), the
 * pairs go into ricochet.args itself. So an on_args that raises leaves
 * the arguments as they were. */
static int set_args_main(lua_State *L)
{
    const args_call *ac = lua_touserdata(L, 1);
    /* raw: a strict-globals script raises on a missing global's read */
    lua_pushglobaltable(L);                           /* G */
    lua_pushliteral(L, "ricochet");                   /* G name */
    if (lua_rawget(L, -2) != LUA_TTABLE)              /* G r */
        return luaL_error(L, "ricochet is not a table: the script "
                          "replaced it, its arguments cannot be set");
    lua_pushliteral(L, "args");                       /* G r name */
    if (lua_rawget(L, -2) != LUA_TTABLE)              /* G r args */
        return luaL_error(L, "ricochet.args is not a table: the script "
                          "replaced it, its arguments cannot be set");
    lua_pushliteral(L, "on_args");                    /* G r args name */
    if (lua_rawget(L, -4) == LUA_TFUNCTION) {         /* G r args f */
        lua_newtable(L);                              /* G r args f new */
        lua_pushnil(L);                               /* ... new nil */
        while (lua_next(L, -4)) {                     /* ... new k v */
            lua_pushvalue(L, -2);                     /* ... new k v k */
            lua_insert(L, -2);                        /* ... new k k v */
            lua_rawset(L, -4);                        /* ... new k */
        }
        put_pairs(L, ac);                             /* G r args f new */
        lua_call(L, 1, 0);                            /* G r args */
    } else {
        lua_pop(L, 1);                                /* G r args */
    }
    put_pairs(L, ac);                                 /* G r args */
    return 0;
}

int ladmin_set_args(policy *p, char *const *kv, int n, char *err,
                    size_t errlen)
{
    args_call ac = {kv, n};
    lcall_status status = lcall(p->L, set_args_main, &ac);
    if (status == LCALL_OK)
        return 0;
    const char *msg = lua_tostring(p->L, -1);
    if (status == LCALL_MEMORY || msg == NULL)
        snprintf(err, errlen, "on_args: not enough memory");
    else if (status == LCALL_BUDGET)
        snprintf(err, errlen, "on_args: over its instruction budget");
    else
        snprintf(err, errlen, "%s", msg);
    lua_pop(p->L, 1);                                 /* */
    /* one line: the traceback goes */
    char *nl = strchr(err, '\n');
    if (nl != NULL)
        *nl = '\0';
    return -1;
}
