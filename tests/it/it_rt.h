/* it_rt.h -- what the script-runtime cases (t_rt_*.c) share: asking the
 * rt_*.lua fixtures over a connection, expecting the reset of a stopped
 * hook, counting log entries, and 50 bystander echoes that must come
 * through whatever a case does to one connection. */
#ifndef RICOCHET_IT_RT_H
#define RICOCHET_IT_RT_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"

#define IT_RT_OTHERS 50
/* A stopped hook resets its connection within milliseconds; this bounds
 * the wait where a broken budget would leave the server stuck. */
#define STOP_WAIT_MS 5000
#define SMALL_BUDGET "1000000"

/* The 1-based number of the first line of path that contains text; fails
 * the case when there is none. */
int it_rt_file_line(const char *path, const char *text);
/* Send one command, receive one reply line (with its '\n') into line;
 * fails the case when no whole line comes within IT_WAIT_MS. */
void it_rt_ask(int fd, const char *cmd, char *line, size_t cap);
/* it_rt_ask() and compare the reply with expect. */
void it_rt_ask_expect(int fd, const char *cmd, const char *expect);
/* The connection's id, from the fixtures' "ID?\n" command, into id. */
void it_rt_ask_id(int fd, char *id, size_t cap);
/* Connect, send cmd, half-close and receive everything up to the server's
 * EOF into out (NUL-terminated). For replies of several lines. */
void it_rt_exchange(const it_server *s, const char *cmd, char *out,
                    size_t cap);
/* The server resets fd (its hook was stopped or failed) within timeout_ms,
 * and nothing at all comes before the reset. A byte fails the case at
 * once, without waiting out the bound. what names the cause in a
 * failure. */
void it_rt_expect_reset(int fd, const char *what, int timeout_ms);
/* Assert how many log entries of level contain both needles. */
void it_rt_expect_entries(const char *log, const char *level,
                          const char *needle1, const char *needle2,
                          int want);

/* The bystanders: IT_RT_OTHERS connections to one server. */
typedef struct it_rt_others {
    it_job jobs[IT_RT_OTHERS];
    unsigned char *payloads[IT_RT_OTHERS];
} it_rt_others;

/* An it_job_drive() condition: the job has sent its send_limit and
 * received as much back. */
int it_rt_half_echoed(const it_job *j);
/* Connect the bystanders to s and run each halfway through the echo of
 * 32..64 KiB of bytes >= 0x80 (never one of the fixtures' ASCII
 * commands), payloads from seed. */
void it_rt_others_start(it_rt_others *o, const it_server *s, uint64_t seed);
/* The rest of each echo, then EOF: byte-exact, all of them; frees what
 * it_rt_others_start took. */
void it_rt_others_finish(it_rt_others *o);

#endif
