/* lconn.h -- the `conn` object that scripts see.
 *
 * A full userdata with a named metatable; its C pointer is cleared when the
 * connection goes, so a `conn` kept by a script after that raises
 * "connection is closed" instead of touching freed memory (as liolib does
 * for closed files). Script fields live in the userdata's user value, a
 * table created on the first assignment. */
#ifndef RICOCHET_LCONN_H
#define RICOCHET_LCONN_H

#include <lauxlib.h>
#include <lua.h>

#include "conn.h"

#define LCONN_METATABLE "ricochet.conn"

/* Create the metatable with the methods send, shutdown, close, reset,
 * frame (framing), delay, rate, slice, stall, resume, close_after and
 * reset_after (shaping), plus any in extra (name/function pairs ending
 * with {NULL, NULL}, e.g. the policy's `after`). May raise: call it in
 * protected mode. */
void lconn_open(lua_State *L, const luaL_Reg *extra);

/* Push a new `conn` for c. May raise (memory). */
void lconn_push(lua_State *L, conn *c);

/* The connection behind the `conn` at idx; raises when idx is not a
 * `conn` or its connection is closed. */
conn *lconn_check(lua_State *L, int idx);

/* Clear the pointer of the `conn` at idx: the connection is gone. Never
 * raises. */
void lconn_detach(lua_State *L, int idx);

#endif
