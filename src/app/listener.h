/* listener.h -- the listening sockets: opened once for all the workers,
 * and each worker's accepting on them.
 *
 * With several workers each gets its own socket on every address
 * (SO_REUSEPORT), or, where the OS has no SO_REUSEPORT, all register the
 * same socket. A worker stops accepting while it is full (--max-conns)
 * unless it can make room (--evict-idle), and, for a while, when
 * descriptors run out; it refuses clients over --max-conns-per-ip. */
#ifndef RICOCHET_LISTENER_H
#define RICOCHET_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "net.h"
#include "server.h"

/* What a worker's listener asks its owner. */
typedef struct listener_ops {
    /* A new connection was accepted (a non-blocking socket the owner now
     * owns) from peer "ADDR:PORT". */
    void (*accept)(void *owner, net_socket sock, const char *peer);
    /* How many connections the owner has open. */
    size_t (*open_conns)(void *owner);
    /* How many of them come from peer's address (its port aside). */
    size_t (*peer_conns)(void *owner, const char *peer);
    /* How long the open connection idle longest has had no traffic, in
     * ms; UINT64_MAX when none is open. */
    uint64_t (*idlest_ms)(void *owner);
    /* Close that connection to make room; desc says what was done to
     * which ("closed conn 7 (ADDR:PORT, idle 1200 ms)"). */
    void (*evict_idlest)(void *owner, char *desc, size_t desclen);
} listener_ops;

/* One worker's limits: its shares of the options. */
typedef struct listener_limits {
    size_t max_conns;         /* --max-conns */
    size_t max_per_peer;      /* --max-conns-per-ip; 0: none */
    uint64_t evict_idle_ms;   /* --evict-idle; 0: never evict */
} listener_limits;

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
    timer evict_wait;              /* full: until the idlest may give way */
    listener_limits limits;
    const listener_ops *ops;
    void *owner;
} listener;

/* Make ls a worker's (empty, not yet accepting) set on loop l. It
 * accepts while the owner has fewer than limits->max_conns connections
 * open; at that cap, when evict_idle_ms is set, a waiting client takes
 * the place of the connection idle longest if that one has been idle
 * evict_idle_ms or more (else the client waits in the backlog). A client
 * whose address has max_per_peer connections open already is refused
 * with a reset. ops and owner outlive ls. */
void listener_init(listener *ls, loop *l, const listener_limits *limits,
                   const listener_ops *ops, void *owner);

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
