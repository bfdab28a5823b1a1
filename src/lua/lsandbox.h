/* lsandbox.h -- what a script may reach by default.
 *
 * The standard libraries minus whatever reaches outside the process (no
 * io, debug, os.execute and friends, loadfile/dofile, binary chunks,
 * require of C modules), no finalizers (they run outside the hook budget),
 * and globals that must exist to be read. --unsafe skips lsandbox_open. */
#ifndef RICOCHET_LSANDBOX_H
#define RICOCHET_LSANDBOX_H

#include <lua.h>

/* Open the safe libraries. require finds Lua modules beside script, and
 * loads them as text. May raise: call it in protected mode. */
void lsandbox_open(lua_State *L, const char *script);

/* Reading a global that was never set raises "undefined global 'x'"; the
 * metatable that does it is protected (lsandbox_protect). */
void lsandbox_strict_globals(lua_State *L);

/* What getmetatable returns for the objects whose metatable the server
 * made (conn, strings, _G). */
#define LSANDBOX_PROTECTED "protected"

/* Give the metatable at index metatable a __metatable field: getmetatable
 * then returns LSANDBOX_PROTECTED instead of the table, and setmetatable
 * refuses to change it, so without the debug library (only --unsafe has
 * it) a script cannot reach the table to add __gc or anything else.
 * May raise a memory error. */
void lsandbox_protect(lua_State *L, int metatable);

/* Replace the global name with fn, which gets the original as upvalue 1. */
void lsandbox_wrap(lua_State *L, const char *name, lua_CFunction fn);

#endif
