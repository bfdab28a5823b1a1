/* t_admin.c -- the admin API (--admin) over real HTTP: the readiness
 * line, GET /script and /metrics, bad requests (each 4xx or 5xx with its
 * one-line reason), and a slow admin client that must not slow the data
 * path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_http.h"

/* Replace the value of the number or string field name in body (in
 * place) with "?", so the rest compares exactly; returns the value as it
 * was, in a static buffer. */
static const char *blank_field(char *body, const char *name)
{
    static char value[128];
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    char *at = strstr(body, key);
    if (at == NULL)
        TEST_FAIL("no field %s in %s", name, body);
    char *v = at + strlen(key);
    char *end = v;
    if (*v == '"')
        end = strchr(v + 1, '"') + 1;
    else
        while (*end >= '0' && *end <= '9')
            end++;
    snprintf(value, sizeof value, "%.*s", (int)(end - v), v);
    *v = '?';
    memmove(v + 1, end, strlen(end) + 1);
    return value;
}

/* "2026-12-02T05:11:04.123Z", quoted. */
static void assert_utc(const char *quoted)
{
    ASSERT_EQ(strlen(quoted), 26);
    const char *pattern = "\"dddd-dd-ddTdd:dd:dd.dddZ\"";
    for (size_t i = 0; i < 26; i++) {
        if (pattern[i] == 'd')
            ASSERT(quoted[i] >= '0' && quoted[i] <= '9');
        else
            ASSERT_EQ(quoted[i], pattern[i]);
    }
}

void admin_script(void)
{
    int port;
    it_server *s = ADMIN_START(&port, SCRIPT("chaos.lua"), "--", "latency=0",
                               "jitter=5");
    it_http_resp r;
    it_http(port, "GET", "/script", NULL, &r);
    ASSERT_STR_EQ(it_http_header(&r, "Content-Type"), "application/json");
    ASSERT_STR_EQ(it_http_header(&r, "Connection"), "close");
    assert_utc(blank_field(r.body, "loaded_at"));
    char want[1024];
    snprintf(want, sizeof want, "{\"path\":\"%s\",\"version\":1,"
             "\"loaded_at\":?,\"hooks\":[\"on_connect\",\"on_done\","
             "\"on_upstream_done\"],\"args\":{\"latency\":\"0\","
             "\"jitter\":\"5\"}}\n", SCRIPT("chaos.lua"));
    it_http_expect(&r, "HTTP/1.1 200 OK", want);
    it_http_free(&r);

    it_http(port, "GET", "/metrics", NULL, &r);
    ASSERT_STR_EQ(r.status_line, "HTTP/1.1 200 OK");
    ASSERT_STR_EQ(it_http_header(&r, "Content-Type"),
                  "text/plain; version=0.0.4");
    ASSERT(strncmp(r.body, "# HELP ricochet_", 16) == 0);
    it_http_free(&r);
    it_server_stop_clean(s);
}

/* GET /metrics counts what went through: one echo's connection, its
 * bytes each way and its one on_data call. */
void admin_metrics(void)
{
    int port;
    it_server *s = ADMIN_START(&port, SCRIPT("upper.lua"));
    int fd = it_cli_connect_to(s, 0);
    ASSERT_EQ(it_cli_send_all(fd, "hello", 5, IT_WAIT_MS), 0);
    it_cli_shut_wr(fd);
    unsigned char *got = NULL;
    size_t got_len = 0;
    /* our FIN back comes after the worker counted the bytes */
    ASSERT_EQ(it_cli_recv_eof(fd, &got, &got_len, 64, IT_WAIT_MS), 0);
    ASSERT_EQ(got_len, 5);
    ASSERT(memcmp(got, "HELLO", 5) == 0);
    free(got);
    close(fd);

    it_http_resp r;
    it_http(port, "GET", "/metrics", NULL, &r);
    ASSERT_STR_EQ(r.status_line, "HTTP/1.1 200 OK");
    static const char *const want[] = {
        "\nricochet_connections_accepted_total 1\n",
        "\nricochet_bytes_received_total 5\n",
        "\nricochet_bytes_sent_total 5\n",
        "\nricochet_hook_calls_total{hook=\"on_data\"} 1\n",
        "\nricochet_hook_calls_total{hook=\"on_done\"} 0\n",
        "\nricochet_workers 1\n",
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
        if (strstr(r.body, want[k]) == NULL)
            TEST_FAIL("GET /metrics has no line %s", want[k] + 1);
    it_http_free(&r);
    it_server_stop_clean(s);
}

typedef struct bad_case {
    const char *raw;
    size_t len;           /* 0: strlen(raw) */
    const char *status;
    const char *body;
} bad_case;

void admin_bad_requests(void)
{
    static char big_head[9100], big_body[200];
    int n = snprintf(big_head, sizeof big_head, "GET /script HTTP/1.1\r\n"
                     "X: ");
    memset(big_head + n, 'x', 9000);
    memcpy(big_head + n + 9000, "\r\n\r\n", 5);
    snprintf(big_body, sizeof big_body, "POST /args HTTP/1.1\r\n"
             "Content-Length: 8193\r\n\r\n");
#define LINE "bad request line: expected METHOD SP PATH SP HTTP/1.1"
    const bad_case cases[] = {
        {"GET /nope HTTP/1.1\r\n\r\n", 0, "HTTP/1.1 404 Not Found",
         "{\"error\":\"no such path: /nope\"}\n"},
        {"DELETE /script HTTP/1.1\r\n\r\n", 0,
         "HTTP/1.1 405 Method Not Allowed",
         "{\"error\":\"DELETE /script: method not allowed (use GET)\"}\n"},
        {"GET /reload HTTP/1.1\r\n\r\n", 0, "HTTP/1.1 405 Method Not Allowed",
         "{\"error\":\"GET /reload: method not allowed (use POST)\"}\n"},
        {"GET /connections/7/close HTTP/1.1\r\n\r\n", 0,
         "HTTP/1.1 405 Method Not Allowed",
         "{\"error\":\"GET /connections/7/close: method not allowed (use "
         "POST)\"}\n"},
        {"G@T /script HTTP/1.1\r\n\r\n", 0, "HTTP/1.1 400 Bad Request",
         "{\"error\":\"" LINE "\"}\n"},
        {"GET /script HTTP/2.0\r\n\r\n", 0,
         "HTTP/1.1 505 HTTP Version Not Supported",
         "{\"error\":\"only HTTP/1.0 and HTTP/1.1 are served\"}\n"},
        {"GET /script HTTP/1.1\r\nX: a\0b\r\n\r\n", 33,
         "HTTP/1.1 400 Bad Request",
         "{\"error\":\"NUL byte in the request head\"}\n"},
        {"GET /script HTTP/1.1\nX: a\n\n", 0, "HTTP/1.1 400 Bad Request",
         "{\"error\":\"bare LF in the request head (lines end with "
         "CRLF)\"}\n"},
        {"POST /args HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
         "HTTP/1.1 501 Not Implemented",
         "{\"error\":\"Transfer-Encoding is not supported: send the body "
         "with a Content-Length\"}\n"},
        {"POST /args HTTP/1.1\r\n\r\n", 0, "HTTP/1.1 411 Length Required",
         "{\"error\":\"POST /args needs a Content-Length\"}\n"},
        {big_body, 0, "HTTP/1.1 413 Content Too Large",
         "{\"error\":\"request body over 8192 bytes\"}\n"},
        {big_head, 0, "HTTP/1.1 431 Request Header Fields Too Large",
         "{\"error\":\"request head over 8192 bytes\"}\n"},
        {"POST /args HTTP/1.1\r\nContent-Length: 6\r\n\r\nx=%zz1", 0,
         "HTTP/1.1 400 Bad Request",
         "{\"error\":\"bad percent-encoding in the form body\"}\n"},
        {"POST /args HTTP/1.1\r\nContent-Length: 2\r\n\r\n=1", 0,
         "HTTP/1.1 400 Bad Request",
         "{\"error\":\"empty key in the form body\"}\n"},
        {"POST /args HTTP/1.1\r\nContent-Length: 2\r\n\r\n&&", 0,
         "HTTP/1.1 400 Bad Request",
         "{\"error\":\"no key=value pairs in the body\"}\n"},
        {"POST /args HTTP/1.1\r\nContent-Length: 6\r\n\r\nx=a%00", 0,
         "HTTP/1.1 400 Bad Request",
         "{\"error\":\"NUL byte in the form body\"}\n"},
        {"POST /connections/x/close HTTP/1.1\r\n\r\n", 0,
         "HTTP/1.1 404 Not Found",
         "{\"error\":\"no such path: /connections/x/close\"}\n"},
        {"POST /connections/42/reset HTTP/1.1\r\n\r\n", 0,
         "HTTP/1.1 404 Not Found", "{\"error\":\"no connection 42\"}\n"},
    };
    int port;
    it_server *s = ADMIN_START(&port, SCRIPT("echo.lua"));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        it_http_resp r;
        fprintf(stderr, "case %zu: %s\n", i, c->status);
        it_http_raw(port, c->raw, c->len ? c->len : strlen(c->raw), &r);
        it_http_expect(&r, c->status, c->body);
        ASSERT_STR_EQ(it_http_header(&r, "Content-Type"),
                      "application/json");
        if (strstr(c->status, " 405 ") != NULL)
            ASSERT_STR_EQ(it_http_header(&r, "Allow"),
                          strstr(c->body, "use GET") ? "GET" : "POST");
        it_http_free(&r);
    }
    /* a bad request costs nothing but its answer: the server still works */
    it_http_resp r;
    it_http(port, "GET", "/connections", NULL, &r);
    it_http_expect(&r, "HTTP/1.1 200 OK",
                   "{\"workers\":1,\"connections\":[]}\n");
    it_http_free(&r);
    it_server_stop_clean(s);
}

/* A pingpong of rounds 16-byte round trips on fd; on each round one more
 * byte of trickle (if any) goes to the admin socket slow_fd. Returns the
 * time it took, in ms. */
static int64_t pingpong(int fd, int rounds, int slow_fd, const char *trickle)
{
    static const char ping[] = "0123456789abcde\n";
    char got[16];
    size_t sent = 0, tlen = trickle ? strlen(trickle) : 0;
    int64_t t0 = it_clock_now_us();
    for (int i = 0; i < rounds; i++) {
        ASSERT_EQ(it_cli_send_all(fd, ping, 16, IT_WAIT_MS), 0);
        ASSERT_EQ(it_cli_recv_n(fd, got, 16, IT_WAIT_MS), 16);
        ASSERT_MEM_EQ(got, 16, ping, 16);
        if (sent < tlen) {
            ASSERT_EQ(it_cli_send_all(slow_fd, trickle + sent, 1,
                                      IT_WAIT_MS), 0);
            sent++;
        }
    }
    return it_clock_ms_since(t0);
}

/* Three admin clients at their worst while a client plays pingpong: one
 * sends half a request and stalls, one sends a request and never reads
 * its answer, one trickles its request a byte per round trip. The
 * pingpong must finish well within the stall (the admin deadline, 5 s),
 * another admin request is answered meanwhile, the trickled one is
 * answered once whole, and the stalled one gets 408 at its deadline. */
void admin_slow_client(void)
{
    int port;
    it_server *s = ADMIN_START(&port, SCRIPT("echo.lua"));
    int stalled = it_cli_connect("127.0.0.1", port);
    int deaf = it_cli_connect("127.0.0.1", port);
    int slow = it_cli_connect("127.0.0.1", port);
    ASSERT(stalled >= 0 && deaf >= 0 && slow >= 0);
    CLI_SEND(stalled, "GET /scr");
    CLI_SEND(deaf, "GET /connections HTTP/1.1\r\n\r\n");
    int64_t t0 = it_clock_now_us();
    int fd = it_cli_connect_to(s, 0);
    const char *trickle = "GET /connections HTTP/1.1\r\n\r\n";
    int64_t ms = pingpong(fd, 400, slow, trickle);
    fprintf(stderr, "400 round trips beside 3 slow admin clients: %lld ms\n",
            (long long)ms);
    ASSERT_LT(ms, 2500);

    /* the trickled request was answered: it sees this pingpong client */
    char answer[1024];
    size_t n = it_cli_recv_n(slow, answer, sizeof answer - 1, IT_WAIT_MS);
    answer[n] = '\0';
    ASSERT(strncmp(answer, "HTTP/1.1 200 OK\r\n", 17) == 0);
    ASSERT(strstr(answer, "\"workers\":1,\"connections\":[{\"id\":1,") !=
           NULL);
    /* and another one now, promptly */
    int64_t t1 = it_clock_now_us();
    it_http_resp r;
    it_http(port, "GET", "/script", NULL, &r);
    ASSERT_STR_EQ(r.status_line, "HTTP/1.1 200 OK");
    it_http_free(&r);
    ASSERT_LT(it_clock_ms_since(t1), 1000);
    ASSERT_LT(it_clock_ms_since(t0), 4500); /* all before the deadline */

    /* the stalled one: 408 at its deadline, then the end */
    unsigned char *in = NULL;
    size_t len = 0;
    ASSERT_EQ(it_cli_recv_eof(stalled, &in, &len, 4096, IT_WAIT_MS), 0);
    int64_t stall_ms = it_clock_ms_since(t0);
    ASSERT(len > 0);
    static const char want[] = "{\"error\":\"no whole request within 5 s\"}\n";
    ASSERT(strncmp((char *)in, "HTTP/1.1 408 Request Timeout\r\n", 30) == 0);
    ASSERT_MEM_EQ(in + len - (sizeof want - 1), sizeof want - 1, want,
                  sizeof want - 1);
    ASSERT_MS_WITHIN(stall_ms, 4000, 7000);
    free(in);
    close(stalled);
    close(deaf);
    close(slow);
    close(fd);
    it_server_stop_clean(s);
}

/* --admin's value is checked like --listen's; a port that cannot be
 * had is exit 4, with nothing served. */
void admin_bad_option(void)
{
    it_run r;
    RUN(&r, "--admin", "nope", SCRIPT("echo.lua"));
    ASSERT_EQ(r.code, 2);
    ASSERT_STR_EQ(r.err, "ricochet: --admin nope: 'nope': expected "
                  "HOST:PORT or PORT (see ricochet --help)\n");
    it_run_free(&r);
    int port;
    it_server *s = ADMIN_START(&port, SCRIPT("echo.lua"));
    char taken[32];
    snprintf(taken, sizeof taken, "127.0.0.1:%d", port);
    RUN(&r, "--listen", "127.0.0.1:0", "--admin", taken, SCRIPT("echo.lua"));
    ASSERT_EQ(r.code, 4);
    ASSERT(strstr(r.err, "ricochet: --admin: cannot listen on ") != NULL);
    it_run_free(&r);
    it_server_stop_clean(s);
}

/* At most 16 admin connections at once: the 17th is told so (503) and
 * closed; once one of the 16 has gone, requests are served again. */
void admin_too_many(void)
{
    int port, fds[16];
    it_server *s = ADMIN_START(&port, SCRIPT("echo.lua"));
    for (int i = 0; i < 16; i++) {
        fds[i] = it_cli_connect("127.0.0.1", port);
        ASSERT_GE(fds[i], 0);
        CLI_SEND(fds[i], "GET"); /* accepted: its bytes are read */
    }
    it_http_resp r;
    it_http(port, "GET", "/script", NULL, &r);
    it_http_expect(&r, "HTTP/1.1 503 Service Unavailable",
                   "{\"error\":\"too many admin connections\"}\n");
    it_http_free(&r);
    close(fds[0]);
    /* its end is seen at the next turn of the loop: a bounded retry */
    int64_t deadline = it_clock_now_ms() + IT_WAIT_MS;
    for (;;) {
        it_http(port, "GET", "/connections", NULL, &r);
        if (r.status == 200 || it_clock_left_ms(deadline) == 0)
            break;
        it_http_free(&r);
    }
    it_http_expect(&r, "HTTP/1.1 200 OK",
                   "{\"workers\":1,\"connections\":[]}\n");
    it_http_free(&r);
    for (int i = 1; i < 16; i++)
        close(fds[i]);
    it_server_stop_clean(s);
}
