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
 *     expect nothing            no byte and no end, now and until the end
 *                               of the next wait
 *     expect error              a hook error, in the command before (or
 *                               by the end of the next wait)
 * An expectation not met yet waits until the end of the next wait (or
 * the next expect line, or the transcript's end); bytes that differ, or
 * an end before all bytes came, fail at once. A hook error with no
 * expect error after it fails. A failure prints "FILE:LINE: expected ...
 * but the server sent ..." to stderr, stops, and the exit status is 1;
 * a malformed transcript stays exit 2. */
#include "simulate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "loop.h"
#include "quote.h"
#include "simulate_int.h"

#define SHOW_MAX 1024 /* bytes of one chunk printed; the rest is counted */
/* The virtual clock's end: about 31 years, far from where a deadline
 * would wrap around (UINT64_MAX is also the timer queue's "never"). */
#define WAIT_MAX_MS 1000000000000ULL
#define WAIT_MAX_TEXT "1000000000000"
#define CLOCK_MAX_MS WAIT_MAX_MS

/* The connection while it lives, else NULL. Closed connections are freed
 * by conn_table_tick, so no pointer to one is kept across a tick. */
static conn *current(sim *sm)
{
    return conn_table_find(sm->conns, sm->conn_id);
}

void sim_say(const sim *sm, const char *fmt, ...)
{
    va_list ap;
    printf("%6" PRIu64 " ms  ", loop_now(sm->loop));
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

void sim_put_quoted(FILE *f, const char *data, size_t len)
{
    size_t shown = len < SHOW_MAX ? len : SHOW_MAX;
    char esc[QUOTE_BYTE_MAX];
    fputc('"', f);
    for (size_t i = 0; i < shown; i++) {
        quote_byte((unsigned char)data[i], esc);
        fputs(esc, f);
    }
    fputc('"', f);
    if (shown < len)
        fprintf(f, " ... (%zu more bytes)", len - shown);
}

void sim_say_bytes(const sim *sm, const char *who, const char *data,
                   size_t len)
{
    printf("%6" PRIu64 " ms  %s %zu byte%s ", loop_now(sm->loop), who,
           len, len == 1 ? "" : "s");
    sim_put_quoted(stdout, data, len);
    putchar('\n');
    fflush(stdout);
}

/* --- the transport: what the server does -------------------------------- */

/* Each goes to the upstream's side for a connection to the upstream. */
static long sim_send(void *data, conn *c, const char *bytes, size_t len)
{
    sim *sm = data;
    if (sm->quiet)
        return (long)len;
    if (sim_up_owns(sm, c)) {
        sim_up_sent(sm, bytes, len);
    } else {
        sim_say_bytes(sm, "server sends", bytes, len);
        sim_ex_sent(sm, bytes, len);
    }
    return (long)len;
}

static void sim_shutdown(void *data, conn *c)
{
    sim *sm = data;
    if (sm->quiet)
        return;
    if (sim_up_owns(sm, c)) {
        sim_up_fin(sm);
    } else {
        sim_say(sm, "server half-closes (FIN)");
        sim_ex_end(sm, SIM_END_FIN);
    }
}

static void sim_close(void *data, conn *c, int abortive)
{
    sim *sm = data;
    if (sim_up_owns(sm, c)) {
        sim_up_closed(sm, c, abortive);
        return;
    }
    if (sm->quiet)
        return;
    sim_say(sm, "server %s (%s)", abortive ? "resets the connection (RST)"
                                       : "closes the connection",
            conn_reason_name(conn_reason(c)));
    sim_ex_end(sm, abortive ? SIM_END_RESET : SIM_END_CLOSE);
}

static void sim_note(void *data, conn *c, const char *what)
{
    sim *sm = data;
    if (sm->quiet)
        return;
    if (sim_up_owns(sm, c))
        sim_up_note(sm, what);
    else
        sim_say(sm, "%s", what);
}

static void before_sleep(loop *l, void *data)
{
    (void)l;
    conn_table_tick(data);
}

/* --- the transcript ------------------------------------------------------ */

int sim_fail(const sim_reader *r, const char *msg, const char *word)
{
    fprintf(stderr, "ricochet: %s:%d: %s%s%s\n", r->path, r->line, msg,
            word ? " " : "", word ? word : "");
    return ERR_EINVAL;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* A decoded string is never longer than its text. */
int sim_parse_quoted(const sim_reader *r, const char **p, char *out,
                     size_t *len)
{
    const char *s = *p + 1;
    size_t n = 0;
    for (;; s++) {
        if (*s == '\0' || *s == '\n')
            return sim_fail(r, "unfinished string", NULL);
        if (*s == '"')
            break;
        if (*s != '\\') {
            out[n++] = *s;
            continue;
        }
        s++;
        switch (*s) {
        case 'r': out[n++] = '\r'; break;
        case 'n': out[n++] = '\n'; break;
        case 't': out[n++] = '\t'; break;
        case '0': out[n++] = '\0'; break;
        case '\\': out[n++] = '\\'; break;
        case '"': out[n++] = '"'; break;
        case 'x': {
            int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
            if (lo < 0)
                return sim_fail(r, "\\x needs two hex digits", NULL);
            out[n++] = (char)(hi * 16 + lo);
            s += 2;
            break;
        }
        default:
            return sim_fail(r, "unknown escape in string (use \\r \\n "
                            "\\t \\0 \\\\ \\\" \\xHH)", NULL);
        }
    }
    *p = s + 1;
    *len = n;
    return 0;
}

const char *sim_skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

const char *sim_word(const char *p, char *word, size_t cap)
{
    size_t n = 0;
    while (p[n] && p[n] != ' ' && p[n] != '\t' && p[n] != '\r' &&
           p[n] != '\n' && n < cap - 1) {
        word[n] = p[n];
        n++;
    }
    word[n] = '\0';
    return p + n;
}

/* After a step that may have run the script: free what closed, and
 * accept a connect that succeeds at once. */
static void step(sim *sm)
{
    conn_table_tick(sm->conns);
    sim_up_settle(sm);
}

/* Run one line. Returns 0, ERR_EINVAL on a transcript error, or 1 on a
 * failed expectation (both reported). */
static int run_line(sim *sm, const sim_reader *r, const char *text,
                    char *scratch)
{
    char word[16];
    const char *p = sim_word(sim_skip_space(text), word, sizeof word);
    p = sim_skip_space(p);
    if (word[0] == '\0' || word[0] == '#')
        return 0;
    conn *c;
    int rc = strcmp(word, "expect") == 0 ? sim_ex_line(sm, r, p, scratch, &p)
                                         : sim_ex_before(sm, r);
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
            c = current(sm);
            if (c == NULL || conn_peer_done(c)) {
                sim_say(sm, "client cannot send: the connection is %s",
                        c ? "half-closed by the client" : "closed");
                continue;
            }
            sim_say_bytes(sm, "client sends", scratch, len);
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
    } else if (strcmp(word, "shutdown") == 0 || strcmp(word, "close") == 0) {
        c = current(sm);
        if (c != NULL && !conn_peer_done(c)) {
            sim_say(sm, "client %s", word[0] == 's' ? "half-closes (FIN)"
                                                : "closes (FIN)");
            conn_feed_eof(c);
            step(sm);
        }
    } else if (strcmp(word, "reset") == 0) {
        c = current(sm);
        if (c != NULL) {
            sim_say(sm, "client resets the connection (RST)");
            conn_feed_reset(c);
            step(sm);
        }
    } else if (strcmp(word, "upstream") == 0) {
        rc = sim_up_line(sm, r, p, scratch, &p);
        if (rc != 0)
            return rc;
    } else if (strcmp(word, "truncated") == 0) {
        /* --record cut the connection's transcript here: it cannot pass */
        fprintf(stderr, "%s:%d: the recording was cut here (--record-max): "
                "what came after is not in the transcript\n", r->path,
                r->line);
        return 1;
    } else {
        return sim_fail(r, "unknown command (send, wait, shutdown, close, "
                        "reset, upstream, expect):", word);
    }
    if (*sim_skip_space(p) != '\0' && *sim_skip_space(p) != '#')
        return sim_fail(r, "unexpected text after the command:", p);
    return sim_ex_after(sm, r, strcmp(word, "wait") == 0);
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

int simulate_run(const char *path, const server_config *cfg, policy *p)
{
    size_t len;
    char *text = read_file(path, &len);
    if (text == NULL) {
        fprintf(stderr, "ricochet: cannot read the transcript %s: %s\n",
                path, strerror(errno));
        policy_release(p);
        return EXIT_USAGE;
    }
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL) { /* it would end the text early: refuse it all */
        sim_reader at = {path, 0};
        for (const char *q = text; q <= nul; q++)
            at.line += q == text || q[-1] == '\n';
        sim_fail(&at, "a NUL byte in the transcript (inside a quoted "
                 "string, write it as \\0)", NULL);
        free(text);
        policy_release(p);
        return EXIT_USAGE;
    }
    sim sm;
    memset(&sm, 0, sizeof sm);
    sim_up_init(&sm);
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
        fprintf(stderr, "ricochet: out of memory\n");
        free(text);
        free(scratch);
        loop_free(sm.loop);
        policy_release(p);
        return EXIT_RUNTIME;
    }
    loop_set_before_sleep(sm.loop, before_sleep, sm.conns);
    policy_bind_loop(p, sm.loop);
    policy_bind_stats(p, &sm.stats);

    int code = EXIT_OK;
    sim_say(&sm, "client connects");
    conn *c = conn_open_virtual(sm.conns, "127.0.0.1:40000");
    if (c != NULL) {
        sm.conn_id = conn_id(c);
        policy_attach(p, c);
    }
    step(&sm);

    sim_reader r = {path, 0};
    for (char *line = text; line != NULL && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        sm.rest = next ? next : "";
        r.line++;
        int rc = run_line(&sm, &r, line, scratch);
        if (rc != 0) {
            code = rc == ERR_EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
            break;
        }
        line = next;
    }
    c = current(&sm);
    if (code == EXIT_OK && c != NULL)
        sim_say(&sm, "end of transcript: the connection is %s",
                conn_state_name(conn_state(c)));
    if (code == EXIT_OK)
        sim_up_report(&sm);
    if (code == EXIT_OK && sim_ex_finish(&sm, &r) != 0)
        code = EXIT_RUNTIME;
    sm.quiet = 1;
    conn_table_free(sm.conns);
    sim_up_stop(&sm);
    policy_release(p);
    loop_free(sm.loop);
    sim_ex_free(&sm);
    free(scratch);
    free(text);
    return code;
}
