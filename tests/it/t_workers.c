/* t_workers.c -- --workers: connections spread over the event loops, every
 * one byte-exact, and the stop reaches every worker. */
#include <sys/resource.h>
#include <sys/wait.h>

#include "cases.h"
#include "harness.h"

#define WORKER_CONNS 200

void workers_spread(void)
{
    const size_t pool_len = 256 * 1024;
    unsigned char *pool = it_rng_payload(0x3053, pool_len);
    it_job *jobs = calloc(WORKER_CONNS, sizeof *jobs);
    int seen[3] = {0, 0, 0};
    it_rng r;
    ASSERT(jobs != NULL);
    it_server *s = SERVER_START(FIXTURE("workers.lua"), "--workers", "2");
    it_rng_seed(&r, 0x3054);
    for (size_t i = 0; i < WORKER_CONNS; i++) {
        size_t len = (size_t)it_rng_below(&r, 32768 + 1);
        size_t off = (size_t)it_rng_below(&r, pool_len - len + 1);
        it_job_init(&jobs[i], it_cli_connect_to(s, 0), pool + off, len, 1);
    }
    ASSERT_EQ(it_job_drive(jobs, WORKER_CONNS, 30000, NULL), WORKER_CONNS);
    for (size_t i = 0; i < WORKER_CONNS; i++) {
        it_job *j = &jobs[i];
        /* "w1\n" or "w2\n", then exactly the payload */
        if (j->in_len < 3 || j->in[0] != 'w' || j->in[2] != '\n' ||
            (j->in[1] != '1' && j->in[1] != '2'))
            TEST_FAIL("connection %zu: no worker banner (%zu bytes)", i,
                      j->in_len);
        seen[j->in[1] - '0']++;
        ASSERT_MEM_EQ(j->in + 3, j->in_len - 3, j->out, j->out_len);
        it_job_free(j);
    }
    fprintf(stderr, "worker 1 served %d, worker 2 served %d\n", seen[1],
            seen[2]);
    /* the kernel spreads by a hash of the address pair: with 200
     * connections both workers get some unless nothing is shared */
    ASSERT_GT(seen[1], 0);
    ASSERT_GT(seen[2], 0);
    free(jobs);
    free(pool);
    it_server_stop_clean(s);
}

/* A worker whose thread cannot start ends the server with exit 1 and the
 * reason, after the workers already running have stopped. Threads are
 * made to fail by their stacks: each reserves RLIMIT_STACK (1 GiB here)
 * of an address space capped at 3 GiB, so the third cannot start. The
 * limits are this case's process's, inherited by the server. Not under
 * AddressSanitizer (its shadow memory needs the address space) nor Wine. */
void workers_thread_fails(void)
{
#ifdef RICOCHET_IT_SANITIZED
    fprintf(stderr, "skipped: address-space limits break AddressSanitizer\n");
    return;
#else
    const char *target = getenv("RICOCHET_IT_TARGET");
    if (target != NULL && strcmp(target, "windows") == 0) {
        fprintf(stderr, "skipped: no address-space limit under Wine\n");
        return;
    }
    struct rlimit stack = {1UL << 30, 1UL << 30};
    struct rlimit space = {3UL << 30, 3UL << 30};
    ASSERT_EQ(setrlimit(RLIMIT_STACK, &stack), 0);
    ASSERT_EQ(setrlimit(RLIMIT_AS, &space), 0);
    it_server *s = SERVER_START(SCRIPT("echo.lua"), "--workers", "8");
    ASSERT(it_server_wait_exit(s, IT_WAIT_MS));
    ASSERT(WIFEXITED(s->status));
    ASSERT_EQ(WEXITSTATUS(s->status), 1);
    char *log = it_log_read(s);
    ASSERT_EQ(it_log_count(log, "error", "cannot start worker 3", NULL), 1);
    ASSERT_EQ(it_log_count(log, "info", "stopped", NULL), 0);
    free(log);
#endif
}
