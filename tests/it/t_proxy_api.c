/* t_proxy_api.c -- proxy mode's script API from outside: the test plays
 * the client and the upstream(s) over loopback and asserts the bytes
 * each receives. The upstream chosen per connection (conn:connect),
 * framing the upstream's direction (conn.upstream:frame), shaping the
 * upstream's direction (conn.upstream:delay), and scripts/chaos.lua's
 * dir= argument. */
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_fd.h"

/* The connection the proxy made to the upstream listening on lfd. */
static int upstream_accept(int lfd)
{
    ASSERT_EQ(it_fd_poll(lfd, POLLIN, IT_WAIT_MS), 1);
    int fd = accept(lfd, NULL, NULL);
    ASSERT(fd >= 0);
    it_fd_cloexec(fd);
    it_fd_nonblock(fd);
    return fd;
}

/* fd receives exactly want (nothing more arrives meanwhile). */
static void expect_bytes(int fd, const char *want)
{
    char buf[256];
    size_t len = strlen(want);
    ASSERT_LT(len, sizeof buf);
    size_t got = it_cli_recv_n(fd, buf, len, IT_WAIT_MS);
    ASSERT_MEM_EQ(buf, got, want, len);
}

static const char *arg_of(char *buf, size_t cap, const char *key, int port)
{
    snprintf(buf, cap, "%s=127.0.0.1:%d", key, port);
    return buf;
}

void proxy_api_choose(void)
{
    int port_a, port_b;
    int la = it_host_listen_local(&port_a);
    int lb = it_host_listen_local(&port_b);
    char a[64], b[64];
    it_server *s = SERVER_START(FIXTURE("proxy_api_choose.lua"), "--",
                                arg_of(a, sizeof a, "a", port_a),
                                arg_of(b, sizeof b, "b", port_b));
    int c1 = it_cli_connect_to(s, 0);
    int u1 = upstream_accept(la);
    int c2 = it_cli_connect_to(s, 0);
    int u2 = upstream_accept(lb);
    CLI_SEND(c1, "to a");
    CLI_SEND(c2, "to b");
    expect_bytes(u1, "to a");
    expect_bytes(u2, "to b");
    CLI_SEND(u1, "from a");
    CLI_SEND(u2, "from b");
    expect_bytes(c1, "from a");
    expect_bytes(c2, "from b");
    /* the third goes to a again */
    int c3 = it_cli_connect_to(s, 0);
    int u3 = upstream_accept(la);
    CLI_SEND(c3, "three");
    expect_bytes(u3, "three");
    int fds[] = {c1, c2, c3, u1, u2, u3, la, lb};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        close(fds[i]);
    it_server_stop_clean(s);
}

void proxy_api_frame_upstream(void)
{
    int port;
    int lfd = it_host_listen_local(&port);
    char up[64];
    snprintf(up, sizeof up, "127.0.0.1:%d", port);
    it_server *s = SERVER_START("--upstream", up,
                                FIXTURE("proxy_api_frame.lua"));
    int c = it_cli_connect_to(s, 0);
    int u = upstream_accept(lfd);
    CLI_SEND(c, "one\ntwo\n"); /* the client's direction is not framed */
    expect_bytes(u, "one\ntwo\n");
    CLI_SEND(u, "a\nbc\nd"); /* one write: two lines and a part */
    expect_bytes(c, "<a><bc>");
    CLI_SEND(u, "e\n");
    expect_bytes(c, "<de>");
    close(c);
    close(u);
    close(lfd);
    it_server_stop_clean(s);
}

void proxy_api_shape_upstream(void)
{
    int port;
    int lfd = it_host_listen_local(&port);
    char up[64];
    snprintf(up, sizeof up, "127.0.0.1:%d", port);
    it_server *s = SERVER_START("--upstream", up,
                                FIXTURE("proxy_api_shape.lua"));
    int c = it_cli_connect_to(s, 0);
    int u = upstream_accept(lfd);
    int64_t t0 = it_clock_now_us();
    CLI_SEND(c, "slow");
    expect_bytes(u, "slow");
    int64_t took = it_clock_ms_since(t0);
    /* the server's clock counts whole milliseconds: 1 ms of grain */
    if (took < 299)
        TEST_FAIL("the upstream got the bytes after %lld ms, not 300",
                  (long long)took);
    close(c);
    close(u);
    close(lfd);
    it_server_stop_clean(s);
}

/* chaos.lua dir=upstream delays what the upstream receives; what comes
 * back is not held (a bound far from the 1 s fault). */
void proxy_api_chaos_dir(void)
{
    int port;
    int lfd = it_host_listen_local(&port);
    char up[64];
    snprintf(up, sizeof up, "127.0.0.1:%d", port);
    it_server *s = SERVER_START("--upstream", up, SCRIPT("chaos.lua"), "--",
                                "latency=1000", "dir=upstream");
    int c = it_cli_connect_to(s, 0);
    int u = upstream_accept(lfd);
    int64_t t0 = it_clock_now_us();
    CLI_SEND(c, "ping");
    expect_bytes(u, "ping");
    int64_t took = it_clock_ms_since(t0);
    if (took < 999) /* 1 ms of grain, as above */
        TEST_FAIL("the upstream got the bytes after %lld ms, not 1000",
                  (long long)took);
    t0 = it_clock_now_us();
    CLI_SEND(u, "pong");
    expect_bytes(c, "pong");
    took = it_clock_ms_since(t0);
    if (took >= 900)
        TEST_FAIL("the client got the reply after %lld ms: delayed",
                  (long long)took);
    close(c);
    close(u);
    it_server_stop_clean(s);

    /* dir=client (the default) delays what the client receives only */
    s = SERVER_START("--upstream", up, SCRIPT("chaos.lua"), "--",
                     "latency=1000");
    c = it_cli_connect_to(s, 0);
    u = upstream_accept(lfd);
    t0 = it_clock_now_us();
    CLI_SEND(c, "ping");
    expect_bytes(u, "ping");
    took = it_clock_ms_since(t0);
    if (took >= 900)
        TEST_FAIL("the upstream got the bytes after %lld ms: delayed",
                  (long long)took);
    t0 = it_clock_now_us();
    CLI_SEND(u, "pong");
    expect_bytes(c, "pong");
    took = it_clock_ms_since(t0);
    if (took < 999)
        TEST_FAIL("the client got the reply after %lld ms, not 1000",
                  (long long)took);
    close(c);
    close(u);
    close(lfd);
    it_server_stop_clean(s);

    it_run r;
    RUN(&r, "--listen", "127.0.0.1:0", SCRIPT("chaos.lua"), "--",
        "dir=sideways");
    it_run_assert_error(&r, 3, "chaos.lua: dir must be client, upstream or "
                        "both, not 'sideways'");
    it_run_free(&r);
    RUN(&r, "--listen", "127.0.0.1:0", SCRIPT("chaos.lua"), "--",
        "dir=both");
    it_run_assert_error(&r, 3, "chaos.lua: dir=both needs --upstream");
    it_run_free(&r);
}

/* fd receives exactly want, then the end of the stream; returns the ms
 * from t0 to the end. */
static int64_t expect_eof(int fd, const char *want, int64_t t0)
{
    unsigned char *in = NULL;
    size_t n = 0;
    ASSERT_EQ(it_cli_recv_eof(fd, &in, &n, 4096, IT_WAIT_MS), 0);
    int64_t took = it_clock_ms_since(t0);
    ASSERT_MEM_EQ(in, n, want, strlen(want));
    free(in);
    return took;
}

/* chaos.lua slow_close in front of an upstream: dir=client holds our FIN
 * to the client (after the upstream's), dir=upstream the FIN passed on
 * to the upstream (after the client's). */
void proxy_api_chaos_slow_close(void)
{
    int port;
    int lfd = it_host_listen_local(&port);
    char up[64];
    snprintf(up, sizeof up, "127.0.0.1:%d", port);
    it_server *s = SERVER_START("--upstream", up, SCRIPT("chaos.lua"), "--",
                                "slow_close=300");
    int c = it_cli_connect_to(s, 0);
    int u = upstream_accept(lfd);
    CLI_SEND(c, "bye");
    it_cli_shut_wr(c);
    if (expect_eof(u, "bye", it_clock_now_us()) >= 250)
        TEST_FAIL("the client's FIN was held on its way upstream");
    CLI_SEND(u, "ok");
    it_cli_shut_wr(u);
    if (expect_eof(c, "ok", it_clock_now_us()) < 299)
        TEST_FAIL("the upstream's FIN reached the client before 300 ms");
    close(c);
    close(u);
    it_server_stop_clean(s);

    s = SERVER_START("--upstream", up, SCRIPT("chaos.lua"), "--",
                     "slow_close=300", "dir=upstream");
    c = it_cli_connect_to(s, 0);
    u = upstream_accept(lfd);
    CLI_SEND(c, "bye");
    it_cli_shut_wr(c);
    if (expect_eof(u, "bye", it_clock_now_us()) < 299)
        TEST_FAIL("the client's FIN reached the upstream before 300 ms");
    CLI_SEND(u, "ok");
    it_cli_shut_wr(u);
    if (expect_eof(c, "ok", it_clock_now_us()) >= 250)
        TEST_FAIL("the upstream's FIN was held on its way to the client");
    close(c);
    close(u);
    close(lfd);
    it_server_stop_clean(s);
}
