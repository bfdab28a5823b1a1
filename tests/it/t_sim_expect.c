/* t_sim_expect.c -- --simulate's expect lines that do not hold: each
 * transcript must fail with exit 1 and its exact message on stderr,
 * "FILE:LINE: ...", bytes escaped as the log prints them. Malformed
 * expect lines are transcript errors: exit 2. The ones that hold are
 * sim/expect_*.sim, diffed by sim/check.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_tmp.h"
#include "it_rt.h"

void sim_expect_fails(void)
{
    static const struct {
        const char *text;
        const char *script;  /* under scripts/, or a tests/it fixture */
        int idle;            /* --idle-timeout 1 */
        int code;
        const char *error;   /* stderr holds "PATH" error "\n" */
    } cases[] = {
        /* a wrong byte: fails at once, what came as long as expected */
        {"send \"hello\\n\"\nexpect \"help\\n\"\n", "scripts/quit.lua", 0,
         1, ":2: expected \"help\\n\" but the server sent \"hello\""},
        /* several strings are one expectation */
        {"send \"ab\"\nexpect \"a\" \"c\"\n", "scripts/echo.lua", 0, 1,
         ":2: expected \"ac\" but the server sent \"ab\""},
        /* too few bytes: by the end of the next wait */
        {"send \"hello\\n\"\nexpect \"hello\\nworld\\n\"\nwait 10\n"
         "send \"x\\n\"\n", "scripts/quit.lua", 0, 1,
         ":2: expected \"hello\\nworld\\n\" but the server sent "
         "\"hello\\n\""},
        /* ... or by the end of the transcript */
        {"send \"ab\"\nexpect \"abc\"\n", "scripts/echo.lua", 0, 1,
         ":2: expected \"abc\" but the server sent \"ab\""},
        /* ... or when the server ended first */
        {"send \"QUIT\\r\\n\"\nexpect \"BYE\\r\\nmore\"\n",
         "scripts/quit.lua", 0, 1,
         ":2: expected \"BYE\\r\\nmore\" but the server sent "
         "\"BYE\\r\\n\" then FIN"},
        /* an unexpected FIN */
        {"send \"QUIT\\r\\n\"\nexpect \"BYE\\r\\n\"\nexpect close\n",
         "scripts/quit.lua", 0, 1,
         ":3: expected a close but the server sent FIN"},
        /* an end with bytes unmatched before it */
        {"send \"QUIT\\r\\n\"\nexpect fin\n", "scripts/quit.lua", 0, 1,
         ":2: expected FIN but the server sent \"BYE\\r\\n\" then FIN"},
        /* an end that never came */
        {"send \"a\"\nexpect \"a\"\nexpect reset\nwait 10\n",
         "scripts/echo.lua", 0, 1,
         ":3: expected RST but the server sent nothing"},
        /* expect nothing: bytes already there, or an end in the wait */
        {"send \"a\"\nexpect nothing\nwait 10\n", "scripts/echo.lua", 0, 1,
         ":2: expected nothing but the server sent \"a\""},
        {"send \"a\"\nexpect \"a\"\nexpect nothing\nwait 5000\n",
         "scripts/echo.lua", 1, 1,
         ":3: expected nothing but the server sent FIN"},
        /* a hook error with no expect error: at the next command ... */
        {"send \"boom\"\nwait 10\n", "tests/it/boom.lua", 0, 1,
         ":1: a hook error (above), and no expect error after it"},
        /* ... or at the end */
        {"send \"ok\"\nexpect \"ok\"\nsend \"boom\"\n", "tests/it/boom.lua",
         0, 1, ":3: a hook error (above), and no expect error after it"},
        /* expect error and none came */
        {"send \"a\"\nexpect error\nwait 10\n", "scripts/echo.lua", 0, 1,
         ":2: expected a hook error but there was none"},
        /* malformed expect lines: transcript errors */
        {"expect frob\n", "scripts/echo.lua", 0, 2,
         ":1: expect needs a quoted string, fin, close, reset, nothing or "
         "error: frob"},
        {"expect\n", "scripts/echo.lua", 0, 2,
         ":1: expect needs a quoted string"},
        {"expect fin now\n", "scripts/echo.lua", 0, 2,
         ":1: unexpected text after the command: now"},
        {"expect \"a\\q\"\n", "scripts/echo.lua", 0, 2,
         ":1: unknown escape in string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512], want[1024];
        it_run r;
        snprintf(path, sizeof path, "%s",
                 it_tmp_write("transcript.sim", cases[i].text));
        if (cases[i].idle)
            RUN(&r, "--simulate", path, it_path(cases[i].script),
                "--idle-timeout", "1");
        else
            RUN(&r, "--simulate", path, it_path(cases[i].script));
        snprintf(want, sizeof want, "%s%s%s", path, cases[i].error,
                 cases[i].code == 1 ? "\n" : "");
        if (r.code != cases[i].code || strstr(r.err, want) == NULL)
            TEST_FAIL("case %zu: want exit %d and \"%s\"; exit %d, "
                      "stdout:\n%s\nstderr:\n%s", i, cases[i].code, want,
                      r.code, r.out, r.err);
        it_run_free(&r);
    }
}
