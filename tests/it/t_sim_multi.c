/* t_sim_multi.c -- several connections in one --simulate transcript
 * (connect NAME, NAME: COMMAND) that fail: an expectation of the second
 * connection names its own line (exit 1), a hook error is the
 * connection's whose hook raised, and malformed prefixes, unknown or
 * repeated names and a prefixed wait are transcript errors (exit 2).
 * The ones that hold are sim/multi_*.sim, diffed by sim/check.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_tmp.h"
#include "it_rt.h"

void sim_multi_fails(void)
{
    /* 65 connections: one more than a transcript may hold */
    static char too_many[65 * 16];
    size_t used = 0;
    for (int i = 1; i <= 64; i++)
        used += (size_t)snprintf(too_many + used, sizeof too_many - used,
                                 "connect c%d\n", i);
    static const struct {
        const char *text;
        int code;
        const char *error; /* stderr holds "PATH" error "\n" */
    } fixed[] = {
        /* the second connection's expectation, on its own line */
        {"connect b\nsend \"SET k v\\n\"\nb: send \"GET k\\n\"\n"
         "expect \"OK\\n\"\nb: expect \"w\\n\"\n", 1,
         ":5: expected \"w\\n\" but the server sent \"v\\n\""},
        /* the first connection's bytes are not the second's */
        {"connect b\nsend \"GET k\\n\"\nb: expect \"(nil)\\n\"\n", 1,
         ":3: expected \"(nil)\\n\" but the server sent nothing"},
        /* b's hook error, and the expect error is the first's */
        {"connect b\nb: send \"BOOM\\n\"\nexpect error\nsend \"x\\n\"\n",
         1, ":2: a hook error (above), and no expect error after it"},
        /* ... and in a wait: b's timer raised, b was reset for it */
        {"connect b\nb: send \"LATER\\n\"\nwait 10\nexpect error\n"
         "send \"x\\n\"\n", 1,
         ":3: a hook error (above), and no expect error after it"},
        /* malformed: an unknown name, a bad prefix, a repeated name */
        {"b: send \"x\"\n", 2, ":1: no connection named b"},
        {"connect b\nc: send \"x\"\n", 2, ":2: no connection named c"},
        {"a.b: send \"x\"\n", 2, ":1: a connection prefix is NAME: "
         "(letters, digits, _ and -, 1 to 16 of them), not a.b:"},
        {"connect b\nb:\n", 2, ":2: a connection prefix needs a command "
         "after it: b"},
        {"connect b\nconnect b\n", 2,
         ":2: connect: there is already a connection named b"},
        {"connect b.c\n", 2, ":1: connect needs a name: letters, digits, "
         "_ and -, 1 to 16 of them: b.c"},
        {"connect\n", 2, ":1: connect needs a name: letters, digits, "
         "_ and -, 1 to 16 of them: (none)"},
        {"connect abcdefghijklmnopq # 17\n", 2, ":1: connect needs a "
         "name: letters, digits, _ and -, 1 to 16 of them: "
         "abcdefghijklmnopq"},
        {"connect b c\n", 2, ":1: unexpected text after the command: c"},
        {"connect b\nb: wait 10\n", 2, ":2: wait moves every "
         "connection's clock: write it with no NAME: prefix"},
        {"connect b\nb: connect c\n", 2,
         ":2: connect takes no NAME: prefix (connect NAME)"},
        {"connect b\nb: frob\n", 2, ":2: unknown command (send, wait, "
         "shutdown, close, reset, upstream, expect, connect): frob"},
        {too_many, 2, ":64: connect: too many connections (at most 64 in "
         "a transcript): c64"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        char path[512], want[1024];
        it_run r;
        snprintf(path, sizeof path, "%s",
                 it_tmp_write("transcript.sim", fixed[i].text));
        RUN(&r, "--simulate", path, it_path("tests/it/sim/kv.lua"));
        snprintf(want, sizeof want, "%s%s\n", path, fixed[i].error);
        if (r.code != fixed[i].code || strstr(r.err, want) == NULL)
            TEST_FAIL("case %zu: want exit %d and \"%s\"; exit %d, "
                      "stdout:\n%s\nstderr:\n%s", i, fixed[i].code, want,
                      r.code, r.out, r.err);
        it_run_free(&r);
    }
}
