/* it_server.c -- spawn the real ricochet, wait for it, stop it, reap it.
 *
 * Single-threaded. Process exits are noticed through a SIGCHLD self-pipe;
 * every loop has a deadline and an iteration cap, so a broken server fails
 * a case instead of hanging it. */
#include "it_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "it_clock.h"
#include "it_fd.h"
#include "it_log.h"
#include "it_text.h"
#include "test.h"

#ifndef RICOCHET_BIN
#define RICOCHET_BIN ""
#endif

extern char **environ;

#define MAX_SERVERS 128
#define MAX_ARGS 64

static it_server servers[MAX_SERVERS];
static size_t servers_used;
static int passed;
static int initialised;
static int chld_pipe[2] = {-1, -1};

/* ---- process bookkeeping ------------------------------------------------ */

static void on_sigchld(int sig)
{
    int saved = errno;
    char c = 'c';
    (void)sig;
    if (write(chld_pipe[1], &c, 1) < 0) {
        /* full pipe: a wake-up is pending anyway */
    }
    errno = saved;
}

static void drain_chld_pipe(void)
{
    char buf[64];
    for (int i = 0; i < 100; i++)
        if (read(chld_pipe[0], buf, sizeof buf) <= 0)
            break;
}

static void at_exit(void)
{
    for (size_t i = 0; i < servers_used; i++) {
        it_server *s = &servers[i];
        if (!s->reaped && s->pid > 0) {
            kill(s->pid, SIGKILL);
            int64_t deadline = it_clock_now_ms() + 5000;
            for (int k = 0; k < 10000 && !s->reaped; k++) {
                pid_t r = waitpid(s->pid, &s->status, WNOHANG);
                if (r == s->pid || (r < 0 && errno != EINTR))
                    s->reaped = 1;
                else if (it_clock_left_ms(deadline) == 0)
                    break;
                else {
                    /* no asserts here: we may be inside exit() already */
                    struct pollfd pfd = {chld_pipe[0], POLLIN, 0};
                    poll(&pfd, 1, 10);
                    drain_chld_pipe();
                }
            }
        }
        if (!passed && s->log_fd >= 0 && s->pid > 0)
            it_log_dump(s);
        if (s->log_fd >= 0)
            close(s->log_fd);
        if (s->out_fd >= 0)
            close(s->out_fd);
        s->log_fd = s->out_fd = -1;
    }
}

void it_server_all_passed(void) { passed = 1; }

static void init_bookkeeping(void)
{
    struct sigaction sa;
    if (initialised)
        return;
    initialised = 1;
    if (pipe(chld_pipe) != 0)
        TEST_FAIL("pipe: %s", strerror(errno));
    for (int i = 0; i < 2; i++) {
        it_fd_cloexec(chld_pipe[i]);
        it_fd_nonblock(chld_pipe[i]);
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    /* Our own sends use MSG_NOSIGNAL; this is for platforms without it.
     * The server gets default dispositions back (POSIX_SPAWN_SETSIGDEF),
     * so it has to deal with SIGPIPE itself. */
    signal(SIGPIPE, SIG_IGN);
    atexit(at_exit);
}

static int try_reap(it_server *s)
{
    if (s->reaped)
        return 1;
    for (int i = 0; i < 100; i++) {
        pid_t r = waitpid(s->pid, &s->status, WNOHANG);
        if (r == s->pid) {
            s->reaped = 1;
            return 1;
        }
        if (r == 0)
            return 0;
        if (errno != EINTR) {
            s->reaped = 1;
            s->status = -1;
            return 1;
        }
    }
    return 0;
}

int it_server_wait_exit(it_server *s, int timeout_ms)
{
    int64_t deadline = it_clock_now_ms() + timeout_ms;
    for (int i = 0; i < 100000; i++) {
        if (try_reap(s))
            return 1;
        if (it_clock_left_ms(deadline) == 0)
            return 0;
        /* A SIGCHLD between try_reap and here leaves a byte in the pipe. */
        it_fd_poll(chld_pipe[0], POLLIN, it_clock_left_ms(deadline));
        drain_chld_pipe();
    }
    return try_reap(s);
}

int it_server_alive(it_server *s) { return !try_reap(s); }

/* ---- spawning ----------------------------------------------------------- */

/* Split the command ($RICOCHET_CMD or RICOCHET_BIN) and append args. */
static void build_argv(const char *const *args, char **argv, char *words,
                       size_t words_cap)
{
    const char *cmd = getenv("RICOCHET_CMD");
    int argc = 0;
    if (cmd == NULL || *cmd == '\0') {
        struct stat st;
        cmd = RICOCHET_BIN;
        if (*cmd == '\0')
            TEST_FAIL("no server command: set RICOCHET_CMD");
        if (stat(cmd, &st) != 0)
            TEST_FAIL("the ricochet binary is not built: %s", cmd);
    }
    if (strlen(cmd) >= words_cap)
        TEST_FAIL("RICOCHET_CMD too long");
    strcpy(words, cmd);
    for (char *p = words; *p && argc < MAX_ARGS / 2;) {
        while (*p == ' ')
            *p++ = '\0';
        if (*p == '\0')
            break;
        argv[argc++] = p;
        while (*p && *p != ' ')
            p++;
    }
    if (argc == 0)
        TEST_FAIL("empty RICOCHET_CMD");
    for (const char *const *a = args; *a; a++) {
        if (argc >= MAX_ARGS - 1)
            TEST_FAIL("too many arguments");
        argv[argc++] = (char *)*a;
    }
    argv[argc] = NULL;
}

it_server *it_server_spawn(const char *const *args)
{
    char *argv[MAX_ARGS];
    char words[4096];
    int out_pipe[2];
    FILE *tmp;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    it_server *s;
    int rc;

    init_bookkeeping();
    s = NULL;
    for (size_t i = 0; i < servers_used && s == NULL; i++)
        if (servers[i].pid == 0) /* released by it_server_release */
            s = &servers[i];
    if (s == NULL) {
        if (servers_used == MAX_SERVERS)
            TEST_FAIL("too many servers in one run");
        s = &servers[servers_used++];
    }
    memset(s, 0, sizeof *s);
    s->out_fd = s->log_fd = -1;
    build_argv(args, argv, words, sizeof words);

    if (pipe(out_pipe) != 0)
        TEST_FAIL("pipe: %s", strerror(errno));
    it_fd_cloexec(out_pipe[0]);
    it_fd_cloexec(out_pipe[1]);
    /* stderr goes to an already unlinked file: nothing to clean up, and
     * the log stays readable through log_fd after the server is gone. */
    tmp = tmpfile();
    if (tmp == NULL)
        TEST_FAIL("tmpfile: %s", strerror(errno));
    s->log_fd = fcntl(fileno(tmp), F_DUPFD_CLOEXEC, 3);
    fclose(tmp);
    if (s->log_fd < 0)
        TEST_FAIL("dup: %s", strerror(errno));

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&fa, s->log_fd, 2);
    posix_spawnattr_init(&attr);
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
                                    POSIX_SPAWN_SETSIGDEF);
    rc = posix_spawnp(&s->pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(out_pipe[1]);
    if (rc != 0) {
        close(out_pipe[0]);
        TEST_FAIL("cannot start %s: %s", argv[0], strerror(rc));
    }
    s->out_fd = out_pipe[0];
    it_fd_nonblock(s->out_fd);
    return s;
}

void it_server_release(it_server *s)
{
    close(s->out_fd);
    close(s->log_fd);
    memset(s, 0, sizeof *s);
    s->out_fd = s->log_fd = -1;
}

/* ---- readiness ---------------------------------------------------------- */

/* Read one line of the server's stdout into buf (without "\r\n"). Returns
 * 1, 0 at EOF, -1 on timeout. */
static int read_stdout_line(it_server *s, char *buf, size_t cap,
                            int64_t deadline)
{
    for (int i = 0; i < 100000; i++) {
        char *nl = memchr(s->line, '\n', s->line_len);
        if (nl != NULL) {
            size_t n = (size_t)(nl - s->line);
            size_t keep = n < cap - 1 ? n : cap - 1;
            memcpy(buf, s->line, keep);
            buf[keep] = '\0';
            it_text_strip_cr(buf);
            memmove(s->line, nl + 1, s->line_len - n - 1);
            s->line_len -= n + 1;
            return 1;
        }
        if (s->line_len == sizeof s->line) /* overlong: cut it */
            s->line_len = 0;
        ssize_t got = read(s->out_fd, s->line + s->line_len,
                           sizeof s->line - s->line_len);
        if (got > 0) {
            s->line_len += (size_t)got;
            continue;
        }
        if (got == 0)
            return 0;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return 0;
        if (it_clock_left_ms(deadline) == 0)
            return -1;
        it_fd_poll(s->out_fd, POLLIN, it_clock_left_ms(deadline));
    }
    return -1;
}

int it_server_read_line(it_server *s, char *buf, size_t cap,
                        int timeout_ms)
{
    return read_stdout_line(s, buf, cap, it_clock_now_ms() + timeout_ms);
}

/* "listening on 127.0.0.1:40123" / "listening on [::1]:40123" */
static int parse_ready(const char *line, char *host, size_t cap, int *port)
{
    const char *prefix = "listening on ";
    const char *addr, *colon;
    char *end;
    long p;
    size_t hl;
    if (strncmp(line, prefix, strlen(prefix)) != 0)
        return -1;
    addr = line + strlen(prefix);
    colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr)
        return -1;
    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (*end != '\0' || end == colon + 1 || p <= 0 || p > 65535)
        return -1;
    if (addr[0] == '[') {
        if (colon[-1] != ']')
            return -1;
        addr++;
        hl = (size_t)(colon - 1 - addr);
    } else {
        hl = (size_t)(colon - addr);
    }
    if (hl == 0 || hl >= cap)
        return -1;
    memcpy(host, addr, hl);
    host[hl] = '\0';
    *port = (int)p;
    return 0;
}

it_server *it_server_start(const char *const *args)
{
    const char *all[MAX_ARGS];
    int nlisten = 0, n = 0;
    it_server *s;
    int64_t deadline;

    for (const char *const *a = args; *a; a++)
        if (strcmp(*a, "--listen") == 0 || strncmp(*a, "--listen=", 9) == 0)
            nlisten++;
    if (nlisten == 0) {
        all[n++] = "--listen";
        all[n++] = "127.0.0.1:0";
        nlisten = 1;
    }
    for (const char *const *a = args; *a && n < MAX_ARGS - 1; a++)
        all[n++] = *a;
    all[n] = NULL;
    if (nlisten > IT_MAX_LISTEN)
        TEST_FAIL("too many listeners");

    s = it_server_spawn(all);
    deadline = it_clock_now_ms() + IT_WAIT_MS;
    while (s->nlisten < nlisten) {
        char line[512];
        int rc = read_stdout_line(s, line, sizeof line, deadline);
        if (rc <= 0) {
            if (rc < 0)
                TEST_FAIL("no readiness line from the server within %d ms "
                          "(%d of %d seen)", IT_WAIT_MS, s->nlisten, nlisten);
            it_server_wait_exit(s, 2000);
            TEST_FAIL("the server closed stdout before its readiness lines "
                      "(%d of %d seen), wait status %d", s->nlisten, nlisten,
                      s->reaped ? s->status : -1);
        }
        if (parse_ready(line, s->host[s->nlisten], sizeof s->host[0],
                        &s->port[s->nlisten]) != 0)
            TEST_FAIL("unexpected line on the server's stdout: \"%s\"", line);
        s->nlisten++;
    }
    return s;
}

/* ---- signals and stopping ----------------------------------------------- */

void it_server_signal(it_server *s, int sig)
{
    const char *target = getenv("RICOCHET_IT_TARGET");
    ASSERT(!s->reaped);
    if (sig == SIGTERM && target && strcmp(target, "windows") == 0)
        sig = SIGINT;
    if (kill(s->pid, sig) != 0)
        TEST_FAIL("kill %d: %s", (int)s->pid, strerror(errno));
}

void it_server_stop(it_server *s)
{
    it_server_signal(s, SIGTERM);
    if (!it_server_wait_exit(s, IT_WAIT_MS))
        TEST_FAIL("the server did not exit within %d ms of SIGTERM",
                  IT_WAIT_MS);
    if (!WIFEXITED(s->status))
        TEST_FAIL("the server died of signal %d after SIGTERM",
                  WIFSIGNALED(s->status) ? WTERMSIG(s->status) : -1);
    ASSERT_EQ(WEXITSTATUS(s->status), 0);
}

void it_server_stop_clean(it_server *s)
{
    char *log;
    it_server_stop(s);
    log = it_log_read(s);
    if (it_log_count(log, "error", NULL, NULL) != 0)
        TEST_FAIL("the server logged %d error entries",
                  it_log_count(log, "error", NULL, NULL));
    free(log);
}

long it_server_status_kb(const it_server *s, const char *field)
{
    char path[64], line[256];
    size_t flen = strlen(field);
    long kb = -1;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%d/status", (int)s->pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    for (int i = 0; i < 200 && fgets(line, sizeof line, f); i++)
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            kb = strtol(line + flen + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}
