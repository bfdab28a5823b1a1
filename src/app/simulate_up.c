/* simulate_up.c -- --simulate in proxy mode: the upstream's side.
 *
 * The transport's connector (sim_up_connect) takes every connection the
 * proxy makes through conn_connect, so no socket is opened; the
 * transcript's "upstream" lines play the server behind it, on the same
 * virtual clock as the client. What the proxy does to the upstream is
 * printed beside the client's lines: "proxy sends upstream ...",
 * "proxy half-closes upstream (FIN)", and core's own notes about the
 * connect ("proxy: connected to ...", "proxy: connect to ... failed:
 * ..."). Each client connection has its own upstream: "NAME: upstream
 * ..." lines act on NAME's, whose log lines start "NAME: " too. The
 * connect is made from the client connection's on_connect, so it is the
 * one being opened's (sm->opening).
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
static conn *up_current(sim_conn *sc)
{
    return sc->up_id ? conn_table_find(sc->sm->conns, sc->up_id) : NULL;
}

static int connecting_state(enum sim_up_state s)
{
    return s == SIM_UP_SOON || s == SIM_UP_ASKED || s == SIM_UP_SILENT;
}

/* 1 when sc's first upstream line still to run answers a connect made
 * now (accept, refuse or timeout). Malformed lines are skipped here: they
 * are reported when they run. */
static int answered_later(const sim_conn *sc)
{
    for (const char *p = sc->sm->rest; p != NULL && *p != '\0';) {
        char word[16], name[SIM_NAME_MAX + 1];
        const char *q = sim_prefix(p, name);
        if (q != NULL && strcmp(name, sc->name) == 0)
            q = sim_word(q, word, sizeof word);
        else
            word[0] = '\0';
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

static void tick(sim_conn *sc)
{
    conn_table_tick(sc->sm->conns);
    sim_up_settle(sc->sm);
}

/* The upstream accepts the pending connect. The caller ticks the table
 * (a timer's is ticked by loop_advance). */
static void accept_now(sim_conn *sc)
{
    loop_timer_stop(sc->sm->loop, &sc->up_soon);
    conn *up = up_current(sc);
    sc->up_state = up != NULL ? SIM_UP_OPEN : SIM_UP_NONE;
    if (up != NULL && conn_connecting(up))
        conn_feed_connected(up, 0);
}

static void on_soon(timer *t)
{
    sim_conn *sc = t->data;
    if (sc->up_state == SIM_UP_SOON)
        accept_now(sc);
}

void sim_up_init(sim_conn *sc)
{
    timer_init(&sc->up_soon, on_soon, sc);
}

void sim_up_stop(sim_conn *sc)
{
    loop_timer_stop(sc->sm->loop, &sc->up_soon);
}

void sim_up_connect(void *data, conn *c, const char *host, int port)
{
    sim *sm = data;
    (void)host;
    (void)port;
    /* Only on_connect connects (conn:connect, or the default upstream
     * when it is over), so the connection being opened is the one. */
    sim_conn *sc = sm->opening ? sm->opening : sm->conn[sm->n_conns - 1];
    loop_timer_stop(sm->loop, &sc->up_soon);
    sc->up_id = conn_id(c);
    sc->up_state = answered_later(sc) ? SIM_UP_ASKED : SIM_UP_SOON;
    if (!sm->quiet)
        sim_say(sc, "proxy connects to upstream %s", conn_peer(c));
    /* Not from inside this call (the owner sets its callbacks after
     * conn_connect returns): the timer, or sim_up_settle after the step,
     * whichever comes first. Without the timer, settle still does it. */
    if (sc->up_state == SIM_UP_SOON)
        (void)loop_timer_start(sm->loop, &sc->up_soon, 0);
}

void sim_up_settle(sim *sm)
{
    for (int i = 0; i < sm->n_conns; i++) {
        sim_conn *sc = sm->conn[i];
        if (sc->up_state == SIM_UP_SOON) {
            accept_now(sc);
            conn_table_tick(sm->conns);
        }
    }
}

void sim_up_sent(sim_conn *sc, const char *bytes, size_t len)
{
    sim_say_bytes(sc, "proxy sends upstream", bytes, len);
}

void sim_up_fin(sim_conn *sc)
{
    sim_say(sc, "proxy half-closes upstream (FIN)");
}

void sim_up_closed(sim_conn *sc, conn *c, int abortive)
{
    enum sim_up_state was = SIM_UP_OPEN;
    if (conn_id(c) == sc->up_id) {
        was = sc->up_state;
        sc->up_state = SIM_UP_NONE;
        loop_timer_stop(sc->sm->loop, &sc->up_soon);
    }
    if (sc->sm->quiet || was == SIM_UP_FAILED)
        return; /* a failed connect: its note said it all */
    const char *reason = conn_reason_name(conn_reason(c));
    if (connecting_state(was))
        sim_say(sc, "proxy gives up connecting to upstream (%s)", reason);
    else
        sim_say(sc, "proxy %s (%s)",
                abortive ? "resets upstream (RST)" : "closes upstream",
                reason);
}

void sim_up_note(sim_conn *sc, const char *what)
{
    /* A connecting upstream's only note is its failure (a timeout): the
     * simulation marks an accept OPEN before it feeds it. */
    if (connecting_state(sc->up_state))
        sc->up_state = SIM_UP_FAILED;
    sim_say(sc, "proxy: %s", what);
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

static int up_send(sim_conn *sc, const sim_reader *r, const char **p,
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
        conn *up = up_current(sc);
        const char *why = cannot(up);
        if (why != NULL) {
            sim_say(sc, "upstream cannot send: %s", why);
            continue;
        }
        sim_say_bytes(sc, "upstream sends", scratch, len);
        conn_feed(up, scratch, len);
        tick(sc);
    }
    return 0;
}

/* shutdown, close, reset: the upstream's end. */
static void up_end(sim_conn *sc, const char *word)
{
    conn *up = up_current(sc);
    const char *why = cannot(up);
    int reset = strcmp(word, "reset") == 0;
    if (why != NULL && !(reset && up != NULL && !conn_connecting(up))) {
        sim_say(sc, "upstream cannot %s: %s", word, why);
        return;
    }
    if (reset) {
        sim_say(sc, "upstream resets the connection (RST)");
        conn_feed_reset(up);
    } else {
        sim_say(sc, "upstream %s (FIN)", word[0] == 's' ? "half-closes"
                                                       : "closes");
        conn_feed_eof(up);
    }
    tick(sc);
}

/* accept, refuse, timeout: the answer to a pending connect. */
static void up_answer(sim_conn *sc, const char *word)
{
    conn *up = up_current(sc);
    if (up == NULL || !conn_connecting(up)) {
        sim_say(sc, "upstream has no connect to %s", word);
        return;
    }
    if (strcmp(word, "accept") == 0) {
        sim_say(sc, "upstream accepts the connection");
        accept_now(sc);
    } else if (strcmp(word, "refuse") == 0) {
        loop_timer_stop(sc->sm->loop, &sc->up_soon);
        sc->up_state = SIM_UP_FAILED;
        sim_say(sc, "upstream refuses the connection");
        conn_feed_connected(up, ERR_ECONNREFUSED);
    } else {
        loop_timer_stop(sc->sm->loop, &sc->up_soon);
        sc->up_state = SIM_UP_SILENT;
        sim_say(sc, "upstream does not answer the connect");
    }
    tick(sc);
}

int sim_up_line(sim_conn *sc, const sim_reader *r, const char *p,
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
    if (!sc->sm->proxy && sc->up_id == 0)
        return sim_fail(r, "an upstream line, but there is no upstream "
                        "(give --upstream HOST:PORT, or a script that "
                        "connects)", NULL);
    if (is_send) {
        int rc = up_send(sc, r, &p, scratch);
        if (rc != 0)
            return rc;
    } else if (is_end) {
        up_end(sc, word);
    } else {
        up_answer(sc, word);
    }
    *end = p;
    return 0;
}

void sim_up_report(sim_conn *sc)
{
    conn *up = up_current(sc);
    if (up != NULL)
        sim_say(sc, "end of transcript: the upstream connection is %s",
                conn_connecting(up) ? "connecting"
                                    : conn_state_name(conn_state(up)));
}
