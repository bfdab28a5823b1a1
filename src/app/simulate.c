/* simulate.c -- --simulate: play a client transcript against a script.
 *
 * The connection is a real conn with a transport instead of a socket, and
 * the loop runs on a virtual clock, so timers, delays and timeouts happen
 * in order without taking real time, and the output is the same on every
 * run: a test can diff it. In proxy mode the upstream is played too, by
 * the transport's connector (simulate_up.c).
 *
 * Transcript: one command a line; '#' starts a comment.
 *     send "hello\r\n"          the client sends one chunk (escapes: \r \n
 *     send "ab" "cd"            \t \0 \\ \" \xHH); several strings, several
 *                               chunks, one after the other
 *     wait 250                  250 ms pass (1e12 ms in all at most), for
 *                               the client and the upstream alike
 *     shutdown                  the client finishes sending (FIN)
 *     close                     the client finishes sending and closes
 *     reset                     the client resets the connection (RST)
 *     truncated                 fails: --record cut the transcript here
 * The upstream's side, in proxy mode (--upstream, or a script that
 * connects), with the same words:
 *     upstream send "..." ...   the upstream sends
 *     upstream shutdown         the upstream finishes sending (FIN)
 *     upstream close            the upstream finishes sending and closes
 *     upstream reset            the upstream resets the connection (RST)
 *     upstream accept           the pending connect succeeds now
 *     upstream refuse           the pending connect fails now: refused
 *     upstream timeout          the pending connect is never answered:
 *                               --connect-timeout fires in a later wait
 * A connect is answered by the first upstream line after it when that
 * line is accept, refuse or timeout (the lines before it run while the
 * proxy is still connecting); otherwise it succeeds at once.
 * What the server sends the client, checked (simulate_expect.c):
 *     expect "..." ...          the next bytes, joined across chunks
 *                               (several strings: joined too; escapes as
 *                               in send)
 *     expect fin                the server half-closes, next
 *     expect close              the server closes (gracefully), next
 *     expect reset              the server resets (RST), next
 *     expect nothing            no byte and no end now, and until the end
 *                               of the next command when that is a wait
 *     expect error              a hook error, in the command before (or
 *                               by the end of the next wait)
 * An expectation not met yet waits until the end of the next wait (or
 * the next expect line, or the transcript's end); bytes that differ, or
 * an end before all bytes came, fail at once. A hook error with no
 * expect error after it fails. A failure prints "FILE:LINE: expected ...
 * but the server sent ..." to stderr, stops, and the exit status is 1;
 * a malformed transcript stays exit 2.
 * Several client connections, one script state (SIM_CONNS_MAX at most):
 *     connect NAME              another client connects, named NAME
 *                               ([A-Za-z0-9_-], 1 to 16 bytes)
 *     NAME: COMMAND             COMMAND (send, shutdown, close, reset,
 *                               expect, upstream) on NAME's connection
 * Lines without a prefix act on the first connection. wait is for every
 * connection at once and takes no prefix. A named connection's log lines
 * start "NAME: " after the time; the first one's have no prefix. */
#include "simulate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "loop.h"
#include "simulate_int.h"

/* The virtual clock's end: about 31 years, far from where a deadline
 * would wrap around (UINT64_MAX is also the timer queue's "never"). */
#define WAIT_MAX_MS 1000000000000ULL
#define WAIT_MAX_TEXT "1000000000000"
#define CLOCK_MAX_MS WAIT_MAX_MS

/* sc's client connection while it lives, else NULL. Closed connections
 * are freed by conn_table_tick, so no pointer to one is kept across a
 * tick. */
static conn *current(sim_conn *sc)
{
    return conn_table_find(sc->sm->conns, sc->conn_id);
}

/* Whose c is, and which side: *upstream is set for an upstream's. Every
 * connection the table holds is a client's or its upstream. */
static sim_conn *owner_of(sim *sm, const conn *c, int *upstream)
{
    uint64_t id = conn_id(c);
    for (int i = 0; i < sm->n_conns; i++) {
        if (sm->conn[i]->conn_id == id) {
            *upstream = 0;
            return sm->conn[i];
        }
        if (sm->conn[i]->up_id == id) {
            *upstream = 1;
            return sm->conn[i];
        }
    }
    /* an upstream made before its connect was seen: the one opening */
    *upstream = 1;
    return sm->opening ? sm->opening : sm->conn[0];
}

/* --- the transport: what the server does -------------------------------- */

/* Each goes to the upstream's side for a connection to the upstream. */
static long sim_send(void *data, conn *c, const char *bytes, size_t len)
{
    sim *sm = data;
    if (sm->quiet)
        return (long)len;
    int up;
    sim_conn *sc = owner_of(sm, c, &up);
    if (up) {
        sim_up_sent(sc, bytes, len);
    } else {
        sim_say_bytes(sc, "server sends", bytes, len);
        sim_ex_sent(sc, bytes, len);
    }
    return (long)len;
}

static void sim_shutdown(void *data, conn *c)
{
    sim *sm = data;
    if (sm->quiet)
        return;
    int up;
    sim_conn *sc = owner_of(sm, c, &up);
    if (up) {
        sim_up_fin(sc);
    } else {
        sim_say(sc, "server half-closes (FIN)");
        sim_ex_end(sc, SIM_END_FIN);
    }
}

static void sim_close(void *data, conn *c, int abortive)
{
    sim *sm = data;
    int up;
    sim_conn *sc = owner_of(sm, c, &up);
    if (up) {
        sim_up_closed(sc, c, abortive);
        return;
    }
    if (sm->quiet)
        return;
    if (conn_reason(c) == CONN_REASON_ERROR)
        sc->error_closes++;
    sim_say(sc, "server %s (%s)", abortive ? "resets the connection (RST)"
                                       : "closes the connection",
            conn_reason_name(conn_reason(c)));
    sim_ex_end(sc, abortive ? SIM_END_RESET : SIM_END_CLOSE);
}

static void sim_note(void *data, conn *c, const char *what)
{
    sim *sm = data;
    if (sm->quiet)
        return;
    int up;
    sim_conn *sc = owner_of(sm, c, &up);
    if (up)
        sim_up_note(sc, what);
    else
        sim_say(sc, "%s", what);
}

static void before_sleep(loop *l, void *data)
{
    (void)l;
    conn_table_tick(data);
}

/* --- the transcript ------------------------------------------------------ */

/* After a step that may have run the script: free what closed, and
 * accept a connect that succeeds at once. */
static void step(sim *sm)
{
    conn_table_tick(sm->conns);
    sim_up_settle(sm);
}

static sim_conn *find_conn(sim *sm, const char *name)
{
    for (int i = 0; i < sm->n_conns; i++)
        if (strcmp(sm->conn[i]->name, name) == 0)
            return sm->conn[i];
    return NULL;
}

/* A new client connection named name ("" for the first), attached to
 * the script. Returns it, or NULL when out of memory. */
static sim_conn *open_conn(sim *sm, const char *name)
{
    sim_conn *sc = calloc(1, sizeof *sc);
    if (sc == NULL)
        return NULL;
    sc->sm = sm;
    snprintf(sc->name, sizeof sc->name, "%s", name);
    sim_up_init(sc);
    sm->conn[sm->n_conns++] = sc;
    sim_say(sc, "client connects");
    /* each a port of its own, as a real client's would be */
    char peer[32];
    snprintf(peer, sizeof peer, "127.0.0.1:%d", 40000 + sm->n_conns - 1);
    conn *c = conn_open_virtual(sm->conns, peer);
    if (c != NULL) {
        sc->conn_id = conn_id(c);
        sm->opening = sc;
        policy_attach(sm->policy, c);
        sm->opening = NULL;
    }
    step(sm);
    return sc;
}

/* "connect NAME": p is past the word connect. */
static int connect_line(sim *sm, const sim_reader *r, const char *p,
                        const char **end, sim_conn **made)
{
    char name[64]; /* a longer one is shown cut */
    *end = sim_word(p, name, sizeof name);
    size_t n = strlen(name);
    int ok = n > 0 && n <= SIM_NAME_MAX && name[0] != '#';
    for (size_t i = 0; ok && i < n; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') ||
             (name[i] >= 'A' && name[i] <= 'Z') ||
             (name[i] >= '0' && name[i] <= '9') || name[i] == '_' ||
             name[i] == '-';
    if (!ok)
        return sim_fail(r, "connect needs a name: letters, digits, _ and "
                        "-, 1 to 16 of them:", n > 0 ? name : "(none)");
    if (find_conn(sm, name) != NULL)
        return sim_fail(r, "connect: there is already a connection named",
                        name);
    *end = sim_skip_space(*end);
    if (**end != '\0' && **end != '#') /* before it connects */
        return sim_fail(r, "unexpected text after the command:", *end);
    if (sm->n_conns == SIM_CONNS_MAX)
        return sim_fail(r, "connect: too many connections (at most 64 in "
                        "a transcript):", name);
    *made = open_conn(sm, name);
    if (*made == NULL) {
        sim_report(r, 1, "out of memory");
        return 1;
    }
    return 0;
}

/* Run one line. Returns 0, ERR_EINVAL on a transcript error, or 1 on a
 * failed expectation (both reported). */
static int run_line(sim *sm, const sim_reader *r, const char *text,
                    char *scratch)
{
    char word[16], name[SIM_NAME_MAX + 1];
    const char *p = sim_prefix(text, name);
    if (p == NULL) {
        sim_word(sim_skip_space(text), scratch, strlen(text) + 1);
        return sim_fail(r, "a connection prefix is NAME: (letters, "
                        "digits, _ and -, 1 to 16 of them), not", scratch);
    }
    p = sim_word(sim_skip_space(p), word, sizeof word);
    p = sim_skip_space(p);
    if (name[0] == '\0' && (word[0] == '\0' || word[0] == '#'))
        return 0;
    sim_conn *sc = find_conn(sm, name);
    if (sc == NULL)
        return sim_fail(r, "no connection named", name);
    if (name[0] != '\0' && (word[0] == '\0' || word[0] == '#'))
        return sim_fail(r, "a connection prefix needs a command after it:",
                        name);
    if (name[0] != '\0' && (strcmp(word, "wait") == 0 ||
                            strcmp(word, "connect") == 0))
        return sim_fail(r, strcmp(word, "wait") == 0
                        ? "wait moves every connection's clock: write it "
                          "with no NAME: prefix"
                        : "connect takes no NAME: prefix (connect NAME)",
                        NULL);
    conn *c;
    int rc = strcmp(word, "expect") == 0
                 ? sim_ex_line(sc, r, p, scratch, &p)
                 : sim_ex_before(sm, r, strcmp(word, "wait") == 0);
    if (rc != 0)
        return rc;

    if (strcmp(word, "expect") == 0) {
        /* done above */
    } else if (strcmp(word, "send") == 0) {
        if (*p != '"')
            return sim_fail(r, "send needs one or more quoted strings",
                            NULL);
        while (*p == '"') {
            size_t len;
            rc = sim_parse_quoted(r, &p, scratch, &len);
            if (rc != 0)
                return rc;
            p = sim_skip_space(p);
            c = current(sc);
            if (c == NULL || conn_peer_done(c)) {
                sim_say(sc, "client cannot send: the connection is %s",
                        c ? "half-closed by the client" : "closed");
                continue;
            }
            sim_say_bytes(sc, "client sends", scratch, len);
            conn_feed(c, scratch, len);
            step(sm);
        }
    } else if (strcmp(word, "wait") == 0) {
        char *end;
        errno = 0;
        unsigned long long ms = strtoull(p, &end, 10);
        if (errno || end == p || p[0] < '0' || p[0] > '9')
            return sim_fail(r, "wait needs milliseconds:", p);
        if (ms > WAIT_MAX_MS || loop_now(sm->loop) + ms > CLOCK_MAX_MS)
            return sim_fail(r, "wait is too long (at most " WAIT_MAX_TEXT
                            " ms in all):", p);
        loop_advance(sm->loop, loop_now(sm->loop) + ms);
        step(sm);
        p = end;
        sc = NULL; /* every connection's */
    } else if (strcmp(word, "connect") == 0) {
        rc = connect_line(sm, r, p, &p, &sc);
        if (rc != 0)
            return rc;
    } else if (strcmp(word, "shutdown") == 0 || strcmp(word, "close") == 0) {
        c = current(sc);
        if (c != NULL && !conn_peer_done(c)) {
            sim_say(sc, "client %s", word[0] == 's' ? "half-closes (FIN)"
                                                : "closes (FIN)");
            conn_feed_eof(c);
            step(sm);
        }
    } else if (strcmp(word, "reset") == 0) {
        c = current(sc);
        if (c != NULL) {
            sim_say(sc, "client resets the connection (RST)");
            conn_feed_reset(c);
            step(sm);
        }
    } else if (strcmp(word, "upstream") == 0) {
        rc = sim_up_line(sc, r, p, scratch, &p);
        if (rc != 0)
            return rc;
    } else if (strcmp(word, "truncated") == 0) {
        /* --record cut the connection's transcript here: it cannot pass */
        sim_text t = {.len = 0};
        sim_text_add(&t, "%s:%d: the recording was cut here (--record-max): "
                     "what came after is not in the transcript", r->path,
                     r->line);
        sim_report(r, 0, t.buf);
        return 1;
    } else {
        return sim_fail(r, "unknown command (send, wait, shutdown, close, "
                        "reset, upstream, expect, connect):", word);
    }
    p = sim_skip_space(p);
    if (*p != '\0' && *p != '#')
        return sim_fail(r, "unexpected text after the command:", p);
    return sim_ex_after(sm, sc, r, sc == NULL);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, used = 0;
    char *text = malloc(cap + 1);
    while (text != NULL) {
        used += fread(text + used, 1, cap - used, f);
        if (used < cap)
            break;
        char *bigger = realloc(text, cap * 2 + 1);
        if (bigger == NULL) {
            free(text);
            text = NULL;
            break;
        }
        text = bigger;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (text == NULL || bad) {
        free(text);
        return NULL;
    }
    text[used] = '\0';
    *len = used;
    return text;
}

/* Play every line of text (len bytes, NUL-terminated) on sm. */
static int play(sim *sm, sim_reader *r, char *text, char *scratch)
{
    int code = EXIT_OK;
    if (open_conn(sm, "") == NULL) {
        sim_report(r, 1, "out of memory");
        return EXIT_RUNTIME;
    }
    if (sim_ex_after(sm, sm->conn[0], r, 0) != 0) /* on_connect's errors */
        return EXIT_RUNTIME;
    for (char *line = text; line != NULL && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        sm->rest = next ? next : "";
        r->line++;
        int rc = run_line(sm, r, line, scratch);
        if (rc != 0)
            return rc == ERR_EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
        line = next;
    }
    for (int i = 0; i < sm->n_conns; i++) {
        conn *c = current(sm->conn[i]);
        if (c != NULL)
            sim_say(sm->conn[i], "end of transcript: the connection is %s",
                    conn_state_name(conn_state(c)));
        sim_up_report(sm->conn[i]);
    }
    if (sim_ex_finish(sm, r) != 0)
        code = EXIT_RUNTIME;
    return code;
}

int simulate_play(const char *path, const server_config *cfg, policy *p,
                  int batch, char *failure, size_t failure_cap)
{
    sim_reader r = {path, 0, batch, failure, failure_cap};
    if (failure_cap > 0)
        failure[0] = '\0';
    size_t len;
    char *text = read_file(path, &len);
    if (text == NULL) {
        sim_text t = {.len = 0};
        if (batch)
            sim_text_add(&t, "%s: cannot read the transcript: %s", path,
                         strerror(errno));
        else
            sim_text_add(&t, "cannot read the transcript %s: %s", path,
                         strerror(errno));
        sim_report(&r, 1, t.buf);
        policy_release(p);
        return EXIT_USAGE;
    }
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL) { /* it would end the text early: refuse it all */
        for (const char *q = text; q <= nul; q++)
            r.line += q == text || q[-1] == '\n';
        sim_fail(&r, "a NUL byte in the transcript (inside a quoted "
                 "string, write it as \\0)", NULL);
        free(text);
        policy_release(p);
        return EXIT_USAGE;
    }
    r.line = 0;
    sim sm;
    memset(&sm, 0, sizeof sm);
    sm.log = batch ? NULL : stdout;
    sm.policy = p;
    char *scratch = malloc(len + 1);
    sm.loop = loop_create();
    conn_transport transport = {
        sim_send, sim_shutdown, sim_close, sim_note, &sm, sim_up_connect
    };
    sm.proxy = cfg->policy_opts && cfg->policy_opts->upstream_host;
    sm.rest = text;
    if (sm.loop != NULL) {
        loop_use_virtual_clock(sm.loop, 0);
        conn_config cc = {
            .loop = sm.loop, .out_limit = cfg->out_limit,
            .idle_ms = cfg->idle_ms, .drain_ms = cfg->drain_ms,
            .transport = &transport,
        };
        sm.conns = conn_table_create(&cc);
    }
    if (scratch == NULL || sm.conns == NULL) {
        sim_report(&r, 1, "out of memory");
        free(text);
        free(scratch);
        loop_free(sm.loop);
        policy_release(p);
        return EXIT_RUNTIME;
    }
    loop_set_before_sleep(sm.loop, before_sleep, sm.conns);
    policy_bind_loop(p, sm.loop);
    policy_bind_stats(p, &sm.stats);

    int code = play(&sm, &r, text, scratch);
    sm.quiet = 1;
    conn_table_free(sm.conns);
    for (int i = 0; i < sm.n_conns; i++)
        sim_up_stop(sm.conn[i]);
    policy_release(p);
    loop_free(sm.loop);
    for (int i = 0; i < sm.n_conns; i++) {
        sim_ex_free(sm.conn[i]);
        free(sm.conn[i]);
    }
    free(scratch);
    free(text);
    return code;
}

int simulate_run(const char *path, const server_config *cfg, policy *p)
{
    return simulate_play(path, cfg, p, 0, NULL, 0);
}
