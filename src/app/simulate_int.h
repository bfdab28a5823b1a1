/* simulate_int.h -- the insides of --simulate, shared by simulate.c (the
 * client connections, the transcript), simulate_up.c (the upstreams' side
 * in proxy mode), simulate_expect.c (the expectations) and
 * simulate_text.c (the log and the words). Nothing else includes this. */
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
    uint64_t errors_new;        /* hook errors not matched by expect error */
    int error_line;             /* the line the first of those ran in */
    /* the pending expectation */
    enum sim_ex_kind kind;
    enum sim_end end;           /* SIM_EX_END's */
    char *bytes;                /* SIM_EX_BYTES's, len of them */
    size_t len, matched;
    int line;
} sim_expect;

/* A connection name: [A-Za-z0-9_-], 1 to SIM_NAME_MAX bytes. */
#define SIM_NAME_MAX 16
/* Client connections in one transcript, the first included. */
#define SIM_CONNS_MAX 64

struct sim;

/* One client connection of the transcript, its upstream and its
 * expectations. Allocated one by one: timers point into it. */
typedef struct sim_conn {
    struct sim *sm;
    char name[SIM_NAME_MAX + 1]; /* "" for the first connection */
    uint64_t conn_id;   /* the client's connection, looked up by id */
    /* the upstream (simulate_up.c): the connection made for this one */
    uint64_t up_id;     /* 0: none made yet */
    enum sim_up_state up_state;
    timer up_soon;      /* accepts a SIM_UP_SOON connect at its time */
    uint64_t error_closes; /* reset for a hook error since the last look */
    sim_expect ex;
} sim_conn;

typedef struct sim {
    loop *loop;
    conn_table *conns;
    policy *policy;
    FILE *log;          /* where the events go; NULL: nowhere (a batch) */
    int quiet;          /* the transcript ended: cleaning up */
    int proxy;          /* --upstream was given */
    const char *rest;   /* the transcript's lines not yet run */
    sim_conn *conn[SIM_CONNS_MAX]; /* in the order they connected */
    int n_conns;
    sim_conn *opening;  /* the one whose on_connect runs: its connects */
    policy_stats stats; /* the hook errors, for the expectations */
    uint64_t errors_seen; /* hook errors counted so far, all connections */
} sim;

/* Where the transcript is, and where its first failure goes. */
typedef struct sim_reader {
    const char *path;
    int line;
    int batch;          /* one of many: failures are kept, not printed */
    char *failure;      /* the first failure, "FILE:LINE: ..." */
    size_t failure_cap;
} sim_reader;

/* A message being built, cut at its size (a long one still says where). */
#define SIM_TEXT_MAX 16384
typedef struct sim_text {
    char buf[SIM_TEXT_MAX];
    size_t len;
} sim_text;

/* simulate_text.c: the log and the transcript's words. */
/* One line of what happened on sc, stamped with the virtual time; a
 * named connection's lines start "NAME: ". */
#if defined(__MINGW32__)
__attribute__((format(gnu_printf, 2, 3)))
#elif defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void sim_say(const sim_conn *sc, const char *fmt, ...);
/* "WHO N bytes "..."": bytes the way the transcript writes them. */
void sim_say_bytes(const sim_conn *sc, const char *who, const char *data,
                   size_t len);
/* A failure: kept in r->failure when it is the first; printed to stderr
 * (after "ricochet: " when tool is set) unless r->batch. */
void sim_report(const sim_reader *r, int tool, const char *text);
/* A transcript error: report where and why; returns ERR_EINVAL. */
int sim_fail(const sim_reader *r, const char *msg, const char *word);
/* Append to t, printf-style, or bytes quoted the way the log shows
 * them; what does not fit is dropped. */
#if defined(__MINGW32__)
__attribute__((format(gnu_printf, 2, 3)))
#elif defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void sim_text_add(sim_text *t, const char *fmt, ...);
void sim_text_quoted(sim_text *t, const char *data, size_t len);
/* Decode the quoted string at *p into out (room for strlen(*p) bytes);
 * *p moves past it. Returns 0 or ERR_EINVAL (reported). */
int sim_parse_quoted(const sim_reader *r, const char **p, char *out,
                     size_t *len);
const char *sim_skip_space(const char *p);
/* Copy the word at p (up to cap - 1 bytes) into word; returns its end. */
const char *sim_word(const char *p, char *word, size_t cap);
/* The connection prefix of line: "NAME:" (spaces before and after are
 * skipped) copies NAME to name (cap SIM_NAME_MAX + 1) and returns what
 * follows; no prefix: name is "" and the line is returned. A first word
 * with a ':' that is not a name: NULL. */
const char *sim_prefix(const char *line, char *name);

/* simulate_up.c: the upstream's side. */
/* The transport's connector: the proxy connects to the upstream. */
void sim_up_connect(void *data, conn *c, const char *host, int port);
/* The transport's callbacks for an upstream connection (of sc). */
void sim_up_sent(sim_conn *sc, const char *bytes, size_t len);
void sim_up_fin(sim_conn *sc);
void sim_up_closed(sim_conn *sc, conn *c, int abortive);
void sim_up_note(sim_conn *sc, const char *what);
/* Run "upstream ..." on sc (p is past the word upstream). Returns 0 or
 * ERR_EINVAL (reported). */
int sim_up_line(sim_conn *sc, const sim_reader *r, const char *p,
                char *scratch, const char **end);
/* A connect to accept at once is accepted now (after a step that may
 * have made one), for every connection. */
void sim_up_settle(sim *sm);
/* The end of the transcript: where sc's upstream stands. */
void sim_up_report(sim_conn *sc);
/* Once, before anything else; sim_up_stop before the loop is freed. */
void sim_up_init(sim_conn *sc);
void sim_up_stop(sim_conn *sc);

/* simulate_expect.c: the expectations, one set per connection. Each
 * returns 0, or 1 for a failed one (reported: the transcript stops,
 * exit status 1). */
/* What the server sends sc's client: bytes, an end. */
void sim_ex_sent(sim_conn *sc, const char *bytes, size_t len);
void sim_ex_end(sim_conn *sc, enum sim_end e);
/* Run "expect ..." on sc (p is past the word expect); also ERR_EINVAL
 * for a malformed one (reported). */
int sim_ex_line(sim_conn *sc, const sim_reader *r, const char *p,
                char *scratch, const char **end);
/* Before a command that is not expect: a hook error unmatched fails;
 * waits: the command is a wait (a pending expect nothing covers it). */
int sim_ex_before(sim *sm, const sim_reader *r, int waits);
/* After every command, which ran on target (NULL: none); waited: it was
 * a wait (every pending expectation's end). */
int sim_ex_after(sim *sm, sim_conn *target, const sim_reader *r,
                 int waited);
/* At the transcript's end: nothing may stay pending or unmatched. */
int sim_ex_finish(sim *sm, const sim_reader *r);
void sim_ex_free(sim_conn *sc);

#endif
