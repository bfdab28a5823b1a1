/* t_proxy_flow.c -- backpressure across a proxy pair (issue 12, item 6):
 * a side that does not read pauses the other at --out-limit. A writer
 * floods as fast as it can (non-blocking, up to 1 GiB, bounded in time)
 * while the other side never reads: its writes must block after a
 * bounded amount, ricochet's memory must stay bounded; then the reader
 * reads everything, and every byte is where the counter pattern says. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_fd.h"
#include "it_proxy.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

#define FLOOD_MAX (1ull << 30)
#define OUT_LIMIT (1u << 20)
#define CHUNK (256u * 1024)
#define TEST_SOCKBUF (256 * 1024)
#define AFTER_STALL (8u << 20)   /* written once the reader reads */
/* Ricochet's memory while the flood is held (the bound the issue gives)
 * and its growth over the idle pair's (measured about 2 MiB). */
#define RSS_TOTAL_BOUND_KB (64 * 1024)
#define RSS_GROWTH_BOUND_KB (16 * 1024)

/* Byte at of the pattern: the little-endian bytes of a 32-bit counter
 * of words, so a byte lost, doubled or moved is seen where it happens. */
static unsigned char pattern_at(uint64_t at)
{
    return (unsigned char)((at / 4) >> (8 * (at % 4)));
}

static void pattern_fill(unsigned char *buf, uint64_t at, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = pattern_at(at + i);
}

/* The third number of /proc/sys/net/ipv4/NAME (the buffer's autotuning
 * maximum), or fallback. */
static long sysctl_max(const char *name, long fallback)
{
    char path[96];
    long lo, mid, hi;
    FILE *f;
    snprintf(path, sizeof path, "/proc/sys/net/ipv4/%s", name);
    f = fopen(path, "r");
    if (f == NULL)
        return fallback;
    if (fscanf(f, "%ld %ld %ld", &lo, &mid, &hi) != 3)
        hi = fallback;
    fclose(f);
    return hi;
}

/* Send the pattern from *written on until the socket takes nothing for
 * stall_ms, max bytes in all or the deadline. Returns 1 when it stalled. */
static int flood(int fd, uint64_t *written, uint64_t max, int stall_ms,
                 int64_t deadline_ms)
{
    static unsigned char buf[CHUNK];
    for (long i = 0; i < 100000000L && *written < max; i++) {
        size_t want = max - *written < CHUNK ? (size_t)(max - *written)
                                             : CHUNK;
        pattern_fill(buf, *written, want);
        ssize_t n = send(fd, buf, want, MSG_NOSIGNAL);
        if (n > 0) {
            *written += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
            errno != EINTR)
            TEST_FAIL("send: %s", strerror(errno));
        if (it_clock_left_ms(deadline_ms) == 0)
            return 0;
        if ((it_fd_poll(fd, POLLOUT, stall_ms) & POLLOUT) == 0)
            return 1;
    }
    return 0;
}

/* Read what is there, checking it against the pattern at *read_at.
 * Returns 1 at EOF. */
static int drain(int fd, uint64_t *read_at)
{
    static unsigned char buf[CHUNK];
    for (int i = 0; i < 64; i++) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0)
            return 1;
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            TEST_FAIL("recv at byte %llu: %s", (unsigned long long)*read_at,
                      strerror(errno));
        }
        for (ssize_t k = 0; k < n; k++)
            if (buf[k] != pattern_at(*read_at + (uint64_t)k))
                TEST_FAIL("byte %llu is 0x%02x, the pattern has 0x%02x",
                          (unsigned long long)(*read_at + (uint64_t)k),
                          buf[k], pattern_at(*read_at + (uint64_t)k));
        *read_at += (uint64_t)n;
    }
    return 0;
}

static void backpressure(int upstream_writes)
{
    int lfd, port, cli, up, writer, reader, size = TEST_SOCKBUF, eof = 0;
    it_server *s;
    uint64_t written = 0, read_at = 0, total;
    long base_rss, rss, peak, bound;
    int64_t deadline;

    lfd = it_host_listen_local(&port);
    s = it_proxy_start(port, SCRIPT("proxy.lua"), "--out-limit", "1m",
                       NULL);
    it_proxy_pair(s, lfd, &cli, &up);
    writer = upstream_writes ? up : cli;
    reader = upstream_writes ? cli : up;
    /* our own buffers fixed (no autotuning): what is not in them is in
     * ricochet's sockets or its queue */
    setsockopt(writer, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(reader, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    CLI_SEND(writer, "warm");
    ASSERT_EQ(it_cli_recv_n(reader, (char[4]){0}, 4, IT_WAIT_MS), 4);
    written = read_at = 4; /* the pattern goes on from byte 4 */
    base_rss = it_server_status_kb(s, "VmRSS");

    deadline = it_clock_now_ms() + 20000;
    if (!flood(writer, &written, FLOOD_MAX, 500, deadline))
        TEST_FAIL("the %s wrote %llu bytes and was never held back",
                  upstream_writes ? "upstream" : "client",
                  (unsigned long long)written);
    rss = it_server_status_kb(s, "VmRSS");
    peak = it_server_status_kb(s, "VmHWM");
    /* what can be in flight: our two buffers (the kernel doubles what is
     * set), ricochet's two sockets (autotuned at most to the maxima),
     * its queue (--out-limit) and one read past it */
    bound = 4L * TEST_SOCKBUF + sysctl_max("tcp_rmem", 32L << 20) +
            sysctl_max("tcp_wmem", 32L << 20) + OUT_LIMIT + (1L << 20);
    fprintf(stderr, "held back after %llu bytes (bound %ld); ricochet's "
            "RSS %ld kB before, %ld kB held, peak %ld kB\n",
            (unsigned long long)written, bound, base_rss, rss, peak);
    ASSERT_GE(written, OUT_LIMIT);
    ASSERT_LE(written, (uint64_t)bound);
#ifdef RICOCHET_IT_SANITIZED
    fprintf(stderr, "SKIP the RSS bounds: sanitizer build\n");
#else
    if (base_rss > 0 && peak > 0) {
        ASSERT_LE(peak - base_rss, RSS_GROWTH_BOUND_KB);
        if (getenv("RICOCHET_CMD") == NULL) /* else a wrapper's RSS */
            ASSERT_LE(peak, RSS_TOTAL_BOUND_KB);
    }
#endif

    /* the reader reads; the writer goes on, then finishes */
    total = written + AFTER_STALL;
    deadline = it_clock_now_ms() + 30000;
    for (long i = 0; i < 10000000L && !eof; i++) {
        struct pollfd pfd[2] = {{reader, POLLIN, 0}, {writer, POLLOUT, 0}};
        if (it_clock_left_ms(deadline) == 0)
            TEST_FAIL("read %llu of %llu bytes in 30 s",
                      (unsigned long long)read_at,
                      (unsigned long long)total);
        poll(pfd, written < total ? 2 : 1, 100);
        if (written < total) {
            flood(writer, &written, total, 0, deadline);
            if (written == total)
                it_cli_shut_wr(writer);
        }
        eof = drain(reader, &read_at);
    }
    ASSERT_EQ(read_at, total);
    close(cli);
    close(up);
    close(lfd);
    it_server_stop_clean(s);
}

/* A client that does not read, behind an upstream that floods it. */
void proxy_backpressure_to_client(void)
{
    backpressure(1);
}

/* An upstream that does not read, and a client that floods it. */
void proxy_backpressure_to_upstream(void)
{
    backpressure(0);
}
