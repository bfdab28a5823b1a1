/* bench.c -- ricochet-bench, the load generator of the benchmark (Linux).
 *
 * One thread, one epoll set, non-blocking sockets, level-triggered events.
 * The server under test is pinned to one core and this program to the
 * other, so it has to be cheaper per message than the server: one recv and
 * one send per ping-pong message, no allocation after start-up, no extra
 * syscall for a would-block that can be predicted.
 *
 * Every byte sent is taken from one pseudo-random pattern (all 256 byte
 * values) at an offset given by the connection's stream position, so the
 * byte expected back at any position is known without keeping what was
 * sent: the pattern itself for "echo", its ASCII upper-case for "upper".
 *
 * Every run is bounded by a global deadline (--timeout); whatever is not
 * finished by then counts as an error. The program only talks to
 * 127.0.0.0/8 or ::1. It prints one RESULT line on stdout and exits 0, or
 * 1 if any error was counted, or 2 for bad usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* Not a power of two, so that the pattern does not line up with the
 * server's buffer sizes; a window of up to PATTERN_LEN bytes at any
 * offset is contiguous because the buffers hold the pattern twice. */
#define PATTERN_LEN 262139u
#define RECV_BUF_LEN (256u * 1024u)
#define MAX_EVENTS 512
#define MAX_IO_PER_EVENT 8      /* recv or send calls per event: fairness */
#define MAX_ERROR_LINES 10      /* errors described on stderr, then counted */

enum mode { MODE_PINGPONG, MODE_BULK, MODE_LIFECYCLE, MODE_IDLE };
static const char *const mode_names[] = {
    "pingpong", "bulk", "lifecycle", "idle"
};
enum expect { EXPECT_ECHO, EXPECT_UPPER };

struct options {
    enum mode mode;
    enum expect expect;
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

struct conn {
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

/* A log-linear histogram of nanoseconds: exact below 256, then 128
 * buckets per power of two (under 1% error), 64-bit range. */
#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS (2 * HIST_SUB + 56 * HIST_SUB)

struct hist {
    uint64_t count;
    uint64_t bucket[HIST_BUCKETS];
};

static struct options opt;
static int epfd = -1;
static int sigfd = -1;
static uint8_t *pattern;        /* 2 * PATTERN_LEN bytes to send */
static uint8_t *expected;       /* the same, transformed as --expect says */
static uint8_t *recv_buf;
static struct conn *slots;
static long slot_count;
static struct hist latency;
static struct sockaddr_storage server_addr;
static socklen_t server_addr_len;
static long next_source;
static long next_id;
static long errors;
static uint64_t now_ns_cached;

/* Per-mode counters. */
static long started;            /* connections opened */
static long finished;           /* connections ended, well or not */
static long established;        /* idle: connections with their echo back */
static long setup_failed;       /* idle: connections that ended before it */
static uint64_t messages;       /* pingpong: completed before the stop */
static uint64_t bytes_back;     /* bytes received by ended connections */
static uint64_t stop_ns;        /* pingpong: end of the measured window */
static int stopping;            /* pingpong: the window is over */
static int releasing;           /* idle: the hold is over */

static struct conn sentinel_signal;
static struct conn sentinel_stdin;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    now_ns_cached = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return now_ns_cached;
}

static double own_cpu_secs(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
         + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void fatal(const char *fmt, ...)
{
    va_list ap;

    fputs("ricochet-bench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static void usage(FILE *out)
{
    fputs(
"usage: ricochet-bench --mode MODE --port PORT [options]\n"
"\n"
"Load generator for ricochet and the reference echo server. Talks only to\n"
"127.0.0.0/8 or ::1. Checks every byte that comes back, counts errors, and\n"
"ends with one line 'RESULT mode=... errors=N' on stdout. Exit status: 0,\n"
"1 if any error was counted, 2 on bad usage or set-up failure.\n"
"\n"
"modes:\n"
"  pingpong   --conns C connections each send --size S bytes, wait for the\n"
"             whole echo, repeat for --secs D  -> msgs/s, p50/p99 latency\n"
"  bulk       --conns C connections each stream --bytes N while reading the\n"
"             echo, then half-close and read to EOF  -> MB/s (1e6 B/s)\n"
"  lifecycle  --total T connections, --inflight K at a time: connect, send S\n"
"             bytes, half-close, read to EOF, close  -> conns/s, p50/p99\n"
"  idle       open --conns C connections (K being set up at a time), one\n"
"             echo of S bytes each, print 'READY ...' when all are\n"
"             established, hold them for --hold H seconds (0: until\n"
"             SIGINT/SIGTERM, or stdin EOF with --hold-stdin), then\n"
"             half-close all and read each to EOF\n"
"\n"
"options:\n"
"  --mode MODE        pingpong | bulk | lifecycle | idle\n"
"  --host ADDR        server address, 127.x.x.x or ::1 (127.0.0.1)\n"
"  --port PORT        server port (required)\n"
"  --expect KIND      echo | upper: what the server sends back (echo)\n"
"  --conns C          connections (pingpong 50, bulk 1, idle 1000)\n"
"  --size S           bytes per message or payload (64; idle 16)\n"
"  --secs D           pingpong duration in seconds (5)\n"
"  --bytes N          bulk bytes per connection, K/M/G suffixes (1G)\n"
"  --total T          lifecycle connections in all (20000)\n"
"  --inflight K       connections in set-up at once (lifecycle 32, idle 64)\n"
"  --hold H           idle hold in seconds, 0 = until a signal (0)\n"
"  --hold-stdin       idle: end the hold when stdin reaches EOF too\n"
"  --sources N        bind clients round-robin to 127.0.0.1..127.0.0.N (16)\n"
"  --timeout SECS     global deadline (pingpong D+60, idle H+600, else 600)\n"
"  --help             this text\n", out);
}

static uint64_t parse_size(const char *name, const char *s)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || s[0] == '-')
        fatal("%s: not a number: '%s'", name, s);
    switch (*end) {
    case 'k': case 'K': v <<= 10; end++; break;
    case 'm': case 'M': v <<= 20; end++; break;
    case 'g': case 'G': v <<= 30; end++; break;
    default: break;
    }
    if (*end != '\0')
        fatal("%s: not a number: '%s'", name, s);
    return v;
}

static long parse_long(const char *name, const char *s, long min, long max)
{
    uint64_t v = parse_size(name, s);

    if (v < (uint64_t)min || v > (uint64_t)max)
        fatal("%s: %s is out of range [%ld, %ld]", name, s, min, max);
    return (long)v;
}

static double parse_secs(const char *name, const char *s)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > 86400)
        fatal("%s: not a number of seconds in [0, 86400]: '%s'", name, s);
    return v;
}

static void parse_options(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "mode", required_argument, NULL, 'm' },
        { "host", required_argument, NULL, 'H' },
        { "port", required_argument, NULL, 'p' },
        { "expect", required_argument, NULL, 'e' },
        { "conns", required_argument, NULL, 'c' },
        { "size", required_argument, NULL, 's' },
        { "secs", required_argument, NULL, 'd' },
        { "bytes", required_argument, NULL, 'n' },
        { "total", required_argument, NULL, 't' },
        { "inflight", required_argument, NULL, 'k' },
        { "hold", required_argument, NULL, 'h' },
        { "hold-stdin", no_argument, NULL, 'i' },
        { "sources", required_argument, NULL, 'S' },
        { "timeout", required_argument, NULL, 'T' },
        { "help", no_argument, NULL, '?' + 256 },
        { NULL, 0, NULL, 0 }
    };
    const char *mode = NULL;
    int ch;

    opt.host = "127.0.0.1";
    opt.port = -1;
    opt.conns = -1;
    opt.size = -1;
    opt.secs = 5;
    opt.bytes = 1u << 30;
    opt.total = 20000;
    opt.inflight = -1;
    opt.sources = 16;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'm': mode = optarg; break;
        case 'H': opt.host = optarg; break;
        case 'p': opt.port = parse_long("--port", optarg, 1, 65535); break;
        case 'e':
            if (strcmp(optarg, "echo") == 0)
                opt.expect = EXPECT_ECHO;
            else if (strcmp(optarg, "upper") == 0)
                opt.expect = EXPECT_UPPER;
            else
                fatal("--expect: 'echo' or 'upper', not '%s'", optarg);
            break;
        case 'c': opt.conns = parse_long("--conns", optarg, 1, 1000000); break;
        case 's': opt.size = parse_long("--size", optarg, 1, 1L << 30); break;
        case 'd': opt.secs = parse_secs("--secs", optarg); break;
        case 'n': opt.bytes = parse_size("--bytes", optarg); break;
        case 't': opt.total = parse_long("--total", optarg, 1, 100000000);
            break;
        case 'k': opt.inflight = parse_long("--inflight", optarg, 1, 100000);
            break;
        case 'h': opt.hold = parse_secs("--hold", optarg); break;
        case 'i': opt.hold_stdin = 1; break;
        case 'S': opt.sources = parse_long("--sources", optarg, 1, 254);
            break;
        case 'T': opt.timeout = parse_secs("--timeout", optarg); break;
        case '?' + 256: usage(stdout); exit(0);
        default: fatal("see --help");
        }
    }
    if (optind != argc)
        fatal("unexpected argument '%s' (see --help)", argv[optind]);
    if (mode == NULL)
        fatal("--mode is required (see --help)");
    if (strcmp(mode, "pingpong") == 0)
        opt.mode = MODE_PINGPONG;
    else if (strcmp(mode, "bulk") == 0)
        opt.mode = MODE_BULK;
    else if (strcmp(mode, "lifecycle") == 0)
        opt.mode = MODE_LIFECYCLE;
    else if (strcmp(mode, "idle") == 0)
        opt.mode = MODE_IDLE;
    else
        fatal("--mode: pingpong, bulk, lifecycle or idle, not '%s'", mode);
    if (opt.port < 0)
        fatal("--port is required (see --help)");
    if (opt.conns < 0)
        opt.conns = opt.mode == MODE_PINGPONG ? 50
                  : opt.mode == MODE_BULK ? 1 : 1000;
    if (opt.size < 0)
        opt.size = opt.mode == MODE_IDLE ? 16 : 64;
    if (opt.inflight < 0)
        opt.inflight = opt.mode == MODE_IDLE ? 64 : 32;
    if (opt.mode == MODE_BULK && opt.bytes == 0)
        fatal("--bytes must be at least 1");
    if (opt.mode == MODE_PINGPONG && opt.secs <= 0)
        fatal("--secs must be more than 0");
    if (opt.timeout == 0)
        opt.timeout = opt.mode == MODE_PINGPONG ? opt.secs + 60
                    : opt.mode == MODE_IDLE ? opt.hold + 600 : 600;
}

/* Resolve --host into server_addr, refusing anything but loopback: this
 * program opens thousands of connections and must not aim them anywhere
 * else by mistake. */
static void resolve_server(void)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)&server_addr;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&server_addr;

    memset(&server_addr, 0, sizeof server_addr);
    if (inet_pton(AF_INET, opt.host, &sin->sin_addr) == 1) {
        if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
            fatal("--host %s is not a loopback address", opt.host);
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)opt.port);
        server_addr_len = sizeof *sin;
    } else if (inet_pton(AF_INET6, opt.host, &sin6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
            fatal("--host %s is not a loopback address", opt.host);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)opt.port);
        server_addr_len = sizeof *sin6;
    } else {
        fatal("--host: '%s' is not an IPv4 or IPv6 address", opt.host);
    }
}

/* Each connection holds one descriptor; raise the soft limit to what is
 * needed (up to the hard limit) instead of asking the user to. */
static void raise_nofile(long need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        fatal("getrlimit: %s", strerror(errno));
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY
                    || rl.rlim_max > (rlim_t)need ? (rlim_t)need : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            fatal("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)need)
        fatal("need %ld descriptors but the hard limit is %llu",
              need, (unsigned long long)rl.rlim_max);
}

static void make_pattern(void)
{
    uint64_t state = 0x9e3779b97f4a7c15u;
    size_t i;

    pattern = malloc(2 * (size_t)PATTERN_LEN);
    expected = malloc(2 * (size_t)PATTERN_LEN);
    recv_buf = malloc(RECV_BUF_LEN);
    if (pattern == NULL || expected == NULL || recv_buf == NULL)
        fatal("out of memory");
    for (i = 0; i < PATTERN_LEN; i++) {
        /* xorshift64*: cheap, and every byte value occurs */
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        pattern[i] = (uint8_t)((state * 0x2545f4914f6cdd1du) >> 56);
    }
    memcpy(pattern + PATTERN_LEN, pattern, PATTERN_LEN);
    for (i = 0; i < 2 * (size_t)PATTERN_LEN; i++) {
        uint8_t b = pattern[i];

        /* Lua's string.upper in the C locale: a-z only */
        if (opt.expect == EXPECT_UPPER && b >= 'a' && b <= 'z')
            b = (uint8_t)(b - 'a' + 'A');
        expected[i] = b;
    }
}

static size_t hist_index(uint64_t v)
{
    int msb, shift;

    if (v < 2 * HIST_SUB)
        return (size_t)v;
    msb = 63 - __builtin_clzll(v);
    shift = msb - HIST_SUB_BITS;
    return 2 * HIST_SUB + (size_t)(shift - 1) * HIST_SUB
         + (size_t)((v >> shift) - HIST_SUB);
}

/* The middle of bucket i, in the unit that was recorded. */
static double hist_value(size_t i)
{
    size_t k;
    int shift;
    uint64_t sub;

    if (i < 2 * HIST_SUB)
        return (double)i;
    k = i - 2 * HIST_SUB;
    shift = (int)(k / HIST_SUB) + 1;
    sub = k % HIST_SUB + HIST_SUB;
    return (double)(sub << shift) + (double)(1ull << shift) / 2;
}

static void hist_add(struct hist *h, uint64_t v)
{
    h->bucket[hist_index(v)]++;
    h->count++;
}

/* The value at quantile q (0..1) in microseconds, or 0 when empty. */
static double hist_quantile_us(const struct hist *h, double q)
{
    uint64_t rank, seen = 0;
    size_t i;

    if (h->count == 0)
        return 0;
    rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count)
        rank++;                 /* the ceiling: the rank-th smallest value */
    if (rank < 1)
        rank = 1;
    for (i = 0; i < HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank)
            return hist_value(i) / 1000.0;
    }
    return hist_value(HIST_BUCKETS - 1) / 1000.0;
}

static void set_interest(struct conn *c)
{
    uint32_t want = EPOLLIN;
    struct epoll_event ev;

    if (c->connecting || c->out_blocked)
        want |= EPOLLOUT;
    if (want == c->interest)
        return;
    ev.events = want;
    ev.data.ptr = c;
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        fatal("epoll_ctl(MOD): %s", strerror(errno));
    c->interest = want;
}

static void conn_done(struct conn *c);

/* Count an error against c, describe it if it is one of the first, and
 * end the connection (close() on a socket with unread data resets it). */
static void conn_error(struct conn *c, const char *fmt, ...)
{
    va_list ap;

    errors++;
    if (errors <= MAX_ERROR_LINES) {
        fprintf(stderr, "ricochet-bench: conn %ld (sent %" PRIu64
                ", received %" PRIu64 "): ", c->id, c->tx, c->rx);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    } else if (errors == MAX_ERROR_LINES + 1) {
        fputs("ricochet-bench: more errors; only counting now\n", stderr);
    }
    conn_done(c);
}

static void conn_done(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    finished++;
    bytes_back += c->rx;
    if (opt.mode == MODE_IDLE && !c->established)
        setup_failed++;
}

/* Open a connection in slot c: non-blocking connect from the next source
 * address. 0 on success; on failure the error is counted. */
static int conn_open(struct conn *c)
{
    struct epoll_event ev;
    int one = 1;
    int fd;

    memset(c, 0, sizeof *c);
    c->id = next_id++;
    c->seed = (uint32_t)(((uint64_t)c->id * 7919u) % PATTERN_LEN);
    c->t_start_ns = now_ns();
    started++;
    fd = socket(server_addr.ss_family,
                SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        c->fd = -1;
        conn_error(c, "socket: %s", strerror(errno));
        return -1;
    }
    c->fd = fd;
    /* Ping-pong and bulk send while the previous bytes may be unacked;
     * lifecycle and idle send once, then half-close or wait. */
    if (opt.mode == MODE_PINGPONG || opt.mode == MODE_BULK)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (server_addr.ss_family == AF_INET && opt.sources > 1) {
        struct sockaddr_in src;

        /* The port is chosen at connect() time for the whole 4-tuple, so
         * each source address has its own ephemeral range and the
         * client's TIME_WAIT sockets do not run out of ports. */
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        memset(&src, 0, sizeof src);
        src.sin_family = AF_INET;
        src.sin_addr.s_addr =
            htonl(0x7f000001u + (uint32_t)(next_source++ % opt.sources));
        if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
            conn_error(c, "bind to a 127.0.0.x source: %s", strerror(errno));
            return -1;
        }
    }
    if (connect(fd, (struct sockaddr *)&server_addr, server_addr_len) != 0) {
        if (errno != EINPROGRESS) {
            conn_error(c, "connect: %s", strerror(errno));
            return -1;
        }
        c->connecting = 1;
    }
    c->interest = EPOLLIN | (c->connecting ? EPOLLOUT : 0);
    ev.events = c->interest;
    ev.data.ptr = c;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        fatal("epoll_ctl(ADD): %s", strerror(errno));
    return 0;
}

/* Send up to tx_limit, half-close when finishing and everything is out.
 * 0, or -1 when the connection ended with an error. */
static int conn_send(struct conn *c)
{
    int calls = 0;

    while (c->tx < c->tx_limit && calls++ < MAX_IO_PER_EVENT) {
        size_t pos = (size_t)((c->seed + c->tx) % PATTERN_LEN);
        uint64_t left = c->tx_limit - c->tx;
        size_t len = left < PATTERN_LEN ? (size_t)left : PATTERN_LEN;
        ssize_t n = send(c->fd, pattern + pos, len, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK
                || (errno == ENOTCONN && c->connecting)) {
                c->out_blocked = 1;
                return 0;
            }
            conn_error(c, "send: %s", strerror(errno));
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
            conn_error(c, "shutdown: %s", strerror(errno));
            return -1;
        }
        c->shut_wr = 1;
    }
    return 0;
}

/* Compare n received bytes with what is expected at stream offset rx. */
static int verify(const struct conn *c, const uint8_t *data, size_t n,
                  uint64_t *bad_offset)
{
    uint64_t off = c->rx;

    while (n > 0) {
        size_t pos = (size_t)((c->seed + off) % PATTERN_LEN);
        size_t len = n < PATTERN_LEN ? n : PATTERN_LEN;

        if (memcmp(data, expected + pos, len) != 0) {
            size_t i = 0;

            while (data[i] == expected[pos + i])
                i++;
            *bad_offset = off + i;
            return -1;
        }
        data += len;
        off += len;
        n -= len;
    }
    return 0;
}

/* The connection got its last byte and the server's EOF. */
static void conn_complete(struct conn *c)
{
    if (opt.mode == MODE_LIFECYCLE)
        hist_add(&latency, now_ns() - c->t_start_ns);
    conn_done(c);
}

/* Everything that was sent came back (pingpong: one message; others: the
 * payload so far). Decide what is sent next. */
static int conn_caught_up(struct conn *c)
{
    if (opt.mode == MODE_PINGPONG && !c->finishing) {
        uint64_t now = now_ns();

        if (!stopping && now < stop_ns) {
            hist_add(&latency, now - c->t_start_ns);
            messages++;
        }
        if (stopping || now >= stop_ns) {
            c->finishing = 1;
        } else {
            c->tx_limit += (uint64_t)opt.size;
            c->t_start_ns = now;
        }
        return conn_send(c);
    }
    if (opt.mode == MODE_IDLE && !c->established) {
        c->established = 1;
        established++;
    }
    return 0;
}

/* Receive what is there and check it. 0, or -1 when the connection ended
 * (well or with an error). */
static int conn_recv(struct conn *c)
{
    int calls = 0;

    while (calls++ < MAX_IO_PER_EVENT) {
        ssize_t n = recv(c->fd, recv_buf, RECV_BUF_LEN, 0);
        uint64_t bad;

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            conn_error(c, "recv: %s", strerror(errno));
            return -1;
        }
        if (n == 0) {
            if (!c->shut_wr)
                conn_error(c, "EOF from the server before our half-close");
            else if (c->rx != c->tx)
                conn_error(c, "EOF with %" PRIu64 " bytes missing",
                           c->tx - c->rx);
            else
                conn_complete(c);
            return -1;
        }
        if (c->rx + (uint64_t)n > c->tx) {
            conn_error(c, "%" PRIu64 " bytes more than were sent",
                       c->rx + (uint64_t)n - c->tx);
            return -1;
        }
        if (verify(c, recv_buf, (size_t)n, &bad) != 0) {
            conn_error(c, "wrong byte at offset %" PRIu64, bad);
            return -1;
        }
        c->rx += (uint64_t)n;
        if (c->rx == c->tx && c->tx == c->tx_limit) {
            if (conn_caught_up(c) != 0)
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

static void conn_event(struct conn *c, uint32_t events)
{
    if (c->connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof err;

        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            conn_error(c, "connect: %s", strerror(err));
            return;
        }
        c->connecting = 0;
    }
    if (c->connecting)
        return;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        if (conn_recv(c) != 0)
            return;
    }
    if (c->tx < c->tx_limit || (c->finishing && !c->shut_wr)) {
        if (conn_send(c) != 0)
            return;
    }
    set_interest(c);
}

/* Start the first send of a freshly opened connection: lifecycle and idle
 * send their payload at once (on loopback the handshake has usually
 * completed inside connect()), bulk its stream. */
static void conn_start(struct conn *c)
{
    if (conn_open(c) != 0)
        return;
    switch (opt.mode) {
    case MODE_PINGPONG:
        return;                 /* all start together once connected */
    case MODE_BULK:
        c->tx_limit = opt.bytes;
        c->finishing = 1;
        break;
    case MODE_LIFECYCLE:
        c->tx_limit = (uint64_t)opt.size;
        c->finishing = 1;
        break;
    case MODE_IDLE:
        c->tx_limit = (uint64_t)opt.size;
        break;
    }
    if (conn_send(c) == 0)
        set_interest(c);
}

static void setup_signals(void)
{
    sigset_t set;
    struct epoll_event ev;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sigfd < 0)
        fatal("signalfd: %s", strerror(errno));
    ev.events = EPOLLIN;
    ev.data.ptr = &sentinel_signal;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev) != 0)
        fatal("epoll_ctl(signalfd): %s", strerror(errno));
}

/* Watch stdin for EOF during the idle hold. A regular file or /dev/null
 * cannot be polled; for those the hold ends at once, as it would on a
 * pipe that is already closed. */
static void release_all(void);

static void watch_stdin(void)
{
    struct epoll_event ev;

    ev.events = EPOLLIN;
    ev.data.ptr = &sentinel_stdin;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev) != 0)
        release_all();
}

static int read_signal(void)
{
    struct signalfd_siginfo si;

    if (read(sigfd, &si, sizeof si) != (ssize_t)sizeof si)
        return 0;
    return (int)si.ssi_signo;
}

/* The idle hold is over: half-close every connection; each then ends
 * when the server's EOF arrives. */
static void release_all(void)
{
    long i;

    releasing = 1;
    for (i = 0; i < slot_count; i++) {
        struct conn *c = &slots[i];

        if (c->fd < 0)
            continue;
        c->finishing = 1;
        if (conn_send(c) == 0)
            set_interest(c);
    }
}

/* Pingpong's measured window is over: every connection finishes its
 * current message (not counted), half-closes and reads to EOF. */
static void stop_pingpong(void)
{
    long i;

    stopping = 1;
    for (i = 0; i < slot_count; i++) {
        struct conn *c = &slots[i];

        if (c->fd < 0 || c->finishing)
            continue;
        if (c->rx == c->tx) {
            c->finishing = 1;
            if (conn_send(c) == 0)
                set_interest(c);
        }
        /* otherwise conn_caught_up() sets finishing when the echo is in */
    }
}

static void fail_unfinished(const char *why)
{
    long i;

    for (i = 0; i < slot_count; i++)
        if (slots[i].fd >= 0)
            conn_error(&slots[i], "%s", why);
}

int main(int argc, char **argv)
{
    struct epoll_event events[MAX_EVENTS];
    uint64_t t_begin, t_end, deadline, hold_end = 0;
    long target, i;
    int pingpong_running = 0, ready_printed = 0, signo = 0;

    parse_options(argc, argv);
    resolve_server();
    make_pattern();
    if (opt.mode == MODE_LIFECYCLE)
        slot_count = opt.total < opt.inflight ? opt.total : opt.inflight;
    else
        slot_count = opt.conns;
    raise_nofile(slot_count + 32);
    slots = calloc((size_t)slot_count, sizeof *slots);
    if (slots == NULL)
        fatal("out of memory");
    for (i = 0; i < slot_count; i++)
        slots[i].fd = -1;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        fatal("epoll_create1: %s", strerror(errno));
    setup_signals();

    target = opt.mode == MODE_LIFECYCLE ? opt.total : opt.conns;
    t_begin = now_ns();
    deadline = t_begin + (uint64_t)(opt.timeout * 1e9);
    stop_ns = UINT64_MAX;

    /* Pingpong and bulk open everything at once; lifecycle and idle keep
     * --inflight connections in set-up, from the loop. */
    if (opt.mode == MODE_PINGPONG || opt.mode == MODE_BULK)
        for (i = 0; i < slot_count; i++)
            conn_start(&slots[i]);

    while (finished < target) {
        uint64_t now = now_ns();
        uint64_t wake = deadline;
        long timeout_ms, finished_before;
        int n, k;

        if (now >= deadline) {
            fail_unfinished("global deadline (--timeout) reached");
            break;
        }
        /* a signal ends the idle hold; anywhere else it aborts the run */
        if (signo != 0 && !(opt.mode == MODE_IDLE && ready_printed)) {
            fail_unfinished("interrupted by a signal");
            break;
        }

        if (opt.mode == MODE_PINGPONG && !pingpong_running) {
            long connecting = 0;

            for (i = 0; i < slot_count; i++)
                connecting += slots[i].fd >= 0 && slots[i].connecting;
            if (connecting == 0) {
                /* all connected: the measured window starts now */
                pingpong_running = 1;
                t_begin = now_ns();
                stop_ns = t_begin + (uint64_t)(opt.secs * 1e9);
                for (i = 0; i < slot_count; i++) {
                    struct conn *c = &slots[i];

                    if (c->fd < 0)
                        continue;
                    c->tx_limit = (uint64_t)opt.size;
                    c->t_start_ns = t_begin;
                    if (conn_send(c) == 0)
                        set_interest(c);
                }
            }
        }
        if (opt.mode == MODE_PINGPONG && pingpong_running && !stopping) {
            if (now >= stop_ns)
                stop_pingpong();
            else if (stop_ns < wake)
                wake = stop_ns;
        }

        finished_before = finished;
        if (opt.mode == MODE_LIFECYCLE) {
            /* a slot freed by a finished connection takes the next one */
            for (i = 0; i < slot_count && started < target; i++)
                if (slots[i].fd < 0)
                    conn_start(&slots[i]);
        }
        if (opt.mode == MODE_IDLE) {
            /* slots are opened in order, --inflight of them in set-up */
            while (started < target
                   && started - established - setup_failed < opt.inflight)
                conn_start(&slots[started]);
            if (!ready_printed && started == target
                && established + setup_failed == target) {
                ready_printed = 1;
                printf("READY mode=idle conns=%ld established=%ld "
                       "errors=%ld\n", opt.conns, established, errors);
                fflush(stdout);
                if (opt.hold > 0)
                    hold_end = now + (uint64_t)(opt.hold * 1e9);
                if (opt.hold_stdin)
                    watch_stdin();
            }
            if (ready_printed && !releasing) {
                if (signo != 0 || (hold_end != 0 && now >= hold_end))
                    release_all();
                else if (hold_end != 0 && hold_end < wake)
                    wake = hold_end;
            }
        }

        if (finished != finished_before)
            wake = now;         /* openings failed at once: refill now */
        timeout_ms = (long)((wake - now + 999999) / 1000000);
        if (timeout_ms > 1000)
            timeout_ms = 1000;  /* re-check the clock at least each second */
        n = epoll_wait(epfd, events, MAX_EVENTS, (int)timeout_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fatal("epoll_wait: %s", strerror(errno));
        }
        for (k = 0; k < n; k++) {
            struct conn *c = events[k].data.ptr;

            if (c == &sentinel_signal) {
                int s = read_signal();

                if (s != 0)
                    signo = s;
                continue;
            }
            if (c == &sentinel_stdin) {
                char scratch[256];
                ssize_t r = read(STDIN_FILENO, scratch, sizeof scratch);

                if (r <= 0 && !(r < 0 && errno == EAGAIN)) {
                    epoll_ctl(epfd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
                    if (!releasing)
                        release_all();
                }
                continue;
            }
            if (c->fd < 0)
                continue;       /* ended earlier in this batch */
            conn_event(c, events[k].events);
        }
    }
    t_end = now_ns();

    printf("RESULT mode=%s expect=%s", mode_names[opt.mode],
           opt.expect == EXPECT_UPPER ? "upper" : "echo");
    switch (opt.mode) {
    case MODE_PINGPONG: {
        /* the measured window, cut short by a deadline or a signal */
        uint64_t window_end = stop_ns < t_end ? stop_ns : t_end;
        double secs = stop_ns != UINT64_MAX
                    ? (double)(window_end - t_begin) / 1e9 : 0;

        printf(" conns=%ld size=%ld secs=%.2f msgs=%" PRIu64
               " msgs_per_s=%.0f p50_us=%.1f p99_us=%.1f",
               opt.conns, opt.size, secs, messages,
               secs > 0 ? (double)messages / secs : 0,
               hist_quantile_us(&latency, 0.50),
               hist_quantile_us(&latency, 0.99));
        break;
    }
    case MODE_BULK: {
        double secs = (double)(t_end - t_begin) / 1e9;
        double total = (double)bytes_back;      /* all of it, unless errors */

        printf(" conns=%ld bytes=%" PRIu64 " secs=%.3f mb_per_s=%.1f",
               opt.conns, opt.bytes, secs,
               secs > 0 ? total / secs / 1e6 : 0);
        break;
    }
    case MODE_LIFECYCLE: {
        double secs = (double)(t_end - t_begin) / 1e9;
        uint64_t ok = latency.count;

        printf(" total=%ld inflight=%ld size=%ld secs=%.3f conns_ok=%" PRIu64
               " conns_per_s=%.0f p50_us=%.1f p99_us=%.1f",
               opt.total, opt.inflight, opt.size, secs, ok,
               secs > 0 ? (double)ok / secs : 0,
               hist_quantile_us(&latency, 0.50),
               hist_quantile_us(&latency, 0.99));
        break;
    }
    case MODE_IDLE:
        printf(" conns=%ld size=%ld established=%ld secs=%.3f",
               opt.conns, opt.size, established,
               (double)(t_end - t_begin) / 1e9);
        break;
    }
    /* Our own CPU time tells whether the client, not the server, was the
     * bottleneck of the run. */
    printf(" client_cpu_s=%.3f errors=%ld\n", own_cpu_secs(), errors);
    fflush(stdout);
    return errors > 0 ? 1 : 0;
}
