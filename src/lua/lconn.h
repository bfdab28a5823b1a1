/* lconn.h -- the Lua layer's side of one connection, and the `conn`
 * object scripts see.
 *
 * The object is a full userdata with a named metatable, created on first
 * use and kept in the registry while the connection lives. Its pointer to
 * the lconn is cleared when the connection goes, so a `conn` a script
 * kept after that raises "connection is closed" instead of touching freed
 * memory (as liolib does for closed files). Script fields live in the
 * userdata's user value, a table created on the first assignment.
 * conn:after timers belong to the lconn and end with it.
 *
 * In a proxied pair the lconn owns the upstream's connection too, and
 * conn.upstream is a second userdata of the same metatable, marked as
 * the upstream's side: the same methods act on the upstream's connection
 * (what it sends is framed, what goes to it is shaped). Its pointer is
 * cleared with conn's; while the client lives and the upstream has
 * closed, it raises "upstream connection N is closed". conn:connect
 * (from on_connect only) chooses the upstream, so a script can put one
 * connection in a pair and leave the next an echo. */
#ifndef RICOCHET_LCONN_H
#define RICOCHET_LCONN_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "loop.h"

#define LCONN_METATABLE "ricochet.conn"

typedef struct lconn lconn;
typedef struct ltimer ltimer;
typedef struct ltags ltags;
typedef struct lup_info lup_info;

/* conn:tag's bounds, per connection: a tag's key is a name of at most
 * LCONN_TAG_KEY_MAX bytes; at most LCONN_TAGS_MAX tags, whose keys and
 * string values take at most LCONN_TAG_BYTES bytes together. */
#define LCONN_TAGS_MAX 16
#define LCONN_TAG_KEY_MAX 32
#define LCONN_TAG_BYTES 1024

/* One tag, for the summary line. */
typedef struct ltag {
    char key[LCONN_TAG_KEY_MAX + 1];
    int type;                  /* LUA_TSTRING, LUA_TNUMBER, LUA_TBOOLEAN */
    int is_integer;            /* a number: an integer */
    lua_Integer i;             /* an integer, or a boolean (0 or 1) */
    lua_Number d;
    size_t off, len;           /* a string: in the tags' bytes */
} ltag;

struct ltags {
    int count;
    size_t strings;            /* bytes of the string values, packed */
    ltag tag[LCONN_TAGS_MAX];
    char bytes[LCONN_TAG_BYTES];
};

/* What the summary tells of the upstream once it closed before the
 * client (a pair's upstream goes first, or fails). */
struct lup_info {
    char peer[64];
    uint64_t bytes_in, bytes_out;
    enum conn_first_fin first_fin;
    enum conn_reason reason;
    int shaped;
    conn_shaping shaping;
};

/* Runs a conn:after callback (fn_ref, a registry reference) the way a
 * hook runs; set by the owner of the state. */
typedef void (*lconn_timer_fn)(lconn *lc, int fn_ref);

/* conn:connect: start lc's upstream connection to the numeric address
 * host:port (NULL: the default, --upstream). Returns 0 (a failure to
 * start is kept in lc->up_err, for the owner to report once on_connect
 * has returned) or ERR_EINVAL when there is no default. Never raises. */
typedef int (*lconn_connect_fn)(lconn *lc, const char *host, int port);

/* What the conn methods need of their state; owned by the state's
 * owner, alive as long as the state. */
typedef struct lconn_env {
    loop *loop;                /* conn:after's timers */
    lconn_timer_fn on_timer;
    lconn_connect_fn connect;
} lconn_env;

struct lconn {
    conn *c;
    lua_State *L;
    void *owner;               /* the state's owner (the policy) */
    int obj_ref;               /* the `conn` object; LUA_NOREF until used */
    unsigned warned_discard : 1; /* the "discarded" warning was given */
    unsigned refs : 2;         /* its connections not yet closed */
    unsigned up_failed : 1;    /* the upstream's connect failed */
    unsigned choosing : 1;     /* its on_connect runs: conn:connect may */
    unsigned chose : 1;        /* conn:connect was called */
    unsigned proxied : 1;      /* it has (had) an upstream: a pair */
    int up_err;                /* a connect that could not start; 0 */
    int up_obj_ref;            /* conn.upstream's userdata; LUA_NOREF */
    uint64_t up_id;            /* the upstream's connection id; 0: none */
    conn *up;                  /* proxy mode: the upstream's connection */
    ltimer *timers;            /* conn:after timers still pending */
    uint32_t hooks;            /* hook and timer calls so far */
    signed char failed_hook;   /* enum hook of a failed call; -1: none */
    unsigned char failure;     /* its lcall_status */
    ltags *tags;               /* conn:tag's; NULL until the first */
    lup_info *up_info;         /* the upstream's, once it closed */
};

/* Create the metatable with the methods send, shutdown, close, reset,
 * after, connect, frame (framing), delay, rate, slice, stall, resume,
 * close_after and reset_after (shaping). The same metatable serves
 * conn.upstream, the upstream's side of a pair: its methods act on the
 * upstream's connection (after and connect are refused there). Run
 * protected (it may raise a memory error). */
void lconn_open(lua_State *L, lconn_env *env);

/* Make lc the Lua side of c in state L. Never raises. */
void lconn_init(lconn *lc, conn *c, lua_State *L, void *owner);

/* Push lc's `conn`, creating it on first use. Run protected (memory). */
void lconn_push(lua_State *L, lconn *lc);

/* The connection is gone: stop lc's timers, clear its objects' pointers
 * (conn's and conn.upstream's) and drop the registry references. Never
 * raises. */
void lconn_detach(lconn *lc);

/* The upstream is closing: keep what the summary tells of it. Never
 * raises; on no memory the summary goes without it. */
void lconn_keep_upstream(lconn *lc, conn *up);

/* Warn, once a connection, that len bytes were refused because its
 * sending side is shut (what: "on_data reply", "conn:send", ...). */
void lconn_warn_discard(lconn *lc, const char *what, size_t len);

#endif
