/* t_record.c -- --record DIR: a live connection written as a transcript
 * that --simulate replays and passes against the same script (and fails
 * against another). The server logs "recorded conn N to FILE" at debug
 * once the file is in place; the cases wait for that line. Times between
 * events are real, so a transcript is compared with its wait lines taken
 * out, and the waits a timer decided are checked on their own. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_proxy.h"

#define MAX_DIRS 4

/* The folders a case made, removed at its end, or at exit when it
 * failed first. */
static char made_dirs[MAX_DIRS][512];

static void empty_and_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char path[1024];
        if (e->d_name[0] == '.' &&
            (e->d_name[1] == '\0' || strcmp(e->d_name, "..") == 0))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void remove_made_dirs(void)
{
    for (int i = 0; i < MAX_DIRS; i++)
        if (made_dirs[i][0] != '\0')
            empty_and_remove(made_dirs[i]);
}

/* A new empty folder for recordings. */
static void make_dir(char *dir, size_t cap)
{
    static int registered;
    const char *base = getenv("TMPDIR");
    snprintf(dir, cap, "%s/ricochet-rec-XXXXXX",
             base && *base ? base : "/tmp");
    ASSERT(mkdtemp(dir) != NULL);
    if (!registered)
        registered = atexit(remove_made_dirs) == 0;
    for (int i = 0; i < MAX_DIRS; i++) {
        if (made_dirs[i][0] == '\0') {
            snprintf(made_dirs[i], sizeof made_dirs[i], "%s", dir);
            return;
        }
    }
}

/* The .sim files in dir (and nothing else: no temporary left). */
static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    ASSERT(d != NULL);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".sim") != 0 ||
            e->d_name[0] == '.')
            TEST_FAIL("a stray file in the recordings: %s", e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

static void remove_dir(const char *dir)
{
    empty_and_remove(dir);
    DIR *d = opendir(dir);
    if (d != NULL)
        closedir(d);
    ASSERT(d == NULL);
    for (int i = 0; i < MAX_DIRS; i++)
        if (strcmp(made_dirs[i], dir) == 0)
            made_dirs[i][0] = '\0';
}

/* Wait for the server's line saying conn id was recorded; its file's
 * path goes to path. */
static void recorded(it_server *s, unsigned id, char *path, size_t cap)
{
    char needle[64];
    snprintf(needle, sizeof needle, "recorded conn %u to ", id);
    if (!it_log_wait(s, needle, IT_WAIT_MS))
        TEST_FAIL("the server did not record conn %u", id);
    char *log = it_log_read(s);
    const char *at = strstr(log, needle) + strlen(needle);
    size_t n = strcspn(at, " \n");
    ASSERT_LT(n, cap);
    memcpy(path, at, n);
    path[n] = '\0';
    free(log);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    ASSERT(f != NULL);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    ASSERT(feof(f));
    fclose(f);
    buf[n] = '\0';
    char *text = malloc(n + 1);
    ASSERT(text != NULL);
    memcpy(text, buf, n + 1);
    return text;
}

/* text's first four lines are the header of conn id from the client fd
 * running script; returns what follows. */
static const char *check_head(const char *text, unsigned id, int fd,
                              const char *script)
{
    char peer[64], want[512];
    it_cli_local_name(fd, peer, sizeof peer);
    snprintf(want, sizeof want, "# ricochet --record: conn %u from %s\n"
             "# started ", id, peer);
    if (strncmp(text, want, strlen(want)) != 0)
        TEST_FAIL("the header: want \"%s...\", got:\n%s", want, text);
    const char *p = text + strlen(want);
    /* 2026-12-02T06:58:01.564Z */
    ASSERT_EQ(strcspn(p, "\n"), 24);
    ASSERT(p[4] == '-' && p[10] == 'T' && p[19] == '.' && p[23] == 'Z');
    p += 25;
    snprintf(want, sizeof want, "# script %s\n# replay: ricochet --simulate "
             "FILE SCRIPT (with the server's options)\n", script);
    if (strncmp(p, want, strlen(want)) != 0)
        TEST_FAIL("the header: want \"%s\", got:\n%s", want, p);
    return p + strlen(want);
}

/* body without its wait lines. */
static char *without_waits(const char *body)
{
    char *out = malloc(strlen(body) + 1), *o = out;
    ASSERT(out != NULL);
    for (const char *p = body; *p;) {
        size_t n = strcspn(p, "\n");
        n += p[n] == '\n';
        if (strncmp(p, "wait ", 5) != 0) {
            memcpy(o, p, n);
            o += n;
        }
        p += n;
    }
    *o = '\0';
    return out;
}

/* The sum of the wait lines between the line that starts with from and
 * the one that starts with to. */
static long waits_between(const char *body, const char *from,
                          const char *to)
{
    const char *p = strstr(body, from), *end = strstr(body, to);
    ASSERT(p != NULL && end != NULL && p < end);
    long sum = 0;
    for (; p < end; p = strchr(p, '\n') + 1)
        if (strncmp(p, "wait ", 5) == 0)
            sum += strtol(p + 5, NULL, 10);
    return sum;
}

/* The line of text where marker starts (the first line is 1). */
static int line_of(const char *text, const char *marker)
{
    const char *at = strstr(text, marker);
    ASSERT(at != NULL);
    int line = 1;
    for (const char *p = text; p < at; p++)
        line += *p == '\n';
    return line;
}

/* Replaying the recording at path (whose text is text) against script
 * passes: exit 0. r holds the run, for the caller to look at and free. */
static void replay_passes(it_run *r, const char *path, const char *script,
                          const char *text)
{
    RUN(r, "--simulate", path, script);
    if (r->code != 0)
        TEST_FAIL("the replay failed (exit %d):\n%s\n%s\n%s", r->code,
                  text, r->out, r->err);
}

/* Replaying the recording at path against script fails: exit 1, and
 * want on stderr. */
static void replay_fails(const char *path, const char *script,
                         const char *want)
{
    it_run r;
    RUN(&r, "--simulate", path, script);
    if (r.code != 1 || strstr(r.err, want) == NULL)
        TEST_FAIL("want exit 1 and \"%s\"; exit %d, stderr:\n%s", want,
                  r.code, r.err);
    it_run_free(&r);
}

static void recv_exact(int fd, const char *want)
{
    char buf[1024];
    size_t n = strlen(want);
    ASSERT_LT(n, sizeof buf);
    ASSERT_EQ(it_cli_recv_n(fd, buf, n, IT_WAIT_MS), n);
    ASSERT_MEM_EQ(buf, n, want, n);
}

static void recv_eof(int fd)
{
    unsigned char *rest = NULL;
    size_t n = 0;
    ASSERT_EQ(it_cli_recv_eof(fd, &rest, &n, 1024, IT_WAIT_MS), 0);
    ASSERT_EQ(n, 0);
    free(rest);
}

/* A session with a banner, replies and a timer's late replies, written
 * line for line; it replays and passes against its script, and fails,
 * at the banner's expect line, against another. */
void record_replays(void)
{
    char dir[512], path[1024];
    make_dir(dir, sizeof dir);
    const char *script = FIXTURE("record.lua");
    char script_path[1024];
    snprintf(script_path, sizeof script_path, "%s", script);
    it_server *s = SERVER_START(script_path, "--record", dir,
                                "--log-level", "debug");
    int fd = it_cli_connect_to(s, 0);
    recv_exact(fd, "hi\r\n");
    CLI_SEND(fd, "one\n");
    recv_exact(fd, "ONE\nlate one\n");
    CLI_SEND(fd, "two\n");
    recv_exact(fd, "TWO\nlate two\n");
    it_cli_shut_wr(fd);
    recv_eof(fd);
    recorded(s, 1, path, sizeof path);
    char *text = read_text(path);
    const char *body = check_head(text, 1, fd, script_path);
    close(fd);
    char *lines = without_waits(body);
    ASSERT_STR_EQ(lines,
                  "expect \"hi\\r\\n\"\n"
                  "send \"one\\n\"\n"
                  "expect \"ONE\\n\"\n"
                  "expect \"late one\\n\"\n"
                  "send \"two\\n\"\n"
                  "expect \"TWO\\n\"\n"
                  "expect \"late two\\n\"\n"
                  "shutdown\n"
                  "expect fin\n"
                  "expect close\n");
    /* the timer's 30 ms from the chunk that set it: live, at least 31
     * (the loop rounds up), written as one less, what the replay takes */
    long waited = waits_between(body, "send \"one", "expect \"late one");
    ASSERT_GE(waited, 30);
    ASSERT_LT(waited, IT_WAIT_MS);
    waited = waits_between(body, "send \"two", "expect \"late two");
    ASSERT_GE(waited, 30);
    ASSERT_LT(waited, IT_WAIT_MS);
    it_server_stop_clean(s);
    ASSERT_EQ(count_files(dir), 1);

    it_run r;
    replay_passes(&r, path, script_path, text);
    ASSERT(strstr(r.out, "server sends 9 bytes \"late two\\n\"") != NULL);
    it_run_free(&r);

    /* another script: no banner (its line: after the header, and a wait
     * when the banner went out a ms after the accept) */
    char want[1200];
    snprintf(want, sizeof want, "%s:%d: expected \"hi\\r\\n\" but the server "
             "sent ", path, line_of(text, "expect \"hi"));
    replay_fails(path, SCRIPT("upper.lua"), want);
    free(lines);
    free(text);
    remove_dir(dir);
}

/* The client's RST is a reset line; a hook error is expect error, then
 * the server's RST; both replay. */
void record_resets(void)
{
    char dir[512], path[1024];
    make_dir(dir, sizeof dir);
    char boom[1024];
    snprintf(boom, sizeof boom, "%s", FIXTURE("boom.lua"));
    it_server *s = SERVER_START(boom, "--record", dir, "--log-level",
                                "debug");
    it_run r;
    char *text, *lines;
    int fd;
    if (!it_proxy_skip_resets_on_wine()) { /* a RST reads as a FIN there */
        fd = it_cli_connect_to(s, 0);
        CLI_SEND(fd, "a");
        recv_exact(fd, "a");
        it_cli_abort(fd);
        recorded(s, 1, path, sizeof path);
        text = read_text(path);
        lines = without_waits(strstr(text, "\nsend ") + 1);
        ASSERT_STR_EQ(lines, "send \"a\"\nexpect \"a\"\nreset\n");
        free(lines);
        replay_passes(&r, path, boom, text);
        it_run_free(&r);
        free(text);
    } else {
        fd = it_cli_connect_to(s, 0); /* conn 1: the next is conn 2 */
        close(fd);
        recorded(s, 1, path, sizeof path);
    }

    fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "ok");
    recv_exact(fd, "ok");
    CLI_SEND(fd, "boom");
    recorded(s, 2, path, sizeof path);
    close(fd);
    text = read_text(path);
    lines = without_waits(strstr(text, "\nsend ") + 1);
    ASSERT_STR_EQ(lines, "send \"ok\"\nexpect \"ok\"\nsend \"boom\"\n"
                  "expect error\nexpect reset\n");
    free(lines);
    replay_passes(&r, path, boom, text);
    it_run_free(&r);
    /* a script with no error fails it */
    char want[1200];
    snprintf(want, sizeof want, "%s:%d: expected a hook error but there "
             "was none\n", path, line_of(text, "expect error"));
    replay_fails(path, SCRIPT("echo.lua"), want);
    free(text);
    it_server_stop(s);
    ASSERT_EQ(count_files(dir), 2);
    remove_dir(dir);
}

/* Past --record-max the recording stops: the connection goes on as ever,
 * the file says it was cut, and its replay fails there. */
void record_truncated(void)
{
    char dir[512], path[1024];
    make_dir(dir, sizeof dir);
    it_server *s = SERVER_START(SCRIPT("echo.lua"), "--record", dir,
                                "--record-max", "1k", "--log-level",
                                "debug");
    int fd = it_cli_connect_to(s, 0);
    char chunk[501];
    memset(chunk, 'x', 500);
    chunk[500] = '\0';
    for (int i = 0; i < 4; i++) {
        CLI_SEND(fd, chunk);
        recv_exact(fd, chunk);
    }
    it_cli_shut_wr(fd);
    recv_eof(fd);
    close(fd);
    recorded(s, 1, path, sizeof path);
    ASSERT(it_log_wait(s, " (truncated)", IT_WAIT_MS));
    char *text = read_text(path);
    /* then the body, a wait first when the client's chunk came later */
    const char *mark = strstr(text, "\n# TRUNCATED: see the end\n");
    ASSERT(mark != NULL);
    mark += strlen("\n# TRUNCATED: see the end\n");
    if (strncmp(mark, "wait ", 5) == 0)
        mark = strchr(mark, '\n') + 1;
    ASSERT_EQ(strncmp(mark, "send \"xxx", 9), 0);
    static const char tail[] = "\n# cut here: the connection went on past "
                               "--record-max (1024 bytes of transcript)\n"
                               "truncated\n";
    size_t len = strlen(text);
    ASSERT_GT(len, strlen(tail));
    ASSERT_STR_EQ(text + len - strlen(tail), tail);
    const char *body = strstr(text, "\nsend ") + 1;
    ASSERT_LE((size_t)(text + len - strlen(tail) + 1 - body), 1024);
    replay_fails(path, SCRIPT("echo.lua"), "the recording was cut here "
                 "(--record-max): what came after is not in the "
                 "transcript\n");
    free(text);
    it_server_stop_clean(s);
    remove_dir(dir);
}

/* Each worker records its own connections: one file each, names unique
 * (ids are unique across workers), each replays. */
void record_workers(void)
{
    char dir[512];
    make_dir(dir, sizeof dir);
    it_server *s = SERVER_START(SCRIPT("upper.lua"), "--record", dir,
                                "--workers", "2", "--log-level", "debug");
    for (int i = 0; i < 6; i++) {
        int fd = it_cli_connect_to(s, 0);
        CLI_SEND(fd, "abc");
        recv_exact(fd, "ABC");
        it_cli_shut_wr(fd);
        recv_eof(fd);
        close(fd);
    }
    ASSERT_EQ(it_log_wait_count(s, "debug", "recorded conn ", 6,
                                IT_WAIT_MS), 6);
    it_server_stop_clean(s);
    ASSERT_EQ(count_files(dir), 6);
    DIR *d = opendir(dir);
    ASSERT(d != NULL);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        it_run r;
        char *text = read_text(path);
        replay_passes(&r, path, SCRIPT("upper.lua"), text);
        free(text);
        it_run_free(&r);
    }
    closedir(d);
    remove_dir(dir);
}

/* A folder that cannot take files, a cap too small, --record offline:
 * usage errors, exit 2, before anything listens. */
void record_bad_options(void)
{
    static const struct {
        const char *args[6];
        const char *error;
    } cases[] = {
        {{"--record", "/nonexistent-ricochet-dir/rec", NULL},
         "ricochet: --record /nonexistent-ricochet-dir/rec: cannot create "
         "a file there: No such file or directory (see ricochet --help)\n"},
        {{"--record", "", NULL},
         "ricochet: --record: bad value ''"},
        {{"--record", ".", "--record-max", "100", NULL},
         "ricochet: --record-max: bad value '100' (bytes, with k, m or g: "
         "1k to 1 TiB)"},
        {{"--record", ".", "--simulate", "x.sim", NULL},
         "ricochet: --record records the live server: not with --simulate "
         "or --check"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[8] = {0};
        int n = 0;
        for (; cases[i].args[n]; n++)
            args[n] = cases[i].args[n];
        args[n] = SCRIPT("echo.lua");
        it_run r;
        it_run_capture(&r, args);
        if (r.code != 2 || strstr(r.err, cases[i].error) == NULL ||
            r.listened)
            TEST_FAIL("case %zu: want exit 2 and \"%s\"; exit %d, "
                      "stderr:\n%s", i, cases[i].error, r.code, r.err);
        it_run_free(&r);
    }
}

/* Proxy mode: the upstream's side goes in the client's transcript as
 * upstream lines (its connect's answer, its bytes, its FIN), and the
 * transcript replays with --upstream, which is not dialled. */
void record_proxy(void)
{
    char dir[512], path[1024], port_text[16], up_addr[32];
    make_dir(dir, sizeof dir);
    int port, cli, up;
    int lfd = it_host_listen_local(&port);
    it_server *s = it_proxy_start(port, SCRIPT("proxy.lua"), "--record", dir,
                                  "--log-level", "debug", NULL);
    it_proxy_pair(s, lfd, &cli, &up);
    CLI_SEND(up, "220 ready\r\n");
    recv_exact(cli, "220 ready\r\n");
    CLI_SEND(cli, "HELO x\r\n");
    recv_exact(up, "HELO x\r\n");
    CLI_SEND(up, "250 ok\r\n");
    recv_exact(cli, "250 ok\r\n");
    it_cli_shut_wr(up);
    recv_eof(cli);
    it_cli_shut_wr(cli);
    recv_eof(up);
    recorded(s, 1, path, sizeof path);
    char *text = read_text(path);
    snprintf(up_addr, sizeof up_addr, "127.0.0.1:%d", port);
    const char *body = check_head(text, 1, cli, SCRIPT("proxy.lua"));
    char want[256];
    snprintf(want, sizeof want, "# proxy mode: replay with --upstream (not "
             "dialled), e.g. --upstream %s\n", up_addr);
    ASSERT(strncmp(body, want, strlen(want)) == 0);
    char *lines = without_waits(body + strlen(want));
    ASSERT_STR_EQ(lines,
                  "upstream accept\n"
                  "upstream send \"220 ready\\r\\n\"\n"
                  "expect \"220 ready\\r\\n\"\n"
                  "send \"HELO x\\r\\n\"\n"
                  "upstream send \"250 ok\\r\\n\"\n"
                  "expect \"250 ok\\r\\n\"\n"
                  "upstream shutdown\n"
                  "expect fin\n"
                  "shutdown\n"
                  "expect close\n");
    free(lines);
    close(cli);
    close(up);
    close(lfd);
    it_server_stop_clean(s);
    it_run r;
    snprintf(port_text, sizeof port_text, "127.0.0.1:%d", port + 1);
    RUN(&r, "--simulate", path, SCRIPT("proxy.lua"), "--upstream",
        port_text);
    if (r.code != 0)
        TEST_FAIL("the replay failed (exit %d):\n%s\n%s\n%s", r.code, text,
                  r.out, r.err);
    ASSERT(strstr(r.out, "upstream accepts the connection") != NULL);
    it_run_free(&r);
    free(text);
    remove_dir(dir);
}

/* A recording that cannot be written (its folder went away) is counted
 * and logged; the connection is served as ever. */
void record_lost(void)
{
    char dir[512];
    make_dir(dir, sizeof dir);
    it_server *s = SERVER_START(SCRIPT("upper.lua"), "--record", dir);
    ASSERT_EQ(rmdir(dir), 0);
    int fd = it_cli_connect_to(s, 0);
    CLI_SEND(fd, "abc");
    recv_exact(fd, "ABC");
    it_cli_shut_wr(fd);
    recv_eof(fd);
    close(fd);
    char want[700];
    snprintf(want, sizeof want, "conn 1: cannot write its recording %s/",
             dir);
    if (!it_log_wait(s, want, IT_WAIT_MS))
        TEST_FAIL("no warning \"%s\"", want);
    ASSERT(it_log_wait(s, ".sim: No such file or directory (recordings "
                       "lost so far: 1)", IT_WAIT_MS));
    /* and counted in the metrics (SIGUSR1: not on Windows) */
    if (!it_proxy_on_windows()) {
        it_server_signal(s, SIGUSR1);
        if (!it_log_wait(s, "metrics: ricochet_recordings_total{result="
                         "\"lost\"} 1\n", IT_WAIT_MS))
            TEST_FAIL("the metrics do not count the lost recording");
        char *log = it_log_read(s);
        ASSERT(strstr(log, "metrics: ricochet_recordings_total{result="
                      "\"written\"} 0\n") != NULL);
        free(log);
    }
    it_server_stop(s);
}
