/* test_read_size.c -- a script with a data hook is given its bytes in
 * reads of LHOOK_READ_MAX at most (its copy of each into a Lua string
 * does better in smaller pieces); without one, C relays in the largest
 * reads, CONN_READ_MAX. (lproxy.c does the same for an upstream whose
 * script has on_upstream_data.) */
#include <string.h>

#include "cases.h"
#include "conn.h"
#include "lhook.h"
#include "loop.h"
#include "policy.h"
#include "script.h"
#include "test.h"
#include "vtrace.h"

/* The read size of a connection the script at text is attached to. */
static size_t read_max_with(const char *name, const char *text)
{
    policy_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.worker = 1;
    policy *p = unit_load_script(name, text, &opts);
    loop *l = loop_create();
    ASSERT(l != NULL);
    loop_use_virtual_clock(l, 1000);
    vtrace tr;
    vtrace_init(&tr);
    conn_config cfg = { .loop = l, .out_limit = 1 << 20, .drain_ms = 5000,
                        .transport = &tr.transport };
    conn_table *t = conn_table_create(&cfg);
    ASSERT(t != NULL);
    policy_bind_loop(p, l);
    conn *c = conn_open_virtual(t, "192.0.2.7:4000");
    ASSERT(c != NULL);
    policy_attach(p, c);
    size_t max = conn_read_max(c);
    conn_table_free(t);
    policy_release(p);
    loop_free(l);
    return max;
}

void test_read_size_by_hook(void)
{
    ASSERT_EQ(read_max_with("rs_none.lua", "-- no hooks\n"), CONN_READ_MAX);
    ASSERT_EQ(read_max_with("rs_done.lua",
                            "function on_done(conn) end\n"),
              CONN_READ_MAX);
    ASSERT_EQ(read_max_with("rs_data.lua",
                            "function on_data(conn, d) return d end\n"),
              LHOOK_READ_MAX);
    ASSERT_LT(LHOOK_READ_MAX, CONN_READ_MAX);
}
