/* poller.h -- the one small interface every poller backend implements.
 *
 * One backend is compiled in, chosen by CMake (poll_epoll.c on Linux,
 * poll_wsapoll.c on Windows, poll_poll.c elsewhere: BSD and macOS, until
 * a kqueue backend exists); the loop never uses #ifdef to pick one. */
#ifndef RICOCHET_POLLER_H
#define RICOCHET_POLLER_H

#include "net.h"

enum { POLLER_READ = 1, POLLER_WRITE = 2 };

/* A registration. The owner embeds it, sets sock, and leaves the rest to
 * the backend: events is what is registered now (0: nothing) and slot is
 * the backend's own bookkeeping (e.g. an index into its pollfd array). */
typedef struct poller_handle {
    net_socket sock;
    int events;
    int slot;
} poller_handle;

typedef struct poller_event {
    poller_handle *handle;
    int events; /* POLLER_READ | POLLER_WRITE; an error or hang-up is
                 * reported as both, so the owner's next recv/send sees it */
} poller_event;

typedef struct poller poller;

/* Returns NULL when the OS refuses (out of memory or descriptors). */
poller *poller_create(void);
void poller_free(poller *p);

/* Register, change or (events == 0) remove the interest of h. A handle
 * must be removed before its socket is closed. Returns 0 or a NET_ code. */
int poller_set(poller *p, poller_handle *h, int events);

/* h's socket is about to be closed: drop it from the set. Where closing
 * a socket removes it from the kernel's set anyway (epoll, kqueue) this
 * makes no system call; one per connection adds up. */
void poller_forget(poller *p, poller_handle *h);

/* Wait up to timeout_ms (-1: forever) and fill at most max events.
 * Returns the count (0 on timeout or interruption) or a NET_ code. */
int poller_wait(poller *p, poller_event *out, int max, int timeout_ms);

/* The backend's name, for --version and logs ("epoll", "poll", ...). */
const char *poller_name(void);

#endif
