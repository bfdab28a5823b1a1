/* lcall.c -- the one protected-call wrapper (see lcall.h). */
#include "lcall.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

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

/* --- the traceback ------------------------------------------------------ */

/* luaL_traceback names a function by searching every table of
 * package.loaded, _G included, for it, at every level: with a million
 * globals a failing hook cost seconds of searching, outside every limit.
 * This one writes the same lines and searches at most SEARCH_ENTRIES
 * entries of each table: the libraries' functions are found as before
 * ("string.rep"), and the script's when _G is small ("on_data"); else a
 * function is named by where it was defined. */
#define SEARCH_ENTRIES 256
#define LEVELS_FIRST 10  /* levels shown before and after a long gap */
#define LEVELS_LAST 11

/* The name under which package.loaded holds the function on top of the
 * stack, pushed in its place ("string.rep", "on_data"); or 0 and the
 * function popped. */
static int push_loaded_name(lua_State *L)
{
    int fn = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE); /* fn loaded */
    if (lua_type(L, -1) != LUA_TTABLE || !lua_checkstack(L, 6)) {
        lua_settop(L, fn - 1);
        return 0;
    }
    lua_pushnil(L);                                  /* fn loaded k */
    while (lua_next(L, -2)) {                        /* fn loaded k lib */
        if (lua_type(L, -2) == LUA_TSTRING && lua_rawequal(L, -1, fn)) {
            lua_pop(L, 1);                           /* fn loaded "name" */
            lua_replace(L, fn);                      /* "name" loaded */
            lua_settop(L, fn);                       /* "name" */
            return 1;                 /* a module that is the function */
        }
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TTABLE) {
            int seen = 0;
            lua_pushnil(L);                          /* ... k lib k2 */
            while (seen++ < SEARCH_ENTRIES && lua_next(L, -2)) {
                if (lua_type(L, -2) == LUA_TSTRING &&    /* ... k2 v */
                    lua_rawequal(L, -1, fn)) {
                    const char *lib = lua_tostring(L, -4);
                    if (strcmp(lib, LUA_GNAME) == 0)
                        lua_pushvalue(L, -2);        /* ... "name" */
                    else
                        lua_pushfstring(L, "%s.%s", lib,
                                        lua_tostring(L, -2));
                    lua_replace(L, fn);              /* "name" ... */
                    lua_settop(L, fn);               /* "name" */
                    return 1;
                }
                lua_pop(L, 1);                       /* ... k lib k2 */
            }
            if (seen > SEARCH_ENTRIES)
                lua_pop(L, 1);                       /* ... k lib */
        }
        lua_pop(L, 1);                               /* fn loaded k */
    }
    lua_settop(L, fn - 1);
    return 0;
}

/* Push how a traceback line names the function of ar (as luaL_traceback
 * does, the global search bounded). */
static void push_function_name(lua_State *L, lua_Debug *ar)
{
    lua_getinfo(L, "f", ar);                         /* fn */
    if (push_loaded_name(L)) {                       /* name */
        lua_pushfstring(L, "function '%s'", lua_tostring(L, -1));
        lua_remove(L, -2);
    } else if (*ar->namewhat != '\0') {
        lua_pushfstring(L, "%s '%s'", ar->namewhat, ar->name);
    } else if (*ar->what == 'm') {
        lua_pushliteral(L, "main chunk");
    } else if (*ar->what != 'C') {
        lua_pushfstring(L, "function <%s:%d>", ar->short_src,
                        ar->linedefined);
    } else {
        lua_pushliteral(L, "?");
    }
}

/* msg, then "stack traceback:" and a line per level from level 1 (the
 * first and last levels of a deep stack, with the gap counted). */
static void push_traceback(lua_State *L, const char *msg)
{
    lua_Debug ar;
    luaL_Buffer b;
    int depth = 0;
    while (lua_getstack(L, depth + 1, &ar))
        depth++;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, msg);
    luaL_addstring(&b, "\nstack traceback:");
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (depth - 1 > LEVELS_FIRST + LEVELS_LAST &&
            level == LEVELS_FIRST + 1) {
            /* levels 11 to depth - 11 go; the count is the one
             * luaL_traceback prints (one short), for the same lines */
            int skipped = depth - LEVELS_FIRST - LEVELS_LAST;
            lua_pushfstring(L, "\n\t...\t(skipping %d levels)", skipped - 1);
            luaL_addvalue(&b);
            level += skipped - 1;
            continue;
        }
        lua_getinfo(L, "Slnt", &ar);
        if (ar.currentline <= 0)
            lua_pushfstring(L, "\n\t%s: in ", ar.short_src);
        else
            lua_pushfstring(L, "\n\t%s:%d: in ", ar.short_src,
                            ar.currentline);
        luaL_addvalue(&b);
        push_function_name(L, &ar);
        luaL_addvalue(&b);
        if (ar.istailcall)
            luaL_addstring(&b, "\n\t(...tail calls...)");
    }
    luaL_pushresult(&b);
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
    push_traceback(L, msg);
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
    lbudget_disarm(budget);
    if (status == LUA_OK)               /* mh ... */
        return LCALL_OK;                /* mh ... msg */
    if (status == LUA_ERRMEM)
        return LCALL_MEMORY;
    return budget->over ? LCALL_BUDGET : LCALL_ERROR;
}
