/* lsandbox.c -- the libraries a script gets by default, and strict
 * globals. */
#include "lsandbox.h"

#include <lauxlib.h>
#include <lualib.h>
#include <string.h>

#include "path.h"

void lsandbox_wrap(lua_State *L, const char *name, lua_CFunction fn)
{
    lua_getglobal(L, name);                  /* original */
    lua_pushcclosure(L, fn, 1);              /* wrapper */
    lua_setglobal(L, name);                  /* */
}

/* Finalizers run with hooks off (in the collector, and in lua_close on a
 * reload or a stop), so a __gc that loops would hang the server: the
 * sandbox refuses them. Lua marks an object for finalization only if its
 * metatable has __gc when set, so checking here is enough. */
static int l_setmetatable(lua_State *L)
{
    int mt_type = lua_type(L, 2);
    /* the stock checks, here so that their messages name setmetatable */
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, mt_type == LUA_TNIL || mt_type == LUA_TTABLE, 2,
                     "nil or table");
    if (mt_type == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        int has_gc = lua_rawget(L, 2) != LUA_TNIL;
        lua_pop(L, 1);
        if (has_gc)
            return luaL_error(L, "setmetatable: __gc is not allowed (a "
                              "finalizer runs outside the hook budget; "
                              "--unsafe allows it)");
    }
    lua_pushvalue(L, lua_upvalueindex(1));   /* t mt setmetatable */
    lua_insert(L, 1);                        /* setmetatable t mt */
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* load() that refuses binary chunks: they can crash the VM. */
static int l_safe_load(lua_State *L)
{
    const char *mode = luaL_optstring(L, 3, "t");
    if (strchr(mode, 'b') != NULL)
        return luaL_error(L, "load: binary chunks are not allowed (run "
                          "with --unsafe to allow them)");
    lua_settop(L, 4);
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    lua_pushvalue(L, lua_upvalueindex(1));  /* args... load */
    lua_insert(L, 1);                       /* load args... */
    lua_call(L, 4, LUA_MULTRET);
    return lua_gettop(L);
}

/* A require searcher for Lua modules beside the script only, loaded as
 * text. Its path (upvalue 1) is fixed when the state is made, and the
 * path search (upvalue 2, the stock package.searchpath) is not left to
 * scripts: with any path a script could probe the whole file system,
 * read any file as Lua source (its first token leaks in the syntax
 * error), or block the worker for ever in fopen on a FIFO or a
 * terminal. */
static int l_text_searcher(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    lua_pushvalue(L, lua_upvalueindex(2));            /* name searchpath */
    lua_pushvalue(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));            /* ... sp name path */
    lua_call(L, 2, 2);                                /* ... file|nil msg */
    if (lua_isnil(L, -2))
        return 1;                                     /* the message */
    const char *file = lua_tostring(L, -2);
    if (luaL_loadfilex(L, file, "t") != LUA_OK)
        return luaL_error(L, "error loading module '%s' from file '%s':"
                          "\n\t%s", name, file, lua_tostring(L, -1));
    lua_pushstring(L, file);                          /* ... loader file */
    return 2;
}

static void set_nil(lua_State *L, int table, const char *const *names)
{
    table = lua_absindex(L, table);
    for (; *names; names++) {
        lua_pushnil(L);
        lua_setfield(L, table, *names);
    }
}

void lsandbox_open(lua_State *L, const char *script)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},       {LUA_LOADLIBNAME, luaopen_package},
        {LUA_COLIBNAME, luaopen_coroutine}, {LUA_TABLIBNAME, luaopen_table},
        {LUA_OSLIBNAME, luaopen_os},     {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math}, {LUA_UTF8LIBNAME, luaopen_utf8},
        {NULL, NULL}
    };
    static const char *const base_out[] = {"dofile", "loadfile", NULL};
    static const char *const os_out[] = {"execute", "exit", "getenv",
                                         "remove", "rename", "setlocale",
                                         "tmpname", NULL};
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    lua_pushglobaltable(L);                           /* G */
    set_nil(L, -1, base_out);
    lua_getfield(L, -1, "load");                      /* G load */
    lua_pushcclosure(L, l_safe_load, 1);              /* G safe_load */
    lua_setfield(L, -2, "load");                      /* G */
    lua_getfield(L, -1, LUA_OSLIBNAME);               /* G os */
    set_nil(L, -1, os_out);
    lua_pop(L, 1);                                    /* G */

    /* require: preloaded and Lua modules beside the script, as text */
    lua_getfield(L, -1, LUA_LOADLIBNAME);             /* G package */
    lua_pushnil(L);
    lua_setfield(L, -2, "loadlib");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    char dir[4096];
    path_dirname(script, dir, sizeof dir);
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua", dir, dir);
    lua_pushvalue(L, -1);                             /* G package p p */
    lua_setfield(L, -3, "path");       /* what it says; changing it does */
    lua_getfield(L, -2, "searchpath"); /* nothing     G package p sp */
    lua_pushcclosure(L, l_text_searcher, 2);          /* G package searcher */
    lua_getfield(L, -2, "searchers");                 /* G package ts s */
    lua_createtable(L, 2, 0);                         /* G package ts s new */
    lua_rawgeti(L, -2, 1);                            /* ... new preload */
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, -3);                             /* ... new ts */
    lua_rawseti(L, -2, 2);                            /* G package ts s new */
    lua_setfield(L, -4, "searchers");                 /* G package ts s */
    lua_pop(L, 2);                                    /* G package */
    lua_pushnil(L);
    lua_setfield(L, -2, "searchpath");                /* G package */
    lua_pop(L, 2);                                    /* */
    lsandbox_wrap(L, "setmetatable", l_setmetatable);
    /* the strings' metatable (its __index is the string table) */
    lua_pushliteral(L, "");                           /* "" */
    if (lua_getmetatable(L, -1)) {                    /* "" mt */
        lsandbox_protect(L, -1);
        lua_pop(L, 1);                                /* "" */
    }
    lua_pop(L, 1);                                    /* */
}

/* __index of _G: reading a global that does not exist is a typo. */
static int l_undefined_global(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TSTRING)
        return luaL_error(L, "undefined global '%s'", lua_tostring(L, 2));
    return luaL_error(L, "undefined global (a %s key)",
                      luaL_typename(L, 2));
}

void lsandbox_strict_globals(lua_State *L)
{
    lua_pushglobaltable(L);                           /* G */
    lua_createtable(L, 0, 2);                         /* G mt */
    lua_pushcfunction(L, l_undefined_global);
    lua_setfield(L, -2, "__index");
    lsandbox_protect(L, -1);
    lua_setmetatable(L, -2);                          /* G */
    lua_pop(L, 1);                                    /* */
}

void lsandbox_protect(lua_State *L, int metatable)
{
    metatable = lua_absindex(L, metatable);
    lua_pushliteral(L, LSANDBOX_PROTECTED);           /* ... "protected" */
    lua_setfield(L, metatable, "__metatable");        /* ... */
}
