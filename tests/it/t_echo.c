/* t_echo.c -- the data path: echo sizes, binary data, the drain after our
 * half-close, many connections, backpressure, resets. */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

/* ---- echo of a given size ----------------------------------------------- */

static void echo_size(size_t len, uint64_t seed, int timeout_ms)
{
    it_server *s = SERVER_START(SCRIPT("echo.lua"));
    unsigned char *payload = it_rng_payload(seed, len);
    int64_t t0 = it_clock_now_us();
    /* full duplex, then half-close; recv-until-EOF must return exactly
     * the payload, so EOF came after the last byte */
    it_job_assert_echo_via(s, 0, payload, len, payload, len, timeout_ms);
    fprintf(stderr, "echo of %zu bytes: %.1f ms\n", len,
            (double)(it_clock_now_us() - t0) / 1000.0);
    free(payload);
    it_server_stop_clean(s);
}

void echo_0b(void) { echo_size(0, 1, IT_WAIT_MS); }
void echo_1b(void) { echo_size(1, 2, IT_WAIT_MS); }
void echo_64k(void) { echo_size(64 * 1024, 3, IT_WAIT_MS); }
void echo_16m(void) { echo_size(16 * 1024 * 1024, 4, 30000); }

/* Our FIN reaches the server while most of the echo is still in its
 * output queue (we do not read until we have half-closed): its FIN must
 * wait until the queue is flushed. 6 MiB is more than the socket buffers
 * take, and under --out-limit 8m reading never pauses, so this cannot
 * deadlock. */
void echo_fin_after_queue(void)
{
    const size_t len = 6u << 20;
    it_server *s = SERVER_START(SCRIPT("echo.lua"), "--out-limit", "8m");
    unsigned char *payload = it_rng_payload(5, len), *in = NULL;
    size_t n = 0;
    int fd = it_cli_connect_to(s, 0);

    ASSERT_EQ(it_cli_send_all(fd, payload, len, 20000), 0);
    it_cli_shut_wr(fd);
    ASSERT_EQ(it_cli_recv_eof(fd, &in, &n, 2 * len, 20000), 0);
    ASSERT_MEM_EQ(in, n, payload, len);
    free(in);
    free(payload);
    close(fd);
    it_server_stop_clean(s);
}

/* ---- the drain: the client may still send after the server's FIN -------- */

void send_after_server_eof(void)
{
    /* drain.lua replies once and returns "shutdown" while our side is
     * still open: the server's FIN comes first. */
    it_server *s = SERVER_START(FIXTURE("drain.lua"));
    int fd = it_cli_connect_to(s, 0);
    unsigned char *in = NULL;
    size_t n = 0;
    char chunk[1024];
    unsigned char byte;

    CLI_SEND(fd, "hello\n");
    ASSERT_EQ(it_cli_recv_eof(fd, &in, &n, 4096, IT_WAIT_MS), 0);
    ASSERT(n > 3 && memcmp(in, "id=", 3) == 0 && in[n - 1] == '\n');
    free(in);

    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(it_cli_send_all(fd, chunk, sizeof chunk, IT_WAIT_MS), 0);
        /* a reset would show up here as a socket error */
        ASSERT_EQ(it_cli_wait_error(fd, 100), 0);
    }
    /* still a clean end of stream, not a reset */
    ASSERT_EQ(recv(fd, &byte, 1, 0), 0);
    close(fd);
    it_server_stop_clean(s);
}

/* ---- binary data -------------------------------------------------------- */

/* Blocks of every byte value, of NULs, of 0xFF and of random bytes. */
static unsigned char *binary_payload(size_t len)
{
    unsigned char *p = malloc(len);
    it_rng r;
    ASSERT(p != NULL);
    it_rng_seed(&r, 0xb1);
    for (size_t i = 0; i < len; i++) {
        switch ((i / 4096) % 4) {
        case 0: p[i] = (unsigned char)i; break;
        case 1: p[i] = 0x00; break;
        case 2: p[i] = 0xff; break;
        default: p[i] = (unsigned char)it_rng_next(&r); break;
        }
    }
    return p;
}

static void binary_through(const char *script)
{
    it_server *s = SERVER_START(script);
    size_t len = 256 * 1024 + 3;
    unsigned char *p = binary_payload(len);
    static const unsigned char nul[1] = {0x00}, ff[1] = {0xff};
    static const unsigned char mixed[5] = {0x00, 0xff, 0x00, '\n', 0xff};

    ASSERT_ECHO(s, nul, sizeof nul);
    ASSERT_ECHO(s, ff, sizeof ff);
    ASSERT_ECHO(s, mixed, sizeof mixed);
    ASSERT_ECHO(s, p, len);
    free(p);
    it_server_stop_clean(s);
}

void binary_echo_c(void) { binary_through(SCRIPT("echo.lua")); }
void binary_echo_lua(void) { binary_through(FIXTURE("identity.lua")); }

/* ---- 1,000 concurrent connections --------------------------------------- */

#define MANY 1000

void conns_1000(void)
{
    const size_t pool_len = (1 << 20) + 65536;
    unsigned char *pool = it_rng_payload(1000, pool_len);
    it_job *jobs = calloc(MANY, sizeof *jobs);
    long limit = it_host_raise_nofile(4096);
    size_t total = 0;
    it_server *s;
    it_rng r;
    int64_t t0;

    ASSERT(jobs != NULL);
    if (limit < MANY + 200)
        TEST_FAIL("RLIMIT_NOFILE is %ld, need %d", limit, MANY + 200);
    /* the server inherits the raised limit */
    s = SERVER_START(SCRIPT("echo.lua"), "--max-conns", "2000");
    it_rng_seed(&r, 1001);
    for (size_t i = 0; i < MANY; i++) {
        size_t len = (size_t)it_rng_below(&r, 65536 + 1);
        size_t off = (size_t)it_rng_below(&r, pool_len - len + 1);
        it_job_init(&jobs[i], it_cli_connect_to(s, 0), pool + off, len, 1);
        total += len;
    }
    t0 = it_clock_now_us();
    ASSERT_EQ(it_job_drive(jobs, MANY, 40000, NULL), MANY);
    fprintf(stderr, "%d connections, %zu bytes each way: %.1f ms\n", MANY,
            total, (double)(it_clock_now_us() - t0) / 1000.0);
    for (size_t i = 0; i < MANY; i++) {
        it_job_assert_echo(&jobs[i], i);
        it_job_free(&jobs[i]);
    }
    free(jobs);
    free(pool);
    it_server_stop_clean(s);
}

/* ---- backpressure ------------------------------------------------------- */

/* Send pattern bytes (cyclically) without ever reading, until max bytes
 * went out, the socket takes nothing for stall_ms, an error, or
 * deadline_ms. Returns the count sent. */
static size_t push_until_stall(int fd, const unsigned char *pattern,
                               size_t pattern_len, size_t max, int stall_ms,
                               int deadline_ms)
{
    size_t sent = 0;
    int64_t deadline = it_clock_now_us() + (int64_t)deadline_ms * 1000;
    for (long i = 0; i < 10000000L && sent < max; i++) {
        size_t off = sent % pattern_len;
        size_t want = pattern_len - off;
        if (want > max - sent)
            want = max - sent;
        ssize_t n = send(fd, pattern + off, want, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
            errno != EINTR)
            TEST_FAIL("send: %s", strerror(errno));
        if (it_clock_now_us() >= deadline)
            break;
        struct pollfd pfd = {fd, POLLOUT, 0};
        int rc = poll(&pfd, 1, stall_ms);
        if (rc == 0)
            break; /* nothing taken for stall_ms: the peer stopped reading */
        if (rc < 0 && errno != EINTR)
            TEST_FAIL("poll: %s", strerror(errno));
    }
    return sent;
}

/* Bounds on the server's RSS while one client floods it and never reads
 * (--out-limit 1m). Measured on Linux/glibc (x86-64, RelWithDebInfo):
 * baseline about 2.5 MiB, peak about 3.7 MiB, growth about 1.2 MiB.
 * Without backpressure the server reads the whole 64 MiB flood and queues
 * most of it, so the growth would be tens of MiB. */
#define RSS_GROWTH_BOUND_KB (8 * 1024)
#define RSS_TOTAL_BOUND_KB (32 * 1024)

void backpressure_rss(void)
{
    const size_t flood = 64u << 20, pattern_len = 1 << 20;
    const size_t b_len = 1 << 20;
    unsigned char *pattern = it_rng_payload(64, pattern_len);
    unsigned char *b_payload = it_rng_payload(65, b_len);
    unsigned char *small = it_rng_payload(66, 4096);
    it_server *s = SERVER_START(SCRIPT("echo.lua"), "--out-limit", "1m");
    long base_rss, flood_rss, peak;
    size_t sent;
    int a;

    ASSERT_ECHO(s, small, 4096); /* warm up: one connection's worth */
    base_rss = it_server_status_kb(s, "VmRSS");
    if (base_rss < 0) {
        fprintf(stderr, "SKIP: no /proc/PID/status to read the RSS from\n");
        it_server_stop(s);
        return;
    }
    a = it_cli_connect_to(s, 0);
    sent = push_until_stall(a, pattern, pattern_len, flood, 500, 20000);
    flood_rss = it_server_status_kb(s, "VmRSS");

    /* meanwhile, another client is served byte-exact */
    it_job_assert_echo_via(s, 0, b_payload, b_len, b_payload, b_len, 20000);
    peak = it_server_status_kb(s, "VmHWM");
    fprintf(stderr, "client A pushed %zu bytes without reading (%s); "
            "server RSS: baseline %ld kB, after the flood %ld kB, "
            "peak (VmHWM) %ld kB, growth %ld kB; bounds: growth %d kB, "
            "total %d kB\n", sent, sent < flood ? "stalled" : "not stalled",
            base_rss, flood_rss, peak, peak - base_rss, RSS_GROWTH_BOUND_KB,
            RSS_TOTAL_BOUND_KB);
    /* the flood must have been big enough to mean something */
    ASSERT_GE(sent, 4u << 20);
#ifdef RICOCHET_IT_SANITIZED
    fprintf(stderr, "SKIP the RSS bounds: sanitizer build\n");
#else
    ASSERT_LE(peak - base_rss, RSS_GROWTH_BOUND_KB);
    /* under RICOCHET_CMD the process measured may be a wrapper (wine):
     * only its growth is meaningful then */
    if (getenv("RICOCHET_CMD") == NULL)
        ASSERT_LE(peak, RSS_TOTAL_BOUND_KB);
#endif
    it_cli_abort(a);
    ASSERT(it_server_alive(s));
    free(pattern);
    free(b_payload);
    free(small);
    it_server_stop(s);
}

/* ---- a client that resets mid-stream ------------------------------------ */

void reset_mid_stream(void)
{
    it_server *s = SERVER_START(SCRIPT("echo.lua"));
    const size_t big_len = 1 << 20, check_len = 256 * 1024;
    unsigned char *big = it_rng_payload(11, big_len);
    unsigned char *check = it_rng_payload(12, check_len);
    unsigned char buf[100];

    for (int variant = 0; variant < 5; variant++) {
        int fd = it_cli_connect_to(s, 0);
        size_t sent = 0;
        switch (variant) {
        case 0: /* reset right after connecting */
            break;
        case 1: /* reset with some of our data unread by the server */
            CLI_SEND(fd, "0123456789");
            ASSERT_EQ(it_cli_recv_n(fd, buf, 10, IT_WAIT_MS), 10);
            ASSERT_EQ(it_cli_send_all(fd, big, 64 * 1024, IT_WAIT_MS), 0);
            break;
        case 2: /* reset with both directions full: we never read */
            sent = push_until_stall(fd, big, big_len, 32u << 20, 300, 10000);
            ASSERT_GT(sent, 0);
            break;
        case 3: /* reset in the middle of reading the echo */
            sent = push_until_stall(fd, big, big_len, big_len, 300, 10000);
            ASSERT_EQ(it_cli_recv_n(fd, buf, sizeof buf, IT_WAIT_MS),
                      sizeof buf);
            break;
        default: /* reset after our half-close, before reading the echo */
            ASSERT_EQ(it_cli_send_all(fd, big, 64 * 1024, IT_WAIT_MS), 0);
            it_cli_shut_wr(fd);
            break;
        }
        it_cli_abort(fd);
        if (!it_server_alive(s))
            TEST_FAIL("the server died after reset variant %d", variant);
        /* the next client is served byte-exact */
        it_job_assert_echo_via(s, 0, check, check_len, check, check_len,
                               IT_WAIT_MS);
    }
    ASSERT(it_server_alive(s));
    free(big);
    free(check);
    it_server_stop(s);
}
