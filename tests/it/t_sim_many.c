/* t_sim_many.c -- many transcripts at once: ricochet --simulate FILE|DIR
 * ... SCRIPT. One line per transcript ("ok   FILE" or "FAIL FILE:LINE:
 * why"), then "N passed, M failed"; exit 0 when all passed, 1 when any
 * failed, 2 for a path that is not there or a folder with no *.sim, 3
 * for a script that does not load. Each transcript has a fresh state:
 * fresh.sim passes only when the store starts empty, and runs twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_proxy.h"
#include "it_rt.h"

/* passes only on a state no other transcript has written to */
static const char fresh_text[] =
    "send \"GET k\\n\"\nexpect \"(nil)\\n\"\n"
    "send \"SET k x\\n\"\nexpect \"OK\\n\"\n";

/* A new temporary folder; its path goes to dir. */
static void make_dir(char *dir, size_t cap)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, cap, "%s/ricochet-many-XXXXXX",
             base && *base ? base : "/tmp");
    ASSERT(mkdtemp(dir) != NULL);
}

static void put_file(const char *dir, const char *name, const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ASSERT(f != NULL);
    ASSERT_EQ(fwrite(text, 1, strlen(text), f), strlen(text));
    ASSERT_EQ(fclose(f), 0);
}

static void remove_files(const char *dir, const char *const *names)
{
    char path[600];
    for (int i = 0; names[i] != NULL; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void expect_run(const it_run *r, int code, const char *out)
{
    if (r->code != code || strcmp(r->out, out) != 0)
        TEST_FAIL("want exit %d and stdout:\n%s\ngot exit %d, stdout:\n%s\n"
                  "stderr:\n%s", code, out, r->code, r->out, r->err);
}

/* A folder with passing and failing transcripts, and a file that is not
 * one: sorted, each its line, the count, exit 1. */
void sim_many_dir(void)
{
    static const char *const names[] = {
        "b_fresh.sim", "a_fresh.sim", "c_wrong.sim", "d_malformed.sim",
        "e_boom.sim", "notes.txt", NULL
    };
    char dir[512], want[4096];
    make_dir(dir, sizeof dir);
    put_file(dir, "b_fresh.sim", fresh_text);
    put_file(dir, "a_fresh.sim", fresh_text);
    put_file(dir, "c_wrong.sim", "send \"GET k\\n\"\nexpect \"x\\n\"\n");
    put_file(dir, "d_malformed.sim", "# a typo\nsned \"x\"\n");
    put_file(dir, "e_boom.sim", "send \"SET k 1\\n\"\nsend \"BOOM\\n\"\n"
             "wait 1\n");
    put_file(dir, "notes.txt", "frob\n");
    /* named *.sim but not a file: skipped (a FIFO would hold the run on
     * its open; not under Wine, which may take it for a file) */
    char odd[600], fifo[600];
    snprintf(odd, sizeof odd, "%s/f_folder.sim", dir);
    snprintf(fifo, sizeof fifo, "%s/g_fifo.sim", dir);
    ASSERT_EQ(mkdir(odd, 0700), 0);
    int with_fifo = !it_proxy_on_windows();
    if (with_fifo)
        ASSERT_EQ(mkfifo(fifo, 0600), 0);
    it_run r;
    RUN(&r, "--simulate", dir, it_path("tests/it/sim/kv.lua"));
    remove_files(dir, names);
    rmdir(odd);
    if (with_fifo)
        unlink(fifo);
    snprintf(want, sizeof want,
             "ok   %s/a_fresh.sim\n"
             "ok   %s/b_fresh.sim\n"
             "FAIL %s/c_wrong.sim:2: expected \"x\\n\" but the server sent "
             "\"(n\"\n"
             "FAIL %s/d_malformed.sim:2: unknown command (send, wait, "
             "shutdown, close, reset, upstream, expect, connect): sned\n"
             "FAIL %s/e_boom.sim:2: a hook error (above), and no expect "
             "error after it\n"
             "2 passed, 3 failed\n", dir, dir, dir, dir, dir);
    expect_run(&r, 1, want);
    /* the failing hook's traceback still reaches stderr */
    if (strstr(r.err, "boom on connection 1") == NULL)
        TEST_FAIL("no traceback on stderr:\n%s", r.err);
    it_run_free(&r);
}

/* Files named one by one (--simulate repeated, and before the script),
 * all passing: exit 0. The same transcript twice passes only because
 * each gets a fresh state. */
void sim_many_files(void)
{
    static const char *const names[] = {"one.sim", "two.sim", NULL};
    char dir[512], one[600], two[600], want[2048];
    make_dir(dir, sizeof dir);
    put_file(dir, "one.sim", fresh_text);
    put_file(dir, "two.sim", "connect b\nb: send \"SET k y\\n\"\n"
             "send \"GET k\\n\"\nexpect \"y\\n\"\n");
    snprintf(one, sizeof one, "%s/one.sim", dir);
    snprintf(two, sizeof two, "%s/two.sim", dir);
    it_run r;
    RUN(&r, "--simulate", one, "--simulate", two, one,
        it_path("tests/it/sim/kv.lua"));
    snprintf(want, sizeof want, "ok   %s\nok   %s\nok   %s\n"
             "3 passed, 0 failed\n", one, two, one);
    expect_run(&r, 0, want);
    it_run_free(&r);
    /* a folder and a file after it, in the order given */
    RUN(&r, "--simulate", two, dir, it_path("tests/it/sim/kv.lua"));
    snprintf(want, sizeof want, "ok   %s\nok   %s\nok   %s\n"
             "3 passed, 0 failed\n", two, one, two);
    expect_run(&r, 0, want);
    it_run_free(&r);
    remove_files(dir, names);
}

/* Usage errors play nothing: a path that is not there, a folder with no
 * transcript (exit 2); a script that does not load (exit 3). */
void sim_many_errors(void)
{
    static const char *const names[] = {"one.sim", "notes.txt", NULL};
    char dir[512], one[600], missing[600], needle[700];
    make_dir(dir, sizeof dir);
    put_file(dir, "notes.txt", "send \"x\"\n");
    snprintf(one, sizeof one, "%s/one.sim", dir);
    snprintf(missing, sizeof missing, "%s/missing.sim", dir);
    it_run r;
    RUN(&r, "--simulate", dir, it_path("tests/it/sim/kv.lua"));
    snprintf(needle, sizeof needle, "--simulate %s: no transcripts (*.sim) "
             "in this folder", dir);
    it_run_assert_error(&r, 2, needle);
    it_run_free(&r);
    put_file(dir, "one.sim", fresh_text);
    RUN(&r, "--simulate", one, missing, it_path("tests/it/sim/kv.lua"));
    snprintf(needle, sizeof needle, "--simulate %s: ", missing);
    it_run_assert_error(&r, 2, needle);
    it_run_free(&r);
    RUN(&r, "--simulate", one, dir, it_path("tests/it/syntax_error.lua"));
    it_run_assert_error(&r, 3, "syntax_error.lua");
    it_run_free(&r);
    remove_files(dir, names);
}
