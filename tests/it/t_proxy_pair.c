/* t_proxy_pair.c -- what holds per pair in proxy mode (issue 12, item 7):
 * a hook error ends its own pair only, a reload leaves live pairs on
 * their script, a stop lets a pair finish, --trace tells the two sides
 * of a pair apart, and --workers 2 relays as one worker does. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_proxy.h"
#include "it_tmp.h"

/* The pair exchanges bytes both ways and ends cleanly: each side gets
 * the other's bytes, then EOF. */
static void exchange_and_end(int cli, int up, const char *to_up,
                             const char *to_cli)
{
    CLI_SEND(cli, to_up);
    it_cli_shut_wr(cli);
    it_proxy_expect_eof(up, to_up, strlen(to_up), "the upstream");
    CLI_SEND(up, to_cli);
    it_cli_shut_wr(up);
    it_proxy_expect_eof(cli, to_cli, strlen(to_cli), "the client");
}

/* Send on one side, read exactly it on the other. */
static void across(int from, int to, const char *text, const char *want)
{
    char got[256];
    size_t n = strlen(want);
    ASSERT_LT(n, sizeof got);
    CLI_SEND(from, text);
    ASSERT_EQ(it_cli_recv_n(to, got, n, IT_WAIT_MS), n);
    ASSERT_MEM_EQ(got, n, want, n);
}

/* ---- a hook error ends its own pair ------------------------------------- */

/* Pair B's on_data fails, pair C's on_upstream_data runs away (stopped
 * by --hook-budget), pair D's on_data eats memory (stopped by
 * --lua-memory); pair A relays on through all three. */
void proxy_hook_error_isolated(void)
{
    int lfd, port, a_cli, a_up, b_cli, b_up, c_cli, c_up, d_cli, d_up;
    it_server *s;
    char *log;

    lfd = it_host_listen_local(&port);
    s = it_proxy_start(port, FIXTURE("proxy_hooks.lua"), "--hook-budget",
                       "20000000", "--lua-memory", "16", NULL);
    it_proxy_pair(s, lfd, &a_cli, &a_up);
    it_proxy_pair(s, lfd, &b_cli, &b_up);
    it_proxy_pair(s, lfd, &c_cli, &c_up);
    it_proxy_pair(s, lfd, &d_cli, &d_up);
    across(a_cli, a_up, "a to up", "a to up");
    across(b_up, b_cli, "b to client", "b to client");
    across(c_cli, c_up, "c to up", "c to up");
    /* on_data fails in pair B: both of B's sockets are reset */
    CLI_SEND(b_cli, "boom");
    it_proxy_expect_reset(b_cli, "B's client");
    it_proxy_expect_reset(b_up, "B's upstream");
    across(a_up, a_cli, "a to client", "a to client");
    /* on_upstream_data runs away in pair C: stopped, C is reset */
    CLI_SEND(c_up, "spin");
    it_proxy_expect_reset(c_cli, "C's client");
    it_proxy_expect_reset(c_up, "C's upstream");
    across(a_up, a_cli, "a between", "a between");
    /* on_data eats memory in pair D: stopped at the cap, D is reset */
    CLI_SEND(d_cli, "bomb");
    it_proxy_expect_reset(d_cli, "D's client");
    it_proxy_expect_reset(d_up, "D's upstream");
    /* pair A goes on, both ways, and ends cleanly */
    across(a_cli, a_up, "a again", "a again");
    exchange_and_end(a_cli, a_up, "a's last", "a's answer");
    it_server_stop(s);
    log = it_log_read(s);
    ASSERT_EQ(it_log_count(log, "error", NULL, NULL), 3);
    ASSERT_EQ(it_log_count(log, "error", "conn 7: on_data failed: not "
                           "enough memory", "capped at 16 MiB"), 1);
    ASSERT_EQ(it_log_count(log, "error", "conn 3: on_data failed: ",
                           "boom in on_data"), 1);
    ASSERT_EQ(it_log_count(log, "error", "conn 5: on_upstream_data "
                           "stopped: over the budget of 20000000 "
                           "instructions", NULL), 1);
    free(log);
    close(a_cli);
    close(a_up);
    close(b_cli);
    close(b_up);
    close(c_cli);
    close(c_up);
    close(d_cli);
    close(d_up);
    close(lfd);
}

/* ---- reload ------------------------------------------------------------- */

/* Version tag of the script (saved as an editor saves): the upstream's
 * bytes reach the client with "TAG:" in front. Returns its path. */
static const char *tagged_proxy_script(const char *tag)
{
    char text[256];
    snprintf(text, sizeof text,
             "-- a proxy reload test's script, version %s\n"
             "function on_upstream_data(conn, data)\n"
             "    return \"%s:\" .. data\n"
             "end\n", tag, tag);
    return it_tmp_write("script.lua", text);
}

void proxy_reload_keeps_pairs(void)
{
    int lfd, port, a_cli, a_up, b_cli, b_up;
    it_server *s;

    if (it_proxy_on_windows()) {
        fprintf(stderr, "skipped for the Windows build: no SIGHUP\n");
        return;
    }
    const char *script = tagged_proxy_script("v1");

    lfd = it_host_listen_local(&port);
    s = it_proxy_start(port, script, NULL);
    it_proxy_pair(s, lfd, &a_cli, &a_up);
    across(a_up, a_cli, "a", "v1:a");
    tagged_proxy_script("v2");
    it_server_signal(s, SIGHUP);
    if (!it_log_wait(s, "reload (SIGHUP): loaded", IT_WAIT_MS))
        TEST_FAIL("the reload was not logged");
    /* the live pair keeps v1; a new one gets v2 */
    it_proxy_pair(s, lfd, &b_cli, &b_up);
    across(b_up, b_cli, "b", "v2:b");
    across(a_up, a_cli, "c", "v1:c");
    across(a_cli, a_up, "d", "d");
    /* A's end: the client's FIN, then the upstream's last bytes, on v1 */
    it_cli_shut_wr(a_cli);
    it_proxy_expect_eof(a_up, "", 0, "A's upstream");
    CLI_SEND(a_up, "e");
    it_cli_shut_wr(a_up);
    it_proxy_expect_eof(a_cli, "v1:e", 4, "A's client");
    close(a_cli);
    close(a_up);
    close(b_cli);
    close(b_up);
    close(lfd);
    it_server_stop_clean(s);
}

/* ---- a graceful stop lets a pair finish --------------------------------- */

void proxy_stop_drains(void)
{
    int lfd, port, cli, up;
    it_server *s;
    char *log;

    lfd = it_host_listen_local(&port);
    s = it_proxy_start(port, SCRIPT("proxy.lua"), "--trace",
                       "--drain-timeout", "5", NULL);
    it_proxy_pair(s, lfd, &cli, &up);
    across(cli, up, "request\n", "request\n");
    it_server_signal(s, SIGTERM);
    /* One pair: one client's connection, one upstream's. */
    if (!it_log_wait(s, "stopping: 1 connections open (and 1 to upstreams)",
                     IT_WAIT_MS))
        TEST_FAIL("the stop was not logged, or counted the pair wrong");
    /* the exchange finishes after the stop began: the answer, both FINs */
    CLI_SEND(up, "answer\n");
    it_cli_shut_wr(up);
    it_proxy_expect_eof(cli, "answer\n", 7, "the client");
    it_cli_shut_wr(cli);
    it_proxy_expect_eof(up, "", 0, "the upstream");
    if (!it_server_wait_exit(s, IT_WAIT_MS))
        TEST_FAIL("the server did not exit once its pair had ended");
    ASSERT(WIFEXITED(s->status));
    ASSERT_EQ(WEXITSTATUS(s->status), 0);
    ASSERT_EQ(it_proxy_sock_error(cli), 0);
    ASSERT_EQ(it_proxy_sock_error(up), 0);
    log = it_log_read(s);
    /* the pair ended by itself, not by the stop's deadline */
    ASSERT_EQ(it_log_count(log, NULL, "RST sent", NULL), 0);
    ASSERT_EQ(it_log_count(log, NULL, "closed by the server stop", NULL),
              0);
    ASSERT_EQ(it_log_count(log, "trace", "closed, done after", NULL), 2);
    free(log);
    close(cli);
    close(up);
    close(lfd);
}

/* ---- --trace labels the upstream's side --------------------------------- */

void proxy_trace_labels(void)
{
    int lfd, port, cli, up;
    it_server *s;
    char *log;

    lfd = it_host_listen_local(&port);
    s = it_proxy_start(port, SCRIPT("proxy.lua"), "--trace", NULL);
    it_proxy_pair(s, lfd, &cli, &up);
    exchange_and_end(cli, up, "abc", "wxyz");
    if (it_log_wait_count(s, "trace", "closed, done after", 2,
                          IT_WAIT_MS) != 2)
        TEST_FAIL("the pair's close was not traced");
    it_server_stop(s);
    log = it_log_read(s);
    /* the client's side is "conn 1", the upstream's names its client */
    ASSERT_EQ(it_log_count(log, "trace", "conn 1: in 3 bytes at offset 0",
                           NULL), 1);
    ASSERT_EQ(it_log_count(log, "trace", "conn 2 (upstream of 1): out 3 "
                           "bytes at offset 0", NULL), 1);
    ASSERT_EQ(it_log_count(log, "trace", "conn 2 (upstream of 1): in 4 "
                           "bytes at offset 0", NULL), 1);
    ASSERT_EQ(it_log_count(log, "trace", "conn 1: out 4 bytes at offset 0",
                           NULL), 1);
    ASSERT_EQ(it_log_count(log, "trace", "conn 2 (upstream of 1): "
                           "connected to 127.0.0.1:", NULL), 1);
    ASSERT_EQ(it_log_count(log, "trace", "conn 2 (upstream of 1): FIN "
                           "received", NULL), 1);
    ASSERT_EQ(it_log_count(log, "trace", "conn 1: FIN received", NULL), 1);
    /* only the line of the connect's start, written before the pair is
     * made, names the upstream's side without its label */
    ASSERT_EQ(it_log_count_word(log, "trace", "conn 2:", NULL), 1);
    ASSERT_EQ(it_log_count(log, "trace", "conn 2: connecting to", NULL), 1);
    free(log);
    close(cli);
    close(up);
    close(lfd);
}

/* ---- --workers 2 -------------------------------------------------------- */

#define WORKER_PAIRS 16
#define WORKER_BYTES (256u * 1024)

/* Each client names itself in its first bytes (its index); the
 * upstream's side is matched to its client by them. Then 256 KiB both
 * ways at once, byte-exact, each side half-closing. */
void proxy_workers(void)
{
    int lfd, port, cli[WORKER_PAIRS], up[WORKER_PAIRS];
    unsigned char *to_up[WORKER_PAIRS], *to_cli[WORKER_PAIRS];
    it_job jobs[2 * WORKER_PAIRS];
    it_server *s;

    lfd = it_host_listen_local(&port);
    ASSERT_EQ(listen(lfd, WORKER_PAIRS * 2), 0);
    s = it_proxy_start(port, SCRIPT("proxy.lua"), "--workers", "2", NULL);
    for (int i = 0; i < WORKER_PAIRS; i++) {
        to_up[i] = it_rng_payload(0x3000 + (uint64_t)i, WORKER_BYTES);
        to_cli[i] = it_rng_payload(0x4000 + (uint64_t)i, WORKER_BYTES);
        cli[i] = it_cli_connect_to(s, 0);
        ASSERT_EQ(it_cli_send_all(cli[i], &i, sizeof i, IT_WAIT_MS), 0);
    }
    for (int k = 0; k < WORKER_PAIRS; k++) {
        int fd = it_proxy_accept(lfd, IT_WAIT_MS), i;
        if (fd < 0)
            TEST_FAIL("only %d of %d upstream connections came", k,
                      WORKER_PAIRS);
        ASSERT_EQ(it_cli_recv_n(fd, &i, sizeof i, IT_WAIT_MS), sizeof i);
        ASSERT(i >= 0 && i < WORKER_PAIRS);
        up[i] = fd;
    }
    for (int i = 0; i < WORKER_PAIRS; i++) {
        it_job_init(&jobs[2 * i], cli[i], to_up[i], WORKER_BYTES, 1);
        it_job_init(&jobs[2 * i + 1], up[i], to_cli[i], WORKER_BYTES, 1);
    }
    ASSERT_EQ(it_job_drive(jobs, 2 * WORKER_PAIRS, 30000, NULL),
              2 * WORKER_PAIRS);
    for (int i = 0; i < WORKER_PAIRS; i++) {
        ASSERT_MEM_EQ(jobs[2 * i].in, jobs[2 * i].in_len, to_cli[i],
                      WORKER_BYTES);
        ASSERT_MEM_EQ(jobs[2 * i + 1].in, jobs[2 * i + 1].in_len,
                      to_up[i], WORKER_BYTES);
        it_job_free(&jobs[2 * i]);
        it_job_free(&jobs[2 * i + 1]);
        free(to_up[i]);
        free(to_cli[i]);
    }
    close(lfd);
    it_server_stop_clean(s);
}
