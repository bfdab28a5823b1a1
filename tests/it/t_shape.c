/* t_shape.c -- traffic shaping measured from the client side: bandwidth,
 * latency and jitter (reproducible with --seed), slices as separate reads
 * with gaps, stall and resume, close_after, reset_after, the half-close
 * after every shaped byte, and backpressure with bytes held back.
 * Fixtures: shaping.lua (the echo, shaped by script arguments), stall.lua.
 * Durations are kept short; each bound is the nominal time +- 10% or so,
 * with a little more room above (a loaded machine is late, never early). */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

/* Reads as they come, until total bytes: their sizes and arrival times. */
typedef struct reads {
    size_t n;
    size_t size[256];
    int64_t at_ms[256];
} reads;

static void record_reads(int fd, size_t total, reads *r, int64_t t0_us)
{
    size_t got = 0;
    char buf[65536];
    r->n = 0;
    for (int i = 0; i < 100000 && got < total; i++) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int rc = poll(&pfd, 1, IT_WAIT_MS);
        if (rc <= 0)
            TEST_FAIL("no data after %zu of %zu bytes", got, total);
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            TEST_FAIL("recv after %zu of %zu bytes: %s", got, total,
                      n == 0 ? "EOF" : strerror(errno));
        ASSERT_LT(r->n, 256);
        r->size[r->n] = (size_t)n;
        r->at_ms[r->n] = it_clock_ms_since(t0_us);
        r->n++;
        got += (size_t)n;
    }
    ASSERT_EQ(got, total);
}

void shape_rate(void)
{
    it_server *s = SERVER_START(FIXTURE("shaping.lua"), "--", "rate=16384");
    unsigned char *payload = it_rng_payload(0x7a7e, 16384);
    /* 16 KiB at 16 KiB/s: one second (less the first 10 ms batch) */
    ASSERT_MS_WITHIN(it_job_timed_echo(s, payload, 16384), 900, 1150);
    free(payload);
    it_server_stop_clean(s);
}

void shape_delay(void)
{
    it_server *s = SERVER_START(FIXTURE("shaping.lua"), "--", "delay=200");
    int fd = it_cli_connect_to(s, 0);
    char buf[8];
    for (int i = 0; i < 3; i++) {
        int64_t t0 = it_clock_now_us();
        CLI_SEND(fd, "ping\n");
        ASSERT_EQ(it_cli_recv_n(fd, buf, 5, IT_WAIT_MS), 5);
        ASSERT_MEM_EQ(buf, 5, "ping\n", 5);
        ASSERT_MS_WITHIN(it_clock_ms_since(t0), 195, 260);
    }
    close(fd);
    it_server_stop_clean(s);
}

/* Six request/reply delays with delay 100 +- 80 ms under seed. */
static void jitter_delays(const char *seed, int64_t *delays)
{
    it_server *s = SERVER_START("--seed", seed, FIXTURE("shaping.lua"), "--",
                                "delay=100", "jitter=80");
    int fd = it_cli_connect_to(s, 0);
    char buf[4];
    for (int i = 0; i < 6; i++) {
        int64_t t0 = it_clock_now_us();
        CLI_SEND(fd, "j\n");
        ASSERT_EQ(it_cli_recv_n(fd, buf, 2, IT_WAIT_MS), 2);
        delays[i] = it_clock_ms_since(t0);
        ASSERT_MS_WITHIN(delays[i], 19, 215);
    }
    close(fd);
    it_server_stop_clean(s);
}

void shape_jitter_seed(void)
{
    int64_t a[6], b[6], lo = INT64_MAX, hi = 0;
    jitter_delays("42", a);
    jitter_delays("42", b);
    for (int i = 0; i < 6; i++) {
        int64_t diff = a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];
        if (diff > 25)
            TEST_FAIL("reply %d: %lld ms then %lld ms with the same seed", i,
                      (long long)a[i], (long long)b[i]);
        lo = a[i] < lo ? a[i] : lo;
        hi = a[i] > hi ? a[i] : hi;
    }
    ASSERT_GT(hi - lo, 20); /* the delays do vary */
}

void shape_slice(void)
{
    it_server *s = SERVER_START(FIXTURE("shaping.lua"), "--", "slice=100",
                                "gap=50");
    unsigned char *payload = it_rng_payload(0x511ce, 600);
    int fd = it_cli_connect_to(s, 0);
    reads r;
    int64_t t0 = it_clock_now_us();
    ASSERT_EQ(it_cli_send_all(fd, payload, 600, IT_WAIT_MS), 0);
    record_reads(fd, 600, &r, t0);
    /* six slices 50 ms apart; a late reader may see two at once, but a
     * read never ends inside a slice */
    ASSERT_GE(r.n, 4);
    for (size_t i = 0; i < r.n; i++) {
        if (r.size[i] % 100 != 0)
            TEST_FAIL("read %zu has %zu bytes", i, r.size[i]);
        if (i > 0 && r.at_ms[i] - r.at_ms[i - 1] < 40)
            TEST_FAIL("reads %zu and %zu only %lld ms apart", i - 1, i,
                      (long long)(r.at_ms[i] - r.at_ms[i - 1]));
    }
    ASSERT_MS_WITHIN(r.at_ms[r.n - 1], 245, 400);
    it_cli_shut_wr(fd);
    ASSERT_EQ(it_cli_recv_eof(fd, NULL, NULL, 0, IT_WAIT_MS), 0);
    close(fd);
    free(payload);
    it_server_stop_clean(s);
}

static void slice_sizes(const char *seed, reads *r)
{
    it_server *s = SERVER_START("--seed", seed, FIXTURE("shaping.lua"), "--",
                                "slice=100", "variation=50", "gap=60");
    unsigned char *payload = it_rng_payload(0x5eed, 500);
    int fd = it_cli_connect_to(s, 0);
    ASSERT_EQ(it_cli_send_all(fd, payload, 500, IT_WAIT_MS), 0);
    record_reads(fd, 500, r, it_clock_now_us());
    close(fd);
    free(payload);
    it_server_stop_clean(s);
}

void shape_slice_seed(void)
{
    reads a, b;
    slice_sizes("7", &a);
    slice_sizes("7", &b);
    ASSERT_EQ(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        ASSERT_EQ(a.size[i], b.size[i]);
        if (i + 1 < a.n) {
            ASSERT_GE(a.size[i], 50);
            ASSERT_LE(a.size[i], 150);
        }
    }
}

void shape_stall(void)
{
    it_server *s = SERVER_START(FIXTURE("stall.lua"));
    int fd = it_cli_connect_to(s, 0);
    char buf[64];
    static const char want[] = "[stall]\nin=8\n[b]\n";
    CLI_SEND(fd, "a\n");
    ASSERT_EQ(it_cli_recv_n(fd, buf, 4, IT_WAIT_MS), 4);
    int64_t t0 = it_clock_now_us();
    CLI_SEND(fd, "stall\n");
    /* a hung peer: nothing comes back... */
    ASSERT_EQ(it_cli_recv_n(fd, buf, 1, 150), 0);
    /* ...and nothing is read: bytes_in at the resume excludes these */
    CLI_SEND(fd, "b\n");
    size_t n = it_cli_recv_n(fd, buf, sizeof want - 1, IT_WAIT_MS);
    ASSERT_MEM_EQ(buf, n, want, sizeof want - 1);
    ASSERT_MS_WITHIN(it_clock_ms_since(t0), 295, 400);
    close(fd);
    it_server_stop_clean(s);
}

void shape_close_after_bytes(void)
{
    it_server *s = SERVER_START(FIXTURE("shaping.lua"), "--",
                                "close_bytes=1000");
    unsigned char *payload = it_rng_payload(0xc105e, 5000), *in = NULL;
    size_t n = 0;
    int fd = it_cli_connect_to(s, 0);
    ASSERT_EQ(it_cli_send_all(fd, payload, 5000, IT_WAIT_MS), 0);
    /* exactly 1000 bytes, then a graceful end of stream (not a reset) */
    ASSERT_EQ(it_cli_recv_eof(fd, &in, &n, 1 << 20, IT_WAIT_MS), 0);
    ASSERT_MEM_EQ(in, n, payload, 1000);
    close(fd);
    free(in);
    free(payload);
    it_server_stop_clean(s);
}

void shape_close_after_ms(void)
{
    it_server *s = SERVER_START(FIXTURE("shaping.lua"), "--", "close_ms=300");
    unsigned char *in = NULL;
    size_t n = 0;
    int64_t t0 = it_clock_now_us();
    int fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "hi");
    ASSERT_EQ(it_cli_recv_eof(fd, &in, &n, 1 << 20, IT_WAIT_MS), 0);
    ASSERT_MS_WITHIN(it_clock_ms_since(t0), 295, 400);
    ASSERT_MEM_EQ(in, n, "hi", 2);
    close(fd);
    free(in);
    it_server_stop_clean(s);
}

void shape_reset_after(void)
{
    it_server *s = SERVER_START(FIXTURE("shaping.lua"), "--", "reset_ms=300");
    unsigned char *in = NULL;
    size_t n = 0;
    int64_t t0 = it_clock_now_us();
    int fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "hi");
    ASSERT_EQ(it_cli_recv_eof(fd, &in, &n, 1 << 20, IT_WAIT_MS), -ECONNRESET);
    ASSERT_MS_WITHIN(it_clock_ms_since(t0), 295, 400);
    ASSERT_MEM_EQ(in, n, "hi", 2);
    close(fd);
    free(in);
    it_server_stop_clean(s);
}

void shape_fin_after_shaped(void)
{
    it_server *s = SERVER_START(FIXTURE("shaping.lua"), "--", "delay=200",
                                "rate=16384");
    unsigned char *payload = it_rng_payload(0xf1, 8192);
    /* the client's FIN comes at once; ours only after the last byte, held
     * 200 ms and then paced: 8 KiB at 16 KiB/s is 500 ms */
    ASSERT_MS_WITHIN(it_job_timed_echo(s, payload, 8192), 650, 900);
    free(payload);
    it_server_stop_clean(s);
}

void shape_backpressure(void)
{
    it_server *s = SERVER_START("--out-limit", "16k", "--log-level", "debug",
                                FIXTURE("shaping.lua"), "--", "rate=262144");
    const size_t len = 256 * 1024;
    unsigned char *payload = it_rng_payload(0xbac, len);
    ASSERT_MS_WITHIN(it_job_timed_echo(s, payload, len), 900, 1300);
    free(payload);
    it_server_stop_clean(s);
    /* bytes held back by the rate count against --out-limit */
    char *log = it_log_read(s);
    ASSERT_GT(it_log_count(log, "debug", "pausing reads", NULL), 0);
    free(log);
}
