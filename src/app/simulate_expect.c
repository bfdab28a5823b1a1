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
 * the log prints them); the caller then stops, exit status 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simulate_int.h"

static const char *const end_name[] = {"FIN", "a close", "RST"};

void sim_ex_sent(sim *sm, const char *bytes, size_t len)
{
    sim_expect *x = &sm->ex;
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

void sim_ex_end(sim *sm, enum sim_end e)
{
    sim_expect *x = &sm->ex;
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
static void fail_head(const sim_expect *x, const char *path)
{
    fprintf(stderr, "%s:%d: expected ", path, x->line);
}

/* What came: bytes (with the matched part first), then the first end. */
static void fail_tail(const sim_expect *x, const char *pre, size_t pre_len,
                      const char *more, size_t more_len, int show_end)
{
    fputs(" but the server sent ", stderr);
    int any = 0;
    if (pre_len + more_len > 0) {
        char *all = malloc(pre_len + more_len);
        if (all != NULL) {
            if (pre_len > 0) /* pre may be NULL then */
                memcpy(all, pre, pre_len);
            if (more_len > 0)
                memcpy(all + pre_len, more, more_len);
            sim_put_quoted(stderr, all, pre_len + more_len);
            free(all);
        }
        any = 1;
    }
    if (show_end && x->ends_used < x->n_ends)
        fprintf(stderr, "%s%s", any ? " then " : "",
                end_name[x->ends[x->ends_used]]);
    else if (!any)
        fputs("nothing", stderr);
    fputc('\n', stderr);
}

/* Check the pending expectation against what came. deadline: no more
 * time for it. Returns 0 (met, or still pending) or 1 (failed, said). */
static int check(sim *sm, const char *path, int deadline)
{
    sim_expect *x = &sm->ex;
    switch (x->kind) {
    case SIM_EX_NONE:
        return 0;
    case SIM_EX_BYTES: {
        size_t want = x->len - x->matched;
        size_t k = x->got_len < want ? x->got_len : want;
        if ((k > 0 && memcmp(x->got, x->bytes + x->matched, k) != 0) ||
            (k < want && (deadline || x->ends_used < x->n_ends))) {
            fail_head(x, path);
            sim_put_quoted(stderr, x->bytes, x->len);
            fail_tail(x, x->bytes, x->matched, x->got, k, k < want);
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
        fail_head(x, path);
        fputs(end_name[x->end], stderr);
        fail_tail(x, NULL, 0, x->got, x->got_len, 1);
        return 1;
    case SIM_EX_NOTHING:
        if (x->got_len > 0 || x->ends_used < x->n_ends) {
            fail_head(x, path);
            fputs("nothing", stderr);
            fail_tail(x, NULL, 0, x->got, x->got_len, 1);
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
        fail_head(x, path);
        fputs("a hook error but there was none\n", stderr);
        return 1;
    }
    return 0;
}

/* Hook errors since the last look join the unmatched ones. */
static void count_errors(sim *sm, int line)
{
    sim_expect *x = &sm->ex;
    uint64_t all = 0;
    for (int e = 0; e < POLICY_ERROR_KINDS; e++)
        all += stat_get(&sm->stats.errors[e]);
    if (all > x->errors_seen) {
        if (x->errors_new == 0)
            x->error_line = line;
        x->errors_new += all - x->errors_seen;
        x->errors_seen = all;
    }
}

static int unmatched_error(const sim *sm, const char *path)
{
    if (sm->ex.errors_new == 0)
        return 0;
    fprintf(stderr, "%s:%d: a hook error (above), and no expect error "
            "after it\n", path, sm->ex.error_line);
    return 1;
}

int sim_ex_before(sim *sm, const sim_reader *r, int waits)
{
    count_errors(sm, r->line - 1);
    /* "expect nothing" was checked when read; it reaches over a wait,
     * not over what the client does next (whose answer is free). */
    if (!waits && sm->ex.kind == SIM_EX_NOTHING)
        sm->ex.kind = SIM_EX_NONE;
    return unmatched_error(sm, r->path);
}

int sim_ex_after(sim *sm, const sim_reader *r, int waited)
{
    count_errors(sm, r->line);
    if (sm->ex.oom) {
        fprintf(stderr, "%s:%d: out of memory for what the server sent\n",
                r->path, r->line);
        return 1;
    }
    return check(sm, r->path, waited);
}

int sim_ex_finish(sim *sm, const sim_reader *r)
{
    count_errors(sm, r->line);
    if (check(sm, r->path, 1) != 0)
        return 1;
    return unmatched_error(sm, r->path);
}

int sim_ex_line(sim *sm, const sim_reader *r, const char *p, char *scratch,
                const char **end)
{
    sim_expect *x = &sm->ex;
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
    if (check(sm, r->path, 1) != 0)
        return 1;
    if (kind == SIM_EX_BYTES && len == 0)
        return 0;
    char *copy = NULL;
    if (kind == SIM_EX_BYTES) {
        copy = malloc(len);
        if (copy == NULL) {
            fprintf(stderr, "ricochet: out of memory\n");
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

void sim_ex_free(sim *sm)
{
    free(sm->ex.bytes);
    free(sm->ex.got);
    memset(&sm->ex, 0, sizeof sm->ex);
}
