/* lconn.h -- the Lua layer's side of one connection, and the `conn`
 * object scripts see.
 *
 * The object is a full userdata with a named metatable, created on first
 * use and kept in the registry while the connection lives. Its pointer to
 * the lconn is cleared when the connection goes, so a `conn` a script
 * kept after that raises "connection is closed" instead of touching freed
 * memory (as liolib does for closed files). Script fields live in the
 * userdata's user value, a table created on the first assignment.
 * conn:after timers belong to the lconn and end with it. */
#ifndef RICOCHET_LCONN_H
#define RICOCHET_LCONN_H

#include <lua.h>
#include <stddef.h>

#include "conn.h"
#include "loop.h"

#define LCONN_METATABLE "ricochet.conn"

typedef struct lconn lconn;
typedef struct ltimer ltimer;

/* Runs a conn:after callback (fn_ref, a registry reference) the way a
 * hook runs; set by the owner of the state. */
typedef void (*lconn_timer_fn)(lconn *lc, int fn_ref);

/* What the conn methods need of their state; owned by the state's
 * owner, alive as long as the state. */
typedef struct lconn_env {
    loop *loop;                /* conn:after's timers */
    lconn_timer_fn on_timer;
} lconn_env;

struct lconn {
    conn *c;
    lua_State *L;
    void *owner;               /* the state's owner (the policy) */
    int obj_ref;               /* the `conn` userdata; LUA_NOREF until used */
    unsigned warned_discard : 1; /* the "discarded" warning was given */
    unsigned refs : 2;         /* its connections not yet closed */
    unsigned up_failed : 1;    /* the upstream's connect failed */
    conn *up;                  /* proxy mode: the upstream's connection */
    ltimer *timers;            /* conn:after timers still pending */
};

/* Create the metatable with the methods send, shutdown, close, reset,
 * after, frame (framing), delay, rate, slice, stall, resume, close_after
 * and reset_after (shaping). Run protected (it may raise a memory
 * error). */
void lconn_open(lua_State *L, lconn_env *env);

/* Make lc the Lua side of c in state L. Never raises. */
void lconn_init(lconn *lc, conn *c, lua_State *L, void *owner);

/* Push lc's `conn`, creating it on first use. Run protected (memory). */
void lconn_push(lua_State *L, lconn *lc);

/* The connection is gone: stop lc's timers, clear its object's pointer
 * and drop the registry references. Never raises. */
void lconn_detach(lconn *lc);

/* Warn, once a connection, that len bytes were refused because its
 * sending side is shut (what: "on_data reply", "conn:send", ...). */
void lconn_warn_discard(lconn *lc, const char *what, size_t len);

#endif
