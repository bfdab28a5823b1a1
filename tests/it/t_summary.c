/* t_summary.c -- the summary line of each finished connection (issue 13):
 * exact fields for known traffic, both half-close orders, a reset, a hook
 * error, conn:tag from a script and its bounds, a proxied pair, chaos.lua's
 * tags, and --log-conns off. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_proxy.h"

/* Wait for connection id's summary line and copy it from after the level
 * ("conn ID done: ...") to its end, without the newline, into out. */
static void summary_of(const it_server *s, int id, char *out, size_t cap)
{
    char needle[64];
    snprintf(needle, sizeof needle, "info  conn %d done: ", id);
    if (!it_log_wait(s, needle, IT_WAIT_MS))
        TEST_FAIL("no summary line for conn %d", id);
    char *log = it_log_read(s);
    const char *at = strstr(log, needle);
    ASSERT(at != NULL);
    ASSERT(strstr(at + 1, needle) == NULL); /* one line a connection */
    at += 6;
    const char *end = strchr(at, '\n');
    ASSERT(end != NULL);
    ASSERT_LT((size_t)(end - at), cap);
    memcpy(out, at, (size_t)(end - at));
    out[end - at] = '\0';
    free(log);
}

/* line is "conn ID done: peer=PEER ms=N" then rest exactly; N a whole
 * number of ms below IT_WAIT_MS. */
static void expect_summary(const char *line, int id, const char *peer,
                           const char *rest)
{
    char head[128];
    int n = snprintf(head, sizeof head, "conn %d done: peer=%s ms=", id,
                     peer);
    ASSERT_EQ(strncmp(line, head, (size_t)n), 0);
    char *end;
    long ms = strtol(line + n, &end, 10);
    ASSERT(end > line + n);
    ASSERT_GE(ms, 0);
    ASSERT_LT(ms, IT_WAIT_MS);
    ASSERT_STR_EQ(end, rest);
}

/* The tags summary.lua's on_connect leaves, then on_close's. */
#define TAGS " tag.user=\"alice smith\" tag.n=43 tag.ratio=0.25 tag.ok=true" \
    " tag.esc=\"a\\n\\\"b\\\"\""

/* The client half-closes first; echo.lua has no hooks (the C echo). */
void summary_client_fin(void)
{
    it_server *s = SERVER_START(SCRIPT("echo.lua"));
    int fd = it_cli_connect_to(s, 0);
    char peer[64], got[16], line[1024];
    it_cli_local_name(fd, peer, sizeof peer);
    CLI_SEND(fd, "hello");
    it_cli_shut_wr(fd);
    ASSERT_EQ(it_cli_recv_n(fd, got, 5, IT_WAIT_MS), 5);
    ASSERT_EQ(it_cli_recv_eof(fd, NULL, NULL, 0, IT_WAIT_MS), 0);
    close(fd);
    summary_of(s, 1, line, sizeof line);
    expect_summary(line, 1, peer, " in=5 out=5 hooks=0 first_fin=client "
                   "reason=done");
    it_server_stop_clean(s);
}

/* The server half-closes first ("fin\n": "bye\n", shutdown); the tags
 * of on_connect and on_close, values escaped. */
void summary_server_fin(void)
{
    it_server *s = SERVER_START(FIXTURE("summary.lua"));
    int fd = it_cli_connect_to(s, 0);
    char peer[64], got[16], line[1024];
    it_cli_local_name(fd, peer, sizeof peer);
    CLI_SEND(fd, "fin\n");
    ASSERT_EQ(it_cli_recv_n(fd, got, 4, IT_WAIT_MS), 4);
    ASSERT_MEM_EQ(got, 4, "bye\n", 4);
    ASSERT_EQ(it_cli_recv_eof(fd, NULL, NULL, 0, IT_WAIT_MS), 0);
    close(fd);
    summary_of(s, 1, line, sizeof line);
    /* on_connect, on_data, on_close */
    expect_summary(line, 1, peer, " in=4 out=4 hooks=3 first_fin=server "
                   "reason=done" TAGS " tag.closed=done");
    it_server_stop_clean(s);
}

/* The client resets after its echo: nobody half-closed. */
void summary_reset(void)
{
    if (it_proxy_skip_resets_on_wine())
        return;
    it_server *s = SERVER_START(FIXTURE("summary.lua"));
    int fd = it_cli_connect_to(s, 0);
    char peer[64], got[16], line[1024];
    it_cli_local_name(fd, peer, sizeof peer);
    CLI_SEND(fd, "abc\n");
    ASSERT_EQ(it_cli_recv_n(fd, got, 4, IT_WAIT_MS), 4);
    it_cli_abort(fd);
    summary_of(s, 1, line, sizeof line);
    expect_summary(line, 1, peer, " in=4 out=4 hooks=3 first_fin=neither "
                   "reason=reset" TAGS " tag.closed=reset");
    it_server_stop_clean(s);
}

/* on_data raises: the connection is reset, and the summary names the
 * hook and how it failed. */
void summary_hook_error(void)
{
    it_server *s = SERVER_START(FIXTURE("summary.lua"));
    int fd = it_cli_connect_to(s, 0);
    char peer[64], line[1024];
    it_cli_local_name(fd, peer, sizeof peer);
    CLI_SEND(fd, "boom\n");
    ASSERT(it_cli_wait_error(fd, IT_WAIT_MS));
    close(fd);
    summary_of(s, 1, line, sizeof line);
    expect_summary(line, 1, peer, " in=5 out=0 hooks=3 first_fin=neither "
                   "reason=error hook_failed=on_data hook_failure=error"
                   TAGS " tag.closed=error");
    it_server_stop(s);
}

/* conn:tag past its bounds: clear errors, and the tags kept as they
 * were; on_close's tag is the 17th, so on_close fails, and says so. */
void summary_tag_limits(void)
{
    static const char want[] =
        "conn:tag: the key must be a name of at most 32 bytes "
        "([A-Za-z_][A-Za-z0-9_]*), not '1bad'\n"
        "conn:tag: the key must be a name of at most 32 bytes "
        "([A-Za-z_][A-Za-z0-9_]*), not 'a-b'\n"
        "conn:tag: the key must be a name of at most 32 bytes "
        "([A-Za-z_][A-Za-z0-9_]*), not "
        "'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk'\n"
        "conn:tag: the value of 'k' must be a string, a number, a boolean "
        "or nil, not a table\n"
        "conn:tag: a connection has at most 16 tags ('t12' is one too "
        "many)\n"
        "conn:tag: the tags of a connection take at most 1024 bytes (keys "
        "and string values; 't11' would make 1055)\n"
        "ok\n"
        "ok\n";
    it_server *s = SERVER_START(FIXTURE("summary.lua"));
    int fd = it_cli_connect_to(s, 0);
    char peer[64], got[sizeof want], line[2048], rest[512];
    it_cli_local_name(fd, peer, sizeof peer);
    CLI_SEND(fd, "limits\n");
    ASSERT_EQ(it_cli_recv_n(fd, got, sizeof want - 1, IT_WAIT_MS),
              sizeof want - 1);
    ASSERT_MEM_EQ(got, sizeof want - 1, want, sizeof want - 1);
    it_cli_shut_wr(fd);
    ASSERT_EQ(it_cli_recv_eof(fd, NULL, NULL, 0, IT_WAIT_MS), 0);
    close(fd);
    summary_of(s, 1, line, sizeof line);
    snprintf(rest, sizeof rest, " in=7 out=%zu hooks=3 first_fin=client "
             "reason=done hook_failed=on_close hook_failure=error" TAGS
             " tag.t1=1 tag.t2=2 tag.t3=3 tag.t4=4 tag.t5=5 tag.t6=6"
             " tag.t7=7 tag.t8=8 tag.t9=9 tag.t10=10 tag.t11=11",
             sizeof want - 1);
    expect_summary(line, 1, peer, rest);
    char *log = it_log_read(s);
    ASSERT_EQ(it_log_count(log, "error", "conn 1: on_close failed: ",
                           "summary.lua:42: conn:tag: a connection has at "
                           "most 16 tags ('closed' is one too many)"), 1);
    free(log);
    it_server_stop(s);
}

/* A proxied pair: the client's summary carries the upstream's address,
 * bytes and who half-closed first on its side. */
void summary_proxy(void)
{
    int lfd, port, cli, up;
    char peer[64], upstream[160], line[1024];
    lfd = it_host_listen_local(&port);
    it_server *s = it_proxy_start(port, SCRIPT("proxy.lua"), NULL);
    it_proxy_pair(s, lfd, &cli, &up);
    it_cli_local_name(cli, peer, sizeof peer);
    CLI_SEND(cli, "ping");
    it_cli_shut_wr(cli);
    it_proxy_expect_eof(up, "ping", 4, "the upstream");
    CLI_SEND(up, "pong!");
    it_cli_shut_wr(up);
    it_proxy_expect_eof(cli, "pong!", 5, "the client");
    close(cli);
    close(up);
    close(lfd);
    summary_of(s, 1, line, sizeof line);
    /* the client's FIN went to the upstream before the upstream's came;
     * the upstream's reason is there when it closed before the client */
    snprintf(upstream, sizeof upstream, " in=4 out=5 hooks=0 "
             "first_fin=client reason=done upstream=127.0.0.1:%d up_in=5 "
             "up_out=4 up_first_fin=proxy", port);
    const char *tail = strstr(line, upstream);
    ASSERT(tail != NULL);
    tail += strlen(upstream);
    if (strcmp(tail, " up_reason=done") != 0)
        ASSERT_STR_EQ(tail, "");
    *strstr(line, upstream) = '\0';
    ASSERT(strncmp(line, "conn 1 done: peer=", 18) == 0);
    ASSERT_EQ(strncmp(line + 18, peer, strlen(peer)), 0);
    it_server_stop_clean(s);
}

#define CHAOS_CONNS 20

/* chaos.lua probability=0.5: each summary says whether its connection
 * was hit, and by what; the hit ones carry the delay they were given,
 * the spared ones none. With --seed, the same picks every run; both
 * kinds come up in 20. */
void summary_chaos(void)
{
    it_server *s = SERVER_START("--seed", "7", SCRIPT("chaos.lua"), "--",
                                "latency=1", "rate=100000",
                                "probability=0.5");
    int hit = 0, spared = 0;
    char got[8], line[1024], peer[64];
    for (int i = 1; i <= CHAOS_CONNS; i++) {
        int fd = it_cli_connect_to(s, 0);
        it_cli_local_name(fd, peer, sizeof peer);
        CLI_SEND(fd, "x");
        it_cli_shut_wr(fd);
        ASSERT_EQ(it_cli_recv_n(fd, got, 1, IT_WAIT_MS), 1);
        ASSERT_EQ(it_cli_recv_eof(fd, NULL, NULL, 0, IT_WAIT_MS), 0);
        close(fd);
        summary_of(s, i, line, sizeof line);
        if (strstr(line, " tag.chaos=true") != NULL) {
            /* on_connect, on_done, (timers: none), on_close: none */
            expect_summary(line, i, peer, " in=1 out=1 hooks=2 "
                           "first_fin=client reason=done delay=1 "
                           "rate=100000 tag.chaos=true "
                           "tag.faults=latency,rate");
            hit++;
        } else {
            expect_summary(line, i, peer, " in=1 out=1 hooks=2 "
                           "first_fin=client reason=done "
                           "tag.chaos=false");
            spared++;
        }
    }
    ASSERT_EQ(hit + spared, CHAOS_CONNS);
    ASSERT_GT(hit, 0);
    ASSERT_GT(spared, 0);
    it_server_stop_clean(s);
}

/* --log-conns off: no summary line; a bad value is a usage error. */
void summary_off(void)
{
    it_server *s = SERVER_START("--log-conns", "off", "--trace",
                                SCRIPT("echo.lua"));
    int fd = it_cli_connect_to(s, 0);
    char got[8];
    CLI_SEND(fd, "x");
    it_cli_shut_wr(fd);
    ASSERT_EQ(it_cli_recv_n(fd, got, 1, IT_WAIT_MS), 1);
    ASSERT_EQ(it_cli_recv_eof(fd, NULL, NULL, 0, IT_WAIT_MS), 0);
    close(fd);
    /* the trace's close line comes just before the summary would */
    ASSERT(it_log_wait(s, "conn 1: closed, done after", IT_WAIT_MS));
    it_server_stop_clean(s);
    char *log = it_log_read(s);
    ASSERT(strstr(log, " done: ") == NULL);
    free(log);

    it_run r;
    it_run_capture(&r, (const char *const[]){"--log-conns", "maybe",
                                             SCRIPT("echo.lua"), NULL});
    it_run_assert_error(&r, 2, "--log-conns: bad value 'maybe' (on or "
                        "off)");
    it_run_free(&r);
    it_run_capture(&r, (const char *const[]){"--log-format", "xml",
                                             SCRIPT("echo.lua"), NULL});
    it_run_assert_error(&r, 2, "--log-format: bad value 'xml' (text or "
                        "json)");
    it_run_free(&r);
}

/* The upstream resets after a byte each way: the client is reset too,
 * and its summary says why, with the upstream's end. */
void summary_proxy_reset(void)
{
    int lfd, port, cli, up;
    char peer[64], got[4], want[256], line[1024];
    if (it_proxy_skip_resets_on_wine())
        return;
    lfd = it_host_listen_local(&port);
    it_server *s = it_proxy_start(port, SCRIPT("proxy.lua"), NULL);
    it_proxy_pair(s, lfd, &cli, &up);
    it_cli_local_name(cli, peer, sizeof peer);
    CLI_SEND(cli, "x");
    ASSERT_EQ(it_cli_recv_n(up, got, 1, IT_WAIT_MS), 1);
    CLI_SEND(up, "y");
    ASSERT_EQ(it_cli_recv_n(cli, got, 1, IT_WAIT_MS), 1);
    it_cli_abort(up);
    ASSERT(it_cli_wait_error(cli, IT_WAIT_MS));
    close(cli);
    close(lfd);
    summary_of(s, 1, line, sizeof line);
    snprintf(want, sizeof want, " in=1 out=1 hooks=0 first_fin=neither "
             "reason=reset upstream=127.0.0.1:%d up_in=1 up_out=1 "
             "up_first_fin=neither up_reason=reset", port);
    expect_summary(line, 1, peer, want);
    it_server_stop_clean(s);
}
