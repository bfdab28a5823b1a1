/* it_rt.c -- the steps the script-runtime cases share. */
#include "it_rt.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int it_rt_file_line(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    char line[512];
    int number = 0;
    if (f == NULL)
        TEST_FAIL("cannot open %s: %s", path, strerror(errno));
    for (int i = 1; i < 10000 && fgets(line, sizeof line, f); i++)
        if (strstr(line, text) != NULL) {
            number = i;
            break;
        }
    fclose(f);
    if (number == 0)
        TEST_FAIL("no line with \"%s\" in %s", text, path);
    return number;
}

void it_rt_ask(int fd, const char *cmd, char *line, size_t cap)
{
    size_t n;
    CLI_SEND(fd, cmd);
    n = it_cli_recv_line(fd, line, cap, IT_WAIT_MS);
    if (n == 0 || line[n - 1] != '\n')
        TEST_FAIL("no reply line to \"%.*s\": got \"%s\"",
                  (int)strcspn(cmd, "\n"), cmd, line);
}

void it_rt_ask_expect(int fd, const char *cmd, const char *expect)
{
    char line[512];
    it_rt_ask(fd, cmd, line, sizeof line);
    ASSERT_STR_EQ(line, expect);
}

void it_rt_ask_id(int fd, char *id, size_t cap)
{
    char line[64];
    size_t n;
    it_rt_ask(fd, "ID?\n", line, sizeof line);
    n = strlen(line) - 1;
    ASSERT(n > 0 && n < cap && strspn(line, "0123456789") == n);
    memcpy(id, line, n);
    id[n] = '\0';
}

void it_rt_exchange(const it_server *s, const char *cmd, char *out,
                    size_t cap)
{
    int fd = it_cli_connect_to(s, 0);
    unsigned char *in = NULL;
    size_t n = 0;
    int rc;
    CLI_SEND(fd, cmd);
    it_cli_shut_wr(fd);
    rc = it_cli_recv_eof(fd, &in, &n, cap - 1, IT_WAIT_MS);
    if (rc != 0)
        TEST_FAIL("\"%.*s\": no EOF (%s) after %zu bytes",
                  (int)strcspn(cmd, "\n"), cmd, strerror(-rc), n);
    memcpy(out, in ? (char *)in : "", n);
    out[n] = '\0';
    free(in);
    close(fd);
}

void it_rt_expect_reset(int fd, const char *what, int timeout_ms)
{
    char buf[256];
    size_t n = 0;
    int64_t deadline = it_clock_now_us() + (int64_t)timeout_ms * 1000;
    int rc = -ETIMEDOUT;
    for (int i = 0; i < 1000000; i++) {
        ssize_t got = recv(fd, buf, sizeof buf - 1, 0);
        int64_t left_ms = (deadline - it_clock_now_us()) / 1000;
        struct pollfd pfd = {fd, POLLIN, 0};
        if (got > 0) {
            n = (size_t)got;
            break;
        }
        if (got == 0) {
            rc = 0;
            break;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            rc = -errno;
            break;
        }
        if (left_ms <= 0)
            break;
        poll(&pfd, 1, (int)left_ms);
    }
    buf[n] = '\0';
    if (n > 0)
        TEST_FAIL("%.*s: expected a reset and no bytes; got %zu bytes: "
                  "\"%s\"", (int)strcspn(what, "\n"), what, n, buf);
    if (rc != -ECONNRESET)
        TEST_FAIL("%.*s: expected a reset within %d ms; got %s",
                  (int)strcspn(what, "\n"), what, timeout_ms,
                  rc == 0 ? "EOF" : strerror(-rc));
}

void it_rt_expect_entries(const char *log, const char *level,
                          const char *needle1, const char *needle2,
                          int want)
{
    int got = it_log_count(log, level, needle1, needle2);
    if (got != want)
        TEST_FAIL("%d log entries of level %s with \"%s\"%s%s%s; expected "
                  "%d", got, level ? level : "(any)",
                  needle1 ? needle1 : "", needle2 ? " and \"" : "",
                  needle2 ? needle2 : "", needle2 ? "\"" : "", want);
}

/* ---- the bystanders ----------------------------------------------------- */

int it_rt_half_echoed(const it_job *j)
{
    return j->out_sent >= j->send_limit && j->in_len >= j->send_limit;
}

void it_rt_others_start(it_rt_others *o, const it_server *s, uint64_t seed)
{
    it_rng r;
    it_rng_seed(&r, seed);
    for (int i = 0; i < IT_RT_OTHERS; i++) {
        size_t len = 32768 + (size_t)it_rng_below(&r, 32768);
        o->payloads[i] = it_rng_payload(seed * 1000 + (uint64_t)i, len);
        for (size_t k = 0; k < len; k++)
            o->payloads[i][k] |= 0x80;
        it_job_init(&o->jobs[i], it_cli_connect_to(s, 0), o->payloads[i],
                    len, 1);
        o->jobs[i].send_limit = len / 2;
    }
    ASSERT_EQ(it_job_drive(o->jobs, IT_RT_OTHERS, IT_WAIT_MS,
                           it_rt_half_echoed), IT_RT_OTHERS);
}

void it_rt_others_finish(it_rt_others *o)
{
    for (int i = 0; i < IT_RT_OTHERS; i++)
        o->jobs[i].send_limit = o->jobs[i].out_len;
    ASSERT_EQ(it_job_drive(o->jobs, IT_RT_OTHERS, IT_WAIT_MS, NULL),
              IT_RT_OTHERS);
    for (int i = 0; i < IT_RT_OTHERS; i++) {
        it_job_assert_echo(&o->jobs[i], (size_t)i);
        it_job_free(&o->jobs[i]);
        free(o->payloads[i]);
    }
}
