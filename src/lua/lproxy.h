/* lproxy.h -- proxy mode, inside the Lua layer: each client's connection
 * gets one to the upstream, and the pair relays both ways (see lproxy.c).
 * For policy.c only. */
#ifndef RICOCHET_LPROXY_H
#define RICOCHET_LPROXY_H

#include "lhook.h"

/* Fill p's client and upstream callbacks for proxy mode. */
void lproxy_setup(policy *p);

/* Connect lc's upstream (p->opts names it). On a failure at once the
 * client is handled as for a failed connect (on_upstream_error or a
 * reset). */
void lproxy_attach(policy *p, lconn *lc);

/* The client's connection closed: end the upstream's too (a reset,
 * unless it finished). */
void lproxy_client_closed(lconn *lc, enum conn_reason reason);

#endif
