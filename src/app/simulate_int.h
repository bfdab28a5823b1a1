/* simulate_int.h -- the insides of --simulate, shared by simulate.c (the
 * client's side, the transcript) and simulate_up.c (the upstream's side
 * in proxy mode). Nothing else includes this. */
#ifndef RICOCHET_SIMULATE_INT_H
#define RICOCHET_SIMULATE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "loop.h"

/* Where the upstream's connect stands (simulate_up.c). */
enum sim_up_state {
    SIM_UP_NONE,     /* no upstream connection (yet, or any more) */
    SIM_UP_SOON,     /* connecting: accepted at once (a 0 ms timer) */
    SIM_UP_ASKED,    /* connecting: a later upstream line answers */
    SIM_UP_SILENT,   /* connecting: "upstream timeout", never answered */
    SIM_UP_OPEN,     /* accepted */
    SIM_UP_FAILED    /* the connect failed: its close is not news */
};

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

#endif
