/* bench_opt.h -- ricochet-bench's command line: the mode, the server, the
 * counts and sizes, each mode's defaults, and the loopback-only rule. */
#ifndef RICOCHET_BENCH_OPT_H
#define RICOCHET_BENCH_OPT_H

#include <stdint.h>
#include <sys/socket.h>

enum bench_mode { MODE_PINGPONG, MODE_BULK, MODE_LIFECYCLE, MODE_IDLE };
enum bench_expect { EXPECT_ECHO, EXPECT_UPPER };

struct bench_opt {
    enum bench_mode mode;
    enum bench_expect expect;
    const char *host;
    long port;
    long conns;             /* pingpong, bulk, idle */
    long size;              /* message (pingpong), payload (lifecycle, idle) */
    double secs;            /* pingpong duration */
    uint64_t bytes;         /* bulk: bytes per connection */
    long total;             /* lifecycle: connections in all */
    long inflight;          /* lifecycle, idle: connections being set up */
    double hold;            /* idle: seconds to hold; 0 = until a signal */
    int hold_stdin;         /* idle: also end the hold when stdin closes */
    long sources;           /* 127.0.0.1 .. 127.0.0.N */
    double timeout;         /* global deadline; 0 = from the mode */
};

/* Parse argc/argv into o, every option the mode leaves unset filled with
 * its default. Prints the help and exits 0 for --help; exits 2 with a
 * message on bad usage. o->host points into argv (or a literal). */
void bench_opt_parse(struct bench_opt *o, int argc, char **argv);
/* The name --mode gives mode. */
const char *bench_opt_mode_name(enum bench_mode mode);
/* o->host and o->port as a socket address in *addr, *len bytes long.
 * Exits 2 unless the host is a loopback address: this program opens
 * thousands of connections and must not aim them anywhere else. */
void bench_opt_server_addr(const struct bench_opt *o,
                           struct sockaddr_storage *addr, socklen_t *len);

#endif
