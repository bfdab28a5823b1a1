/* it_job.h -- many client connections run together by one poll loop.
 *
 * A job sends its bytes, half-closes when asked, and receives until EOF;
 * it_job_drive runs a set of them until each satisfies a condition. The
 * echo helpers below are one job over a fresh connection. */
#ifndef RICOCHET_IT_JOB_H
#define RICOCHET_IT_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "it_clock.h"
#include "it_server.h"

/* One client connection run by it_job_drive(): send out[0..send_limit),
 * half-close once all of out is sent (when half_close), receive until
 * EOF. */
typedef struct it_job {
    int fd;
    const unsigned char *out;
    size_t out_len, out_sent;
    size_t send_limit;   /* send no further than this for now */
    int half_close;
    int shut_done;
    unsigned char *in;
    size_t in_len, in_cap, in_max;
    int eof;             /* EOF seen */
    int err;             /* errno of a failed send/recv, 0 if none */
} it_job;

/* A job on the connected socket fd (the job owns it from now on) that
 * sends the len bytes at out (the caller keeps them alive). */
void it_job_init(it_job *j, int fd, const void *out, size_t len,
                 int half_close);
/* Close the job's socket and free what it received. */
void it_job_free(it_job *j);
/* err set, or EOF seen with everything sent (and half-closed if asked). */
int it_job_finished(const it_job *j);
/* Run every job (one thread, poll) until until(job) holds for each (NULL:
 * it_job_finished) or timeout_ms passes. Returns how many jobs satisfy
 * it; on a shortfall prints the first few that do not. */
size_t it_job_drive(it_job *jobs, size_t n, int timeout_ms,
                    int (*until)(const it_job *));
/* Assert a finished job received exactly its payload, then EOF. */
void it_job_assert_echo(const it_job *j, size_t index);

/* Connect to listener idx of s, send payload (full duplex), half-close,
 * receive until EOF, and assert the bytes are exactly expect. */
void it_job_assert_echo_via(const it_server *s, int idx, const void *payload,
                            size_t len, const void *expect,
                            size_t expect_len, int timeout_ms);
#define ASSERT_ECHO(s, p, n) \
    it_job_assert_echo_via((s), 0, (p), (n), (p), (n), IT_WAIT_MS)

/* One echo of payload over a fresh connection (half-close, until EOF),
 * asserted byte-exact; returns how long it took in ms. */
int64_t it_job_timed_echo(const it_server *s, const void *payload,
                          size_t len);

#endif
