/* pfix.c -- the fixture of the hook-contract cases (pfix.h). */
#include "pfix.h"

#include <string.h>

#include "script.h"

static void before_sleep(loop *l, void *data)
{
    (void)l;
    conn_table_tick(data);
}

void pfix_start(pfix *f, const char *name, const char *script,
                size_t memory_limit, uint64_t hook_budget, uint64_t idle_ms)
{
    memset(f, 0, sizeof *f);
    f->opts.memory_limit = memory_limit;
    f->opts.hook_budget = hook_budget;
    f->opts.worker = 1;
    f->p = unit_load_script(name, script, &f->opts);
    f->loop = loop_create();
    ASSERT(f->loop != NULL);
    loop_use_virtual_clock(f->loop, START_MS);
    vtrace_init(&f->tr);
    f->tr.ids = 1;
    conn_config cfg = { .loop = f->loop, .out_limit = 1 << 20,
                        .idle_ms = idle_ms, .drain_ms = 5000,
                        .transport = &f->tr.transport };
    f->table = conn_table_create(&cfg);
    ASSERT(f->table != NULL);
    loop_set_before_sleep(f->loop, before_sleep, f->table);
    policy_bind_loop(f->p, f->loop);
}

void pfix_end(pfix *f)
{
    conn_table_free(f->table);
    policy_release(f->p);
    loop_free(f->loop);
}

conn *attach(pfix *f)
{
    conn *c = conn_open_virtual(f->table, "192.0.2.7:4000");
    ASSERT(c != NULL);
    policy_attach(f->p, c);
    return c;
}

void feed(conn *c, const char *s)
{
    conn_feed(c, s, strlen(s));
}

void tick(pfix *f)
{
    conn_table_tick(f->table);
}

void advance_to(pfix *f, uint64_t ms)
{
    loop_advance(f->loop, START_MS + ms);
}
