/* t_ends.c -- honest ends: a stop that must drop output resets instead of
 * passing a cut echo off as a whole one. */
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

#define STOP_PAYLOAD (16u << 20)

/* A client sends 16 MiB and half-closes without reading a byte. The
 * out-limit is above that, so the server reads it all and queues the
 * echo; a stop then cannot send it within --drain-timeout. The client
 * must see a reset after the part that did go out, never an EOF. */
void stop_unsent_reset(void)
{
    it_server *s = SERVER_START(SCRIPT("echo.lua"), "--out-limit", "64m",
                                "--drain-timeout", "0.5", "--trace");
    unsigned char *p = it_rng_payload(0x5e7d, STOP_PAYLOAD), *in = NULL;
    int fd = it_cli_connect_to(s, 0), rc;
    size_t n = 0;
    char *log;

    ASSERT_EQ(it_cli_send_all(fd, p, STOP_PAYLOAD, IT_WAIT_MS), 0);
    it_cli_shut_wr(fd);
    /* the server has read everything: what it has not sent is queued */
    if (!it_log_wait(s, "conn 1: FIN received", IT_WAIT_MS))
        TEST_FAIL("the server did not read the client's FIN");
    it_server_signal(s, SIGTERM);
    /* the client reads only once the deadline has ended the connection
     * (the trace's close line, "RST sent, stop after" or "closed, stop
     * after"): reading earlier would let the echo finish in time */
    if (!it_log_wait(s, ", stop after ", IT_WAIT_MS))
        TEST_FAIL("the stop deadline did not end the connection");
    rc = it_cli_recv_eof(fd, &in, &n, 2 * STOP_PAYLOAD, IT_WAIT_MS);
    fprintf(stderr, "the client read %zu of %u bytes, then %s\n", n,
            STOP_PAYLOAD, rc == 0 ? "EOF" : strerror(-rc));
    if (rc != -ECONNRESET)
        TEST_FAIL("a cut echo (%zu of %u bytes) ended with %s, not a "
                  "reset", n, STOP_PAYLOAD, rc == 0 ? "EOF" : strerror(-rc));
    ASSERT_LT(n, STOP_PAYLOAD);
    ASSERT_MEM_EQ(in, n, p, n); /* what came is the echo's start */
    if (!it_server_wait_exit(s, IT_WAIT_MS))
        TEST_FAIL("the server did not exit after its stop");
    ASSERT(WIFEXITED(s->status));
    ASSERT_EQ(WEXITSTATUS(s->status), 0);
    log = it_log_read(s);
    ASSERT_EQ(it_log_count(log, "warn", "conn 1: the server's stop "
                           "deadline passed with", NULL), 1);
    free(log);
    free(in);
    free(p);
    close(fd);
}
