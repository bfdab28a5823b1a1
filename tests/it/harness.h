/* harness.h -- drive the real ricochet binary over loopback sockets.
 *
 * The black-box tests start the server with posix_spawn (stdout on a pipe,
 * stderr into an unlinked temporary file), wait for its "listening on"
 * lines, and talk to it as ordinary TCP clients. Every wait is bounded: a
 * poll() with a deadline, never a sleep. The servers this runner spawned
 * are killed and reaped at exit; when a case fails, their logs are dumped.
 *
 * The server command is $RICOCHET_CMD (split on spaces, e.g. "wine
 * ricochet.exe") or else the binary CMake built (RICOCHET_BIN). Script
 * paths are relative to the repository root (RICOCHET_SOURCE_DIR). */
#ifndef RICOCHET_IT_HARNESS_H
#define RICOCHET_IT_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "test.h"

/* The bound of any single wait unless a case says otherwise. */
#define IT_WAIT_MS 10000
#define IT_MAX_LISTEN 8

/* ---- paths -------------------------------------------------------------- */

/* rel under the repository root, e.g. "scripts/echo.lua". The result lives
 * in one of a few static slots, valid for a while (enough for one call). */
const char *it_path(const char *rel);
#define SCRIPT(name) it_path("scripts/" name)
#define FIXTURE(name) it_path("tests/it/" name)

/* ---- the server --------------------------------------------------------- */

typedef struct it_server {
    pid_t pid;
    int out_fd;   /* read end of the server's stdout */
    int log_fd;   /* the server's stderr: an unlinked temporary file */
    int nlisten;  /* readiness lines seen */
    char host[IT_MAX_LISTEN][64]; /* "127.0.0.1" or "::1" */
    int port[IT_MAX_LISTEN];
    int reaped;
    int status;   /* waitpid() status once reaped */
    char line[512];
    size_t line_len;
} it_server;

/* Start ricochet with args (NULL-terminated). When args name no --listen,
 * "--listen 127.0.0.1:0" is added in front. Waits (bounded) for one
 * readiness line per --listen; fails the case, with the log, otherwise. */
it_server *server_start(const char *const *args);
#define SERVER_START(...) server_start((const char *const[]){__VA_ARGS__, NULL})

/* Send sig to the server (it must still run). For a Windows build
 * (RICOCHET_IT_TARGET=windows) SIGTERM is sent as SIGINT: Wine turns only
 * SIGINT into a console Ctrl-C event and dies of SIGTERM. */
void server_signal(it_server *s, int sig);
/* Wait up to timeout_ms until the server's log contains needle; 1 when it
 * does. Lets a test act after the server reached a point it logs. */
int server_wait_log(const it_server *s, const char *needle, int timeout_ms);
/* Wait up to timeout_ms until at least count log entries of level (NULL:
 * any) contain needle; returns the count last seen. For what a test makes
 * happen more than once (reloads, closed Lua states). */
int server_wait_log_count(const it_server *s, const char *level,
                          const char *needle, int count, int timeout_ms);
/* Wait up to timeout_ms for the server to exit; 1 when it has (status in
 * s->status), 0 on timeout. */
int server_wait_exit(it_server *s, int timeout_ms);
/* 1 while the server process has not exited. */
int server_alive(it_server *s);
/* SIGTERM, wait (bounded) and assert a clean exit 0: also a barrier after
 * which the whole log is on disk. */
void server_stop(it_server *s);
/* server_stop, then assert the log has no entry at level error. */
void server_stop_clean(it_server *s);
/* A /proc/PID/status field in kB ("VmRSS", "VmHWM"); -1 when unknown. */
long server_status_kb(const it_server *s, const char *field);
/* The whole stderr so far, NUL-terminated, '\r' removed; free() it. */
char *server_log(const it_server *s);
void server_dump_log(const it_server *s);

/* Log entries (a timestamped line plus its continuation lines, e.g. a
 * traceback) of the given level ("error", "warn", ...; NULL: any) that
 * contain every needle given (NULL: no condition). Returns the count. */
int log_count(const char *log, const char *level, const char *needle1,
              const char *needle2);
/* Like log_count but needle1 must be followed by a non-digit (so that
 * "conn 1" does not match "conn 12"). */
int log_count_word(const char *log, const char *level, const char *word,
                   const char *needle2);

/* Run ricochet to completion (for usage errors, --check, --help): stdout
 * and stderr are captured whole ('\r' removed). A server that prints
 * "listening on" (it did not stop) or outlives IT_WAIT_MS is killed. */
typedef struct it_run {
    int code;      /* exit code, or -1 when it did not exit normally */
    int sig;       /* the terminating signal, or 0 */
    int listened;  /* it printed "listening on" and was killed */
    char *out;     /* NUL-terminated */
    char *err;
} it_run;
void run_capture(it_run *r, const char *const *args);
#define RUN(r, ...) run_capture(r, (const char *const[]){__VA_ARGS__, NULL})
void run_free(it_run *r);
/* Assert: exit code, nothing on stdout, a stderr line that starts
 * "ricochet: " and contains needle (NULL: any). Prints the run on failure. */
void assert_run_error(const it_run *r, int code, const char *needle);

/* ---- clients ------------------------------------------------------------ */

/* Connect to host:port (numeric) within IT_WAIT_MS. Returns a non-blocking
 * close-on-exec socket, or -errno (-ECONNREFUSED, -ETIMEDOUT, ...). */
int cli_connect(const char *host, int port);
/* Connect to listener idx of s; fails the case when that does not work. */
int cli_connect_to(const it_server *s, int idx);
/* Send everything within timeout_ms. Returns 0 or -errno. */
int cli_send_all(int fd, const void *data, size_t len, int timeout_ms);
#define CLI_SEND(fd, str) \
    ASSERT_EQ(cli_send_all((fd), (str), strlen(str), IT_WAIT_MS), 0)
/* Receive until n bytes, EOF, an error or timeout_ms. Returns the count. */
size_t cli_recv_n(int fd, void *buf, size_t n, int timeout_ms);
/* Receive until a '\n' arrives (or cap - 1 bytes, EOF, error, timeout);
 * NUL-terminates. Returns the count. */
size_t cli_recv_line(int fd, char *buf, size_t cap, int timeout_ms);
/* Receive until EOF. *out (malloc, may be NULL when empty) gets the bytes
 * received before EOF or the error. Returns 0 at EOF, -ECONNRESET (or
 * another -errno) on error, -ETIMEDOUT, -EMSGSIZE past cap bytes. */
int cli_recv_eof(int fd, unsigned char **out, size_t *len, size_t cap,
                 int timeout_ms);
void cli_shut_wr(int fd);
/* Abortive close: SO_LINGER 0, close -> the peer gets a RST. */
void cli_abort(int fd);
/* The socket's local address as "127.0.0.1:PORT". */
void cli_local_name(int fd, char *buf, size_t cap);
/* Wait up to timeout_ms for an error condition (reset) on fd without
 * reading. Returns the pending socket error (e.g. ECONNRESET, EPIPE), or
 * 0 if none came. */
int cli_wait_error(int fd, int timeout_ms);

/* ---- the multi-connection driver ---------------------------------------- */

/* One client connection run by drive(): send out[0..send_limit), half-close
 * once all of out is sent (when half_close), receive until EOF. */
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

void job_init(it_job *j, int fd, const void *out, size_t len, int half_close);
void job_free(it_job *j);  /* closes fd too */
/* err set, or EOF seen with everything sent (and half-closed if asked). */
int job_finished(const it_job *j);
/* Run every job (one thread, poll) until until(job) holds for each (NULL:
 * job_finished) or timeout_ms passes. Returns how many jobs satisfy it;
 * on a shortfall prints the first few that do not. */
size_t drive(it_job *jobs, size_t n, int timeout_ms,
             int (*until)(const it_job *));
/* Assert a finished job received exactly its payload, then EOF. */
void assert_job_echo(const it_job *j, size_t index);

/* Connect, send payload (full duplex), half-close, receive until EOF, and
 * assert the bytes are exactly expect. */
void assert_echo_via(const it_server *s, int idx, const void *payload,
                     size_t len, const void *expect, size_t expect_len,
                     int timeout_ms);
#define ASSERT_ECHO(s, p, n) assert_echo_via((s), 0, (p), (n), (p), (n), \
                                             IT_WAIT_MS)

/* One echo of payload over a fresh connection (half-close, until EOF),
 * asserted byte-exact; returns how long it took in ms. */
int64_t timed_echo(const it_server *s, const void *payload, size_t len);

/* ---- misc --------------------------------------------------------------- */

typedef struct it_rng { uint64_t state; } it_rng;
void rng_seed(it_rng *r, uint64_t seed);
uint64_t rng_next(it_rng *r);               /* splitmix64 */
uint64_t rng_below(it_rng *r, uint64_t n);  /* 0 .. n-1 */
void rng_fill(it_rng *r, void *buf, size_t len);
/* malloc'ed len bytes from seed (the same seed, the same bytes). */
unsigned char *rng_payload(uint64_t seed, size_t len);

int64_t now_us(void);  /* monotonic */
/* Milliseconds since t0_us (a now_us() value). */
static inline int64_t ms_since(int64_t t0_us)
{
    return (now_us() - t0_us) / 1000;
}
/* Fail unless ms lies within [lo, hi]. */
#define ASSERT_MS_WITHIN(ms, lo, hi)                                    \
    do {                                                                \
        int64_t ms_ = (ms);                                             \
        if (ms_ < (lo) || ms_ > (hi))                                   \
            TEST_FAIL("%s took %lld ms, expected %d to %d ms", #ms,     \
                      (long long)ms_, (int)(lo), (int)(hi));            \
    } while (0)
/* Make sure the soft RLIMIT_NOFILE is at least want; returns the limit. */
long raise_nofile(long want);
/* 1 when a socket can bind [::1]. */
int have_ipv6_loopback(void);
/* A listening TCP socket on 127.0.0.1 (port 0: any), its port in *port. */
int listen_local(int *port);
/* Find needle in hay (binary-safe). */
const void *mem_find(const void *hay, size_t hay_len, const void *needle,
                     size_t needle_len);

/* Called by the runner's main when every selected case passed: servers
 * are still killed at exit, but their logs are not dumped. */
void harness_passed(void);

#endif
