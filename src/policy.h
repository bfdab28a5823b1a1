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

#include "conn.h"

typedef struct policy policy;

/* Compile the script at path (as text) into a new Lua state and run its top
 * level. Returns the policy with one reference held by the caller, or NULL
 * with a one-line message in err ("file:line: message" for Lua errors). */
policy *policy_load(const char *path, char *err, size_t errlen);

/* Write the hooks the script defines, space separated, in the order
 * on_connect on_data on_done on_close; "(none)" when it defines none. */
void policy_describe(const policy *p, char *out, size_t outlen);

/* Wire a new connection to the policy: set its callbacks and run
 * on_connect. The connection takes a reference to p, dropped after
 * on_close. */
void policy_attach(policy *p, conn *c);

/* Drop the caller's reference; the Lua state is closed with the last. */
void policy_release(policy *p);

/* The script's path, as given to policy_load. */
const char *policy_path(const policy *p);

#endif
