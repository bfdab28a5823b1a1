/* t_script.c -- the script contract seen from a client: transforms,
 * banners, actions, timers, hook errors, conn fields, timeouts. */
#include <ctype.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

/* Receive until EOF and assert exactly expect came before it. */
static void expect_then_eof(int fd, const char *expect)
{
    unsigned char *in = NULL;
    size_t n = 0;
    int rc = it_cli_recv_eof(fd, &in, &n, 1 << 20, IT_WAIT_MS);
    if (rc != 0)
        TEST_FAIL("expected \"%s\" then EOF; got %zu bytes, then %s",
                  expect, n, strerror(-rc));
    ASSERT_MEM_EQ(in, n, expect, strlen(expect));
    free(in);
}

static int read_file_int(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    char line[256];
    int value = -1;
    if (f == NULL)
        TEST_FAIL("cannot open %s", path);
    for (int i = 0; i < 1000 && fgets(line, sizeof line, f); i++) {
        const char *p = strstr(line, key);
        if (p != NULL) {
            value = atoi(p + strlen(key));
            break;
        }
    }
    fclose(f);
    return value;
}

/* ---- transforms and banners --------------------------------------------- */

void upper(void)
{
    it_server *s = SERVER_START(SCRIPT("upper.lua"));
    const size_t len = 100 * 1024;
    unsigned char *in = malloc(len), *want = malloc(len);
    it_rng r;
    ASSERT(in != NULL && want != NULL);
    it_rng_seed(&r, 0x0ae);
    for (size_t i = 0; i < len; i++) {
        in[i] = (unsigned char)(' ' + it_rng_below(&r, 95)); /* printable */
        want[i] = (in[i] >= 'a' && in[i] <= 'z') ? in[i] - 'a' + 'A' : in[i];
    }
    it_job_assert_echo_via(s, 0, "Hello, World!\n", 14, "HELLO, WORLD!\n", 14,
                           IT_WAIT_MS);
    it_job_assert_echo_via(s, 0, in, len, want, len, IT_WAIT_MS);
    free(in);
    free(want);
    it_server_stop_clean(s);
}

void banner(void)
{
    static const char banner_text[] = "220 ricochet test banner\r\n";
    it_server *s = SERVER_START(FIXTURE("banner.lua"));
    unsigned char *payload = it_rng_payload(0xba, 10000);
    char buf[64];
    it_job j;
    int fd = it_cli_connect_to(s, 0);

    /* the banner comes before we send anything */
    size_t n = it_cli_recv_n(fd, buf, strlen(banner_text), IT_WAIT_MS);
    ASSERT_MEM_EQ(buf, n, banner_text, strlen(banner_text));
    it_job_init(&j, fd, payload, 10000, 1);
    ASSERT_EQ(it_job_drive(&j, 1, IT_WAIT_MS, NULL), 1);
    it_job_assert_echo(&j, 0);
    it_job_free(&j);
    free(payload);
    it_server_stop_clean(s);
}

/* ---- quit.lua and goodbye.lua ------------------------------------------- */

static void quit_once(const it_server *s, const char *send_text,
                      const char *expect)
{
    int fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, send_text);
    /* we never half-close: the EOF is the server's own decision */
    expect_then_eof(fd, expect);
    ASSERT_EQ(it_cli_wait_error(fd, 0), 0);
    close(fd);
}

void quit(void)
{
    it_server *s = SERVER_START(SCRIPT("quit.lua"));
    quit_once(s, "hello\nQUIT\n", "hello\nBYE\r\n");
    quit_once(s, "hello\r\nQUIT\r\n", "hello\r\nBYE\r\n");
    it_server_stop_clean(s);
}

void goodbye(void)
{
    static const char payload[] = "see you later\n";
    static const char bye[] = "goodbye\r\n";
    int delay_ms = read_file_int(SCRIPT("goodbye.lua"), "local DELAY_MS =");
    it_server *s;
    char buf[64];
    unsigned char *rest = NULL;
    size_t n, rest_len = 0;
    int64_t t0, t_bye, t_eof;
    int fd;

    if (delay_ms <= 0)
        TEST_FAIL("no \"local DELAY_MS = <ms>\" in scripts/goodbye.lua");
    s = SERVER_START(SCRIPT("goodbye.lua"));
    fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, payload);
    n = it_cli_recv_n(fd, buf, strlen(payload), IT_WAIT_MS);
    ASSERT_MEM_EQ(buf, n, payload, strlen(payload));

    it_cli_shut_wr(fd);
    t0 = it_clock_now_us();
    n = it_cli_recv_n(fd, buf, strlen(bye), delay_ms + IT_WAIT_MS);
    t_bye = it_clock_now_us();
    ASSERT_MEM_EQ(buf, n, bye, strlen(bye));
    ASSERT_EQ(it_cli_recv_eof(fd, &rest, &rest_len, 4096, IT_WAIT_MS), 0);
    t_eof = it_clock_now_us();
    ASSERT_MEM_EQ(rest, rest_len, "", 0); /* the goodbye preceded EOF */
    fprintf(stderr, "DELAY_MS %d: goodbye after %.1f ms, EOF after %.1f ms\n",
            delay_ms, (double)(t_bye - t0) / 1000.0,
            (double)(t_eof - t0) / 1000.0);
    /* 1 ms of slack for a millisecond clock in the server */
    ASSERT_GE(t_bye - t0, (int64_t)(delay_ms - 1) * 1000);
    ASSERT_GE(t_eof - t0, (int64_t)(delay_ms - 1) * 1000);
    ASSERT_LE(t_eof - t0, (int64_t)(delay_ms + 3000) * 1000);
    free(rest);
    close(fd);
    it_server_stop_clean(s);
}

/* ---- many sends from one call keep their order -------------------------- */

static void expect_bytes(int fd, const char *cmd, const char *want,
                         size_t len)
{
    char *got = malloc(len + 1);
    ASSERT(got != NULL);
    CLI_SEND(fd, cmd);
    ASSERT_EQ(it_cli_recv_n(fd, got, len, IT_WAIT_MS), len);
    ASSERT_MEM_EQ(got, len, want, len);
    free(got);
}

void send_order(void)
{
    it_server *s = SERVER_START(FIXTURE("send_order.lua"));
    enum { CONNS = 24 };
    int fds[CONNS];
    char *mix = malloc(20115 + 1), *many = malloc(34004 + 1);
    ASSERT(mix != NULL && many != NULL);
    size_t n = 0;
    n += (size_t)sprintf(mix + n, "%s", "aaaaaaaaaa");
    memset(mix + n, 'b', 20000);
    n += 20000;
    n += (size_t)sprintf(mix + n, "%s", "ccccc");
    memset(mix + n, 'd', 100);
    n += 100;
    ASSERT_EQ(n, 20115);
    n = 0;
    for (int i = 1; i <= 2000; i++)
        n += (size_t)sprintf(many + n, "%016d\n", i);
    n += (size_t)sprintf(many + n, "end\n");
    ASSERT_EQ(n, 34004);

    for (int i = 0; i < CONNS; i++)
        fds[i] = it_cli_connect_to(s, 0);
    /* every connection's timer fires in the iteration that ran on_data,
     * after the others' replies were set aside: the timer's send cannot
     * join its connection's waiting bytes and must not pass them */
    for (int i = 0; i < CONNS; i++)
        CLI_SEND(fds[i], "TIMER\n");
    for (int i = 0; i < CONNS; i++) {
        static const char want[] = "before the timer\nfrom the timer\n";
        char got[sizeof want];
        ASSERT_EQ(it_cli_recv_n(fds[i], got, sizeof want - 1, IT_WAIT_MS),
                  sizeof want - 1);
        ASSERT_MEM_EQ(got, sizeof want - 1, want, sizeof want - 1);
    }
    /* 16,000 bytes each, all at once: more than the waiting bytes of all
     * connections may add up to, so some go out at once */
    for (int i = 0; i < CONNS; i++)
        CLI_SEND(fds[i], "FILL\n");
    for (int i = 0; i < CONNS; i++) {
        char id[32], *fill = malloc(16000), *got = malloc(16000);
        ASSERT(fill != NULL && got != NULL);
        CLI_SEND(fds[i], "ID?\n");
        ASSERT_EQ(it_cli_recv_n(fds[i], got, 16000, IT_WAIT_MS), 16000);
        size_t idlen = it_cli_recv_line(fds[i], id, sizeof id, IT_WAIT_MS);
        ASSERT(idlen >= 2 && id[idlen - 1] == '\n');
        memset(fill, 'A' + atoi(id) % 26, 16000);
        ASSERT_MEM_EQ(got, 16000, fill, 16000);
        free(fill);
        free(got);
    }
    for (int i = 0; i < CONNS; i++) {
        expect_bytes(fds[i], "MIX\n", mix, 20115);
        expect_bytes(fds[i], "MANY\n", many, 34004);
        expect_bytes(fds[i], "DELAY\n", "sent before the delay\ndelayed\n",
                     30);
        expect_bytes(fds[i], "echo\n", "echo\n", 5);
        close(fds[i]);
    }
    free(mix);
    free(many);
    it_server_stop_clean(s);
}

/* ---- a hook error ends one connection only ------------------------------ */

#define OTHERS 50

static int half_echoed(const it_job *j)
{
    return j->out_sent >= j->send_limit && j->in_len >= j->send_limit;
}

void hook_error(void)
{
    it_server *s = SERVER_START(FIXTURE("boom.lua"));
    it_job jobs[OTHERS];
    unsigned char *payloads[OTHERS];
    unsigned char *in = NULL;
    char line[64], word[80];
    size_t n;
    int rc, boom;
    char *log;
    it_rng r;

    /* the victim tells us its id first */
    boom = it_cli_connect_to(s, 0);
    CLI_SEND(boom, "ID?\n");
    n = it_cli_recv_line(boom, line, sizeof line, IT_WAIT_MS);
    ASSERT(n >= 2 && line[n - 1] == '\n' && isdigit((unsigned char)line[0]));
    line[n - 1] = '\0';

    /* 50 others, halfway through their echo (bytes >= 0x80: no "boom") */
    it_rng_seed(&r, 0xb0);
    for (int i = 0; i < OTHERS; i++) {
        size_t len = 32768 + (size_t)it_rng_below(&r, 32768);
        payloads[i] = it_rng_payload(0xb000 + (uint64_t)i, len);
        for (size_t k = 0; k < len; k++)
            payloads[i][k] |= 0x80;
        it_job_init(&jobs[i], it_cli_connect_to(s, 0), payloads[i], len, 1);
        jobs[i].send_limit = len / 2;
    }
    ASSERT_EQ(it_job_drive(jobs, OTHERS, IT_WAIT_MS, half_echoed), OTHERS);

    /* the error ends the victim: EOF or reset, nothing echoed */
    CLI_SEND(boom, "boom");
    rc = it_cli_recv_eof(boom, &in, &n, 4096, IT_WAIT_MS);
    if (rc != 0 && rc != -ECONNRESET)
        TEST_FAIL("the erroring connection did not end: %s", strerror(-rc));
    ASSERT_MEM_EQ(in, n, "", 0);
    free(in);
    close(boom);

    /* the others finish byte-exact */
    for (int i = 0; i < OTHERS; i++)
        jobs[i].send_limit = jobs[i].out_len;
    ASSERT_EQ(it_job_drive(jobs, OTHERS, IT_WAIT_MS, NULL), OTHERS);
    for (int i = 0; i < OTHERS; i++) {
        it_job_assert_echo(&jobs[i], (size_t)i);
        it_job_free(&jobs[i]);
        free(payloads[i]);
    }
    ASSERT(it_server_alive(s));

    it_server_stop(s); /* a barrier: the whole log is written */
    log = it_log_read(s);
    snprintf(word, sizeof word, "conn %s", line);
    if (it_log_count_word(log, "error", word, "stack traceback") < 1 ||
        it_log_count_word(log, "error", word, "boom.lua:") < 1) {
        TEST_FAIL("no error entry with \"%s\", \"boom.lua:\" and "
                  "\"stack traceback\"", word);
    }
    free(log);
}

/* Errors in the middle of one batch of events: while the worker is busy
 * with "hold", three clients that make on_data fail and three that do not
 * send, alternately, so one wait hands them over together. Each failure
 * ends its own connection only and the batch goes on after it. */
void hook_error_batch(void)
{
    it_server *s = SERVER_START(FIXTURE("boom.lua"));
    enum { PAIRS = 3 };
    int hold = it_cli_connect_to(s, 0);
    int bad[PAIRS], good[PAIRS];
    char msg[PAIRS][32], got[32];
    for (int i = 0; i < PAIRS; i++) {
        bad[i] = it_cli_connect_to(s, 0);
        good[i] = it_cli_connect_to(s, 0);
        snprintf(msg[i], sizeof msg[i], "good %d\n", i);
    }
    /* every connection is accepted before the hold starts */
    for (int i = 0; i < PAIRS; i++) {
        CLI_SEND(good[i], "warm\n");
        ASSERT_EQ(it_cli_recv_line(good[i], got, sizeof got, IT_WAIT_MS), 5);
        ASSERT_MEM_EQ(got, 5, "warm\n", 5);
    }
    CLI_SEND(hold, "hold\n");
    for (int i = 0; i < PAIRS; i++) {
        CLI_SEND(bad[i], "boom\n");
        CLI_SEND(good[i], msg[i]);
    }
    ASSERT_EQ(it_cli_recv_line(hold, got, sizeof got, IT_WAIT_MS), 5);
    ASSERT_MEM_EQ(got, 5, "held\n", 5);
    for (int i = 0; i < PAIRS; i++) {
        unsigned char *in = NULL;
        size_t n;
        int rc = it_cli_recv_eof(bad[i], &in, &n, 4096, IT_WAIT_MS);
        if (rc != 0 && rc != -ECONNRESET)
            TEST_FAIL("failing connection %d did not end: %s", i,
                      strerror(-rc));
        ASSERT_MEM_EQ(in, n, "", 0);
        free(in);
        close(bad[i]);
        size_t len = strlen(msg[i]);
        ASSERT_EQ(it_cli_recv_line(good[i], got, sizeof got, IT_WAIT_MS), len);
        ASSERT_MEM_EQ(got, len, msg[i], len);
        close(good[i]);
    }
    close(hold);
    ASSERT(it_server_alive(s));
    it_server_stop(s);
    char *log = it_log_read(s);
    ASSERT_EQ(it_log_count(log, "error", "on_data failed", "boom in on_data"),
              PAIRS);
    free(log);
}

/* ---- conn fields -------------------------------------------------------- */

typedef struct fields {
    char id[64], peer[128];
    long in, out;
    int count, len;
} fields;

static fields ask_fields(int fd, const char *data, size_t *line_len)
{
    char line[512];
    fields f;
    size_t n;
    CLI_SEND(fd, data);
    n = it_cli_recv_line(fd, line, sizeof line, IT_WAIT_MS);
    if (n == 0 || line[n - 1] != '\n' ||
        sscanf(line, "id=%63s peer=%127s in=%ld out=%ld count=%d len=%d",
               f.id, f.peer, &f.in, &f.out, &f.count, &f.len) != 6)
        TEST_FAIL("unexpected fields line: \"%s\"", line);
    *line_len = n;
    return f;
}

void conn_fields(void)
{
    it_server *s = SERVER_START(FIXTURE("fields.lua"));
    int c1 = it_cli_connect_to(s, 0), c2;
    char local[128];
    size_t len1, len2;
    fields f;
    char id1[64];

    it_cli_local_name(c1, local, sizeof local);
    f = ask_fields(c1, "a", &len1);
    ASSERT_STR_EQ(f.peer, local);
    ASSERT_EQ(f.in, 1);
    ASSERT_EQ(f.out, 0);
    ASSERT_EQ(f.count, 1);
    ASSERT_EQ(f.len, 1);
    strcpy(id1, f.id);

    f = ask_fields(c1, "bb", &len2);
    ASSERT_STR_EQ(f.id, id1);
    ASSERT_STR_EQ(f.peer, local);
    ASSERT_EQ(f.in, 3);
    ASSERT_EQ(f.out, (long)len1);
    ASSERT_EQ(f.count, 2);
    ASSERT_EQ(f.len, 2);

    /* another connection: its own id, peer and script fields */
    c2 = it_cli_connect_to(s, 0);
    it_cli_local_name(c2, local, sizeof local);
    f = ask_fields(c2, "ccc", &len2);
    ASSERT(strcmp(f.id, id1) != 0);
    ASSERT_STR_EQ(f.peer, local);
    ASSERT_EQ(f.in, 3);
    ASSERT_EQ(f.out, 0);
    ASSERT_EQ(f.count, 1);
    close(c1);
    close(c2);
    it_server_stop_clean(s);
}

/* ---- drain and idle timeouts -------------------------------------------- */

/* Connect, send data, expect "id=<n>\n" and the server's EOF (drain.lua). */
static int drained_client(const it_server *s, char *id, size_t cap)
{
    int fd = it_cli_connect_to(s, 0);
    unsigned char *in = NULL;
    size_t n = 0;
    CLI_SEND(fd, "hello\n");
    ASSERT_EQ(it_cli_recv_eof(fd, &in, &n, 4096, IT_WAIT_MS), 0);
    if (n < 5 || n - 4 >= cap || memcmp(in, "id=", 3) != 0 ||
        in[n - 1] != '\n')
        TEST_FAIL("unexpected reply of %zu bytes from drain.lua", n);
    memcpy(id, in + 3, n - 4);
    id[n - 4] = '\0';
    free(in);
    return fd;
}

void drain_timeout(void)
{
    it_server *s = SERVER_START(FIXTURE("drain.lua"), "--drain-timeout",
                                "0.3", "--idle-timeout", "0");
    char id[64], line[128], want[128];
    int64_t t_eof, elapsed_ms;
    int w, a, b;

    /* the watcher hears of every other connection's on_close */
    w = it_cli_connect_to(s, 0);
    CLI_SEND(w, "WATCH\n");
    it_cli_recv_line(w, line, sizeof line, IT_WAIT_MS);
    ASSERT_STR_EQ(line, "OK\n");

    /* a client that never closes after the server's FIN */
    a = drained_client(s, id, sizeof id);
    t_eof = it_clock_now_us();
    it_cli_recv_line(w, line, sizeof line, 5000);
    elapsed_ms = (it_clock_now_us() - t_eof) / 1000;
    snprintf(want, sizeof want, "%s=timeout\n", id);
    fprintf(stderr, "--drain-timeout 0.3: on_close after %jd ms: %s",
            (intmax_t)elapsed_ms, line[0] ? line : "(nothing)\n");
    ASSERT_STR_EQ(line, want);
    ASSERT_GE(elapsed_ms, 250);
    ASSERT_LE(elapsed_ms, 2300);
    /* the server has let go of it: more data from us meets a reset */
    CLI_SEND(a, "late\n");
    ASSERT_NE(it_cli_wait_error(a, 2000), 0);
    close(a);

    /* control: a client that closes after the FIN ends "done" */
    b = drained_client(s, id, sizeof id);
    close(b);
    it_cli_recv_line(w, line, sizeof line, IT_WAIT_MS);
    snprintf(want, sizeof want, "%s=done\n", id);
    ASSERT_STR_EQ(line, want);
    close(w);
    it_server_stop_clean(s);
}

void idle_timeout(void)
{
    it_server *s = SERVER_START(SCRIPT("echo.lua"), "--idle-timeout", "0.4");
    int fd = it_cli_connect_to(s, 0);
    int64_t t_idle, elapsed_ms;
    unsigned char *in = NULL;
    size_t n = 0;
    char c;
    int rc;

    /* activity every 100 ms keeps it open well past 0.4 s */
    for (int i = 0; i < 8; i++) {
        CLI_SEND(fd, "x");
        ASSERT_EQ(it_cli_recv_n(fd, &c, 1, IT_WAIT_MS), 1);
        ASSERT_EQ(c, 'x');
        ASSERT_EQ(it_cli_wait_error(fd, 100), 0); /* pacing, not a barrier */
    }
    CLI_SEND(fd, "y");
    ASSERT_EQ(it_cli_recv_n(fd, &c, 1, IT_WAIT_MS), 1);
    ASSERT_EQ(c, 'y');

    /* then silence: the server closes it gracefully (FIN) after about
     * 0.4 s */
    t_idle = it_clock_now_us();
    rc = it_cli_recv_eof(fd, &in, &n, 4096, 5000);
    elapsed_ms = (it_clock_now_us() - t_idle) / 1000;
    fprintf(stderr, "--idle-timeout 0.4: closed after %jd ms (%s)\n",
            (intmax_t)elapsed_ms, rc == 0 ? "EOF" : strerror(-rc));
    if (rc != 0)
        TEST_FAIL("an idle connection was not closed gracefully: %s",
                  strerror(-rc));
    ASSERT_MEM_EQ(in, n, "", 0);
    ASSERT_GE(elapsed_ms, 350);
    ASSERT_LE(elapsed_ms, 2400);
    free(in);
    close(fd);
    it_server_stop_clean(s);
}

/* ---- actions ------------------------------------------------------------ */

static void expect_reset(int fd)
{
    unsigned char *in = NULL;
    size_t n = 0;
    int rc = it_cli_recv_eof(fd, &in, &n, 4096, IT_WAIT_MS);
    if (rc != -ECONNRESET)
        TEST_FAIL("expected ECONNRESET, got %s after %zu bytes",
                  rc == 0 ? "EOF" : strerror(-rc), n);
    ASSERT_MEM_EQ(in, n, "", 0);
    free(in);
}

/* After the server's EOF, send more: a closed socket answers with a reset,
 * a half-closed (draining) one takes the data quietly. */
static void expect_closed(int fd, int closed)
{
    CLI_SEND(fd, "late\n");
    if (closed)
        ASSERT_NE(it_cli_wait_error(fd, 2000), 0);
    else
        ASSERT_EQ(it_cli_wait_error(fd, 200), 0);
}

void action_reset(void)
{
    it_server *s = SERVER_START(FIXTURE("actions.lua"));
    int fd = it_cli_connect_to(s, 0);
    char buf[8];
    CLI_SEND(fd, "ping\n");
    ASSERT_EQ(it_cli_recv_n(fd, buf, 5, IT_WAIT_MS), 5);
    ASSERT_MEM_EQ(buf, 5, "ping\n", 5);
    CLI_SEND(fd, "RESET\n");
    expect_reset(fd);
    close(fd);
    ASSERT(it_server_alive(s));
    it_server_stop_clean(s);
}

void action_close(void)
{
    it_server *s = SERVER_START(FIXTURE("actions.lua"));
    int fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "CLOSE\n");
    expect_then_eof(fd, "closing\n");
    expect_closed(fd, 1);
    close(fd);

    /* contrast: "shutdown" half-closes and keeps draining */
    fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "SHUTDOWN\n");
    expect_then_eof(fd, "half\n");
    expect_closed(fd, 0);
    close(fd);
    it_server_stop_clean(s);
}

void method_actions(void)
{
    it_server *s = SERVER_START(FIXTURE("actions.lua"));
    int fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "M_RESET\n");
    expect_reset(fd);
    close(fd);

    fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "M_CLOSE\n");
    expect_then_eof(fd, "bye\n");
    expect_closed(fd, 1);
    close(fd);

    fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "M_SHUTDOWN\n");
    expect_then_eof(fd, "sd\n");
    expect_closed(fd, 0);
    close(fd);
    it_server_stop_clean(s);
}
