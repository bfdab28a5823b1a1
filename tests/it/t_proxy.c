/* t_proxy.c -- proxy mode over loopback (issue 12): the case itself is
 * both the client and the upstream (a listening socket of its own), so it
 * decides when each side sends, half-closes or resets, and checks the
 * exact bytes and the end (EOF or RST) the other side gets. The relay,
 * the half-close in both orders and reset propagation are here; the
 * upstream's failures, backpressure and what holds per pair are in
 * t_proxy_more.c. */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_proxy.h"

/* ---- relay -------------------------------------------------------------- */

#define RELAY_LEN (1u << 20)

/* 1 MiB each way at once, each side half-closing after its bytes: each
 * gets the other's bytes exactly, then EOF. */
static void relay_both_ways(const char *script)
{
    int lfd, port, cli, up;
    it_server *s;
    unsigned char *a = it_rng_payload(0x9a1, RELAY_LEN);
    unsigned char *b = it_rng_payload(0x9a2, RELAY_LEN);
    it_job jobs[2];

    lfd = it_host_listen_local(&port);
    s = it_proxy_start(port, script, NULL);
    it_proxy_pair(s, lfd, &cli, &up);
    it_job_init(&jobs[0], cli, a, RELAY_LEN, 1);
    it_job_init(&jobs[1], up, b, RELAY_LEN, 1);
    ASSERT_EQ(it_job_drive(jobs, 2, 20000, NULL), 2);
    ASSERT_EQ(jobs[0].err, 0);
    ASSERT_EQ(jobs[1].err, 0);
    ASSERT_MEM_EQ(jobs[1].in, jobs[1].in_len, a, RELAY_LEN);
    ASSERT_MEM_EQ(jobs[0].in, jobs[0].in_len, b, RELAY_LEN);
    it_job_free(&jobs[0]);
    it_job_free(&jobs[1]);
    close(lfd);
    free(a);
    free(b);
    it_server_stop_clean(s);
}

/* scripts/proxy.lua: no hook, the bytes go across in C. */
void proxy_relay(void)
{
    relay_both_ways(SCRIPT("proxy.lua"));
}

/* on_data and on_upstream_data that return the data unchanged. */
void proxy_relay_hooks(void)
{
    relay_both_ways(FIXTURE("proxy_hooks.lua"));
}

/* An upstream on [::1] (--upstream [::1]:PORT): the same relay. */
void proxy_relay_ipv6(void)
{
    int lfd, port, cli, up;
    it_server *s;
    char peer[64];

    lfd = it_proxy_listen6(&port);
    if (lfd < 0) {
        fprintf(stderr, "SKIP: no IPv6 loopback here\n");
        return;
    }
    s = it_proxy_start(-port, SCRIPT("proxy.lua"), "--trace", NULL);
    it_proxy_pair(s, lfd, &cli, &up);
    CLI_SEND(cli, "over six");
    it_cli_shut_wr(cli);
    it_proxy_expect_eof(up, "over six", 8, "the upstream");
    CLI_SEND(up, "and back");
    it_cli_shut_wr(up);
    it_proxy_expect_eof(cli, "and back", 8, "the client");
    snprintf(peer, sizeof peer, "connected to [::1]:%d", port);
    if (!it_log_wait(s, peer, IT_WAIT_MS))
        TEST_FAIL("no trace line \"%s\"", peer);
    close(cli);
    close(up);
    close(lfd);
    it_server_stop_clean(s);
}

/* ---- the half-close, both orders ---------------------------------------- */

/* After a pair's clean end: ricochet closed both of its sockets (the
 * trace's close lines, "closed, done"), sent no RST, and neither of our
 * sockets has an error pending or reads anything but EOF again. */
static void expect_clean_end(it_server *s, int cli, int up)
{
    char *log;
    if (it_log_wait_count(s, "trace", "closed, done after", 2,
                          IT_WAIT_MS) != 2)
        TEST_FAIL("ricochet did not close both sockets of the pair");
    log = it_log_read(s);
    ASSERT_EQ(it_log_count(log, NULL, "RST sent", NULL), 0);
    ASSERT_EQ(it_log_count(log, "trace", "conn 1: closed, done after",
                           NULL), 1);
    ASSERT_EQ(it_log_count(log, "trace", "(upstream of 1): closed, done "
                           "after", NULL), 1);
    free(log);
    it_proxy_expect_eof(cli, "", 0, "the client, again");
    it_proxy_expect_eof(up, "", 0, "the upstream, again");
    ASSERT_EQ(it_proxy_sock_error(cli), 0);
    ASSERT_EQ(it_proxy_sock_error(up), 0);
}

/* The client finishes first: its FIN reaches the upstream after "abc";
 * the upstream, still heard, answers and finishes; then both close. */
void proxy_half_close_client_first(void)
{
    int lfd, port, cli, up;
    it_server *s;

    lfd = it_host_listen_local(&port);
    s = it_proxy_start(port, SCRIPT("proxy.lua"), "--trace", NULL);
    it_proxy_pair(s, lfd, &cli, &up);
    CLI_SEND(cli, "abc");
    it_cli_shut_wr(cli);
    it_proxy_expect_eof(up, "abc", 3, "the upstream");
    CLI_SEND(up, "xyz");
    it_cli_shut_wr(up);
    it_proxy_expect_eof(cli, "xyz", 3, "the client");
    expect_clean_end(s, cli, up);
    close(cli);
    close(up);
    close(lfd);
    it_server_stop_clean(s);
}

/* The upstream finishes first (a banner, then its FIN): the client gets
 * both, and what it sends afterwards still reaches the upstream, before
 * its own FIN. */
void proxy_half_close_upstream_first(void)
{
    static const char banner[] = "+OK banner, then FIN\r\n";
    int lfd, port, cli, up;
    it_server *s;

    lfd = it_host_listen_local(&port);
    s = it_proxy_start(port, SCRIPT("proxy.lua"), "--trace", NULL);
    it_proxy_pair(s, lfd, &cli, &up);
    CLI_SEND(up, banner);
    it_cli_shut_wr(up);
    it_proxy_expect_eof(cli, banner, strlen(banner), "the client");
    CLI_SEND(cli, "late");
    it_cli_shut_wr(cli);
    it_proxy_expect_eof(up, "late", 4, "the upstream");
    expect_clean_end(s, cli, up);
    close(cli);
    close(up);
    close(lfd);
    it_server_stop_clean(s);
}

/* The client has sent everything and half-closed; the upstream got
 * everything, then EOF. */
static int bulk_step_done(const it_job *j)
{
    if (j->err != 0)
        return 1;
    return j->out_len > 0 ? j->out_sent == j->out_len && j->shut_done
                          : j->eof;
}

/* The same with 4 MiB before each FIN, more than the socket buffers and
 * --out-limit hold: the FIN waits for every byte before it. */
void proxy_half_close_bulk(void)
{
    const size_t len = 4u << 20;
    unsigned char *a = it_rng_payload(0x4a1, len);
    unsigned char *b = it_rng_payload(0x4a2, len);
    int lfd, port, cli, up;
    it_server *s;

    lfd = it_host_listen_local(&port);
    s = it_proxy_start(port, SCRIPT("proxy.lua"), "--out-limit", "256k",
                       NULL);
    it_proxy_pair(s, lfd, &cli, &up);
    /* the client sends it all and finishes while the upstream reads */
    it_job jobs[2];
    it_job_init(&jobs[0], cli, a, len, 1);
    it_job_init(&jobs[1], up, NULL, 0, 0);
    jobs[1].in_max = 2 * len;
    ASSERT_EQ(it_job_drive(jobs, 2, 20000, bulk_step_done), 2);
    ASSERT_EQ(jobs[0].err, 0);
    ASSERT_EQ(jobs[1].err, 0);
    ASSERT_MEM_EQ(jobs[1].in, jobs[1].in_len, a, len);
    ASSERT_EQ(jobs[0].in_len, 0); /* nothing came back yet, no EOF */
    /* then the upstream answers and finishes */
    ASSERT_EQ(it_cli_send_all(up, b, len, 20000), 0);
    it_cli_shut_wr(up);
    it_proxy_expect_eof(cli, b, len, "the client");
    it_job_free(&jobs[0]);
    it_job_free(&jobs[1]);
    close(lfd);
    free(a);
    free(b);
    it_server_stop_clean(s);
}

/* on_done and on_upstream_done: each end goes on after the hook's last
 * bytes, in both orders (the second FIN comes to a side whose own end
 * has begun: the relay passes it on all the same). */
static void ends_with_hooks(int client_first)
{
    int lfd, port, cli, up;
    it_server *s;

    lfd = it_host_listen_local(&port);
    s = it_proxy_start(port, FIXTURE("proxy_ends.lua"), NULL);
    it_proxy_pair(s, lfd, &cli, &up);
    for (int turn = 0; turn < 2; turn++) {
        if ((turn == 0) == (client_first != 0)) {
            CLI_SEND(cli, "abc");
            it_cli_shut_wr(cli);
            it_proxy_expect_eof(up, "abc[client done]", 16, "the upstream");
        } else {
            CLI_SEND(up, "xyz");
            it_cli_shut_wr(up);
            it_proxy_expect_eof(cli, "xyz[upstream done]", 18,
                                "the client");
        }
    }
    ASSERT_EQ(it_proxy_sock_error(cli), 0);
    ASSERT_EQ(it_proxy_sock_error(up), 0);
    close(cli);
    close(up);
    close(lfd);
    it_server_stop_clean(s);
}

void proxy_end_hooks_client_first(void)
{
    ends_with_hooks(1);
}

void proxy_end_hooks_upstream_first(void)
{
    ends_with_hooks(0);
}

/* on_upstream_done's "wait": the client gets the hook's line at once,
 * the upstream's FIN only when the script's timer passes it on; the
 * client's own end still reaches the upstream after that. */
void proxy_end_hook_wait(void)
{
    int lfd, port, cli, up;
    it_server *s;
    char got[16];
    int64_t t0;

    lfd = it_host_listen_local(&port);
    s = it_proxy_start(port, FIXTURE("proxy_wait.lua"), NULL);
    it_proxy_pair(s, lfd, &cli, &up);
    t0 = it_clock_now_us();
    CLI_SEND(up, "data");
    it_cli_shut_wr(up);
    ASSERT_EQ(it_cli_recv_n(cli, got, 10, IT_WAIT_MS), 10);
    ASSERT_MEM_EQ(got, 10, "data[held]", 10);
    it_proxy_expect_eof(cli, "", 0, "the client");
    ASSERT_MS_WITHIN(it_clock_ms_since(t0), 180, IT_WAIT_MS);
    CLI_SEND(cli, "late");
    it_cli_shut_wr(cli);
    it_proxy_expect_eof(up, "late", 4, "the upstream");
    close(cli);
    close(up);
    close(lfd);
    it_server_stop_clean(s);
}

/* ---- resets cross ------------------------------------------------------- */

/* The client resets (SO_LINGER 0): the upstream's read fails with
 * ECONNRESET; the other way round too. With bytes in flight
 * (inflight_len > 0, sent by the side that then resets, never read by
 * the other), the other side still gets a reset, never an EOF. */
static void reset_crosses(int client_resets, size_t inflight_len)
{
    int lfd, port, cli, up, rc;
    it_server *s;
    unsigned char *p = inflight_len ? it_rng_payload(0x7e5, inflight_len)
                                    : NULL;
    unsigned char *in = NULL;
    size_t n = 0;

    if (it_proxy_skip_resets_on_wine()) {
        free(p);
        return;
    }
    lfd = it_host_listen_local(&port);
    s = it_proxy_start(port, SCRIPT("proxy.lua"), "--trace", NULL);
    it_proxy_pair(s, lfd, &cli, &up);
    /* the pair works first */
    CLI_SEND(cli, "ping");
    ASSERT_EQ(it_cli_recv_n(up, (char[4]){0}, 4, IT_WAIT_MS), 4);
    int from = client_resets ? cli : up, to = client_resets ? up : cli;
    if (inflight_len) {
        /* up to what the buffers take; the other side does not read */
        size_t sent = 0;
        for (int i = 0; i < 100000 && sent < inflight_len; i++) {
            ssize_t k = send(from, p + sent, inflight_len - sent,
                             MSG_NOSIGNAL);
            if (k <= 0)
                break;
            sent += (size_t)k;
        }
        ASSERT_GT(sent, 0);
        /* the first of them went through ricochet */
        if (!it_proxy_wait_readable(to, IT_WAIT_MS))
            TEST_FAIL("nothing came across before the reset");
    }
    it_cli_abort(from);
    rc = it_cli_recv_eof(to, &in, &n, 64u << 20, IT_WAIT_MS);
    fprintf(stderr, "the %s read %zu bytes, then %s\n",
            client_resets ? "upstream" : "client", n,
            rc == 0 ? "EOF" : strerror(-rc));
    if (rc != -ECONNRESET)
        TEST_FAIL("the %s's reset reached the %s as %s, not a reset",
                  client_resets ? "client" : "upstream",
                  client_resets ? "upstream" : "client",
                  rc == 0 ? "EOF" : strerror(-rc));
    if (inflight_len)
        ASSERT_MEM_EQ(in, n, p, n); /* a true prefix, if anything */
    else
        ASSERT_EQ(n, 0);
    free(in);
    free(p);
    close(to);
    close(lfd);
    it_server_stop_clean(s);
}

void proxy_reset_from_client(void)
{
    reset_crosses(1, 0);
}

void proxy_reset_from_upstream(void)
{
    reset_crosses(0, 0);
}

void proxy_reset_from_client_inflight(void)
{
    reset_crosses(1, 8u << 20);
}

void proxy_reset_from_upstream_inflight(void)
{
    reset_crosses(0, 8u << 20);
}
