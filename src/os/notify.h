/* notify.h -- telling the service manager how we are, as systemd's
 * sd_notify does: datagrams of "KEY=VALUE" lines (READY=1, RELOADING=1,
 * STOPPING=1, STATUS=...) sent to the AF_UNIX socket that
 * $NOTIFY_SOCKET names, a path or, on Linux, "@name" for an abstract
 * one. No library: the protocol is one sendto. On Windows there is no
 * such manager (notify_win32.c): nothing is ever opened or sent. */
#ifndef RICOCHET_NOTIFY_H
#define RICOCHET_NOTIFY_H

#include <stddef.h>

typedef struct notify notify;

/* Read $NOTIFY_SOCKET, copy it into addr (cap bytes, for messages) and
 * remove it from the environment: nothing this process starts (a
 * script's os.execute under --unsafe) inherits it, so nothing else
 * speaks for ricochet. Call it once, before any thread starts. *out is
 * NULL when the variable is unset or empty (nobody to tell). Returns 0,
 * or an err.h code (ERR_EINVAL: not an absolute path nor "@name", or too
 * long; or the socket's failure) with *out NULL. */
int notify_open(notify **out, char *addr, size_t cap);

/* Send len bytes of text (lines "KEY=VALUE\n") as one datagram, without
 * ever blocking. Returns 0, or an err.h code (ERR_EAGAIN: the manager's
 * queue is full; the message is lost). */
int notify_send(notify *n, const char *text, size_t len);

/* Close the socket; n may be NULL. */
void notify_close(notify *n);

#endif
