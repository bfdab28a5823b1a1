/* lconn_int.h -- what the files of the `conn` object share (lconn.c,
 * lconn_shape.c, lupstream.c); nobody else includes it. */
#ifndef RICOCHET_LCONN_INT_H
#define RICOCHET_LCONN_INT_H

#include <lauxlib.h>

#include "lconn.h"

/* A `conn`, or a pair's conn.upstream, is a Lua table: the script's own
 * fields are its plain fields, which the VM reads and writes without a
 * metamethod; its metatable's __index gives the methods and read-only
 * fields. Under a private key it holds this userdata: its lconn while the
 * client's connection lives. */
typedef struct lobj {
    lconn *lc;          /* NULL once the client's connection is gone */
    lua_Integer id;     /* the id of its own connection */
    int upstream;       /* 1: the upstream's side of lc */
    struct lobj *self;  /* itself: tells it from any other userdata */
} lobj;

/* Push a new object for lc (conn.upstream when upstream is 1) whose
 * connection has id; a reference to it is kept in *ref. Raises only a
 * memory error. */
lobj *lconn_new_object(lua_State *L, lconn *lc, lua_Integer id, int upstream,
                       int *ref);

/* The object kept in *ref loses its lconn (its connection is gone) and
 * the reference is dropped. Never raises. */
void lconn_drop_object(lua_State *L, int *ref);

/* The connection the `conn` (or conn.upstream) at idx acts on; raises
 * when idx is neither, or when that connection is closed. */
conn *lconn_target(lua_State *L, int idx);

/* The lconn behind the object at idx, and the object; raises as
 * lconn_target does. */
lconn *lconn_check(lua_State *L, int idx, lobj **obj);

/* The framing and shaping methods (lconn_shape.c). */
extern const luaL_Reg lconn_shape_methods[];

/* conn:connect(spec) (lupstream.c); its upvalue is the lconn_env. */
int lconn_connect_method(lua_State *L);

/* Push conn.upstream for lc: its object, or nil when lc never had an
 * upstream (lupstream.c). */
void lconn_push_upstream(lua_State *L, lconn *lc);

/* Clear lc's conn.upstream object, if it was made (lupstream.c). */
void lconn_detach_upstream(lconn *lc);

#endif
