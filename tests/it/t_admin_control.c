/* t_admin_control.c -- the admin API's control endpoints: GET
 * /connections (asked of each worker), POST /connections/ID/close and
 * /reset, POST /reload (answered when loaded, as SIGHUP would log it) and
 * POST /args (live, through on_args, and kept by the next load). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_http.h"
#include "it_proxy.h"
#include "it_tmp.h"

/* Replace every value of the numeric field name in body with "?". */
static void blank_numbers(char *body, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    for (char *at = strstr(body, key); at != NULL; at = strstr(at, key)) {
        char *v = at + strlen(key), *end = v;
        while (*end >= '0' && *end <= '9')
            end++;
        ASSERT(end > v);
        *v = '?';
        memmove(v + 1, end, strlen(end) + 1);
        at = v;
    }
}

static void echo_once(int fd, const char *text)
{
    char got[64];
    size_t n = strlen(text);
    ASSERT_EQ(it_cli_send_all(fd, text, n, IT_WAIT_MS), 0);
    ASSERT_EQ(it_cli_recv_n(fd, got, n, IT_WAIT_MS), n);
    ASSERT_MEM_EQ(got, n, text, n);
}

void admin_connections(void)
{
    int port;
    it_server *s = ADMIN_START(&port, SCRIPT("echo.lua"));
    int a = it_cli_connect_to(s, 0), b = it_cli_connect_to(s, 0);
    echo_once(a, "hello");
    echo_once(b, "hi");
    char pa[80], pb[80];
    it_cli_local_name(a, pa, sizeof pa);
    it_cli_local_name(b, pb, sizeof pb);

    it_http_resp r;
    it_http(port, "GET", "/connections", NULL, &r);
    blank_numbers(r.body, "age_ms");
    char want[1024];
    /* newest first: the table's order */
    snprintf(want, sizeof want, "{\"workers\":1,\"connections\":["
             "{\"id\":2,\"worker\":1,\"peer\":\"%s\",\"state\":\"open\","
             "\"age_ms\":?,\"bytes_in\":2,\"bytes_out\":2,"
             "\"script_version\":1},"
             "{\"id\":1,\"worker\":1,\"peer\":\"%s\",\"state\":\"open\","
             "\"age_ms\":?,\"bytes_in\":5,\"bytes_out\":5,"
             "\"script_version\":1}]}\n", pb, pa);
    it_http_expect(&r, "HTTP/1.1 200 OK", want);
    it_http_free(&r);

    /* close: a graceful end, the client reads EOF */
    it_http(port, "POST", "/connections/1/close", NULL, &r);
    it_http_expect(&r, "HTTP/1.1 200 OK", "{\"ok\":true,\"id\":1,"
                   "\"worker\":1,\"action\":\"close\"}\n");
    it_http_free(&r);
    unsigned char *in = NULL;
    size_t len = 0;
    ASSERT_EQ(it_cli_recv_eof(a, &in, &len, 64, IT_WAIT_MS), 0);
    ASSERT_EQ(len, 0);
    free(in);
    /* reset: the client gets an RST */
    it_http(port, "POST", "/connections/2/reset", NULL, &r);
    it_http_expect(&r, "HTTP/1.1 200 OK", "{\"ok\":true,\"id\":2,"
                   "\"worker\":1,\"action\":\"reset\"}\n");
    it_http_free(&r);
    in = NULL;
    int rc = it_cli_recv_eof(b, &in, &len, 64, IT_WAIT_MS);
    /* Wine reads a reset as an end of stream (see it_proxy.h) */
    ASSERT(rc == -ECONNRESET || (rc == 0 && it_proxy_on_windows()));
    free(in);
    /* gone: 404 */
    it_http(port, "POST", "/connections/2/reset", NULL, &r);
    it_http_expect(&r, "HTTP/1.1 404 Not Found",
                   "{\"error\":\"no connection 2\"}\n");
    it_http_free(&r);
    ASSERT_EQ(it_log_wait(s, "conn 1: closing by the admin API",
                          IT_WAIT_MS), 1);
    close(a);
    close(b);
    it_server_stop_clean(s);
}

/* Proxy mode: a client's entry has its upstream; the upstream has no
 * entry of its own. */
void admin_connections_proxy(void)
{
    int up_port, port, cli, up;
    int lfd = it_host_listen_local(&up_port);
    char upstream[64];
    snprintf(upstream, sizeof upstream, "127.0.0.1:%d", up_port);
    it_server *s = ADMIN_START(&port, "--upstream", upstream,
                               SCRIPT("proxy.lua"));
    it_proxy_pair(s, lfd, &cli, &up);
    char got[8];
    CLI_SEND(cli, "abc");
    ASSERT_EQ(it_cli_recv_n(up, got, 3, IT_WAIT_MS), 3);
    CLI_SEND(up, "xy");
    ASSERT_EQ(it_cli_recv_n(cli, got, 2, IT_WAIT_MS), 2);
    char pc[80], pu[80];
    it_cli_local_name(cli, pc, sizeof pc);
    it_cli_local_name(up, pu, sizeof pu); /* the upstream's own end */
    (void)pu;
    it_http_resp r;
    it_http(port, "GET", "/connections", NULL, &r);
    blank_numbers(r.body, "age_ms");
    char want[1024];
    snprintf(want, sizeof want, "{\"workers\":1,\"connections\":["
             "{\"id\":1,\"worker\":1,\"peer\":\"%s\",\"state\":\"open\","
             "\"age_ms\":?,\"bytes_in\":3,\"bytes_out\":2,"
             "\"script_version\":1,\"upstream\":{\"id\":2,\"peer\":"
             "\"%s\",\"state\":\"open\",\"bytes_in\":2,"
             "\"bytes_out\":3}}]}\n", pc, upstream);
    it_http_expect(&r, "HTTP/1.1 200 OK", want);
    it_http_free(&r);
    close(cli);
    close(up);
    close(lfd);
    it_server_stop(s);
}

/* Two workers: each lists its own connections, the answer has them all. */
void admin_connections_workers(void)
{
    int port;
    it_server *s = ADMIN_START(&port, "--workers", "2", SCRIPT("echo.lua"));
    int fds[6];
    for (int i = 0; i < 6; i++) {
        fds[i] = it_cli_connect_to(s, 0);
        echo_once(fds[i], "x");
    }
    it_http_resp r;
    it_http(port, "GET", "/connections", NULL, &r);
    ASSERT_STR_EQ(r.status_line, "HTTP/1.1 200 OK");
    ASSERT(strncmp(r.body, "{\"workers\":2,\"connections\":[{", 29) == 0);
    int seen = 0;
    for (const char *at = r.body; (at = strstr(at, "\"id\":")) != NULL;
         at++) {
        long id = strtol(at + 5, NULL, 10);
        char w[32];
        snprintf(w, sizeof w, "\"worker\":%ld,", id % 2 ? 1L : 2L);
        ASSERT(strncmp(strchr(at, ',') + 1, w, strlen(w)) == 0);
        seen++;
    }
    ASSERT_EQ(seen, 6);
    it_http_free(&r);
    for (int i = 0; i < 6; i++)
        close(fds[i]);
    it_server_stop_clean(s);
}

/* ---- reload and args ---------------------------------------------------- */

/* Send text on fd, expect reply back. */
static void echo_once_v(int fd, const char *text, const char *reply)
{
    char got[64];
    size_t n = strlen(reply);
    CLI_SEND(fd, text);
    ASSERT_EQ(it_cli_recv_n(fd, got, n, IT_WAIT_MS), n);
    ASSERT_MEM_EQ(got, n, reply, n);
}

static void expect_reply(const it_server *s, const char *send,
                         const char *reply)
{
    int fd = it_cli_connect_to(s, 0);
    char got[64];
    size_t n = strlen(reply);
    CLI_SEND(fd, send);
    ASSERT_EQ(it_cli_recv_n(fd, got, n, IT_WAIT_MS), n);
    ASSERT_MEM_EQ(got, n, reply, n);
    close(fd);
}

void admin_reload(void)
{
    const char *path = it_tmp_write(
        "script.lua", "function on_data(c, d) return 'v1:' .. d end\n");
    int port;
    it_server *s = ADMIN_START(&port, path);
    expect_reply(s, "a", "v1:a");
    int old = it_cli_connect_to(s, 0); /* conn 2: stays on version 1 */
    echo_once_v(old, "o", "v1:o");

    it_tmp_write("script.lua", "function on_data(c, d) return 'v2:' .. d end\n"
               "function on_close(c) end\n");
    it_http_resp r;
    it_http(port, "POST", "/reload", NULL, &r);
    char *at = strstr(r.body, "\"loaded_at\":\"");
    ASSERT(at != NULL);
    memmove(at + 13, at + 37, strlen(at + 37) + 1); /* the time goes */
    char want[1024];
    snprintf(want, sizeof want, "{\"ok\":true,\"path\":\"%s\",\"version\":2,"
             "\"loaded_at\":\"\",\"hooks\":[\"on_data\",\"on_close\"]}\n",
             path);
    it_http_expect(&r, "HTTP/1.1 200 OK", want);
    it_http_free(&r);
    /* answered once the workers took it: the next client gets it */
    expect_reply(s, "b", "v2:b");
    int young = it_cli_connect_to(s, 0); /* conn 4: version 2 */
    echo_once_v(young, "y", "v2:y");
    echo_once_v(old, "o", "v1:o");
    it_http(port, "GET", "/connections", NULL, &r);
    ASSERT_STR_EQ(r.status_line, "HTTP/1.1 200 OK");
    ASSERT(strstr(r.body, "{\"id\":4,") != NULL);
    ASSERT(strstr(strstr(r.body, "{\"id\":4,"),
                  "\"script_version\":2}") != NULL);
    ASSERT(strstr(strstr(r.body, "{\"id\":2,"),
                  "\"script_version\":1}") != NULL);
    it_http_free(&r);
    close(young);
    close(old);

    it_tmp_write("script.lua", "function on_data(c, d)\n  return (\nend\n");
    it_http(port, "POST", "/reload", NULL, &r);
    snprintf(want, sizeof want, "{\"ok\":false,\"error\":\"reload (POST "
             "/reload) failed, keeping the running script: %s:3: "
             "unexpected symbol near 'end'\"}\n", path);
    it_http_expect(&r, "HTTP/1.1 422 Unprocessable Content", want);
    it_http_free(&r);
    /* the log says the same */
    char line[700];
    snprintf(line, sizeof line, "error reload (POST /reload) failed, "
             "keeping the running script: %s:3: unexpected symbol near "
             "'end'", path);
    ASSERT_EQ(it_log_wait(s, line, IT_WAIT_MS), 1);
    expect_reply(s, "c", "v2:c");
    it_http(port, "GET", "/script", NULL, &r);
    ASSERT(strstr(r.body, "\"version\":2,") != NULL);
    it_http_free(&r);
    it_server_stop(s);
}

/* One echo round trip on a new connection, in ms. */
static int64_t echo_ms(const it_server *s)
{
    int fd = it_cli_connect_to(s, 0);
    int64_t t0 = it_clock_now_us();
    echo_once(fd, "ping");
    int64_t ms = it_clock_ms_since(t0);
    close(fd);
    return ms;
}

void admin_args(void)
{
    int port;
    it_server *s = ADMIN_START(&port, SCRIPT("chaos.lua"));
    it_http_resp r;
    it_http(port, "POST", "/args", "latency=200", &r);
    it_http_expect(&r, "HTTP/1.1 200 OK",
                   "{\"ok\":true,\"args\":{\"latency\":\"200\"}}\n");
    it_http_free(&r);
    int64_t slow = echo_ms(s);
    fprintf(stderr, "echo with latency=200: %lld ms\n", (long long)slow);
    ASSERT_GE(slow, 200);

    it_http(port, "POST", "/args", "latency=0", &r);
    it_http_expect(&r, "HTTP/1.1 200 OK",
                   "{\"ok\":true,\"args\":{\"latency\":\"0\"}}\n");
    it_http_free(&r);
    int64_t fast = echo_ms(s);
    fprintf(stderr, "echo with latency=0: %lld ms\n", (long long)fast);
    ASSERT_LT(fast, 150);

    /* on_args raises: reported and logged, the arguments stay */
    it_http(port, "POST", "/args", "latency=a+b", &r);
    it_http_expect(&r, "HTTP/1.1 422 Unprocessable Content",
                   "{\"ok\":false,\"error\":\"chaos.lua: latency must be a "
                   "number >= 0, not 'a b'\",\"args\":{\"latency\":\"0\"}}\n");
    it_http_free(&r);
    ASSERT_EQ(it_log_wait(s, "error POST /args: chaos.lua: latency must be "
                          "a number >= 0, not 'a b'", IT_WAIT_MS), 1);
    ASSERT_LT(echo_ms(s), 150);

    /* the args a reload loads with are the live ones */
    it_http(port, "POST", "/args", "latency=200&jitter=0", &r);
    ASSERT_STR_EQ(r.status_line, "HTTP/1.1 200 OK");
    it_http_free(&r);
    it_http(port, "POST", "/reload", NULL, &r);
    ASSERT_STR_EQ(r.status_line, "HTTP/1.1 200 OK");
    it_http_free(&r);
    it_http(port, "GET", "/script", NULL, &r);
    ASSERT(strstr(r.body, "\"version\":2,") != NULL);
    ASSERT(strstr(r.body, ",\"args\":{\"latency\":\"200\",\"jitter\":\"0\"}}"
                  "\n") != NULL);
    it_http_free(&r);
    ASSERT_GE(echo_ms(s), 200);
    it_server_stop(s);
}
