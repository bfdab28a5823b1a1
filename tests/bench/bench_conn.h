/* bench_conn.h -- ricochet-bench's client connections: open, send from
 * the pattern, receive and check every byte, half-close, end.
 *
 * Non-blocking sockets in one epoll set, level-triggered. One recv and one
 * send per ping-pong message, no allocation after start-up, no extra
 * syscall for a would-block that can be predicted: the server is pinned to
 * one core and this program to the other, so it has to be cheaper per
 * message than the server. */
#ifndef RICOCHET_BENCH_CONN_H
#define RICOCHET_BENCH_CONN_H

#include <stdint.h>
#include <sys/socket.h>

#include "bench_hist.h"
#include "bench_opt.h"
#include "bench_pattern.h"

#define RECV_BUF_LEN (256u * 1024u)

struct bench_conn {
    int fd;                 /* -1 when the slot is free */
    uint32_t interest;      /* events registered with epoll */
    uint8_t connecting;     /* connect() not yet known to have completed */
    uint8_t out_blocked;    /* the last send would block: wait for EPOLLOUT */
    uint8_t finishing;      /* send nothing past tx_limit, then half-close */
    uint8_t shut_wr;        /* our half-close is done */
    uint8_t established;    /* idle: the first echo came back whole */
    uint32_t seed;          /* pattern offset of stream byte 0 */
    uint64_t tx;            /* bytes sent */
    uint64_t rx;            /* bytes received and checked */
    uint64_t tx_limit;      /* bytes that may be sent so far */
    uint64_t t_start_ns;    /* message sent (pingpong), connect (others) */
    long id;                /* connection number, for error lines */
};

/* What every connection of a run shares. The driver (bench.c) sets up the
 * first block and moves the pingpong window; the connections count into
 * the rest. */
struct bench_load {
    const struct bench_opt *opt;
    const struct bench_pattern *pattern;
    uint8_t *recv_buf;      /* RECV_BUF_LEN bytes, any connection's */
    int epfd;
    struct sockaddr_storage server_addr;
    socklen_t server_addr_len;
    uint64_t stop_ns;       /* pingpong: end of the measured window */
    int stopping;           /* pingpong: the window is over */

    long next_source;
    long next_id;
    long errors;
    long started;           /* connections opened */
    long finished;          /* connections ended, well or not */
    long established;       /* idle: connections with their echo back */
    long setup_failed;      /* idle: connections that ended before it */
    uint64_t messages;      /* pingpong: completed before the stop */
    uint64_t bytes_back;    /* bytes received by ended connections */
    struct bench_hist latency;
};

/* Open a connection in the free slot c and start its first send as the
 * mode says: lifecycle and idle send their payload at once (on loopback
 * the handshake has usually completed inside connect()), bulk its stream,
 * pingpong nothing until the driver starts the window. A failure is
 * counted and ends c at once. */
void bench_conn_start(struct bench_load *l, struct bench_conn *c);
/* Handle the epoll events of c: finish the connect, receive and check,
 * send what may be sent, re-arm. c may have ended on return (fd -1). */
void bench_conn_event(struct bench_load *l, struct bench_conn *c,
                      uint32_t events);
/* Send up to tx_limit, half-close when finishing and everything is out.
 * 0, or -1 when the connection ended with an error. */
int bench_conn_send(struct bench_load *l, struct bench_conn *c);
/* Register with epoll the events c now waits for, if they changed. */
void bench_conn_set_interest(struct bench_load *l, struct bench_conn *c);
/* Count an error against c, describe it if it is one of the first, and
 * end the connection (close() on a socket with unread data resets it). */
void bench_conn_error(struct bench_load *l, struct bench_conn *c,
                      const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
