/* t_cli.c -- the command line: start-up errors and exit codes, --check,
 * --help, --version, option forms, listeners (IPv4, IPv6, several). */
#include <errno.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

/* ---- start-up errors ---------------------------------------------------- */

void startup_unknown_option(void)
{
    it_run r;
    RUN(&r, "--listen", "127.0.0.1:0", "--bogus-option", SCRIPT("echo.lua"));
    it_run_assert_error(&r, 2, "bogus-option");
    it_run_free(&r);
    RUN(&r, "--listen", "127.0.0.1:0", "--bogus-option=1", SCRIPT("echo.lua"));
    it_run_assert_error(&r, 2, "bogus-option");
    it_run_free(&r);
    /* no script argument at all is a usage error too */
    RUN(&r, "--listen", "127.0.0.1:0");
    it_run_assert_error(&r, 2, NULL);
    it_run_free(&r);
}

void startup_missing_script(void)
{
    it_run r;
    RUN(&r, "--listen", "127.0.0.1:0", FIXTURE("no_such_script.lua"));
    it_run_assert_error(&r, 3, "no_such_script.lua");
    it_run_free(&r);
}

void startup_syntax_error(void)
{
    it_run r;
    RUN(&r, "--listen", "127.0.0.1:0", FIXTURE("syntax_error.lua"));
    it_run_assert_error(&r, 3, "syntax_error.lua:4:");
    it_run_free(&r);
}

void startup_toplevel_error(void)
{
    it_run r;
    RUN(&r, "--listen", "127.0.0.1:0", FIXTURE("toplevel_error.lua"));
    it_run_assert_error(&r, 3, "toplevel_error.lua:4:");
    if (strstr(r.err, "toplevel failure") == NULL)
        TEST_FAIL("the script's error message is missing:\n%s", r.err);
    it_run_free(&r);
}

void startup_bad_listen(void)
{
    static const char *const bad[] = {
        "nonsense", "127.0.0.1:99999", "127.0.0.1:-1", "127.0.0.1:abc",
        "300.1.2.3:7007", "[::1", "[::1]", "localhost:7007", "127.0.0.1:",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        it_run r;
        fprintf(stderr, "--listen %s\n", bad[i]);
        RUN(&r, "--listen", bad[i], SCRIPT("echo.lua"));
        it_run_assert_error(&r, 2, NULL);
        it_run_free(&r);
    }
}

void startup_bad_values(void)
{
    static const char *const bad[][2] = {
        {"--max-conns", "abc"},      {"--max-conns", "-5"},
        {"--max-conns", "12x"},      {"--idle-timeout", "abc"},
        {"--idle-timeout", "-1"},    {"--drain-timeout", "1.2.3"},
        {"--drain-timeout", "-0.5"}, {"--out-limit", "1x"},
        {"--out-limit", "-1"},       {"--out-limit", "k"},
        {"--log-level", "loud"},
        /* values that would turn into their opposite or a default */
        {"--idle-timeout", "0.0001"}, {"--drain-timeout", "0.0004"},
        {"--max-conns", " 5"},       {"--max-conns", "+5"},
        {"--out-limit", " 1k"},      {"--seed", " 7"},
        {"--seed", "-1"},            {"--workers", " 2"},
        {"--hook-budget", "2000000001"}, {"--workers", "65"},
        {"--max-conns-per-ip", "-1"}, {"--max-conns-per-ip", "2x"},
        {"--max-conns-per-ip", ""},   {"--evict-idle", "-1"},
        {"--evict-idle", "soon"},
    };
    it_run r;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fprintf(stderr, "%s %s\n", bad[i][0], bad[i][1]);
        RUN(&r, "--listen", "127.0.0.1:0", bad[i][0], bad[i][1],
            SCRIPT("echo.lua"));
        it_run_assert_error(&r, 2, bad[i][0]);
        it_run_free(&r);
    }
    /* the largest values each option takes are taken */
    RUN(&r, "--check", "--hook-budget", "2000000000", "--lua-memory",
        "1048576", "--workers", "64", "--max-conns", "100000000",
        SCRIPT("echo.lua"));
    char want[4200];
    snprintf(want, sizeof want, "hooks: (none)\nscript: %s\n",
             SCRIPT("echo.lua"));
    if (r.code != 0 || strcmp(r.out, want) != 0)
        TEST_FAIL("largest values refused: exit %d, stderr: %s", r.code,
                  r.err);
    it_run_free(&r);
    /* the message says what the value must be */
    RUN(&r, "--idle-timeout", "0.0001", SCRIPT("echo.lua"));
    it_run_assert_error(&r, 2, "bad value '0.0001' (seconds: 0 for none, "
                        "or 0.001 to 1e9)");
    it_run_free(&r);
    /* an option without its value */
    RUN(&r, "--listen", "127.0.0.1:0", SCRIPT("echo.lua"), "--max-conns");
    it_run_assert_error(&r, 2, NULL);
    it_run_free(&r);
}

void startup_port_in_use(void)
{
    int port, lfd = it_host_listen_local(&port);
    char addr[64], port_text[16];
    it_run r;
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    snprintf(port_text, sizeof port_text, "%d", port);
    RUN(&r, "--listen", addr, SCRIPT("echo.lua"));
    it_run_assert_error(&r, 4, port_text);
    it_run_free(&r);
    /* the first listener binds, the second cannot: still no readiness
     * line at all, since those come only once every listener is bound */
    RUN(&r, "--listen", "127.0.0.1:0", "--listen", addr, SCRIPT("echo.lua"));
    it_run_assert_error(&r, 4, port_text);
    it_run_free(&r);
    close(lfd);
}

void startup_port_in_use_by_ricochet(void)
{
    it_server *s = SERVER_START(SCRIPT("echo.lua"));
    char addr[64], port_text[16];
    it_run r;
    snprintf(addr, sizeof addr, "127.0.0.1:%d", s->port[0]);
    snprintf(port_text, sizeof port_text, "%d", s->port[0]);
    /* a second instance must not silently share the port */
    RUN(&r, "--listen", addr, SCRIPT("echo.lua"));
    it_run_assert_error(&r, 4, port_text);
    it_run_free(&r);
    ASSERT_ECHO(s, "still mine\n", 11);
    it_server_stop_clean(s);
}

/* ---- --check, --help, --version ----------------------------------------- */

/* --check SCRIPT prints the hooks line expect, then the script's path. */
static void check_prints(const char *script, const char *hooks)
{
    char expect[4400];
    it_run r;
    snprintf(expect, sizeof expect, "%sscript: %s\n", hooks, script);
    RUN(&r, "--check", script);
    if (r.code != 0 || strcmp(r.out, expect) != 0 || r.listened)
        TEST_FAIL("--check %s: exit %d, stdout \"%s\" (want \"%s\"), "
                  "stderr:\n%s", script, r.code, r.out, expect, r.err);
    it_run_free(&r);
}

void check_hooks(void)
{
    it_run r;
    check_prints(FIXTURE("hooks_two.lua"), "hooks: on_connect on_data\n");
    check_prints(FIXTURE("hooks_all.lua"),
                 "hooks: on_connect on_data on_done on_timeout "
                 "on_close\n");
    check_prints(FIXTURE("hooks_none.lua"), "hooks: (none)\n");
    /* the shipped scripts: echo.lua has no on_data, upper.lua has */
    RUN(&r, "--check", SCRIPT("echo.lua"));
    ASSERT_EQ(r.code, 0);
    ASSERT(strncmp(r.out, "hooks: ", 7) == 0);
    ASSERT(strstr(r.out, "on_data") == NULL);
    it_run_free(&r);
    RUN(&r, "--check", SCRIPT("upper.lua"));
    ASSERT_EQ(r.code, 0);
    ASSERT(strncmp(r.out, "hooks: ", 7) == 0);
    ASSERT(strstr(r.out, "on_data") != NULL);
    it_run_free(&r);
}

void check_broken(void)
{
    it_run r;
    RUN(&r, "--check", FIXTURE("syntax_error.lua"));
    it_run_assert_error(&r, 3, "syntax_error.lua:4:");
    it_run_free(&r);
    RUN(&r, "--check", FIXTURE("toplevel_error.lua"));
    it_run_assert_error(&r, 3, "toplevel_error.lua:4:");
    it_run_free(&r);
    RUN(&r, "--check", FIXTURE("no_such_script.lua"));
    it_run_assert_error(&r, 3, "no_such_script.lua");
    it_run_free(&r);
}

void help(void)
{
    static const char *const options[] = {
        "--listen", "--max-conns", "--idle-timeout", "--drain-timeout",
        "--out-limit", "--log-level", "--check", "--help", "--version",
        "--max-conns-per-ip", "--evict-idle",
    };
    it_run r;
    RUN(&r, "--help");
    if (r.code != 0 || r.listened)
        TEST_FAIL("--help: exit %d\n%s\n%s", r.code, r.out, r.err);
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if (strstr(r.out, options[i]) == NULL)
            TEST_FAIL("--help does not list %s:\n%s", options[i], r.out);
    it_run_free(&r);
}

/* "Lua 5.4." then digits, at *s; moves *s past it. */
static int skip_lua_release(const char **s)
{
    if (strncmp(*s, "Lua 5.4.", 8) != 0 || (*s)[8] < '0' || (*s)[8] > '9')
        return 0;
    *s += 8;
    while (**s >= '0' && **s <= '9')
        (*s)++;
    return 1;
}

/* s starts with one of words (NULL-ended) followed by end; moves past. */
static int skip_word(const char **s, const char *const *words, char end)
{
    for (int i = 0; words[i]; i++) {
        size_t n = strlen(words[i]);
        if (strncmp(*s, words[i], n) == 0 && (*s)[n] == end) {
            *s += n;
            return 1;
        }
    }
    return 0;
}

/* The shape of --version, four lines:
 *     ricochet 0.1.0
 *     lua: Lua 5.4.4   (or "Lua 5.4.6 (built with Lua 5.4.4)")
 *     poller: epoll
 *     build: RelWithDebInfo, LTO on, sanitizers none, GNU 12.2.0 */
void version(void)
{
    static const char *const pollers[] = {"epoll", "poll", "wsapoll",
                                          "kqueue", NULL};
    static const char *const on_off[] = {"on", "off", NULL};
#ifdef RICOCHET_IT_SANITIZED
    static const char *const sanitizers[] = {"address,undefined", NULL};
#else
    static const char *const sanitizers[] = {"none", NULL};
#endif
    char *line[5] = {0};
    int nlines = 0;
    it_run r;
    RUN(&r, "--version");
    if (r.code != 0 || r.listened)
        TEST_FAIL("--version: exit %d, stdout \"%s\"", r.code, r.out);
    for (char *p = r.out; *p && nlines < 5; nlines++) {
        line[nlines] = p;
        char *nl = strchr(p, '\n');
        if (nl == NULL)
            TEST_FAIL("--version: last line unterminated: \"%s\"", r.out);
        *nl = '\0';
        p = nl + 1;
    }
    if (nlines != 4)
        TEST_FAIL("--version: %d lines, want 4", nlines);
#ifdef RICOCHET_IT_VERSION
    ASSERT_STR_EQ(line[0], "ricochet " RICOCHET_IT_VERSION);
#endif
    const char *s = line[1];
    if (strncmp(s, "lua: ", 5) != 0 || (s += 5, !skip_lua_release(&s)) ||
        (*s != '\0' && (strncmp(s, " (built with ", 13) != 0 ||
                         (s += 13, !skip_lua_release(&s)) ||
                         strcmp(s, ")") != 0)))
        TEST_FAIL("--version: bad lua line \"%s\"", line[1]);
    s = line[2];
    if (strncmp(s, "poller: ", 8) != 0 || (s += 8, !skip_word(&s, pollers,
                                                               '\0')))
        TEST_FAIL("--version: bad poller line \"%s\"", line[2]);
    /* build: TYPE, LTO on|off, sanitizers ..., COMPILER VERSION */
    s = line[3];
    const char *comma = strchr(s, ',');
    if (strncmp(s, "build: ", 7) != 0 || comma == NULL || comma == s + 7)
        TEST_FAIL("--version: bad build line \"%s\"", line[3]);
    s = comma;
    if (strncmp(s, ", LTO ", 6) != 0 || (s += 6, !skip_word(&s, on_off, ',')) ||
        strncmp(s, ", sanitizers ", 13) != 0 ||
        (s += 13, !skip_word(&s, sanitizers, ',')) ||
        strncmp(s, ", ", 2) != 0 || s[2] == '\0' || strchr(s + 2, ','))
        TEST_FAIL("--version: bad build line \"%s\"", line[3]);
    it_run_free(&r);
}

/* ---- option forms and listeners ----------------------------------------- */

void equals_options(void)
{
    it_server *s = SERVER_START("--listen=127.0.0.1:0", "--max-conns=100",
                                "--idle-timeout=2.5", "--drain-timeout=0.5",
                                "--out-limit=64k", "--log-level=debug",
                                SCRIPT("echo.lua"));
    unsigned char *p = it_rng_payload(0xe0, 300 * 1024);
    ASSERT_EQ(s->nlisten, 1);
    ASSERT_STR_EQ(s->host[0], "127.0.0.1");
    ASSERT_ECHO(s, p, 300 * 1024);
    free(p);
    it_server_stop_clean(s);
}

void ipv6(void)
{
    it_server *s;
    unsigned char *p;
    if (!it_host_have_ipv6_loopback()) {
        fprintf(stderr, "SKIP: this machine has no ::1\n");
        return;
    }
    s = SERVER_START("--listen", "[::1]:0", SCRIPT("echo.lua"));
    ASSERT_STR_EQ(s->host[0], "::1");
    p = it_rng_payload(0x66, 64 * 1024);
    ASSERT_ECHO(s, p, 64 * 1024);
    free(p);
    it_server_stop_clean(s);
}

void two_listeners(void)
{
    int v6 = it_host_have_ipv6_loopback();
    const char *second = v6 ? "[::1]:0" : "127.0.0.1:0";
    it_server *s = SERVER_START("--listen", "127.0.0.1:0", "--listen", second,
                                SCRIPT("echo.lua"));
    unsigned char *p0 = it_rng_payload(0x20, 100 * 1024);
    unsigned char *p1 = it_rng_payload(0x21, 100 * 1024);
    it_job j[2];
    int i4 = strcmp(s->host[0], "127.0.0.1") == 0 ? 0 : 1;

    if (!v6)
        fprintf(stderr, "no ::1 here: two IPv4 listeners instead\n");
    ASSERT_EQ(s->nlisten, 2);
    ASSERT_STR_EQ(s->host[i4], "127.0.0.1");
    ASSERT_STR_EQ(s->host[1 - i4], v6 ? "::1" : "127.0.0.1");
    ASSERT_NE(s->port[0], s->port[1]);
    /* both at once */
    it_job_init(&j[0], it_cli_connect_to(s, 0), p0, 100 * 1024, 1);
    it_job_init(&j[1], it_cli_connect_to(s, 1), p1, 100 * 1024, 1);
    ASSERT_EQ(it_job_drive(j, 2, IT_WAIT_MS, NULL), 2);
    it_job_assert_echo(&j[0], 0);
    it_job_assert_echo(&j[1], 1);
    it_job_free(&j[0]);
    it_job_free(&j[1]);
    free(p0);
    free(p1);
    it_server_stop_clean(s);
}
