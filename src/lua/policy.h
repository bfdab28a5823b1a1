/* policy.h -- the Lua side: one script in one Lua state, its hooks, and the
 * calls into them.
 *
 * A policy is reference counted: the server holds one reference to the
 * current policy and every connection attached to it holds one, so after a
 * reload live connections finish on the state they started with and an old
 * state is closed when its last connection ends. */
#ifndef RICOCHET_POLICY_H
#define RICOCHET_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"

typedef struct policy policy;

/* How scripts run; owned by the caller and kept alive while any policy
 * loaded with it lives (reloads use it again). */
typedef struct policy_opts {
    size_t memory_limit;   /* bytes per Lua state; 0: none */
    uint64_t hook_budget;  /* instructions per hook call; 0: none */
    int unsafe;            /* every standard library, unrestricted */
    char **args;           /* "key=value" script arguments */
    int nargs;
    int worker;            /* ricochet.worker: this state's worker, 1.. */
} policy_opts;

#define POLICY_DEFAULT_MEMORY ((size_t)256 << 20)
#define POLICY_DEFAULT_BUDGET 50000000u
#define POLICY_MAX_BUDGET 2000000000u

/* Compile the script at path (as text) into a new Lua state and run its top
 * level. Returns the policy with one reference held by the caller, or NULL
 * with a one-line message in err ("file:line: message" for Lua errors). */
policy *policy_load(const char *path, const policy_opts *opts, char *err,
                    size_t errlen);

/* The loop whose clock ricochet.now() reads (virtual under --simulate). */
void policy_bind_loop(policy *p, loop *l);

/* Write the hooks the script defines, space separated, in the order
 * on_connect on_data on_done on_close; "(none)" when it defines none. */
void policy_describe(const policy *p, char *out, size_t outlen);

/* Wire a new connection to the policy: set its callbacks and run
 * on_connect. The connection takes a reference to p, dropped after
 * on_close. */
void policy_attach(policy *p, conn *c);

/* Run the loop's current batch of I/O events (loop_dispatch) inside one
 * protected call of p's state, so that the on_data calls of the batch need
 * none of their own: the per-message cost of a protected call is paid
 * once per batch. A hook that fails resets its connection, and the batch
 * goes on with the next event. Connections of other states (older ones,
 * after a reload) keep their own protected calls. For loop_set_dispatcher. */
void policy_dispatch(policy *p, loop *l);

/* Drop the caller's reference; the Lua state is closed with the last. */
void policy_release(policy *p);

/* "Lua 5.4.4": the Lua this build runs scripts with. */
const char *policy_lua_release(void);

/* The script's path, as given to policy_load. */
const char *policy_path(const policy *p);

#endif
