/* lproxy.h -- proxy mode, inside the Lua layer: each client's connection
 * gets one to the upstream, and the pair relays both ways (see lproxy.c).
 * For policy.c only. */
#ifndef RICOCHET_LPROXY_H
#define RICOCHET_LPROXY_H

#include "lhook.h"

/* Fill p's callbacks of a pair's two sides (p->proxy_callbacks from
 * p->callbacks, which must be set). */
void lproxy_setup(policy *p);

/* Make lc's client one side of a pair, and connect the other side to the
 * numeric address host:port (NULL: --upstream's). A connect that cannot
 * start is logged and kept in lc->up_err for lproxy_attach. Returns 0,
 * or ERR_EINVAL (and changes nothing) when host is NULL and there is no
 * --upstream. The lconn_env connect function (conn:connect). */
int lproxy_connect(lconn *lc, const char *host, int port);

/* on_connect has returned (or there is none): connect lc to --upstream,
 * unless the script chose (conn:connect) or the connection is no longer
 * open; then deal with a connect that could not start as with one that
 * failed (on_upstream_error, or the client is reset). */
void lproxy_attach(policy *p, lconn *lc);

/* The client's connection closed: end the upstream's too (a reset,
 * unless it finished). */
void lproxy_client_closed(lconn *lc, enum conn_reason reason);

#endif
