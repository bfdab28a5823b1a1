/* simulate_int.h -- the insides of --simulate, shared by simulate.c (the
 * client's side, the transcript) and simulate_up.c (the upstream's side
 * in proxy mode). Nothing else includes this. */
#ifndef RICOCHET_SIMULATE_INT_H
#define RICOCHET_SIMULATE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conn.h"
#include "loop.h"
#include "policy.h"

/* Where the upstream's connect stands (simulate_up.c). */
enum sim_up_state {
    SIM_UP_NONE,     /* no upstream connection (yet, or any more) */
    SIM_UP_SOON,     /* connecting: accepted at once (a 0 ms timer) */
    SIM_UP_ASKED,    /* connecting: a later upstream line answers */
    SIM_UP_SILENT,   /* connecting: "upstream timeout", never answered */
    SIM_UP_OPEN,     /* accepted */
    SIM_UP_FAILED    /* the connect failed: its close is not news */
};

/* The expectations (simulate_expect.c). */
enum sim_end { SIM_END_FIN, SIM_END_CLOSE, SIM_END_RESET };
enum sim_ex_kind {
    SIM_EX_NONE, SIM_EX_BYTES, SIM_EX_END, SIM_EX_NOTHING, SIM_EX_ERROR
};
#define SIM_ENDS_MAX 4

typedef struct sim_expect {
    /* what the server sent the client, not yet matched, in order */
    char *got;
    size_t got_len, got_cap;
    int oom;                    /* got could not grow */
    enum sim_end ends[SIM_ENDS_MAX];
    int n_ends, ends_used;
    uint64_t errors_seen;       /* hook errors counted so far */
    uint64_t errors_new;        /* ... not matched by expect error */
    int error_line;             /* the line the first of those ran in */
    /* the pending expectation */
    enum sim_ex_kind kind;
    enum sim_end end;           /* SIM_EX_END's */
    char *bytes;                /* SIM_EX_BYTES's, len of them */
    size_t len, matched;
    int line;
} sim_expect;

typedef struct sim {
    loop *loop;
    conn_table *conns;
    uint64_t conn_id;   /* the client's connection, looked up by id: */
    int quiet;          /* the transcript ended: cleaning up */
    int proxy;          /* --upstream was given */
    const char *rest;   /* the transcript's lines not yet run */
    /* the upstream (simulate_up.c): the last connection made to one */
    uint64_t up_id;     /* 0: none made yet */
    enum sim_up_state up_state;
    timer up_soon;      /* accepts a SIM_UP_SOON connect at its time */
    policy_stats stats; /* the hook errors, for the expectations */
    sim_expect ex;
} sim;

typedef struct sim_reader {
    const char *path;
    int line;
} sim_reader;

/* simulate.c: the log and the transcript's words. */
/* One line of what happened, stamped with the virtual time. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void sim_say(const sim *sm, const char *fmt, ...);
/* "WHO N bytes "..."": bytes the way the transcript writes them. */
void sim_say_bytes(const sim *sm, const char *who, const char *data,
                   size_t len);
/* A transcript error: print where and why; returns ERR_EINVAL. */
int sim_fail(const sim_reader *r, const char *msg, const char *word);
/* Decode the quoted string at *p into out (room for strlen(*p) bytes);
 * *p moves past it. Returns 0 or ERR_EINVAL (reported). */
int sim_parse_quoted(const sim_reader *r, const char **p, char *out,
                     size_t *len);
const char *sim_skip_space(const char *p);
/* Print bytes to f the way the transcript writes them, quoted. */
void sim_put_quoted(FILE *f, const char *data, size_t len);
/* Copy the word at p (up to cap - 1 bytes) into word; returns its end. */
const char *sim_word(const char *p, char *word, size_t cap);

/* simulate_up.c: the upstream's side. */
/* The transport's connector: the proxy connects to the upstream. */
void sim_up_connect(void *data, conn *c, const char *host, int port);
/* 1 when c is a connection to the upstream (not the client's). */
int sim_up_owns(const sim *sm, const conn *c);
/* The transport's callbacks for an upstream connection. */
void sim_up_sent(sim *sm, const char *bytes, size_t len);
void sim_up_fin(sim *sm);
void sim_up_closed(sim *sm, conn *c, int abortive);
void sim_up_note(sim *sm, const char *what);
/* Run "upstream ..." (p is past the word upstream). Returns 0 or
 * ERR_EINVAL (reported). */
int sim_up_line(sim *sm, const sim_reader *r, const char *p,
                char *scratch, const char **end);
/* A connect to accept at once is accepted now (after a step that may
 * have made one). */
void sim_up_settle(sim *sm);
/* The end of the transcript: where the upstream stands. */
void sim_up_report(sim *sm);
/* Once, before anything else; sim_up_stop before the loop is freed. */
void sim_up_init(sim *sm);
void sim_up_stop(sim *sm);

/* simulate_expect.c: the expectations. Each returns 0, or 1 for a
 * failed one (said on stderr: the transcript stops, exit status 1). */
/* What the server sends the client: bytes, an end. */
void sim_ex_sent(sim *sm, const char *bytes, size_t len);
void sim_ex_end(sim *sm, enum sim_end e);
/* Run "expect ..." (p is past the word expect); also ERR_EINVAL for a
 * malformed one (reported). */
int sim_ex_line(sim *sm, const sim_reader *r, const char *p, char *scratch,
                const char **end);
/* Before a command that is not expect: a hook error unmatched fails;
 * waits: the command is a wait (a pending expect nothing covers it). */
int sim_ex_before(sim *sm, const sim_reader *r, int waits);
/* After every command; waited: it was a wait (the pending one's end). */
int sim_ex_after(sim *sm, const sim_reader *r, int waited);
/* At the transcript's end: nothing may stay pending or unmatched. */
int sim_ex_finish(sim *sm, const sim_reader *r);
void sim_ex_free(sim *sm);

#endif
