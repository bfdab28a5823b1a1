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

/* Reading a global that was never set raises "undefined global 'x'". */
void lsandbox_strict_globals(lua_State *L);

/* Replace the global name with fn, which gets the original as upvalue 1. */
void lsandbox_wrap(lua_State *L, const char *name, lua_CFunction fn);

#endif
