/* lhook.h -- inside the Lua layer: the policy (one script's state) and
 * how its hooks are called. For policy.c, lproxy.c and lhook.c only. */
#ifndef RICOCHET_LHOOK_H
#define RICOCHET_LHOOK_H

#include <lua.h>
#include <stddef.h>

#include "conn.h"
#include "lalloc.h"
#include "lbudget.h"
#include "lconn.h"
#include "linput.h"
#include "lricochet.h"
#include "policy.h"

/* The hooks a script may define, in the order --check lists them;
 * HOOK_TIMER is a conn:after callback, not a global. */
/* The most a data hook is given at once (conn_set_read_max). Without a
 * hook, C moves the bytes in 256 KiB reads; a hook's copy of them into
 * a Lua string, and what it makes of it, does better in smaller pieces:
 * bulk through upper.lua took 0.75 s of CPU a GiB in 64 KiB reads and
 * 1.13 s in 256 KiB ones (tests/bench/README.md). */
#define LHOOK_READ_MAX (64 * 1024)

enum hook { HOOK_CONNECT, HOOK_DATA, HOOK_DONE, HOOK_UP_DATA, HOOK_UP_DONE,
            HOOK_UP_ERROR, HOOK_TIMEOUT, HOOK_CLOSE, HOOK_TIMER,
            HOOK_COUNT };
_Static_assert(HOOK_COUNT == POLICY_HOOKS, "POLICY_HOOKS counts the hooks");

extern const char *const lhook_names[HOOK_COUNT];

struct policy {
    lua_State *L;
    char *path;
    const policy_opts *opts;
    int refs;
    int hook_ref[HOOK_TIMER];  /* LUA_NOREF when the script lacks it */
    conn_callbacks callbacks;  /* an echo client's; data NULL: C echo */
    conn_callbacks proxy_callbacks; /* a proxied client's */
    conn_callbacks up_callbacks; /* the upstream's, in proxy mode */
    lalloc alloc;              /* the state's memory: count, cap, cache */
    lbudget budget;            /* instructions per call */
    lricochet lib;             /* what ricochet.* reads */
    lconn_env env;             /* what the conn methods need */
    linput_slot input;         /* the running call's buffer input */
    char upstream[80];         /* ricochet.upstream: "HOST:PORT" */
    policy_stats *stats;       /* NULL: not counted (policy_bind_stats) */
    size_t memory_counted;     /* alloc.used as stats->memory has it */
    unsigned long version;     /* policy_set_version's; 0: not set */
};

/* One hook call. Its reply, and its action, go to `to` (NULL: the
 * client's connection): in proxy mode a client's event goes on to the
 * upstream, and an upstream's to the client. */
typedef struct hook_call {
    lconn *lc;
    enum hook hook;
    int fn_ref;          /* the function to call (a hook or a timer's) */
    const char *data;    /* the bytes; on_done's unfinished frame */
    size_t len;
    const char *reason;  /* on_close, on_upstream_error */
    conn *to;
} hook_call;

/* Run one hook call under the budget; on error the message and traceback
 * are logged with the connection id and the connection (the pair, in
 * proxy mode) is reset. */
void lhook_call(policy *p, const hook_call *hc);

/* Bring stats->memory up to date with p's allocator (p->stats set). */
void lhook_count_memory(policy *p);

/* lhook_call of the script's hook (which it must define). */
void lhook_run(policy *p, lconn *lc, enum hook hook, const char *data,
               size_t len, const char *reason, conn *to);

#endif
