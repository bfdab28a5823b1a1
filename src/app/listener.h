/* listener.h -- the listening sockets: opened once for all the workers,
 * and each worker's accepting on them.
 *
 * With several workers each gets its own socket on every address
 * (SO_REUSEPORT), or, where the OS has no SO_REUSEPORT, all register the
 * same socket. A worker stops accepting while it is full (--max-conns)
 * and, for a while, when descriptors run out. */
#ifndef RICOCHET_LISTENER_H
#define RICOCHET_LISTENER_H

#include <stddef.h>

#include "loop.h"
#include "net.h"
#include "server.h"

/* A new connection was accepted (a non-blocking socket the owner now
 * owns) from peer "ADDR:PORT". */
typedef void (*listener_accept_fn)(void *owner, net_socket sock,
                                   const char *peer);
/* How many connections the owner has open. */
typedef size_t (*listener_count_fn)(void *owner);

/* One worker's listening sockets. */
typedef struct listener {
    loop *loop;
    loop_io io[SERVER_MAX_LISTEN];
    int owned[SERVER_MAX_LISTEN];  /* this worker closes it */
    int n;
    int accepting;                 /* registered for reading */
    int full_warned;
    int closed;
    timer retry;                   /* after running out of descriptors */
    size_t max_conns;              /* this worker's share of --max-conns */
    listener_accept_fn accept;
    listener_count_fn open_conns;
    void *owner;
} listener;

/* Make ls a worker's (empty, not yet accepting) set on loop l, which
 * accepts while the owner has fewer than max_conns connections open. */
void listener_init(listener *ls, loop *l, size_t max_conns,
                   listener_accept_fn accept, listener_count_fn open_conns,
                   void *owner);

/* Open every address of cfg for each of the n workers' sets (port 0 is
 * resolved once, so all share the port), then print one "listening on
 * ADDR:PORT" line per address to stdout. Returns 0, or an err.h code
 * after printing why to stderr (nothing is printed on stdout then). */
int listener_open_all(const server_config *cfg, listener *const *sets,
                      int n);

/* Start accepting, or again after a pause, unless full, closed or
 * waiting for descriptors. Call from the worker's before-sleep hook. */
void listener_resume(listener *ls);

/* Stop accepting and close the sockets this set owns. */
void listener_close(listener *ls);

#endif
