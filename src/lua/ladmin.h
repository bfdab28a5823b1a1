/* ladmin.h -- what the admin API asks of a script's state: its load's
 * version, the version a connection runs, and live arguments (POST
 * /args). Each function runs on the thread that owns the policy. */
#ifndef RICOCHET_LADMIN_H
#define RICOCHET_LADMIN_H

#include <stddef.h>

#include "conn.h"
#include "policy.h"

/* Number p's load (1 for the first, one more per reload). */
void ladmin_set_version(policy *p, unsigned long version);
unsigned long ladmin_version(const policy *p);

/* The version of the script c runs (an attached client or upstream);
 * 0 when c has no script's state. */
unsigned long ladmin_conn_version(const conn *c);

/* A client's upstream in proxy mode; NULL when c has none (or is an
 * upstream itself). */
conn *ladmin_conn_upstream(const conn *c);

/* Set the pairs kv[0..n) ("key=value"; a bare "key" is the flag "true",
 * as on the command line) in p's ricochet.args table, in place (a script
 * that kept a reference to the table sees them), keeping the keys not
 * named. When the script has on_args(args), it is called first (through
 * lcall, under the hook budget) with a copy that has the new pairs; if
 * it raises, ricochet.args is left as it was. Returns 0, or -1 with a
 * one-line message in err. */
int ladmin_set_args(policy *p, char *const *kv, int n, char *err,
                    size_t errlen);

#endif
