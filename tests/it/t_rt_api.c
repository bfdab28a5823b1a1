/* t_rt_api.c -- the script runtime seen from outside (issue 3): the
 * ricochet table scripts see (log, now, random, args). */
#include <stdio.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"
#include "it_rt.h"

/* ---- the ricochet table ------------------------------------------------- */

void rt_api_log(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_api.lua"));
    int fd = it_cli_connect_to(s, 0);
    char id[32], want[96];
    char *log;
    it_rt_ask_id(fd, id, sizeof id);
    it_rt_ask_expect(fd, "LOG\n", "logged\n");
    close(fd);
    it_server_stop_clean(s);
    log = it_log_read(s);
    /* one line, at the level asked, tagged with the connection */
    snprintf(want, sizeof want, "conn %s: rt-api-log-marker\t1", id);
    it_rt_expect_entries(log, "warn", want, NULL, 1);
    it_rt_expect_entries(log, NULL, "rt-api-log-marker", NULL, 1);
    free(log);
}

void rt_api_now(void)
{
    it_server *s = SERVER_START(FIXTURE("rt_api.lua"));
    int fd = it_cli_connect_to(s, 0);
    char line[96], type0[16], type1[16];
    long elapsed;
    int64_t t0 = it_clock_now_us(), real_ms;

    /* an integer of milliseconds, 100 of which pass for conn:after(100) */
    it_rt_ask(fd, "NOW\n", line, sizeof line);
    real_ms = (it_clock_now_us() - t0) / 1000;
    if (sscanf(line, "%15s %15s %ld", type0, type1, &elapsed) != 3)
        TEST_FAIL("unexpected NOW reply \"%s\"", line);
    fprintf(stderr, "ricochet.now() advanced %ld ms (%jd ms real)\n",
            elapsed, (intmax_t)real_ms);
    ASSERT_STR_EQ(type0, "integer");
    ASSERT_STR_EQ(type1, "integer");
    ASSERT_GE(elapsed, 100);
    ASSERT_LE(elapsed, real_ms + 2);
    close(fd);
    it_server_stop_clean(s);
}

/* Two RANDOM lines from a fresh server started with --seed seed. */
static void random_lines(const char *seed, char *first, char *second,
                         size_t cap)
{
    it_server *s = SERVER_START(FIXTURE("rt_api.lua"), "--seed", seed);
    int fd = it_cli_connect_to(s, 0);
    it_rt_ask(fd, "RANDOM\n", first, cap);
    it_rt_ask(fd, "RANDOM\n", second, cap);
    close(fd);
    it_server_stop_clean(s);
}

/* Check a RANDOM line's ranges; *math_part points at math.random's part. */
static void check_random_line(const char *line, const char **math_part)
{
    double v[9];
    const char *p = line;
    for (int i = 0; i < 9; i++) {
        char *end;
        v[i] = strtod(p, &end);
        if (end == p)
            TEST_FAIL("unexpected RANDOM reply \"%s\"", line);
        if (i == 6)
            *math_part = p;
        p = end;
    }
    ASSERT_STR_EQ(p, "\n");
    for (int i = 0; i < 4; i++)
        ASSERT(v[i] >= 1 && v[i] <= 1e9 && v[i] == (double)(long)v[i]);
    ASSERT(v[4] >= 1 && v[4] <= 6 && v[4] == (double)(long)v[4]);
    ASSERT(v[5] >= 0 && v[5] < 1);
    for (int i = 6; i < 9; i++)
        ASSERT(v[i] >= 1 && v[i] <= 1e9 && v[i] == (double)(long)v[i]);
}

void rt_api_random(void)
{
    char a1[256], a2[256], b1[256], b2[256], c1[256], c2[256];
    const char *ma, *mb, *mc, *dummy;
    random_lines("42", a1, a2, sizeof a1);
    random_lines("42", b1, b2, sizeof b1);
    random_lines("43", c1, c2, sizeof c1);
    fprintf(stderr, "--seed 42: %s--seed 43: %s", a1, c1);
    check_random_line(a1, &ma);
    check_random_line(a2, &dummy);
    check_random_line(b1, &mb);
    check_random_line(c1, &mc);
    /* the same seed, the same draws (ricochet.random and math.random) */
    ASSERT_STR_EQ(a1, b1);
    ASSERT_STR_EQ(a2, b2);
    ASSERT(strcmp(a1, a2) != 0); /* and they do advance */
    /* another seed, other draws, math.random's included */
    ASSERT(strcmp(a1, c1) != 0);
    ASSERT(strcmp(ma, mc) != 0);
    (void)mb;
}

void rt_api_args(void)
{
    char script[4096], expect[4400], out[4400];
    const char *version;
    it_server *s;
    snprintf(script, sizeof script, "%s", FIXTURE("rt_api.lua"));
    s = SERVER_START(script, "--", "key=value", "flag", "empty=");
    it_rt_exchange(s, "INFO\n", out, sizeof out);
    it_server_stop_clean(s);
    /* a flag reads "true"; an empty value is kept */
    snprintf(expect, sizeof expect, "args: empty= flag=true key=value\n"
             "script: %s\nversion: ", script);
    version = out + strlen(expect);
    ASSERT_MEM_EQ(out, strlen(expect) <= strlen(out) ? strlen(expect)
                  : strlen(out), expect, strlen(expect));
#ifdef RICOCHET_IT_VERSION
    ASSERT_STR_EQ(version, RICOCHET_IT_VERSION "\n");
#else
    ASSERT(strlen(version) > 1 && version[strlen(version) - 1] == '\n');
#endif
}
