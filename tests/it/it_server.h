/* it_server.h -- the ricochet processes a case starts and stops.
 *
 * A server runs with stdout on a pipe and stderr in an unlinked temporary
 * file (its log, read through it_log.h). it_server_start waits for its
 * "listening on" lines. Every server this runner spawned is killed and
 * reaped at exit; when a case failed, their logs are dumped then.
 *
 * The command is $RICOCHET_CMD (split on spaces, e.g. "wine
 * ricochet.exe") or else the binary CMake built (RICOCHET_BIN). */
#ifndef RICOCHET_IT_SERVER_H
#define RICOCHET_IT_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#define IT_MAX_LISTEN 8

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
 * readiness line per --listen; fails the case, with the log, otherwise.
 * The server belongs to the runner, which reaps it at exit. */
it_server *it_server_start(const char *const *args);
#define SERVER_START(...) \
    it_server_start((const char *const[]){__VA_ARGS__, NULL})

/* Send sig to the server (it must still run). For a Windows build
 * (RICOCHET_IT_TARGET=windows) SIGTERM is sent as SIGINT: Wine turns only
 * SIGINT into a console Ctrl-C event and dies of SIGTERM. */
void it_server_signal(it_server *s, int sig);
/* Wait up to timeout_ms for the server to exit; 1 when it has (status in
 * s->status), 0 on timeout. */
int it_server_wait_exit(it_server *s, int timeout_ms);
/* 1 while the server process has not exited. */
int it_server_alive(it_server *s);
/* SIGTERM, wait (bounded) and assert a clean exit 0: also a barrier after
 * which the whole log is on disk. */
void it_server_stop(it_server *s);
/* it_server_stop, then assert the log has no entry at level error. */
void it_server_stop_clean(it_server *s);
/* A /proc/PID/status field in kB ("VmRSS", "VmHWM"); -1 when unknown. */
long it_server_status_kb(const it_server *s, const char *field);

/* For it_run.c: spawn ricochet with exactly args, without waiting for
 * anything. Fails the case when it cannot be started. */
it_server *it_server_spawn(const char *const *args);
/* For it_run.c: give back the slot of a reaped server whose output has
 * been copied out; s is invalid afterwards. */
void it_server_release(it_server *s);

/* Read the server's next stdout line (after its readiness lines) into
 * buf, without its line end, waiting up to timeout_ms. Returns 1, 0 at
 * EOF, -1 on timeout. */
int it_server_read_line(it_server *s, char *buf, size_t cap,
                        int timeout_ms);
/* Called by the runner's main when every selected case passed: servers
 * are still killed at exit, but their logs are not dumped. */
void it_server_all_passed(void);

#endif
