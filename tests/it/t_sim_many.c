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
#include "it_tmp.h"

/* passes only on a state no other transcript has written to */
static const char fresh_text[] =
    "send \"GET k\\n\"\nexpect \"(nil)\\n\"\n"
    "send \"SET k x\\n\"\nexpect \"OK\\n\"\n";

/* The case's folder of transcripts (it_tmp removes it at exit); its
 * path goes to dir. */
static void make_dir(char *dir, size_t cap)
{
    snprintf(dir, cap, "%s", it_tmp_mkdir("many"));
}

/* Write the file name in that folder. */
static void put_file(const char *name, const char *text)
{
    char rel[64];
    snprintf(rel, sizeof rel, "many/%s", name);
    it_tmp_write(rel, text);
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
    char dir[512], want[4096];
    make_dir(dir, sizeof dir);
    put_file("b_fresh.sim", fresh_text);
    put_file("a_fresh.sim", fresh_text);
    put_file("c_wrong.sim", "send \"GET k\\n\"\nexpect \"x\\n\"\n");
    put_file("d_malformed.sim", "# a typo\nsned \"x\"\n");
    put_file("e_boom.sim", "send \"SET k 1\\n\"\nsend \"BOOM\\n\"\n"
             "wait 1\n");
    put_file("notes.txt", "frob\n");
    /* named *.sim but not a file: skipped (a FIFO would hold the run on
     * its open; not under Wine, which may take it for a file) */
    it_tmp_mkdir("many/f_folder.sim");
    if (!it_proxy_on_windows())
        ASSERT_EQ(mkfifo(it_tmp_path("many/g_fifo.sim"), 0600), 0);
    it_run r;
    RUN(&r, "--simulate", dir, it_path("tests/it/sim/kv.lua"));
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
    char dir[512], one[600], two[600], want[2048];
    make_dir(dir, sizeof dir);
    put_file("one.sim", fresh_text);
    put_file("two.sim", "connect b\nb: send \"SET k y\\n\"\n"
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
}

/* Usage errors play nothing: a path that is not there, a folder with no
 * transcript (exit 2); a script that does not load (exit 3). */
void sim_many_errors(void)
{
    char dir[512], one[600], missing[600], needle[700];
    make_dir(dir, sizeof dir);
    put_file("notes.txt", "send \"x\"\n");
    snprintf(one, sizeof one, "%s/one.sim", dir);
    snprintf(missing, sizeof missing, "%s/missing.sim", dir);
    it_run r;
    RUN(&r, "--simulate", dir, it_path("tests/it/sim/kv.lua"));
    snprintf(needle, sizeof needle, "--simulate %s: no transcripts (*.sim) "
             "in this folder", dir);
    it_run_assert_error(&r, 2, needle);
    it_run_free(&r);
    put_file("one.sim", fresh_text);
    RUN(&r, "--simulate", one, missing, it_path("tests/it/sim/kv.lua"));
    snprintf(needle, sizeof needle, "--simulate %s: ", missing);
    it_run_assert_error(&r, 2, needle);
    it_run_free(&r);
    RUN(&r, "--simulate", one, dir, it_path("tests/it/syntax_error.lua"));
    it_run_assert_error(&r, 3, "syntax_error.lua");
    it_run_free(&r);
}
