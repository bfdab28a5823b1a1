/* refecho.c -- ricochet-refecho, the plain C echo server that the
 * benchmark measures ricochet against (Linux, epoll).
 *
 * It does what ricochet does with scripts/echo.lua, minus Lua, the way a
 * careful hand-written server would: non-blocking sockets, TCP_NODELAY,
 * one receive buffer for the whole server, each read sent straight away
 * and only the unsent rest queued (EPOLLOUT armed only then), reading
 * paused while a connection's queue is above --out-limit. When the client
 * half-closes and everything is sent: shutdown(SHUT_WR), then close, since
 * the client has already finished sending. It is meant to be a fair
 * reference, so nothing in it is there to make it slow or safe beyond
 * what the benchmark needs. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 512
#define MAX_IO_PER_EVENT 16     /* recv or send calls per event: fairness */
#define MAX_ACCEPTS_PER_EVENT 64

struct client {
    int fd;
    int peer_done;              /* recv returned 0 */
    int paused;                 /* reading stopped: queue over the limit */
    unsigned interest;          /* events registered with epoll */
    char *out;                  /* unsent bytes at out + out_off */
    size_t out_off, out_len, out_cap;
};

static int epfd;
static int listen_fd;
static int listen_paused;       /* out of descriptors: stop accepting */
static char *recv_buf;
static size_t recv_size = 64 * 1024;
static size_t out_limit = 1024 * 1024;
static int listener_tag, signal_tag;

static void fatal(const char *what)
{
    fprintf(stderr, "ricochet-refecho: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void usage(FILE *out)
{
    fputs("usage: ricochet-refecho [--listen ADDR:PORT] [--out-limit BYTES]"
          " [--read-size BYTES]\n"
          "\n"
          "The reference echo server of the ricochet benchmark: plain C,\n"
          "epoll, the same half-close as ricochet with scripts/echo.lua.\n"
          "Prints 'listening on ADDR:PORT' when ready; stops on SIGINT or\n"
          "SIGTERM. ADDR must be loopback (127.x.x.x or [::1]); port 0\n"
          "picks a free port. Defaults: 127.0.0.1:0, out-limit 1048576,\n"
          "read-size 65536.\n", out);
}

static void set_interest(struct client *c, unsigned want)
{
    struct epoll_event ev;

    if (want == c->interest)
        return;
    ev.events = want;
    ev.data.ptr = c;
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        fatal("epoll_ctl(MOD)");
    c->interest = want;
}

static void client_close(struct client *c)
{
    close(c->fd);               /* also leaves the epoll set */
    free(c->out);
    free(c);
    if (listen_paused) {
        struct epoll_event ev = { .events = EPOLLIN };

        ev.data.ptr = &listener_tag;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) == 0)
            listen_paused = 0;
    }
}

/* Queue the unsent rest of a reply; 0, or -1 when out of memory. */
static int queue(struct client *c, const char *data, size_t len)
{
    if (c->out_off > 0 && c->out_off + c->out_len + len > c->out_cap) {
        memmove(c->out, c->out + c->out_off, c->out_len);
        c->out_off = 0;
    }
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 16 * 1024;
        char *grown;

        while (cap < c->out_len + len)
            cap *= 2;
        grown = realloc(c->out, cap);
        if (grown == NULL)
            return -1;
        c->out = grown;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_off + c->out_len, data, len);
    c->out_len += len;
    return 0;
}

/* Both directions are finished once the peer is done and nothing is
 * left to send: half-close so the client sees EOF after the last byte,
 * then close. 1 if the client is gone. */
static int maybe_finish(struct client *c)
{
    if (!c->peer_done || c->out_len > 0)
        return 0;
    shutdown(c->fd, SHUT_WR);
    client_close(c);
    return 1;
}

static void update_interest(struct client *c)
{
    unsigned want = 0;

    if (!c->peer_done && !c->paused)
        want |= EPOLLIN;
    if (c->out_len > 0)
        want |= EPOLLOUT;
    set_interest(c, want);
}

/* Send from the queue. 1 if the client is gone. */
static int on_writable(struct client *c)
{
    int calls = 0;

    while (c->out_len > 0 && calls++ < MAX_IO_PER_EVENT) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len,
                         MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            client_close(c);
            return 1;
        }
        c->out_off += (size_t)n;
        c->out_len -= (size_t)n;
        if (c->out_len == 0)
            c->out_off = 0;
    }
    if (c->paused && c->out_len < out_limit)
        c->paused = 0;
    if (maybe_finish(c))
        return 1;
    update_interest(c);
    return 0;
}

static void on_readable(struct client *c)
{
    int calls = 0;

    while (!c->paused && calls++ < MAX_IO_PER_EVENT) {
        ssize_t n = recv(c->fd, recv_buf, recv_size, 0);
        ssize_t sent = 0;

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            client_close(c);
            return;
        }
        if (n == 0) {
            c->peer_done = 1;
            break;
        }
        if (c->out_len == 0) {
            /* write straight away; queue only what the socket refused */
            sent = send(c->fd, recv_buf, (size_t)n, MSG_NOSIGNAL);
            if (sent < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK
                    && errno != EINTR) {
                    client_close(c);
                    return;
                }
                sent = 0;
            }
        }
        if (sent < n && queue(c, recv_buf + sent, (size_t)(n - sent)) != 0) {
            client_close(c);
            return;
        }
        if (c->out_len > out_limit)
            c->paused = 1;
        /* a short read most likely emptied the socket: let epoll say */
        if ((size_t)n < recv_size)
            break;
    }
    if (maybe_finish(c))
        return;
    update_interest(c);
}

static void on_accept(void)
{
    int i, one = 1;

    for (i = 0; i < MAX_ACCEPTS_PER_EVENT; i++) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct epoll_event ev = { .events = EPOLLIN };
        struct client *c;

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                /* resume when a client closes */
                epoll_ctl(epfd, EPOLL_CTL_DEL, listen_fd, NULL);
                listen_paused = 1;
            }
            return;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c = calloc(1, sizeof *c);
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->interest = EPOLLIN;
        ev.data.ptr = c;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
            fatal("epoll_ctl(ADD)");
    }
}

/* Parse ADDR:PORT ("127.0.0.1:0", "[::1]:7007"), loopback only. */
static socklen_t parse_listen(const char *spec, struct sockaddr_storage *ss)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    const char *colon = strrchr(spec, ':');
    char host[64];
    size_t len;
    char *end;
    long port;

    if (colon == NULL || colon == spec)
        return 0;
    len = (size_t)(colon - spec);
    if (spec[0] == '[' && colon[-1] == ']') {
        spec++;
        len -= 2;
    }
    if (len >= sizeof host)
        return 0;
    memcpy(host, spec, len);
    host[len] = '\0';
    port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || end == colon + 1 || port < 0 || port > 65535)
        return 0;
    memset(ss, 0, sizeof *ss);
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1
        && (ntohl(sin->sin_addr.s_addr) >> 24) == 127) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((unsigned short)port);
        return sizeof *sin;
    }
    if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1
        && IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((unsigned short)port);
        return sizeof *sin6;
    }
    return 0;
}

static size_t parse_bytes(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);

    return (*end == '\0' && end != s && s[0] != '-') ? (size_t)v : 0;
}

int main(int argc, char **argv)
{
    const char *spec = "127.0.0.1:0";
    struct sockaddr_storage ss;
    socklen_t ss_len;
    struct epoll_event ev, events[MAX_EVENTS];
    struct rlimit rl;
    char host[INET6_ADDRSTRLEN];
    sigset_t sigs;
    int i, one = 1, sigfd;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
            spec = argv[++i];
        } else if (strcmp(argv[i], "--out-limit") == 0 && i + 1 < argc) {
            out_limit = parse_bytes(argv[++i]);
        } else if (strcmp(argv[i], "--read-size") == 0 && i + 1 < argc) {
            recv_size = parse_bytes(argv[++i]);
        } else {
            usage(stderr);
            return 2;
        }
    }
    ss_len = parse_listen(spec, &ss);
    if (ss_len == 0 || out_limit == 0 || recv_size == 0) {
        usage(stderr);
        return 2;
    }
    recv_buf = malloc(recv_size);
    if (recv_buf == NULL)
        fatal("malloc");
    /* one descriptor per client: take all the hard limit allows */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
    if (sigfd < 0)
        fatal("signalfd");

    listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK
                       | SOCK_CLOEXEC, 0);
    if (listen_fd < 0)
        fatal("socket");
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(listen_fd, (struct sockaddr *)&ss, ss_len) != 0)
        fatal("bind");
    if (listen(listen_fd, SOMAXCONN) != 0)
        fatal("listen");
    ss_len = sizeof ss;
    if (getsockname(listen_fd, (struct sockaddr *)&ss, &ss_len) != 0)
        fatal("getsockname");

    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        fatal("epoll_create1");
    ev.events = EPOLLIN;
    ev.data.ptr = &listener_tag;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) != 0)
        fatal("epoll_ctl(listener)");
    ev.data.ptr = &signal_tag;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev) != 0)
        fatal("epoll_ctl(signalfd)");

    if (ss.ss_family == AF_INET)
        printf("listening on %s:%u\n",
               inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
                         host, sizeof host),
               ntohs(((struct sockaddr_in *)&ss)->sin_port));
    else
        printf("listening on [%s]:%u\n",
               inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
                         host, sizeof host),
               ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
    fflush(stdout);

    for (;;) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            fatal("epoll_wait");
        }
        for (i = 0; i < n; i++) {
            void *tag = events[i].data.ptr;
            unsigned got = events[i].events;
            struct client *c = tag;

            if (tag == &signal_tag)
                return 0;       /* the kernel closes what is left */
            if (tag == &listener_tag) {
                on_accept();
                continue;
            }
            /* A pending socket error ends the client; a reset shows up
             * as a failing recv or send. Each descriptor has one entry
             * per epoll_wait, so a client closed here is not seen again
             * in this batch. */
            if (got & EPOLLERR) {
                client_close(c);
                continue;
            }
            if ((got & EPOLLOUT) && on_writable(c))
                continue;
            if (got & (EPOLLIN | EPOLLHUP))
                on_readable(c);
        }
    }
}
