/* t_toolkit.c -- the shipped policies seen from a client: scripts/lines.lua
 * (line echo with a max) and scripts/chaos.lua (Toxiproxy's faults, one
 * argument at a time, and the per-connection probability with --seed). */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

/* Receive until EOF (rc 0) or an error (-errno); assert the bytes. */
static void expect_end(int fd, int want_rc, const void *want, size_t len)
{
    unsigned char *in = NULL;
    size_t n = 0;
    int rc = it_cli_recv_eof(fd, &in, &n, 1 << 20, IT_WAIT_MS);
    if (rc != want_rc)
        TEST_FAIL("expected %s, got %s after %zu bytes",
                  want_rc ? strerror(-want_rc) : "EOF",
                  rc ? strerror(-rc) : "EOF", n);
    ASSERT_MEM_EQ(in, n, want, len);
    free(in);
}

void lines_script(void)
{
    it_server *s = SERVER_START(SCRIPT("lines.lua"), "--", "max=8");
    int fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "ab\r\ncd");
    CLI_SEND(fd, "\n12345678\nxy");
    it_cli_shut_wr(fd);
    /* lines back as they came, the unfinished one too, then FIN */
    expect_end(fd, 0, "ab\r\ncd\n12345678\nxy", 18);
    close(fd);

    fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "123456789\n"); /* one over max */
    expect_end(fd, -ECONNRESET, "", 0);
    close(fd);
    it_server_stop_clean(s);
    char *log = it_log_read(s);
    ASSERT_EQ(it_log_count(log, "warn", "line frame longer than max 8", NULL),
              1);
    free(log);
}

/* One echo of len bytes (sent, half-closed) under chaos.lua with args;
 * returns ms until the end of the reply. */
static int64_t chaos_echo(const char *const *args, size_t len)
{
    it_server *s = it_server_start(args);
    unsigned char *payload = it_rng_payload(len, len);
    int64_t took = it_job_timed_echo(s, payload, len);
    free(payload);
    it_server_stop_clean(s);
    return took;
}

#define CHAOS(...) (const char *const[]){SCRIPT("chaos.lua"), "--", \
                                          __VA_ARGS__, NULL}

void chaos_latency_rate(void)
{
    /* 100 ms of latency, then 4 KiB at 8 KiB/s: about 600 ms */
    ASSERT_MS_WITHIN(chaos_echo(CHAOS("latency=100", "rate=8192"), 4096),
                     550, 800);
    /* the slicer: the bytes all arrive, a little late */
    ASSERT_MS_WITHIN(chaos_echo(CHAOS("slice=100", "slice_gap=20"), 500),
                     75, 300);
}

void chaos_limit_data(void)
{
    it_server *s = SERVER_START(SCRIPT("chaos.lua"), "--", "limit_data=100");
    unsigned char *payload = it_rng_payload(0x11, 1000);
    int fd = it_cli_connect_to(s, 0);
    ASSERT_EQ(it_cli_send_all(fd, payload, 1000, IT_WAIT_MS), 0);
    expect_end(fd, 0, payload, 100);
    close(fd);
    free(payload);
    it_server_stop_clean(s);
}

void chaos_down_blackhole(void)
{
    it_server *s = SERVER_START(SCRIPT("chaos.lua"), "--", "down");
    /* the reset may come before the connect is seen to complete */
    int fd = it_cli_connect(s->host[0], s->port[0]);
    if (fd >= 0) {
        expect_end(fd, -ECONNRESET, "", 0);
        close(fd);
    } else {
        ASSERT_EQ(fd, -ECONNRESET);
    }
    it_server_stop_clean(s);

    /* a hung connection does not see its client go: the stop ends it at
     * the drain timeout */
    s = SERVER_START("--drain-timeout", "0.2", SCRIPT("chaos.lua"), "--",
                     "blackhole");
    fd = it_cli_connect_to(s, 0);
    char buf[4];
    CLI_SEND(fd, "anyone?");
    /* no reply, no end, no reset: a peer that hangs */
    ASSERT_EQ(it_cli_recv_n(fd, buf, 1, 300), 0);
    ASSERT_EQ(it_cli_wait_error(fd, 0), 0);
    close(fd);
    it_server_stop_clean(s);
}

void chaos_timeout(void)
{
    it_server *s = SERVER_START(SCRIPT("chaos.lua"), "--", "timeout=200");
    int64_t t0 = it_clock_now_us();
    int fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "lost");
    expect_end(fd, 0, "", 0); /* nothing gets through, then the end */
    ASSERT_MS_WITHIN(it_clock_ms_since(t0), 195, 350);
    close(fd);
    it_server_stop_clean(s);
}

void chaos_reset_peer(void)
{
    it_server *s = SERVER_START(SCRIPT("chaos.lua"), "--", "reset_peer=200");
    int64_t t0 = it_clock_now_us();
    int fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "hi");
    expect_end(fd, -ECONNRESET, "hi", 2);
    ASSERT_MS_WITHIN(it_clock_ms_since(t0), 195, 350);
    close(fd);
    it_server_stop_clean(s);
}

void chaos_slow_close(void)
{
    it_server *s = SERVER_START(SCRIPT("chaos.lua"), "--", "slow_close=200");
    int64_t t0 = it_clock_now_us();
    int fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "bye");
    it_cli_shut_wr(fd);
    expect_end(fd, 0, "bye", 3);
    ASSERT_MS_WITHIN(it_clock_ms_since(t0), 195, 350);
    close(fd);
    it_server_stop_clean(s);
}

/* 24 connections with probability=0.5 of "down": which were reset. */
static void chaos_picks(const char *seed, char *picks, int n)
{
    it_server *s = SERVER_START("--seed", seed, SCRIPT("chaos.lua"), "--",
                                "down", "probability=0.5");
    for (int i = 0; i < n; i++) {
        /* the reset may come before the connect is seen to complete */
        int fd = it_cli_connect(s->host[0], s->port[0]);
        unsigned char *in = NULL;
        size_t len = 0;
        int rc = fd < 0 ? fd : it_cli_send_all(fd, "x", 1, IT_WAIT_MS);
        if (rc == 0 && shutdown(fd, SHUT_WR) != 0)
            rc = errno == ENOTCONN ? -ECONNRESET : -errno;
        if (rc == 0)
            rc = it_cli_recv_eof(fd, &in, &len, 1 << 20, IT_WAIT_MS);
        if (rc == 0)
            ASSERT_MEM_EQ(in, len, "x", 1);
        else if (rc != -ECONNRESET && rc != -EPIPE)
            TEST_FAIL("connection %d: %s", i, strerror(-rc));
        picks[i] = rc == 0 ? '.' : 'R';
        free(in);
        if (fd >= 0)
            close(fd);
    }
    picks[n] = '\0';
    it_server_stop_clean(s);
}

void chaos_probability_seed(void)
{
    char a[25], b[25];
    chaos_picks("3", a, 24);
    chaos_picks("3", b, 24);
    ASSERT_STR_EQ(a, b); /* the same seed, the same connections hit */
    int hit = 0;
    for (int i = 0; i < 24; i++)
        hit += a[i] == 'R';
    if (hit < 3 || hit > 21)
        TEST_FAIL("%d of 24 connections hit with probability 0.5: %s", hit,
                  a);
}
