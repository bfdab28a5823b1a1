/* t_search.c -- where a script named without a folder is found (issue
 * 15): the current folder, then each --script-path DIR, then each
 * folder of $RICOCHET_PATH, then the installed scripts; --check says
 * which; a name with a folder is used as given; not found, the message
 * names every folder looked in. The runner's own folder and environment
 * (it_tmp_chdir, setenv) are what the server inherits. */
#include <signal.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_proxy.h"

/* $RICOCHET_PATH's separator for the build under test. */
static const char *list_sep(void)
{
    const char *target = getenv("RICOCHET_IT_TARGET");
    return target != NULL && strcmp(target, "windows") == 0 ? ";" : ":";
}

/* --check NAME with the options given: exit 0, and stdout exactly the
 * hooks line and "script: WANT". */
static void check_finds(const char *const *args, const char *hooks,
                        const char *want)
{
    char expect[2048];
    it_run r;
    snprintf(expect, sizeof expect, "hooks: %s\nscript: %s\n", hooks, want);
    it_run_capture(&r, args);
    if (r.code != 0 || strcmp(r.out, expect) != 0)
        TEST_FAIL("exit %d, stdout:\n%s(want:\n%s), stderr:\n%s", r.code,
                  r.out, expect, r.err);
    it_run_free(&r);
}
#define CHECK_FINDS(hooks, want, ...) \
    check_finds((const char *const[]){"--check", __VA_ARGS__, NULL}, \
                (hooks), (want))

/* A script whose replies start with tag, from a module beside it. */
static const char tagged[] =
    "local mod = require(\"found_mod\")\n"
    "function on_data(conn, data) return mod.tag .. data end\n";

void search_script_path(void)
{
    char want[1024];
    it_server *s;
    const char *lib = it_tmp_mkdir("lib");
    const char *found = it_tmp_write("lib/found.lua", tagged);
    it_tmp_write("lib/found_mod.lua", "return {tag = \"v1:\"}\n");
    it_tmp_mkdir("elsewhere");
    it_tmp_chdir("elsewhere");
    unsetenv("RICOCHET_PATH");

    CHECK_FINDS("on_data", found, "--script-path", lib, "found.lua");
    /* --script-path=DIR, and a folder that does not exist is passed by */
    snprintf(want, sizeof want, "--script-path=%s", lib);
    CHECK_FINDS("on_data", found, "--script-path", "no-such-folder", want,
                "found.lua");
    /* a name with a folder part is used as given, not searched for */
    it_run r;
    RUN(&r, "--script-path", lib, "--check", "./found.lua");
    it_run_assert_error(&r, 3, "cannot open ./found.lua");
    it_run_free(&r);

    /* the server runs it, require finds the module beside it */
    s = SERVER_START("--script-path", lib, "found.lua");
    it_job_assert_echo_via(s, 0, "x", 1, "v1:x", 4, IT_WAIT_MS);
    if (it_proxy_on_windows()) { /* no SIGHUP under Wine */
        it_server_stop_clean(s);
        return;
    }
    /* and a reload loads the file found, not one by that name here */
    it_tmp_write("elsewhere/found.lua", "-- not this one\n");
    it_tmp_write("lib/found_mod.lua", "return {tag = \"v2:\"}\n");
    it_tmp_write("lib/found.lua", "-- edited\n" "local mod = "
                 "require(\"found_mod\")\nfunction on_data(conn, data) "
                 "return \"r\" .. mod.tag .. data end\n");
    it_server_signal(s, SIGHUP);
    snprintf(want, sizeof want, "reload (SIGHUP): loaded %s", found);
    if (!it_log_wait(s, want, IT_WAIT_MS))
        TEST_FAIL("no \"%s\" in the log", want);
    it_job_assert_echo_via(s, 0, "x", 1, "rv2:x", 5, IT_WAIT_MS);
    it_server_stop_clean(s);
}

void search_env(void)
{
    char env[2048];
    const char *sep = list_sep();
    const char *lib = it_tmp_mkdir("lib2");
    const char *found = it_tmp_write("lib2/found.lua", "\n");
    const char *empty = it_tmp_mkdir("empty");
    it_tmp_chdir(NULL);
    /* empty entries (leading, doubled, trailing) are passed by */
    snprintf(env, sizeof env, "%s%s%s%s%s%s", sep, empty, sep, sep, lib,
             sep);
    setenv("RICOCHET_PATH", env, 1);
    CHECK_FINDS("(none)", found, "found.lua");
}

void search_precedence(void)
{
    char env[1024];
    const char *opt1 = it_tmp_mkdir("opt1");
    const char *opt2 = it_tmp_mkdir("opt2");
    const char *envd = it_tmp_mkdir("env");
    it_tmp_mkdir("cwd");
    it_tmp_write("cwd/same.lua", "function on_connect() end\n");
    const char *in_opt2 = it_tmp_write("opt2/same.lua",
                                       "function on_data() end\n");
    const char *in_env = it_tmp_write("env/same.lua",
                                      "function on_close() end\n");
    snprintf(env, sizeof env, "%s", envd);
    setenv("RICOCHET_PATH", env, 1);
    it_tmp_chdir("cwd");

    /* the current folder first */
    CHECK_FINDS("on_connect", "same.lua", "--script-path", opt2,
                "same.lua");
    /* then --script-path, in order, before $RICOCHET_PATH */
    it_tmp_unlink("cwd/same.lua");
    CHECK_FINDS("on_data", in_opt2, "--script-path", opt1,
                "--script-path", opt2, "same.lua");
    /* a folder by that name is not a script */
    it_tmp_mkdir("cwd/same.lua");
    CHECK_FINDS("on_close", in_env, "--script-path", opt1, "same.lua");
}

/* The installed scripts' folder: the line after "installed scripts:" in
 * --help, indented by two spaces. */
static void installed_dir(char *out, size_t cap)
{
    static const char intro[] = "then in the installed scripts:\n  ";
    it_run r;
    RUN(&r, "--help");
    const char *at = strstr(r.out, intro);
    if (r.code != 0 || at == NULL)
        TEST_FAIL("--help names no installed scripts' folder:\n%s", r.out);
    at += strlen(intro);
    size_t len = strcspn(at, "\n");
    ASSERT(len > 0 && len < cap);
    memcpy(out, at, len);
    out[len] = '\0';
    it_run_free(&r);
}

void search_not_found(void)
{
    char env[2048], want[4096], installed[1024];
    const char *sep = list_sep();
    const char *a = it_tmp_mkdir("a");
    const char *b = it_tmp_mkdir("b");
    const char *e1 = it_tmp_mkdir("e1");
    const char *e2 = it_tmp_mkdir("e2");
    it_run r;

    installed_dir(installed, sizeof installed);
    it_tmp_chdir(NULL);
    snprintf(env, sizeof env, "%s%s%s%s", e1, sep, sep, e2);
    setenv("RICOCHET_PATH", env, 1);
    snprintf(want, sizeof want, "ricochet: cannot open nosuch.lua: not "
             "found in ., %s, %s, %s, %s, %s\n", a, b, e1, e2, installed);
    RUN(&r, "--script-path", a, "--listen", "127.0.0.1:0",
        "--script-path", b, "nosuch.lua");
    it_run_assert_error(&r, 3, NULL);
    if (strcmp(r.err, want) != 0)
        TEST_FAIL("stderr:\n%s(want:\n%s)", r.err, want);
    it_run_free(&r);
    /* --check says the same */
    unsetenv("RICOCHET_PATH");
    snprintf(want, sizeof want, "ricochet: cannot open nosuch.lua: not "
             "found in ., %s\n", installed);
    RUN(&r, "--check", "nosuch.lua");
    it_run_assert_error(&r, 3, NULL);
    if (strcmp(r.err, want) != 0)
        TEST_FAIL("stderr:\n%s(want:\n%s)", r.err, want);
    it_run_free(&r);
    /* an empty folder is a usage error */
    RUN(&r, "--script-path", "", "nosuch.lua");
    it_run_assert_error(&r, 2, "--script-path: bad value '' (a folder)");
    it_run_free(&r);
    /* at most 16 of them */
    const char *many[40];
    char names[17][8];
    int n = 0;
    for (int i = 0; i < 17; i++) {
        snprintf(names[i], sizeof names[i], "d%d", i + 1);
        many[n++] = "--script-path";
        many[n++] = names[i];
    }
    many[n++] = "nosuch.lua";
    many[n] = NULL;
    it_run_capture(&r, many);
    it_run_assert_error(&r, 2, "too many --script-path (at most 16): d17");
    it_run_free(&r);
}
