/* simulate_expect.c -- --simulate's expectations: what the server must
 * send the client, checked on the virtual clock.
 *
 * What the server sends the client is kept in order: its bytes not yet
 * matched, then its ends (FIN, close, RST) not yet matched. One
 * expectation at a time is pending; it is checked after every line:
 *   expect "..."   consumes the bytes (several strings: joined); fails
 *                  at once where they differ, or when the server ended
 *                  before all came; else it
 *                  waits, and fails when not all came by the end of the
 *                  next wait, the next expect line or the transcript.
 *   expect fin|close|reset   the next end, with no byte before it; when
 *                  it has not come yet, the same deadline as above.
 *   expect nothing no byte and no end now (and, when the next command is
 *                  a wait, until it ends).
 *   expect error   a hook error happened since the last command, or
 *                  happens by the next wait's end.
 * A hook error no expect error matched fails before the next command
 * that is not an expect line, or at the transcript's end, with the line
 * that ran when it happened. A failure is printed to stderr as
 * "FILE:LINE: expected ... but the server sent ..." (bytes escaped as
 * the log prints them); the caller then stops, exit status 1.
 *
 * Each client connection has its own: what its server side sent, its
 * pending expectation, its unmatched hook errors. A hook error belongs
 * to the connection the line ran on; in a wait (which moves every
 * connection's clock) to a connection the server reset for an error in
 * it, and otherwise to the first connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simulate_int.h"

static const char *const end_name[] = {"FIN", "a close", "RST"};

void sim_ex_sent(sim_conn *sc, const char *bytes, size_t len)
{
    sim_expect *x = &sc->ex;
    if (len == 0 || x->oom)
        return;
    if (x->got_len + len > x->got_cap) {
        size_t cap = x->got_cap ? x->got_cap : 256;
        while (cap < x->got_len + len)
            cap *= 2;
        char *bigger = realloc(x->got, cap);
        if (bigger == NULL) {
            x->oom = 1;
            return;
        }
        x->got = bigger;
        x->got_cap = cap;
    }
    memcpy(x->got + x->got_len, bytes, len);
    x->got_len += len;
}

void sim_ex_end(sim_conn *sc, enum sim_end e)
{
    sim_expect *x = &sc->ex;
    if (x->n_ends < SIM_ENDS_MAX)
        x->ends[x->n_ends++] = e;
}

static void drop_got(sim_expect *x, size_t n)
{
    if (n == 0) /* got may be NULL */
        return;
    memmove(x->got, x->got + n, x->got_len - n);
    x->got_len -= n;
}

/* "FILE:LINE: expected " */
static void fail_head(sim_text *t, const sim_expect *x, const char *path)
{
    sim_text_add(t, "%s:%d: expected ", path, x->line);
}

/* What came: bytes (with the matched part first), then the first end;
 * then the message is reported. */
static void fail_tail(sim_text *t, const sim_reader *r,
                      const sim_expect *x, const char *pre, size_t pre_len,
                      const char *more, size_t more_len, int show_end)
{
    sim_text_add(t, " but the server sent ");
    int any = 0;
    if (pre_len + more_len > 0) {
        char *all = malloc(pre_len + more_len);
        if (all != NULL) {
            if (pre_len > 0) /* pre may be NULL then */
                memcpy(all, pre, pre_len);
            if (more_len > 0)
                memcpy(all + pre_len, more, more_len);
            sim_text_quoted(t, all, pre_len + more_len);
            free(all);
        }
        any = 1;
    }
    if (show_end && x->ends_used < x->n_ends)
        sim_text_add(t, "%s%s", any ? " then " : "",
                     end_name[x->ends[x->ends_used]]);
    else if (!any)
        sim_text_add(t, "nothing");
    sim_report(r, 0, t->buf);
}

/* Check the pending expectation against what came. deadline: no more
 * time for it. Returns 0 (met, or still pending) or 1 (failed, said). */
static int check(sim_conn *sc, const sim_reader *r, int deadline)
{
    sim_expect *x = &sc->ex;
    sim_text t = {.len = 0};
    switch (x->kind) {
    case SIM_EX_NONE:
        return 0;
    case SIM_EX_BYTES: {
        size_t want = x->len - x->matched;
        size_t k = x->got_len < want ? x->got_len : want;
        if ((k > 0 && memcmp(x->got, x->bytes + x->matched, k) != 0) ||
            (k < want && (deadline || x->ends_used < x->n_ends))) {
            fail_head(&t, x, r->path);
            sim_text_quoted(&t, x->bytes, x->len);
            fail_tail(&t, r, x, x->bytes, x->matched, x->got, k, k < want);
            return 1;
        }
        drop_got(x, k);
        x->matched += k;
        if (x->matched == x->len)
            x->kind = SIM_EX_NONE;
        return 0;
    }
    case SIM_EX_END:
        if (x->got_len > 0 || x->ends_used < x->n_ends) {
            if (x->got_len == 0 && x->ends[x->ends_used] == x->end) {
                x->ends_used++;
                x->kind = SIM_EX_NONE;
                return 0;
            }
        } else if (!deadline) {
            return 0;
        }
        fail_head(&t, x, r->path);
        sim_text_add(&t, "%s", end_name[x->end]);
        fail_tail(&t, r, x, NULL, 0, x->got, x->got_len, 1);
        return 1;
    case SIM_EX_NOTHING:
        if (x->got_len > 0 || x->ends_used < x->n_ends) {
            fail_head(&t, x, r->path);
            sim_text_add(&t, "nothing");
            fail_tail(&t, r, x, NULL, 0, x->got, x->got_len, 1);
            return 1;
        }
        if (deadline)
            x->kind = SIM_EX_NONE;
        return 0;
    case SIM_EX_ERROR:
        if (x->errors_new > 0) {
            x->errors_new--;
            x->kind = SIM_EX_NONE;
            return 0;
        }
        if (!deadline)
            return 0;
        fail_head(&t, x, r->path);
        sim_text_add(&t, "a hook error but there was none");
        sim_report(r, 0, t.buf);
        return 1;
    }
    return 0;
}

static void add_errors(sim_conn *sc, uint64_t n, int line)
{
    if (n == 0)
        return;
    if (sc->ex.errors_new == 0)
        sc->ex.error_line = line;
    sc->ex.errors_new += n;
}

/* Hook errors since the last look join the unmatched ones of the
 * connection they belong to (target's; in a wait, those the server reset
 * for an error, the rest the first connection's). */
static void count_errors(sim *sm, sim_conn *target, int waited, int line)
{
    uint64_t all = 0;
    for (int e = 0; e < POLICY_ERROR_KINDS; e++)
        all += stat_get(&sm->stats.errors[e]);
    uint64_t fresh = all > sm->errors_seen ? all - sm->errors_seen : 0;
    sm->errors_seen = all;
    for (int i = 0; i < sm->n_conns; i++) {
        sim_conn *sc = sm->conn[i];
        uint64_t k = sc->error_closes < fresh ? sc->error_closes : fresh;
        sc->error_closes = 0;
        if (waited || target == NULL) {
            add_errors(sc, k, line);
            fresh -= k;
        }
    }
    if (fresh > 0 && sm->n_conns > 0)
        add_errors(waited || target == NULL ? sm->conn[0] : target, fresh,
                   line);
}

static int unmatched_error(const sim *sm, const sim_reader *r)
{
    for (int i = 0; i < sm->n_conns; i++) {
        const sim_expect *x = &sm->conn[i]->ex;
        if (x->errors_new == 0)
            continue;
        sim_text t = {.len = 0};
        sim_text_add(&t, "%s:%d: a hook error (above), and no expect "
                     "error after it", r->path, x->error_line);
        sim_report(r, 0, t.buf);
        return 1;
    }
    return 0;
}

int sim_ex_before(sim *sm, const sim_reader *r, int waits)
{
    /* "expect nothing" was checked when read; it reaches over a wait,
     * not over what a client does next (whose answer is free). */
    for (int i = 0; i < sm->n_conns && !waits; i++)
        if (sm->conn[i]->ex.kind == SIM_EX_NOTHING)
            sm->conn[i]->ex.kind = SIM_EX_NONE;
    return unmatched_error(sm, r);
}

int sim_ex_after(sim *sm, sim_conn *target, const sim_reader *r,
                 int waited)
{
    count_errors(sm, target, waited, r->line);
    for (int i = 0; i < sm->n_conns; i++) {
        sim_conn *sc = sm->conn[i];
        if (sc->ex.oom) {
            sim_text t = {.len = 0};
            sim_text_add(&t, "%s:%d: out of memory for what the server "
                         "sent", r->path, r->line);
            sim_report(r, 0, t.buf);
            return 1;
        }
        if (check(sc, r, waited) != 0)
            return 1;
    }
    return 0;
}

int sim_ex_finish(sim *sm, const sim_reader *r)
{
    count_errors(sm, NULL, 1, r->line);
    for (int i = 0; i < sm->n_conns; i++)
        if (check(sm->conn[i], r, 1) != 0)
            return 1;
    return unmatched_error(sm, r);
}

int sim_ex_line(sim_conn *sc, const sim_reader *r, const char *p,
                char *scratch, const char **end)
{
    sim_expect *x = &sc->ex;
    char word[16];
    const char *q = sim_word(p, word, sizeof word);
    size_t len = 0;
    enum sim_ex_kind kind = SIM_EX_END;
    enum sim_end e = SIM_END_FIN;
    if (*p == '"') { /* several strings: one expectation, joined */
        for (q = p; *q == '"'; q = sim_skip_space(q)) {
            size_t n;
            int rc = sim_parse_quoted(r, &q, scratch + len, &n);
            if (rc != 0)
                return rc;
            len += n;
        }
        kind = SIM_EX_BYTES;
    } else if (strcmp(word, "fin") == 0) {
        e = SIM_END_FIN;
    } else if (strcmp(word, "close") == 0) {
        e = SIM_END_CLOSE;
    } else if (strcmp(word, "reset") == 0) {
        e = SIM_END_RESET;
    } else if (strcmp(word, "nothing") == 0) {
        kind = SIM_EX_NOTHING;
    } else if (strcmp(word, "error") == 0) {
        kind = SIM_EX_ERROR;
    } else {
        return sim_fail(r, "expect needs a quoted string, fin, close, "
                        "reset, nothing or error:", word[0] ? word : p);
    }
    *end = q;
    if (*sim_skip_space(q) != '\0' && *sim_skip_space(q) != '#')
        return sim_fail(r, "unexpected text after the command:",
                        sim_skip_space(q));
    /* the one pending has no more time */
    if (check(sc, r, 1) != 0)
        return 1;
    if (kind == SIM_EX_BYTES && len == 0)
        return 0;
    char *copy = NULL;
    if (kind == SIM_EX_BYTES) {
        copy = malloc(len);
        if (copy == NULL) {
            sim_report(r, 1, "out of memory");
            return 1;
        }
        memcpy(copy, scratch, len);
    }
    free(x->bytes);
    x->bytes = copy;
    x->len = len;
    x->matched = 0;
    x->kind = kind;
    x->end = e;
    x->line = r->line;
    return 0;
}

void sim_ex_free(sim_conn *sc)
{
    free(sc->ex.bytes);
    free(sc->ex.got);
    memset(&sc->ex, 0, sizeof sc->ex);
}
