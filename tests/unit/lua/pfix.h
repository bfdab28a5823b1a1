/* pfix.h -- the fixture of the hook-contract cases: a script's policy
 * bound to a loop on a virtual clock, with connections of a table whose
 * transport records (vtrace.h). */
#ifndef RICOCHET_UNIT_PFIX_H
#define RICOCHET_UNIT_PFIX_H

#include <stdint.h>
#include <stdio.h>

#include "conn.h"
#include "loop.h"
#include "policy.h"
#include "test.h"
#include "vtrace.h"

/* The virtual clock's reading at the start. */
#define START_MS 1000

typedef struct pfix {
    loop *loop;
    conn_table *table;
    vtrace tr;
    policy_opts opts;
    policy *p;
} pfix;

/* Load script as name with the limits given (0: the defaults) and bind
 * it; idle_ms is the table's idle timeout (0: none). */
void pfix_start(pfix *f, const char *name, const char *script,
                size_t memory_limit, uint64_t hook_budget, uint64_t idle_ms);

/* The connections still open are reset (on_close "stop"), then the
 * policy's last reference goes with the caller's. */
void pfix_end(pfix *f);

/* A new connection from 192.0.2.7:4000, attached to the policy. */
conn *attach(pfix *f);

/* The peer sends the string s. */
void feed(conn *c, const char *s);

/* The loop's safe point: closed connections get on_close and are freed. */
void tick(pfix *f);

/* The virtual clock moves to ms after the start. */
void advance_to(pfix *f, uint64_t ms);

/* A fresh connection asks for the script's report: its reply. It stays
 * open (its own close would be noted in the next report). */
#define EXPECT_REPORT(f, want)                                          \
    do {                                                                \
        conn *asker_ = attach(f);                                       \
        vtrace_clear(&(f)->tr);                                         \
        feed(asker_, "?");                                              \
        char want_[VTRACE_MAX];                                         \
        snprintf(want_, sizeof want_, "#%llu send(%s)",                 \
                 (unsigned long long)conn_id(asker_), want);            \
        if ((want)[0] == '\0')                                          \
            want_[0] = '\0';                                            \
        VTRACE_EXPECT(&(f)->tr, want_);                                 \
    } while (0)

#endif
