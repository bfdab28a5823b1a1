/* t_signal.c -- graceful stop on SIGTERM/SIGINT, and the second signal. */
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

#define MID 100

static int half_echoed(const it_job *j)
{
    return j->out_sent >= j->send_limit && j->in_len >= j->send_limit;
}

void sigterm_mid_echo(void)
{
    const size_t pool_len = 1 << 20;
    unsigned char *pool = it_rng_payload(0x5167, pool_len);
    it_job jobs[MID];
    it_server *s;
    unsigned char *in = NULL;
    size_t n = 0;
    it_rng r;
    int fd;

    if (it_host_raise_nofile(1024) < MID + 100)
        TEST_FAIL("RLIMIT_NOFILE too low for %d connections", MID);
    s = SERVER_START(SCRIPT("echo.lua"), "--max-conns", "1000");
    it_rng_seed(&r, 0x5168);
    for (int i = 0; i < MID; i++) {
        size_t len = 16384 + (size_t)it_rng_below(&r, 49152);
        size_t off = (size_t)it_rng_below(&r, pool_len - len + 1);
        it_job_init(&jobs[i], it_cli_connect_to(s, 0), pool + off, len, 1);
        jobs[i].send_limit = len / 2;
    }
    /* every connection is mid-echo: half sent, that half echoed back */
    ASSERT_EQ(it_job_drive(jobs, MID, IT_WAIT_MS, half_echoed), MID);

    it_server_signal(s, SIGTERM);

    /* all but the first send the rest after the signal, half-close, and
     * get it all back; the first stays mid-echo for now */
    for (int i = 1; i < MID; i++)
        jobs[i].send_limit = jobs[i].out_len;
    ASSERT_EQ(it_job_drive(jobs + 1, MID - 1, 20000, NULL), MID - 1);

    /* The stop is under way (the server has worked through 99 streams
     * since the signal) but not over (one is still open): a newcomer is
     * refused or closed, never served. */
    fd = it_cli_connect(s->host[0], s->port[0]);
    if (fd >= 0) {
        int rc;
        if (it_cli_send_all(fd, "late\n", 5, IT_WAIT_MS) == 0)
            shutdown(fd, SHUT_WR);
        rc = it_cli_recv_eof(fd, &in, &n, 4096, 2000);
        if (rc != 0 && rc != -ECONNRESET && rc != -EPIPE)
            TEST_FAIL("a connection after SIGTERM was accepted and kept "
                      "open: %s", strerror(-rc));
        if (n != 0)
            TEST_FAIL("a connection after SIGTERM was served (%zu bytes)",
                      n);
        free(in);
        close(fd);
    } else if (fd != -ECONNREFUSED) {
        TEST_FAIL("connect after SIGTERM: %s", strerror(-fd));
    }

    /* the last one finishes too */
    jobs[0].send_limit = jobs[0].out_len;
    ASSERT_EQ(it_job_drive(jobs, 1, IT_WAIT_MS, NULL), 1);
    for (int i = 0; i < MID; i++) {
        it_job_assert_echo(&jobs[i], (size_t)i);
        it_job_free(&jobs[i]);
    }

    if (!it_server_wait_exit(s, IT_WAIT_MS))
        TEST_FAIL("the server did not exit after its connections finished");
    ASSERT(WIFEXITED(s->status));
    ASSERT_EQ(WEXITSTATUS(s->status), 0);
    free(pool);
}

void sigint_idle(void)
{
    it_server *s = SERVER_START(SCRIPT("echo.lua"));
    ASSERT_ECHO(s, "once\n", 5);
    it_server_signal(s, SIGINT);
    if (!it_server_wait_exit(s, 5000))
        TEST_FAIL("an idle server did not exit within 5 s of SIGINT");
    ASSERT(WIFEXITED(s->status));
    ASSERT_EQ(WEXITSTATUS(s->status), 0);
}

void signal_twice(void)
{
    /* no idle timeout and a long drain (which also bounds a graceful
     * stop): after one signal the open connection would keep the server
     * up for 30 s; the second signal stops it at once */
    it_server *s = SERVER_START(SCRIPT("echo.lua"), "--idle-timeout", "0",
                                "--drain-timeout", "30");
    unsigned char *p = it_rng_payload(0x22, 1024), buf[1024];
    int fd = it_cli_connect_to(s, 0), rc;
    int64_t t0;

    ASSERT_EQ(it_cli_send_all(fd, p, 1024, IT_WAIT_MS), 0);
    ASSERT_EQ(it_cli_recv_n(fd, buf, 1024, IT_WAIT_MS), 1024);
    ASSERT_MEM_EQ(buf, 1024, p, 1024);
    /* the second signal only once the first has started the stop, so
     * that the two cannot merge into one */
    it_server_signal(s, SIGINT);
    if (!it_log_wait(s, "stopping:", IT_WAIT_MS))
        TEST_FAIL("the server did not log the start of its stop");
    it_server_signal(s, SIGTERM);
    t0 = it_clock_now_us();
    if (!it_server_wait_exit(s, 5000))
        TEST_FAIL("the server still runs 5 s after a second signal");
    fprintf(stderr, "exited %.1f ms after the second signal, status 0x%x\n",
            (double)(it_clock_now_us() - t0) / 1000.0, (unsigned)s->status);
    if (WIFSIGNALED(s->status))
        ASSERT(WTERMSIG(s->status) == SIGTERM ||
               WTERMSIG(s->status) == SIGINT);
    else
        ASSERT(WIFEXITED(s->status));
    /* and the connection is gone with it */
    rc = it_cli_recv_eof(fd, NULL, NULL, 4096, 2000);
    ASSERT(rc == 0 || rc == -ECONNRESET);
    close(fd);
    free(p);
}
