/* lcall.c -- the one protected-call wrapper (see lcall.h). */
#include "lcall.h"

#include <lauxlib.h>
#include <stdlib.h>

#include "lbudget.h"
#include "log.h"

/* The message handler stays at this index of the main thread's stack for
 * the state's life: pushed once, it costs a call nothing. */
#define HANDLER_INDEX 1

/* A correct program never gets here: everything runs protected. */
static int l_panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    log_error("lua panic: %s", msg ? msg : "(error object is not a string)");
    abort();
    return 0;
}

/* Add a traceback to the error message (lua.c's msghandler). */
static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") &&
            lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)",
                              luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

void lcall_init(lua_State *L)
{
    lua_atpanic(L, l_panic);
    lua_settop(L, 0);
    lua_pushcfunction(L, msghandler);   /* mh: a light C function, no */
}                                       /* allocation, cannot raise */

lcall_status lcall(lua_State *L, lua_CFunction fn, void *ud)
{
    lbudget *budget = lbudget_of(L);
    lua_pushcfunction(L, fn);           /* mh ... fn */
    lua_pushlightuserdata(L, ud);       /* mh ... fn ud */
    lbudget_arm(budget);
    int status = lua_pcall(L, 1, 0, HANDLER_INDEX);
    if (status == LUA_OK)               /* mh ... */
        return LCALL_OK;                /* mh ... msg */
    if (status == LUA_ERRMEM)
        return LCALL_MEMORY;
    return budget->over ? LCALL_BUDGET : LCALL_ERROR;
}
