/* lricochet.h -- the `ricochet` library scripts see: log, now, random,
 * resolve (at load only), args, script, version, worker, upstream (with
 * --upstream); and print() routed to the log. */
#ifndef RICOCHET_LRICOCHET_H
#define RICOCHET_LRICOCHET_H

#include <lua.h>
#include <stdint.h>

#include "loop.h"

/* What the library reads; owned by the caller, alive as long as the
 * state. */
typedef struct lricochet {
    const char *script;   /* ricochet.script */
    char **args;          /* "key=value" (or "flag": "true") */
    int nargs;
    int worker;           /* ricochet.worker, 1.. */
    const char *upstream; /* ricochet.upstream, "HOST:PORT"; NULL: none */
    loop *loop;           /* ricochet.now()'s clock; NULL: monotonic */
    uint64_t current_id;  /* the connection whose hook runs; 0: none */
    int loading;          /* 1 while the top level runs: resolve may */
} lricochet;

/* Make the global `ricochet` and replace print. Run protected (it may
 * raise a memory error). */
void lricochet_open(lua_State *L, lricochet *lib);

#endif
