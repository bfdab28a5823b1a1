/* admin.h -- the admin API (--admin ADDR:PORT): HTTP/1.1 with JSON
 * answers, on the controller's loop.
 *
 * Each admin connection is non-blocking, reads into a bounded buffer and
 * has a deadline, so a slow or silent client holds up nothing: the
 * controller's loop only ever does what a socket allows, and the workers
 * never wait for it. What the workers own (their connections, their Lua
 * states) is asked of them (worker_ask_post) and the answer is sent when
 * every worker has answered. One answer per connection: each response
 * ends with Connection: close. */
#ifndef RICOCHET_ADMIN_H
#define RICOCHET_ADMIN_H

#include "controller.h"

/* Listen on host:port (port 0 picks one) for ctl. Call after the
 * workers are made, before they start. Returns 0, or an err.h code after
 * printing why to stderr. */
int admin_open(controller *ctl, const char *host, int port);

/* Print "admin listening on ADDR:PORT" to stdout (after the data
 * listeners' lines) and flush it; warn when it is not on loopback. */
void admin_announce(controller *ctl);

/* Close the admin socket and every admin connection. Harmless when
 * admin_open was not called. */
void admin_close(controller *ctl);

/* Free the connections that ended; from the controller's before-sleep
 * hook (never inside their own callbacks). */
void admin_reap(controller *ctl);

/* Worker k (0-based) wrote WORKER_ANSWERED. */
void admin_answered(controller *ctl, int k);

/* Load number load ended: err NULL when it was offered to the workers,
 * else what the log said. */
void admin_reloaded(controller *ctl, int load, const char *err);

#endif
