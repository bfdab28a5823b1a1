/* bench_conn.c -- one client connection's life under load. */
#include "bench_conn.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bench_sys.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_IO_PER_EVENT 8      /* recv or send calls per event: fairness */
#define MAX_ERROR_LINES 10      /* errors described on stderr, then counted */

void bench_conn_set_interest(struct bench_load *l, struct bench_conn *c)
{
    uint32_t want = EPOLLIN;
    struct epoll_event ev;

    if (c->connecting || c->out_blocked)
        want |= EPOLLOUT;
    if (want == c->interest)
        return;
    ev.events = want;
    ev.data.ptr = c;
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        bench_sys_fatal("epoll_ctl(MOD): %s", strerror(errno));
    c->interest = want;
}

static void conn_done(struct bench_load *l, struct bench_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    l->finished++;
    l->bytes_back += c->rx;
    if (l->opt->mode == MODE_IDLE && !c->established)
        l->setup_failed++;
}

void bench_conn_error(struct bench_load *l, struct bench_conn *c,
                      const char *fmt, ...)
{
    va_list ap;

    l->errors++;
    if (l->errors <= MAX_ERROR_LINES) {
        fprintf(stderr, "ricochet-bench: conn %ld (sent %" PRIu64
                ", received %" PRIu64 "): ", c->id, c->tx, c->rx);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    } else if (l->errors == MAX_ERROR_LINES + 1) {
        fputs("ricochet-bench: more errors; only counting now\n", stderr);
    }
    conn_done(l, c);
}

/* Open a connection in slot c: non-blocking connect from the next source
 * address. 0 on success; on failure the error is counted. */
static int conn_open(struct bench_load *l, struct bench_conn *c)
{
    struct epoll_event ev;
    int one = 1;
    int fd;

    memset(c, 0, sizeof *c);
    c->id = l->next_id++;
    c->seed = (uint32_t)(((uint64_t)c->id * 7919u) % PATTERN_LEN);
    c->t_start_ns = bench_sys_now_ns();
    l->started++;
    fd = socket(l->server_addr.ss_family,
                SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        c->fd = -1;
        bench_conn_error(l, c, "socket: %s", strerror(errno));
        return -1;
    }
    c->fd = fd;
    /* Ping-pong and bulk send while the previous bytes may be unacked;
     * lifecycle and idle send once, then half-close or wait. */
    if (l->opt->mode == MODE_PINGPONG || l->opt->mode == MODE_BULK)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (l->server_addr.ss_family == AF_INET && l->opt->sources > 1) {
        struct sockaddr_in src;

        /* The port is chosen at connect() time for the whole 4-tuple, so
         * each source address has its own ephemeral range and the
         * client's TIME_WAIT sockets do not run out of ports. */
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        memset(&src, 0, sizeof src);
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(0x7f000001u
            + (uint32_t)(l->next_source++ % l->opt->sources));
        if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
            bench_conn_error(l, c, "bind to a 127.0.0.x source: %s",
                             strerror(errno));
            return -1;
        }
    }
    if (connect(fd, (struct sockaddr *)&l->server_addr,
                l->server_addr_len) != 0) {
        if (errno != EINPROGRESS) {
            bench_conn_error(l, c, "connect: %s", strerror(errno));
            return -1;
        }
        c->connecting = 1;
    }
    c->interest = EPOLLIN | (c->connecting ? EPOLLOUT : 0);
    ev.events = c->interest;
    ev.data.ptr = c;
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        bench_sys_fatal("epoll_ctl(ADD): %s", strerror(errno));
    return 0;
}

int bench_conn_send(struct bench_load *l, struct bench_conn *c)
{
    int calls = 0;

    while (c->tx < c->tx_limit && calls++ < MAX_IO_PER_EVENT) {
        size_t pos = (size_t)((c->seed + c->tx) % PATTERN_LEN);
        uint64_t left = c->tx_limit - c->tx;
        size_t len = left < PATTERN_LEN ? (size_t)left : PATTERN_LEN;
        ssize_t n = send(c->fd, l->pattern->bytes + pos, len, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK
                || (errno == ENOTCONN && c->connecting)) {
                c->out_blocked = 1;
                return 0;
            }
            bench_conn_error(l, c, "send: %s", strerror(errno));
            return -1;
        }
        c->connecting = 0;
        c->tx += (uint64_t)n;
        if ((size_t)n < len) {
            c->out_blocked = 1;
            return 0;
        }
    }
    if (c->tx < c->tx_limit) {
        /* out of calls for this event, not blocked: come back on EPOLLOUT */
        c->out_blocked = 1;
        return 0;
    }
    c->out_blocked = 0;
    if (c->finishing && !c->shut_wr) {
        if (shutdown(c->fd, SHUT_WR) != 0) {
            bench_conn_error(l, c, "shutdown: %s", strerror(errno));
            return -1;
        }
        c->shut_wr = 1;
    }
    return 0;
}

/* The connection got its last byte and the server's EOF. */
static void conn_complete(struct bench_load *l, struct bench_conn *c)
{
    if (l->opt->mode == MODE_LIFECYCLE)
        bench_hist_add(&l->latency, bench_sys_now_ns() - c->t_start_ns);
    conn_done(l, c);
}

/* Everything that was sent came back (pingpong: one message; others: the
 * payload so far). Decide what is sent next. */
static int conn_caught_up(struct bench_load *l, struct bench_conn *c)
{
    if (l->opt->mode == MODE_PINGPONG && !c->finishing) {
        uint64_t now = bench_sys_now_ns();

        if (!l->stopping && now < l->stop_ns) {
            bench_hist_add(&l->latency, now - c->t_start_ns);
            l->messages++;
        }
        if (l->stopping || now >= l->stop_ns) {
            c->finishing = 1;
        } else {
            c->tx_limit += (uint64_t)l->opt->size;
            c->t_start_ns = now;
        }
        return bench_conn_send(l, c);
    }
    if (l->opt->mode == MODE_IDLE && !c->established) {
        c->established = 1;
        l->established++;
    }
    return 0;
}

/* Receive what is there and check it. 0, or -1 when the connection ended
 * (well or with an error). */
static int conn_recv(struct bench_load *l, struct bench_conn *c)
{
    int calls = 0;

    while (calls++ < MAX_IO_PER_EVENT) {
        ssize_t n = recv(c->fd, l->recv_buf, RECV_BUF_LEN, 0);
        uint64_t bad;

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            bench_conn_error(l, c, "recv: %s", strerror(errno));
            return -1;
        }
        if (n == 0) {
            if (!c->shut_wr)
                bench_conn_error(l, c,
                                 "EOF from the server before our half-close");
            else if (c->rx != c->tx)
                bench_conn_error(l, c, "EOF with %" PRIu64 " bytes missing",
                                 c->tx - c->rx);
            else
                conn_complete(l, c);
            return -1;
        }
        if (c->rx + (uint64_t)n > c->tx) {
            bench_conn_error(l, c, "%" PRIu64 " bytes more than were sent",
                             c->rx + (uint64_t)n - c->tx);
            return -1;
        }
        if (bench_pattern_verify(l->pattern, c->seed, c->rx, l->recv_buf,
                                 (size_t)n, &bad) != 0) {
            bench_conn_error(l, c, "wrong byte at offset %" PRIu64, bad);
            return -1;
        }
        c->rx += (uint64_t)n;
        if (c->rx == c->tx && c->tx == c->tx_limit) {
            if (conn_caught_up(l, c) != 0)
                return -1;
            /* Only the server's EOF can follow now: read it right away
             * instead of after another epoll_wait. */
            if (c->shut_wr)
                continue;
            return 0;
        }
        /* A short read means the socket is most likely empty: skip the
         * recv that would only say EAGAIN; epoll says if more came. */
        if ((size_t)n < RECV_BUF_LEN)
            return 0;
    }
    return 0;
}

void bench_conn_event(struct bench_load *l, struct bench_conn *c,
                      uint32_t events)
{
    if (c->connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof err;

        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            bench_conn_error(l, c, "connect: %s", strerror(err));
            return;
        }
        c->connecting = 0;
    }
    if (c->connecting)
        return;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        if (conn_recv(l, c) != 0)
            return;
    }
    if (c->tx < c->tx_limit || (c->finishing && !c->shut_wr)) {
        if (bench_conn_send(l, c) != 0)
            return;
    }
    bench_conn_set_interest(l, c);
}

void bench_conn_start(struct bench_load *l, struct bench_conn *c)
{
    if (conn_open(l, c) != 0)
        return;
    switch (l->opt->mode) {
    case MODE_PINGPONG:
        return;                 /* all start together once connected */
    case MODE_BULK:
        c->tx_limit = l->opt->bytes;
        c->finishing = 1;
        break;
    case MODE_LIFECYCLE:
        c->tx_limit = (uint64_t)l->opt->size;
        c->finishing = 1;
        break;
    case MODE_IDLE:
        c->tx_limit = (uint64_t)l->opt->size;
        break;
    }
    if (bench_conn_send(l, c) == 0)
        bench_conn_set_interest(l, c);
}
