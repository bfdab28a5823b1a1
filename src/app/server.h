/* server.h -- listeners, accept, the connection table, signals and the
 * graceful stop. */
#ifndef RICOCHET_SERVER_H
#define RICOCHET_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "policy.h"

#define SERVER_MAX_LISTEN 16

typedef struct server_listen {
    char host[ADDR_HOST_MAX];
    int port;
} server_listen;

typedef struct server_config {
    server_listen listen[SERVER_MAX_LISTEN];
    int nlisten;
    size_t max_conns;
    size_t max_conns_per_ip;  /* 0: none */
    uint64_t evict_idle_ms;   /* at max_conns; 0: never evict */
    uint64_t idle_ms;   /* 0: none */
    uint64_t drain_ms;
    size_t out_limit;
    int watch;                      /* reload when the script changes */
    int workers;                    /* event loops, one thread each */
    const policy_opts *policy_opts; /* for reloads */
    int has_admin;                  /* --admin was given */
    server_listen admin;            /* its address */
    const char *record_dir;         /* --record: NULL when off */
    size_t record_max;              /* --record-max: bytes a connection */
} server_config;

/* Exit codes of the program, shared with main.c. */
enum {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1,
    EXIT_USAGE = 2,
    EXIT_SCRIPT = 3,
    EXIT_LISTEN = 4
};

#define SERVER_MAX_WORKERS 64

/* Listen on every address, print one "listening on ADDR:PORT" line per
 * listener to stdout, then serve with cfg->workers event loops (one
 * thread and one Lua state each, sharing the ports) until a stop signal.
 * p is the first worker's policy (the caller's reference is taken over);
 * the others load the same script. Returns an exit code above. */
int server_run(const server_config *cfg, policy *p);

#endif
