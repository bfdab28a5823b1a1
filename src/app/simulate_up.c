/* simulate_up.c -- --simulate in proxy mode: the upstream's side.
 *
 * The transport's connector (sim_up_connect) takes every connection the
 * proxy makes through conn_connect, so no socket is opened; the
 * transcript's "upstream" lines play the server behind it, on the same
 * virtual clock as the client. What the proxy does to the upstream is
 * printed beside the client's lines: "proxy sends upstream ...",
 * "proxy half-closes upstream (FIN)", and core's own notes about the
 * connect ("proxy: connected to ...", "proxy: connect to ... failed:
 * ..."). One upstream at a time: the lines act on the last connection
 * made to one.
 *
 * A connect is answered by the first upstream line after it when that
 * line is accept, refuse or timeout (the lines before it run while the
 * proxy is still connecting, so what the client sends meanwhile waits in
 * the proxy); otherwise it succeeds at once, at the virtual time it was
 * made (a 0 ms timer, or right after the step that made it). */
#include <string.h>

#include "err.h"
#include "simulate_int.h"

#define UP_COMMANDS "send, shutdown, close, reset, accept, refuse, timeout"

/* The upstream's connection while it lives, else NULL. */
static conn *up_current(sim *sm)
{
    return sm->up_id ? conn_table_find(sm->conns, sm->up_id) : NULL;
}

static int connecting_state(enum sim_up_state s)
{
    return s == SIM_UP_SOON || s == SIM_UP_ASKED || s == SIM_UP_SILENT;
}

/* 1 when the first upstream line still to run answers a connect made now
 * (accept, refuse or timeout). Malformed lines are skipped here: they are
 * reported when they run. */
static int answered_later(const sim *sm)
{
    for (const char *p = sm->rest; p != NULL && *p != '\0';) {
        char word[16];
        const char *q = sim_word(sim_skip_space(p), word, sizeof word);
        if (strcmp(word, "upstream") == 0) {
            sim_word(sim_skip_space(q), word, sizeof word);
            return strcmp(word, "accept") == 0 ||
                   strcmp(word, "refuse") == 0 ||
                   strcmp(word, "timeout") == 0;
        }
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return 0;
}

static void tick(sim *sm)
{
    conn_table_tick(sm->conns);
    sim_up_settle(sm);
}

/* The upstream accepts the pending connect. The caller ticks the table
 * (a timer's is ticked by loop_advance). */
static void accept_now(sim *sm)
{
    loop_timer_stop(sm->loop, &sm->up_soon);
    conn *up = up_current(sm);
    sm->up_state = up != NULL ? SIM_UP_OPEN : SIM_UP_NONE;
    if (up != NULL && conn_connecting(up))
        conn_feed_connected(up, 0);
}

static void on_soon(timer *t)
{
    sim *sm = t->data;
    if (sm->up_state == SIM_UP_SOON)
        accept_now(sm);
}

void sim_up_init(sim *sm)
{
    timer_init(&sm->up_soon, on_soon, sm);
}

void sim_up_stop(sim *sm)
{
    loop_timer_stop(sm->loop, &sm->up_soon);
}

void sim_up_connect(void *data, conn *c, const char *host, int port)
{
    sim *sm = data;
    (void)host;
    (void)port;
    loop_timer_stop(sm->loop, &sm->up_soon);
    sm->up_id = conn_id(c);
    sm->up_state = answered_later(sm) ? SIM_UP_ASKED : SIM_UP_SOON;
    if (!sm->quiet)
        sim_say(sm, "proxy connects to upstream %s", conn_peer(c));
    /* Not from inside this call (the owner sets its callbacks after
     * conn_connect returns): the timer, or sim_up_settle after the step,
     * whichever comes first. Without the timer, settle still does it. */
    if (sm->up_state == SIM_UP_SOON)
        (void)loop_timer_start(sm->loop, &sm->up_soon, 0);
}

void sim_up_settle(sim *sm)
{
    if (sm->up_state == SIM_UP_SOON) {
        accept_now(sm);
        conn_table_tick(sm->conns);
    }
}

int sim_up_owns(const sim *sm, const conn *c)
{
    return conn_id(c) != sm->conn_id;
}

void sim_up_sent(sim *sm, const char *bytes, size_t len)
{
    sim_say_bytes(sm, "proxy sends upstream", bytes, len);
}

void sim_up_fin(sim *sm)
{
    sim_say(sm, "proxy half-closes upstream (FIN)");
}

void sim_up_closed(sim *sm, conn *c, int abortive)
{
    enum sim_up_state was = SIM_UP_OPEN;
    if (conn_id(c) == sm->up_id) {
        was = sm->up_state;
        sm->up_state = SIM_UP_NONE;
        loop_timer_stop(sm->loop, &sm->up_soon);
    }
    if (sm->quiet || was == SIM_UP_FAILED)
        return; /* a failed connect: its note said it all */
    const char *reason = conn_reason_name(conn_reason(c));
    if (connecting_state(was))
        sim_say(sm, "proxy gives up connecting to upstream (%s)", reason);
    else
        sim_say(sm, "proxy %s (%s)",
                abortive ? "resets upstream (RST)" : "closes upstream",
                reason);
}

void sim_up_note(sim *sm, const char *what)
{
    /* A connecting upstream's only note is its failure (a timeout): the
     * simulation marks an accept OPEN before it feeds it. */
    if (connecting_state(sm->up_state))
        sm->up_state = SIM_UP_FAILED;
    sim_say(sm, "proxy: %s", what);
}

/* Why the upstream cannot act now, or NULL when it can. */
static const char *cannot(const conn *up)
{
    if (up == NULL)
        return "there is no upstream connection";
    if (conn_connecting(up))
        return "the proxy is still connecting";
    if (conn_peer_done(up))
        return "the upstream has half-closed";
    return NULL;
}

static int up_send(sim *sm, const sim_reader *r, const char **p,
                   char *scratch)
{
    if (**p != '"')
        return sim_fail(r, "upstream send needs one or more quoted strings",
                        NULL);
    while (**p == '"') {
        size_t len;
        int rc = sim_parse_quoted(r, p, scratch, &len);
        if (rc != 0)
            return rc;
        *p = sim_skip_space(*p);
        conn *up = up_current(sm);
        const char *why = cannot(up);
        if (why != NULL) {
            sim_say(sm, "upstream cannot send: %s", why);
            continue;
        }
        sim_say_bytes(sm, "upstream sends", scratch, len);
        conn_feed(up, scratch, len);
        tick(sm);
    }
    return 0;
}

/* shutdown, close, reset: the upstream's end. */
static void up_end(sim *sm, const char *word)
{
    conn *up = up_current(sm);
    const char *why = cannot(up);
    int reset = strcmp(word, "reset") == 0;
    if (why != NULL && !(reset && up != NULL && !conn_connecting(up))) {
        sim_say(sm, "upstream cannot %s: %s", word, why);
        return;
    }
    if (reset) {
        sim_say(sm, "upstream resets the connection (RST)");
        conn_feed_reset(up);
    } else {
        sim_say(sm, "upstream %s (FIN)", word[0] == 's' ? "half-closes"
                                                       : "closes");
        conn_feed_eof(up);
    }
    tick(sm);
}

/* accept, refuse, timeout: the answer to a pending connect. */
static void up_answer(sim *sm, const char *word)
{
    conn *up = up_current(sm);
    if (up == NULL || !conn_connecting(up)) {
        sim_say(sm, "upstream has no connect to %s", word);
        return;
    }
    if (strcmp(word, "accept") == 0) {
        sim_say(sm, "upstream accepts the connection");
        accept_now(sm);
    } else if (strcmp(word, "refuse") == 0) {
        loop_timer_stop(sm->loop, &sm->up_soon);
        sm->up_state = SIM_UP_FAILED;
        sim_say(sm, "upstream refuses the connection");
        conn_feed_connected(up, ERR_ECONNREFUSED);
    } else {
        loop_timer_stop(sm->loop, &sm->up_soon);
        sm->up_state = SIM_UP_SILENT;
        sim_say(sm, "upstream does not answer the connect");
    }
    tick(sm);
}

int sim_up_line(sim *sm, const sim_reader *r, const char *p,
                char *scratch, const char **end)
{
    char word[16];
    p = sim_skip_space(sim_word(p, word, sizeof word));
    int is_send = strcmp(word, "send") == 0;
    int is_end = strcmp(word, "shutdown") == 0 ||
                 strcmp(word, "close") == 0 || strcmp(word, "reset") == 0;
    int is_answer = strcmp(word, "accept") == 0 ||
                    strcmp(word, "refuse") == 0 ||
                    strcmp(word, "timeout") == 0;
    if (word[0] == '\0' || word[0] == '#')
        return sim_fail(r, "upstream needs a command (" UP_COMMANDS ")",
                        NULL);
    if (!is_send && !is_end && !is_answer)
        return sim_fail(r, "unknown upstream command (" UP_COMMANDS "):",
                        word);
    if (!sm->proxy && sm->up_id == 0)
        return sim_fail(r, "an upstream line, but there is no upstream "
                        "(give --upstream HOST:PORT, or a script that "
                        "connects)", NULL);
    if (is_send) {
        int rc = up_send(sm, r, &p, scratch);
        if (rc != 0)
            return rc;
    } else if (is_end) {
        up_end(sm, word);
    } else {
        up_answer(sm, word);
    }
    *end = p;
    return 0;
}

void sim_up_report(sim *sm)
{
    conn *up = up_current(sm);
    if (up != NULL)
        sim_say(sm, "end of transcript: the upstream connection is %s",
                conn_connecting(up) ? "connecting"
                                    : conn_state_name(conn_state(up)));
}
