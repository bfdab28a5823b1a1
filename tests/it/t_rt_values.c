/* t_rt_values.c -- the script runtime seen from outside (issue 11):
 * values that must not turn into their opposite, and errors that name
 * what they are about. Shaping fractions round up instead of becoming 0
 * ("off"); the shipped scripts refuse arguments they do not know; a
 * binary chunk and a top level out of memory are reported with the
 * script's file (and --lua-memory). */
#include <stdio.h>

#include "cases.h"
#include "harness.h"

/* What --simulate prints for shape_fractions.sim, by what=. */
static const struct {
    const char *what;
    const char *expect;
} fractions[] = {
    {"delay", /* conn:delay(0.9): 1 ms */
     "     0 ms  client connects\n"
     "     0 ms  client sends 3 bytes \"abc\"\n"
     "     1 ms  server sends 3 bytes \"abc\"\n"
     "  4000 ms  client half-closes (FIN)\n"
     "  4000 ms  server half-closes (FIN)\n"
     "  4000 ms  server closes the connection (done)\n"},
    {"rate", /* conn:rate(0.5): 1 byte a second */
     "     0 ms  client connects\n"
     "     0 ms  client sends 3 bytes \"abc\"\n"
     "     0 ms  server sends 1 byte \"a\"\n"
     "  1000 ms  server sends 1 byte \"b\"\n"
     "  2000 ms  server sends 1 byte \"c\"\n"
     "  4000 ms  client half-closes (FIN)\n"
     "  4000 ms  server half-closes (FIN)\n"
     "  4000 ms  server closes the connection (done)\n"},
    {"slice", /* conn:slice(0.5, 0, 100): 1-byte writes */
     "     0 ms  client connects\n"
     "     0 ms  client sends 3 bytes \"abc\"\n"
     "     0 ms  server sends 1 byte \"a\"\n"
     "   100 ms  server sends 1 byte \"b\"\n"
     "   200 ms  server sends 1 byte \"c\"\n"
     "  4000 ms  client half-closes (FIN)\n"
     "  4000 ms  server half-closes (FIN)\n"
     "  4000 ms  server closes the connection (done)\n"},
    {"after", /* conn:after(0.4, f): 1 ms */
     "     0 ms  client connects\n"
     "     0 ms  client sends 3 bytes \"abc\"\n"
     "     0 ms  server sends 3 bytes \"abc\"\n"
     "     1 ms  timer fired\n"
     "     1 ms  server sends 6 bytes \"timer\\n\"\n"
     "  4000 ms  client half-closes (FIN)\n"
     "  4000 ms  server half-closes (FIN)\n"
     "  4000 ms  server closes the connection (done)\n"},
};

void rt_shape_fractions(void)
{
    for (size_t i = 0; i < sizeof fractions / sizeof fractions[0]; i++) {
        char arg[32];
        it_run r;
        snprintf(arg, sizeof arg, "what=%s", fractions[i].what);
        RUN(&r, "--simulate", FIXTURE("shape_fractions.sim"),
            FIXTURE("shape_fractions.lua"), "--", arg);
        if (r.code != 0 || strcmp(r.out, fractions[i].expect) != 0)
            TEST_FAIL("%s: exit %d, stdout:\n%s\nexpected:\n%s\nstderr:\n%s",
                      arg, r.code, r.out, fractions[i].expect, r.err);
        it_run_free(&r);
    }
}

void rt_scripts_refuse_unknown_args(void)
{
    static const struct {
        const char *script;
        const char *takes;   /* what the message says it takes */
        const char *good;    /* an argument it takes; NULL: none */
    } shipped[] = {
        {"echo.lua", "(echo.lua takes none)", NULL},
        {"upper.lua", "(upper.lua takes none)", NULL},
        {"quit.lua", "(quit.lua takes none)", NULL},
        {"goodbye.lua", "(goodbye.lua takes none)", NULL},
        {"lines.lua", "(lines.lua takes max=N)", "max=80"},
        {"chaos.lua", "(chaos.lua takes the arguments listed at its top)",
         "latency=10"},
    };
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
        char path[256], want[160];
        it_run r;
        snprintf(path, sizeof path, "%s", it_path("scripts/"));
        strncat(path, shipped[i].script, sizeof path - strlen(path) - 1);
        snprintf(want, sizeof want, "%s: unknown argument 'bogus' %s",
                 shipped[i].script, shipped[i].takes);
        RUN(&r, "--check", path, "--", "bogus=1");
        it_run_assert_error(&r, 3, want);
        it_run_free(&r);
        /* a bare flag is an argument too */
        RUN(&r, "--check", path, "--", "bogus");
        it_run_assert_error(&r, 3, want);
        it_run_free(&r);
        /* and what it does take still loads */
        if (shipped[i].good)
            RUN(&r, "--check", path, "--", shipped[i].good);
        else
            RUN(&r, "--check", path);
        if (r.code != 0 || strncmp(r.out, "hooks: ", 7) != 0)
            TEST_FAIL("%s: exit %d, stdout \"%s\", stderr:\n%s", path,
                      r.code, r.out, r.err);
        it_run_free(&r);
    }
}

void rt_load_errors(void)
{
    char want[512];
    it_run r;
    /* a binary chunk: the message names the file */
    snprintf(want, sizeof want, "ricochet: %s: attempt to load a binary "
             "chunk (mode is 't'): scripts load as text only",
             FIXTURE("binary_chunk.luac"));
    RUN(&r, "--check", FIXTURE("binary_chunk.luac"));
    it_run_assert_error(&r, 3, want);
    it_run_free(&r);
    /* a top level out of memory: the file and the option that caps it */
    snprintf(want, sizeof want, "ricochet: %s: not enough memory (the "
             "script's state is capped at 1 MiB by --lua-memory)",
             FIXTURE("rt_memory_top.lua"));
    RUN(&r, "--lua-memory", "1", "--listen", "127.0.0.1:0",
        FIXTURE("rt_memory_top.lua"));
    it_run_assert_error(&r, 3, want);
    it_run_free(&r);
}
