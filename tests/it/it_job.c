/* it_job.c -- the multi-connection driver: one poll loop, many jobs. */
#include "it_job.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "it_cli.h"
#include "test.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

void it_job_init(it_job *j, int fd, const void *out, size_t len,
                 int half_close)
{
    memset(j, 0, sizeof *j);
    j->fd = fd;
    j->out = out;
    j->out_len = len;
    j->send_limit = len;
    j->half_close = half_close;
    j->in_max = 2 * len + (1 << 20);
}

void it_job_free(it_job *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    free(j->in);
    j->in = NULL;
}

int it_job_finished(const it_job *j)
{
    return j->err != 0 ||
           (j->eof && j->out_sent == j->out_len &&
            (j->shut_done || !j->half_close));
}

static size_t send_target(const it_job *j)
{
    return j->send_limit < j->out_len ? j->send_limit : j->out_len;
}

static void job_step_send(it_job *j)
{
    for (int k = 0; k < 16 && j->out_sent < send_target(j); k++) {
        size_t want = send_target(j) - j->out_sent;
        if (want > 256 * 1024)
            want = 256 * 1024;
        ssize_t n = send(j->fd, j->out + j->out_sent, want, MSG_NOSIGNAL);
        if (n > 0) {
            j->out_sent += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
                      errno == EINTR))
            return;
        j->err = n < 0 ? errno : EIO;
        return;
    }
    if (j->half_close && !j->shut_done && j->out_sent == j->out_len) {
        if (shutdown(j->fd, SHUT_WR) != 0)
            j->err = errno;
        j->shut_done = 1;
    }
}

static void job_step_recv(it_job *j)
{
    for (int k = 0; k < 16 && !j->eof && !j->err; k++) {
        if (j->in_cap - j->in_len < 65536) {
            size_t cap = j->in_cap ? j->in_cap * 2 : 65536;
            unsigned char *p = realloc(j->in, cap);
            ASSERT(p != NULL);
            j->in = p;
            j->in_cap = cap;
        }
        ssize_t n = recv(j->fd, j->in + j->in_len, j->in_cap - j->in_len, 0);
        if (n > 0) {
            j->in_len += (size_t)n;
            if (j->in_len > j->in_max)
                j->err = EMSGSIZE;
            continue;
        }
        if (n == 0) {
            j->eof = 1;
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        j->err = errno;
    }
}

static int job_wants_out(const it_job *j)
{
    return !j->err && (j->out_sent < send_target(j) ||
                       (j->half_close && !j->shut_done &&
                        j->out_sent == j->out_len));
}

size_t it_job_drive(it_job *jobs, size_t n, int timeout_ms,
                    int (*until)(const it_job *))
{
    struct pollfd *pfds = calloc(n ? n : 1, sizeof *pfds);
    size_t *index = calloc(n ? n : 1, sizeof *index);
    int64_t deadline = it_clock_now_ms() + timeout_ms;
    size_t done = 0;

    ASSERT(pfds != NULL && index != NULL);
    if (until == NULL)
        until = it_job_finished;
    for (long iter = 0; iter < 50000000L; iter++) {
        size_t np = 0;
        done = 0;
        for (size_t i = 0; i < n; i++) {
            it_job *j = &jobs[i];
            short ev = 0;
            if (until(j))
                done++;
            if (j->err)
                continue;
            if (!j->eof)
                ev |= POLLIN;
            if (job_wants_out(j))
                ev |= POLLOUT;
            if (ev == 0)
                continue;
            pfds[np].fd = j->fd;
            pfds[np].events = ev;
            pfds[np].revents = 0;
            index[np++] = i;
        }
        if (done == n || np == 0 || it_clock_left_ms(deadline) == 0)
            break;
        int rc = poll(pfds, (nfds_t)np, it_clock_left_ms(deadline));
        if (rc < 0 && errno != EINTR)
            TEST_FAIL("poll: %s", strerror(errno));
        for (size_t k = 0; rc > 0 && k < np; k++) {
            it_job *j = &jobs[index[k]];
            short re = pfds[k].revents;
            if (re & (POLLIN | POLLERR | POLLHUP))
                job_step_recv(j);
            if ((re & (POLLOUT | POLLERR | POLLHUP)) && job_wants_out(j))
                job_step_send(j);
        }
    }
    done = 0;
    for (size_t i = 0; i < n; i++)
        done += until(&jobs[i]) ? 1 : 0;
    if (done < n) {
        int shown = 0;
        fprintf(stderr, "drive: %zu of %zu connections not there after "
                "%d ms\n", n - done, n, timeout_ms);
        for (size_t i = 0; i < n && shown < 10; i++) {
            const it_job *j = &jobs[i];
            if (until(j))
                continue;
            shown++;
            fprintf(stderr, "  conn %zu: sent %zu/%zu (limit %zu), shut %d, "
                    "received %zu, eof %d, err %s\n", i, j->out_sent,
                    j->out_len, j->send_limit, j->shut_done, j->in_len,
                    j->eof, j->err ? strerror(j->err) : "none");
        }
    }
    free(pfds);
    free(index);
    return done;
}

void it_job_assert_echo(const it_job *j, size_t index)
{
    if (j->err || !j->eof || j->out_sent != j->out_len) {
        TEST_FAIL("conn %zu: sent %zu/%zu, received %zu, eof %d, err %s",
                  index, j->out_sent, j->out_len, j->in_len, j->eof,
                  j->err ? strerror(j->err) : "none");
    }
    if (j->in_len != j->out_len || (j->out_len &&
                                    memcmp(j->in, j->out, j->out_len) != 0)) {
        fprintf(stderr, "conn %zu:\n", index);
        ASSERT_MEM_EQ(j->in, j->in_len, j->out, j->out_len);
    }
}

int64_t it_job_timed_echo(const it_server *s, const void *payload,
                          size_t len)
{
    it_job j;
    int64_t t0 = it_clock_now_us();
    it_job_init(&j, it_cli_connect_to(s, 0), payload, len, 1);
    ASSERT_EQ(it_job_drive(&j, 1, IT_WAIT_MS, NULL), 1);
    int64_t took = it_clock_ms_since(t0);
    it_job_assert_echo(&j, 0);
    it_job_free(&j);
    return took;
}

void it_job_assert_echo_via(const it_server *s, int idx, const void *payload,
                            size_t len, const void *expect,
                            size_t expect_len, int timeout_ms)
{
    it_job j;
    it_job_init(&j, it_cli_connect_to(s, idx), payload, len, 1);
    j.in_max = expect_len + (1 << 20);
    if (it_job_drive(&j, 1, timeout_ms, NULL) != 1 || j.err || !j.eof)
        TEST_FAIL("echo of %zu bytes: sent %zu, received %zu, eof %d, "
                  "err %s", len, j.out_sent, j.in_len, j.eof,
                  j.err ? strerror(j.err) : "none");
    ASSERT_MEM_EQ(j.in, j.in_len, expect, expect_len);
    it_job_free(&j);
}
