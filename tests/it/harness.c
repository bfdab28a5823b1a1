/* harness.c -- start the real ricochet, talk to it over loopback.
 *
 * Single-threaded. Process exits are noticed through a SIGCHLD self-pipe,
 * socket readiness through poll(); every loop has a deadline and an
 * iteration cap, so a broken server fails a case instead of hanging it. */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

#ifndef RICOCHET_SOURCE_DIR
#error "RICOCHET_SOURCE_DIR must name the repository root"
#endif
#ifndef RICOCHET_BIN
#define RICOCHET_BIN ""
#endif

extern char **environ;

#define MAX_SERVERS 128
#define MAX_ARGS 64
#define LOG_DUMP_TAIL 12000

static it_server servers[MAX_SERVERS];
static size_t servers_used;
static int passed;
static int initialised;
static int chld_pipe[2] = {-1, -1};

/* ---- small utilities ---------------------------------------------------- */

int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_ms(void) { return now_us() / 1000; }

/* Milliseconds left until deadline_ms (>= 0). */
static int left_ms(int64_t deadline_ms)
{
    int64_t left = deadline_ms - now_ms();
    if (left < 0)
        return 0;
    return left > INT32_MAX ? INT32_MAX : (int)left;
}

static void set_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0)
        fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

static void set_nonblock(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* poll() one fd, retrying on EINTR until the deadline. Returns revents,
 * 0 on timeout. */
static int poll_one(int fd, short events, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (int i = 0; i < 1000000; i++) {
        struct pollfd pfd = {fd, events, 0};
        int rc = poll(&pfd, 1, left_ms(deadline));
        if (rc > 0)
            return pfd.revents;
        if (rc == 0)
            return 0;
        if (errno != EINTR)
            TEST_FAIL("poll: %s", strerror(errno));
        if (left_ms(deadline) == 0)
            return 0;
    }
    return 0;
}

const void *mem_find(const void *hay, size_t hay_len, const void *needle,
                     size_t needle_len)
{
    const unsigned char *h = hay;
    if (needle_len == 0)
        return hay;
    for (size_t i = 0; i + needle_len <= hay_len; i++)
        if (h[i] == *(const unsigned char *)needle &&
            memcmp(h + i, needle, needle_len) == 0)
            return h + i;
    return NULL;
}

static void strip_cr(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++)
        if (*r != '\r')
            *w++ = *r;
    *w = '\0';
}

const char *it_path(const char *rel)
{
    static char slots[8][4096];
    static unsigned next;
    char *p = slots[next++ % 8];
    snprintf(p, sizeof slots[0], "%s/%s", RICOCHET_SOURCE_DIR, rel);
    return p;
}

/* ---- the PRNG ----------------------------------------------------------- */

void rng_seed(it_rng *r, uint64_t seed) { r->state = seed; }

uint64_t rng_next(it_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t rng_below(it_rng *r, uint64_t n)
{
    return n ? rng_next(r) % n : 0;
}

void rng_fill(it_rng *r, void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len >= 8) {
        uint64_t v = rng_next(r);
        memcpy(p, &v, 8);
        p += 8;
        len -= 8;
    }
    if (len) {
        uint64_t v = rng_next(r);
        memcpy(p, &v, len);
    }
}

unsigned char *rng_payload(uint64_t seed, size_t len)
{
    it_rng r;
    unsigned char *p = malloc(len ? len : 1);
    ASSERT(p != NULL);
    rng_seed(&r, seed);
    rng_fill(&r, p, len);
    return p;
}

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

static void read_whole_fd(int fd, char **out, size_t *out_len);
static void drain_chld_pipe(void);

static void at_exit(void)
{
    for (size_t i = 0; i < servers_used; i++) {
        it_server *s = &servers[i];
        if (!s->reaped && s->pid > 0) {
            kill(s->pid, SIGKILL);
            int64_t deadline = now_ms() + 5000;
            for (int k = 0; k < 10000 && !s->reaped; k++) {
                pid_t r = waitpid(s->pid, &s->status, WNOHANG);
                if (r == s->pid || (r < 0 && errno != EINTR))
                    s->reaped = 1;
                else if (left_ms(deadline) == 0)
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
            server_dump_log(s);
        if (s->log_fd >= 0)
            close(s->log_fd);
        if (s->out_fd >= 0)
            close(s->out_fd);
        s->log_fd = s->out_fd = -1;
    }
}

void harness_passed(void) { passed = 1; }

static void harness_init(void)
{
    struct sigaction sa;
    if (initialised)
        return;
    initialised = 1;
    if (pipe(chld_pipe) != 0)
        TEST_FAIL("pipe: %s", strerror(errno));
    for (int i = 0; i < 2; i++) {
        set_cloexec(chld_pipe[i]);
        set_nonblock(chld_pipe[i]);
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

static void drain_chld_pipe(void)
{
    char buf[64];
    for (int i = 0; i < 100; i++)
        if (read(chld_pipe[0], buf, sizeof buf) <= 0)
            break;
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

int server_wait_exit(it_server *s, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (int i = 0; i < 100000; i++) {
        if (try_reap(s))
            return 1;
        if (left_ms(deadline) == 0)
            return 0;
        /* A SIGCHLD between try_reap and here leaves a byte in the pipe. */
        poll_one(chld_pipe[0], POLLIN, left_ms(deadline));
        drain_chld_pipe();
    }
    return try_reap(s);
}

int server_alive(it_server *s) { return !try_reap(s); }

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

static it_server *spawn_server(const char *const *args)
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

    harness_init();
    s = NULL;
    for (size_t i = 0; i < servers_used && s == NULL; i++)
        if (servers[i].pid == 0) /* released by run_capture */
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
    set_cloexec(out_pipe[0]);
    set_cloexec(out_pipe[1]);
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
    set_nonblock(s->out_fd);
    return s;
}

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
            strip_cr(buf);
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
        if (left_ms(deadline) == 0)
            return -1;
        poll_one(s->out_fd, POLLIN, left_ms(deadline));
    }
    return -1;
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

it_server *server_start(const char *const *args)
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

    s = spawn_server(all);
    deadline = now_ms() + IT_WAIT_MS;
    while (s->nlisten < nlisten) {
        char line[512];
        int rc = read_stdout_line(s, line, sizeof line, deadline);
        if (rc <= 0) {
            if (rc < 0)
                TEST_FAIL("no readiness line from the server within %d ms "
                          "(%d of %d seen)", IT_WAIT_MS, s->nlisten, nlisten);
            server_wait_exit(s, 2000);
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

void server_signal(it_server *s, int sig)
{
    const char *target = getenv("RICOCHET_IT_TARGET");
    ASSERT(!s->reaped);
    if (sig == SIGTERM && target && strcmp(target, "windows") == 0)
        sig = SIGINT;
    if (kill(s->pid, sig) != 0)
        TEST_FAIL("kill %d: %s", (int)s->pid, strerror(errno));
}

void server_stop(it_server *s)
{
    server_signal(s, SIGTERM);
    if (!server_wait_exit(s, IT_WAIT_MS))
        TEST_FAIL("the server did not exit within %d ms of SIGTERM",
                  IT_WAIT_MS);
    if (!WIFEXITED(s->status))
        TEST_FAIL("the server died of signal %d after SIGTERM",
                  WIFSIGNALED(s->status) ? WTERMSIG(s->status) : -1);
    ASSERT_EQ(WEXITSTATUS(s->status), 0);
}

void server_stop_clean(it_server *s)
{
    char *log;
    server_stop(s);
    log = server_log(s);
    if (log_count(log, "error", NULL, NULL) != 0)
        TEST_FAIL("the server logged %d error entries",
                  log_count(log, "error", NULL, NULL));
    free(log);
}

long server_status_kb(const it_server *s, const char *field)
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

static void read_whole_fd(int fd, char **out, size_t *out_len)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    ASSERT(buf != NULL);
    for (int i = 0; i < 100000; i++) {
        if (len + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            ASSERT(buf != NULL);
        }
        ssize_t got = pread(fd, buf + len, cap - 1 - len, (off_t)len);
        if (got > 0)
            len += (size_t)got;
        else if (got == 0 || errno != EINTR)
            break;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
}

char *server_log(const it_server *s)
{
    char *text;
    size_t len;
    read_whole_fd(s->log_fd, &text, &len);
    strip_cr(text);
    return text;
}

int server_wait_log(const it_server *s, const char *needle, int timeout_ms)
{
    int64_t deadline = now_us() + (int64_t)timeout_ms * 1000;
    for (;;) {
        char *text = server_log(s);
        int found = strstr(text, needle) != NULL;
        free(text);
        if (found)
            return 1;
        if (now_us() >= deadline)
            return 0;
        /* the log is a file: there is nothing to block on but time */
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

int server_wait_log_count(const it_server *s, const char *level,
                          const char *needle, int count, int timeout_ms)
{
    int64_t deadline = now_us() + (int64_t)timeout_ms * 1000;
    for (;;) {
        char *text = server_log(s);
        int seen = log_count(text, level, needle, NULL);
        free(text);
        if (seen >= count || now_us() >= deadline)
            return seen;
        /* the log is a file: there is nothing to block on but time */
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

void server_dump_log(const it_server *s)
{
    char *text;
    size_t len;
    if (s->log_fd < 0)
        return;
    read_whole_fd(s->log_fd, &text, &len);
    fprintf(stderr, "---- stderr of server pid %d (%zu bytes%s) ----\n",
            (int)s->pid, len, len > LOG_DUMP_TAIL ? ", tail" : "");
    fputs(len > LOG_DUMP_TAIL ? text + len - LOG_DUMP_TAIL : text, stderr);
    if (len && text[len - 1] != '\n')
        fputc('\n', stderr);
    fprintf(stderr, "---- end of stderr of server pid %d ----\n", (int)s->pid);
    free(text);
}

/* An entry starts at a line whose first word is a timestamp (a digit
 * first); continuation lines (tracebacks) belong to the entry above. */
static int starts_entry(const char *line)
{
    return line[0] >= '0' && line[0] <= '9';
}

static int entry_level_is(const char *entry, const char *level)
{
    const char *p = strchr(entry, ' ');
    size_t n;
    if (level == NULL)
        return 1;
    n = strlen(level);
    if (p == NULL)
        return 0;
    while (*p == ' ')
        p++;
    return strncmp(p, level, n) == 0 && (p[n] == ' ' || p[n] == '\n' ||
                                         p[n] == '\0' || p[n] == ':');
}

static int contains_word(const char *hay, size_t len, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = hay; p && p + wl <= hay + len;) {
        p = mem_find(p, (size_t)(hay + len - p), word, wl);
        if (p == NULL)
            return 0;
        if (p + wl == hay + len || !(p[wl] >= '0' && p[wl] <= '9'))
            return 1;
        p++;
    }
    return 0;
}

static int log_count_impl(const char *log, const char *level,
                          const char *needle1, int word, const char *needle2)
{
    int count = 0;
    const char *p = log;
    while (*p) {
        const char *start = p, *end;
        /* skip to the next entry start */
        if (!starts_entry(p)) {
            const char *nl = strchr(p, '\n');
            if (nl == NULL)
                break;
            p = nl + 1;
            continue;
        }
        end = strchr(start, '\n');
        while (end != NULL && end[1] != '\0' && !starts_entry(end + 1))
            end = strchr(end + 1, '\n');
        if (end == NULL)
            end = start + strlen(start);
        size_t len = (size_t)(end - start);
        int ok = level == NULL || entry_level_is(start, level);
        if (ok && needle1)
            ok = word ? contains_word(start, len, needle1)
                      : mem_find(start, len, needle1, strlen(needle1)) != NULL;
        if (ok && needle2)
            ok = mem_find(start, len, needle2, strlen(needle2)) != NULL;
        count += ok;
        p = *end ? end + 1 : end;
    }
    return count;
}

int log_count(const char *log, const char *level, const char *needle1,
              const char *needle2)
{
    return log_count_impl(log, level, needle1, 0, needle2);
}

int log_count_word(const char *log, const char *level, const char *word,
                   const char *needle2)
{
    return log_count_impl(log, level, word, 1, needle2);
}

/* ---- run to completion -------------------------------------------------- */

void run_capture(it_run *r, const char *const *args)
{
    it_server *s = spawn_server(args);
    int64_t deadline = now_ms() + IT_WAIT_MS;
    size_t cap = 4096, len = 0, errlen;
    char *out = malloc(cap);

    ASSERT(out != NULL);
    memset(r, 0, sizeof *r);
    for (int i = 0; i < 100000; i++) {
        if (len + 1 == cap) {
            cap *= 2;
            out = realloc(out, cap);
            ASSERT(out != NULL);
        }
        ssize_t got = read(s->out_fd, out + len, cap - 1 - len);
        if (got > 0) {
            len += (size_t)got;
            out[len] = '\0';
            /* a readiness line (not prose that mentions one) */
            if (strncmp(out, "listening on ", 13) == 0 ||
                strstr(out, "\nlistening on ") != NULL) {
                r->listened = 1;
                break;
            }
            continue;
        }
        if (got == 0)
            break;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            break;
        if (left_ms(deadline) == 0)
            break;
        poll_one(s->out_fd, POLLIN, left_ms(deadline));
    }
    out[len] = '\0';
    /* stdout is closed: the process is on its way out (or a child of it
     * still holds the pipe, e.g. under wine): wait, bounded. */
    if (r->listened || !server_wait_exit(s, left_ms(deadline) + 100)) {
        kill(s->pid, SIGKILL);
        server_wait_exit(s, IT_WAIT_MS);
    }
    r->code = -1;
    if (s->reaped && s->status != -1) {
        if (WIFEXITED(s->status))
            r->code = WEXITSTATUS(s->status);
        else if (WIFSIGNALED(s->status))
            r->sig = WTERMSIG(s->status);
    }
    strip_cr(out);
    r->out = out;
    read_whole_fd(s->log_fd, &r->err, &errlen);
    strip_cr(r->err);
    /* everything is copied out: release the slot */
    if (s->reaped) {
        close(s->out_fd);
        close(s->log_fd);
        memset(s, 0, sizeof *s);
        s->out_fd = s->log_fd = -1;
    }
}

void run_free(it_run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

static void print_run(const it_run *r)
{
    fprintf(stderr, "exit code %d, signal %d, listened %d\n---- stdout ----\n"
            "%s---- stderr ----\n%s---- end ----\n", r->code, r->sig,
            r->listened, r->out, r->err);
}

void assert_run_error(const it_run *r, int code, const char *needle)
{
    const char *line = r->err;
    int found = 0;
    if (r->code != code || r->out[0] != '\0')
        goto fail;
    /* a line starting "ricochet: " that contains the needle */
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (n >= 10 && strncmp(line, "ricochet: ", 10) == 0 &&
            (needle == NULL || mem_find(line, n, needle, strlen(needle))))
            found = 1;
        line = nl ? nl + 1 : NULL;
    }
    if (found)
        return;
fail:
    print_run(r);
    TEST_FAIL("expected exit code %d, empty stdout and a stderr line "
              "\"ricochet: ...%s...\"", code, needle ? needle : "");
}

/* ---- clients ------------------------------------------------------------ */

static int make_addr(const char *host, int port, struct sockaddr_storage *ss,
                     socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (strchr(host, ':') != NULL) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return -1;
        *len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return -1;
        *len = sizeof *a;
    }
    return 0;
}

int cli_connect(const char *host, int port)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd, err = 0, revents;
    socklen_t el = sizeof err;

    if (make_addr(host, port, &ss, &sl) != 0)
        return -EINVAL;
    fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        return -errno;
    set_cloexec(fd);
    set_nonblock(fd);
    if (connect(fd, (struct sockaddr *)&ss, sl) == 0)
        return fd;
    if (errno != EINPROGRESS && errno != EINTR) {
        err = errno;
        close(fd);
        return -err;
    }
    revents = poll_one(fd, POLLOUT, IT_WAIT_MS);
    if (revents == 0) {
        close(fd);
        return -ETIMEDOUT;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        err = errno;
    if (err != 0) {
        close(fd);
        return -err;
    }
    return fd;
}

int cli_connect_to(const it_server *s, int idx)
{
    int fd;
    ASSERT_LT(idx, s->nlisten);
    fd = cli_connect(s->host[idx], s->port[idx]);
    if (fd < 0)
        TEST_FAIL("connect to %s port %d: %s", s->host[idx], s->port[idx],
                  strerror(-fd));
    return fd;
}

int cli_send_all(int fd, const void *data, size_t len, int timeout_ms)
{
    const unsigned char *p = data;
    int64_t deadline = now_ms() + timeout_ms;
    for (int i = 0; len > 0 && i < 1000000; i++) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
            errno != EINTR)
            return -errno;
        if (left_ms(deadline) == 0)
            return -ETIMEDOUT;
        poll_one(fd, POLLOUT, left_ms(deadline));
    }
    return len == 0 ? 0 : -ETIMEDOUT;
}

size_t cli_recv_n(int fd, void *buf, size_t n, int timeout_ms)
{
    unsigned char *p = buf;
    size_t got = 0;
    int64_t deadline = now_ms() + timeout_ms;
    for (int i = 0; got < n && i < 1000000; i++) {
        ssize_t r = recv(fd, p + got, n - got, 0);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
                       errno != EINTR))
            break;
        if (left_ms(deadline) == 0)
            break;
        poll_one(fd, POLLIN, left_ms(deadline));
    }
    return got;
}

size_t cli_recv_line(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t got = 0;
    int64_t deadline = now_ms() + timeout_ms;
    ASSERT(cap > 1);
    /* one byte at a time: never swallow what follows the line */
    for (int i = 0; got < cap - 1 && i < 1000000; i++) {
        ssize_t r = recv(fd, buf + got, 1, 0);
        if (r > 0) {
            got++;
            if (buf[got - 1] == '\n')
                break;
            continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
                       errno != EINTR))
            break;
        if (left_ms(deadline) == 0)
            break;
        poll_one(fd, POLLIN, left_ms(deadline));
    }
    buf[got] = '\0';
    return got;
}

int cli_recv_eof(int fd, unsigned char **out, size_t *len, size_t cap,
                 int timeout_ms)
{
    size_t bcap = 0, got = 0;
    unsigned char *buf = NULL;
    int64_t deadline = now_ms() + timeout_ms;
    int rc = -ETIMEDOUT;
    for (int i = 0; i < 10000000; i++) {
        if (bcap - got < 65536) {
            bcap = bcap ? bcap * 2 : 65536;
            buf = realloc(buf, bcap);
            ASSERT(buf != NULL);
        }
        ssize_t r = recv(fd, buf + got, bcap - got, 0);
        if (r > 0) {
            got += (size_t)r;
            if (got > cap) {
                rc = -EMSGSIZE;
                break;
            }
            continue;
        }
        if (r == 0) {
            rc = 0;
            break;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            rc = -errno;
            break;
        }
        if (left_ms(deadline) == 0)
            break;
        poll_one(fd, POLLIN, left_ms(deadline));
    }
    if (out)
        *out = buf;
    else
        free(buf);
    if (len)
        *len = got;
    return rc;
}

void cli_shut_wr(int fd)
{
    if (shutdown(fd, SHUT_WR) != 0)
        TEST_FAIL("shutdown(SHUT_WR): %s", strerror(errno));
}

void cli_abort(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

void cli_local_name(int fd, char *buf, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN];
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        snprintf(buf, cap, "[%s]:%d", host, ntohs(a->sin6_port));
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        snprintf(buf, cap, "%s:%d", host, ntohs(a->sin_port));
    }
}

int cli_wait_error(int fd, int timeout_ms)
{
    int err = 0;
    socklen_t el = sizeof err;
    /* no events asked: only POLLERR / POLLHUP wake us */
    int revents = poll_one(fd, 0, timeout_ms);
    if (revents == 0)
        return 0;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        return errno;
    return err ? err : (revents & POLLHUP ? EPIPE : 0);
}

/* ---- the driver --------------------------------------------------------- */

void job_init(it_job *j, int fd, const void *out, size_t len, int half_close)
{
    memset(j, 0, sizeof *j);
    j->fd = fd;
    j->out = out;
    j->out_len = len;
    j->send_limit = len;
    j->half_close = half_close;
    j->in_max = 2 * len + (1 << 20);
}

void job_free(it_job *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    free(j->in);
    j->in = NULL;
}

int job_finished(const it_job *j)
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

size_t drive(it_job *jobs, size_t n, int timeout_ms,
             int (*until)(const it_job *))
{
    struct pollfd *pfds = calloc(n ? n : 1, sizeof *pfds);
    size_t *index = calloc(n ? n : 1, sizeof *index);
    int64_t deadline = now_ms() + timeout_ms;
    size_t done = 0;

    ASSERT(pfds != NULL && index != NULL);
    if (until == NULL)
        until = job_finished;
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
        if (done == n || np == 0 || left_ms(deadline) == 0)
            break;
        int rc = poll(pfds, (nfds_t)np, left_ms(deadline));
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

void assert_job_echo(const it_job *j, size_t index)
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

int64_t timed_echo(const it_server *s, const void *payload, size_t len)
{
    it_job j;
    int64_t t0 = now_us();
    job_init(&j, cli_connect_to(s, 0), payload, len, 1);
    ASSERT_EQ(drive(&j, 1, IT_WAIT_MS, NULL), 1);
    int64_t took = ms_since(t0);
    assert_job_echo(&j, 0);
    job_free(&j);
    return took;
}

void assert_echo_via(const it_server *s, int idx, const void *payload,
                     size_t len, const void *expect, size_t expect_len,
                     int timeout_ms)
{
    it_job j;
    job_init(&j, cli_connect_to(s, idx), payload, len, 1);
    j.in_max = expect_len + (1 << 20);
    if (drive(&j, 1, timeout_ms, NULL) != 1 || j.err || !j.eof)
        TEST_FAIL("echo of %zu bytes: sent %zu, received %zu, eof %d, "
                  "err %s", len, j.out_sent, j.in_len, j.eof,
                  j.err ? strerror(j.err) : "none");
    ASSERT_MEM_EQ(j.in, j.in_len, expect, expect_len);
    job_free(&j);
}

/* ---- misc --------------------------------------------------------------- */

long raise_nofile(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < want) {
        rlim_t target = (rlim_t)want;
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < target)
            target = rl.rlim_max;
        rl.rlim_cur = target;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur == RLIM_INFINITY ? want : (long)rl.rlim_cur;
}

int have_ipv6_loopback(void)
{
    struct sockaddr_in6 a;
    int fd = socket(AF_INET6, SOCK_STREAM, 0), ok;
    if (fd < 0)
        return 0;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

int listen_local(int *port)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    set_cloexec(fd);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ASSERT_EQ(listen(fd, 16), 0);
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return fd;
}
