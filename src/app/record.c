/* record.c -- --record: connections written as transcripts (record.h).
 *
 * The tap sees a connection's events in the order they happened on the
 * wire; each becomes a line, and the time between them a `wait N` line,
 * in ms of the loop's clock (the clock its timers run on):
 *     the client's chunk        send "..."      (one string per chunk)
 *     its FIN / its RST         shutdown / reset
 *     the bytes we sent         expect "..."    (joined across chunks)
 *     our FIN / close / RST     expect fin / expect close / expect reset
 *     a hook error              expect error    (the loop's error count
 *                                               went up since the last
 *                                               event, and it ended c)
 * In proxy mode the upstream's side goes in the client's transcript:
 *     its connect's answer      upstream accept / refuse / timeout
 *     its chunk                 upstream send "..."
 *     its FIN / its RST         upstream shutdown / upstream reset
 * An upstream connection is the client's when both have the same owner
 * (the Lua layer's pair): looked up once, among the recorder's live
 * recordings, at the upstream's first event after it was made.
 * The clock, so that the replay keeps the order a timer decided. Live,
 * a timer of d ms set at loop time T is due at T + d + 1 (the loop rounds
 * up) and runs after the I/O of its loop turn; replayed, at V + d, V
 * being the time its setting event has in the transcript. So:
 *   - what the peer did (a chunk, a FIN, a RST; the upstream's too) is
 *     put at min(now, next - 2), next being the loop's next timer
 *     deadline then: a timer that had not run yet (due at next or later
 *     live, at next - 1 or later replayed when set at its exact time)
 *     still fires after it; one that had run (next was later) before;
 *   - what the server did is put at now - 1: no earlier than the replay
 *     does it (a timer's output is never later replayed than live);
 *   - neither goes back before the line before it.
 * What a timer set in a timer, or by an event moved earlier, drifts by a
 * ms or more each time (README, "Recording real traffic"). */
#include "record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "proc.h"
#include "quote.h"

#define LINE_WIDTH 72   /* an expect line takes more strings up to this */
#define STRING_MAX 48   /* bytes of one expect string, at most */

struct recorder {
    const char *dir;
    size_t max_bytes;
    loop *loop;
    const policy_stats *hook_stats;
    char *const *script;
    conn_tap tap;
    uint64_t errors_seen;   /* hook errors counted at the last event */
    int input;              /* the event being written is the peer's */
    stat_counter written, lost; /* the metrics read them */
    struct rec_conn *live;  /* the recordings not yet written */
};

/* An upstream connection's link to its client's recording (its slot). */
typedef struct rec_up {
    struct rec_conn *client; /* NULL: none (yet, or any more) */
    int looked;              /* the client was looked for */
} rec_up;

/* What kind of line the transcript's last one is: an expect line takes
 * more strings while it is the last, at the same time. */
enum last_line { LAST_OTHER, LAST_EXPECT };

/* One connection's recording, in its tap slot. */
typedef struct rec_conn {
    char *text;             /* the transcript's lines, after its head */
    size_t len, cap;
    uint64_t last_ms;       /* loop time of the last line's event */
    enum last_line last;
    size_t line_start;      /* where the last line starts in text */
    unsigned truncated : 1; /* over max_bytes: nothing more is kept */
    unsigned dropped : 1;   /* memory ran out: not written at all */
    unsigned peer_reset : 1; /* the client reset: nothing more happens */
    unsigned hook_error : 1; /* a hook error, seen at one of its events */
    unsigned had_upstream : 1; /* upstream lines were written */
    unsigned closed : 1;    /* the client's connection closed */
    conn *c;                /* the client's connection */
    struct rec_conn *prev, *next; /* in the recorder's live list */
    rec_up *up;             /* its upstream now, or NULL */
    char up_peer[64];       /* the last upstream's address */
    char name[80];          /* the file's name in dir */
    char head[600];         /* the comment lines at the top */
} rec_conn;

/* --- the text ------------------------------------------------------------ */

/* Make room for n more bytes. 0, or -1 when the recording stops here
 * (over the cap: truncated; no memory: dropped). */
static int room(recorder *r, conn *c, rec_conn *rc, size_t n)
{
    if (rc->truncated || rc->dropped)
        return -1;
    if (rc->len + n > r->max_bytes) {
        rc->truncated = 1;
        return -1;
    }
    if (rc->len + n <= rc->cap)
        return 0;
    size_t cap = rc->cap ? rc->cap : 1024;
    while (cap < rc->len + n)
        cap *= 2;
    if (cap > r->max_bytes)
        cap = r->max_bytes;
    char *bigger = realloc(rc->text, cap);
    if (bigger == NULL) {
        log_warn("conn %llu: out of memory for its recording: dropped "
                 "(the connection goes on)",
                 (unsigned long long)conn_id(c));
        free(rc->text);
        rc->text = NULL;
        rc->len = rc->cap = 0;
        rc->dropped = 1;
        return -1;
    }
    rc->text = bigger;
    rc->cap = cap;
    return 0;
}

static void put(rec_conn *rc, const char *s, size_t n)
{
    memcpy(rc->text + rc->len, s, n);
    rc->len += n;
}

static size_t quoted_len(const char *data, size_t len)
{
    return 2 + quote_len(data, len);
}

static void put_quoted(rec_conn *rc, const char *data, size_t len)
{
    put(rc, "\"", 1);
    rc->len += quote_into(rc->text + rc->len, data, len);
    put(rc, "\"", 1);
}

/* A whole line (with its '\n'), or nothing when it does not fit. */
static int line(recorder *r, conn *c, rec_conn *rc, const char *text)
{
    size_t n = strlen(text);
    if (room(r, c, rc, n + 1) != 0)
        return -1;
    rc->line_start = rc->len;
    put(rc, text, n);
    put(rc, "\n", 1);
    rc->last = LAST_OTHER;
    return 0;
}

/* The time an event of the peer's (input 1) or of the server's (0) is
 * put at (see the top of the file). */
static uint64_t event_time(recorder *r, int input)
{
    uint64_t now = loop_now(r->loop);
    uint64_t at = now > 0 ? now - 1 : 0;
    if (input) {
        uint64_t next = loop_next_deadline(r->loop);
        at = next >= now + 2 ? now : next >= 2 ? next - 2 : 0;
    }
    return at;
}

/* Time passed since the last line: a wait line first. */
static int catch_up(recorder *r, conn *c, rec_conn *rc)
{
    uint64_t now = event_time(r, r->input);
    if (now <= rc->last_ms)
        return 0;
    char text[40];
    snprintf(text, sizeof text, "wait %llu",
             (unsigned long long)(now - rc->last_ms));
    if (line(r, c, rc, text) != 0)
        return -1;
    rc->last_ms = now;
    return 0;
}

/* A chunk, after word ("send ", "upstream send "): one string, one
 * chunk, however long (several strings would be several chunks, and
 * on_data would see them so). */
static void put_bytes(recorder *r, conn *c, rec_conn *rc, const char *word,
                      const char *data, size_t len)
{
    size_t w = strlen(word);
    if (catch_up(r, c, rc) != 0 ||
        room(r, c, rc, w + 1 + quoted_len(data, len)) != 0)
        return;
    rc->line_start = rc->len;
    put(rc, word, w);
    put_quoted(rc, data, len);
    put(rc, "\n", 1);
    rc->last = LAST_OTHER;
}

/* What we sent: strings of at most STRING_MAX bytes, each ending at a
 * '\n' byte, on expect lines up to LINE_WIDTH wide. Strings are joined
 * into one expectation, so where they break does not matter. */
static void put_expect(recorder *r, conn *c, rec_conn *rc, const char *data,
                       size_t len)
{
    if (catch_up(r, c, rc) != 0)
        return;
    size_t at = 0;
    while (at < len) {
        size_t n = 0;
        while (at + n < len && n < STRING_MAX && data[at + n++] != '\n')
            ;
        size_t q = quoted_len(data + at, n);
        /* rc->len - 1: over the '\n' that ends the line */
        int join = rc->last == LAST_EXPECT &&
                   rc->len - 1 - rc->line_start + 1 + q <= LINE_WIDTH;
        if (room(r, c, rc, join ? q + 1 : q + 8) != 0)
            return;
        if (join) {
            rc->len--; /* the '\n' */
            put(rc, " ", 1);
        } else {
            rc->line_start = rc->len;
            put(rc, "expect ", 7);
        }
        put_quoted(rc, data + at, n);
        put(rc, "\n", 1);
        rc->last = LAST_EXPECT;
        at += n;
    }
}

static void put_word(recorder *r, conn *c, rec_conn *rc, const char *text)
{
    if (catch_up(r, c, rc) == 0)
        line(r, c, rc, text);
}

/* --- the file ------------------------------------------------------------ */

/* 1 when the loop's hook errors went up since the last event. */
static int hook_failed(recorder *r)
{
    if (r->hook_stats == NULL)
        return 0;
    uint64_t all = 0;
    for (int e = 0; e < POLICY_ERROR_KINDS; e++)
        all += stat_get(&r->hook_stats->errors[e]);
    int more = all > r->errors_seen;
    r->errors_seen = all;
    return more;
}

static void start(recorder *r, conn *c)
{
    rec_conn *rc = calloc(1, sizeof *rc);
    if (rc == NULL) {
        stat_add(&r->lost, 1);
        log_warn("conn %llu: out of memory for its recording: not "
                 "recorded (recordings lost so far: %llu)",
                 (unsigned long long)conn_id(c),
                 (unsigned long long)stat_get(&r->lost));
        return;
    }
    rc->last_ms = loop_now(r->loop);
    int64_t secs;
    int ms;
    clock_wall(&secs, &ms);
    char when[40], stamp[40];
    quote_utc(secs, ms, when, sizeof when);
    size_t k = 0;
    for (const char *p = when; *p && k < sizeof stamp - 1; p++)
        if (*p != '-' && *p != ':') /* no ':' in a Windows file name */
            stamp[k++] = *p;
    stamp[k] = '\0';
    /* time first: names sort in the order the connections began */
    snprintf(rc->name, sizeof rc->name, "%s-p%llu-c%llu.sim", stamp,
             (unsigned long long)proc_id(),
             (unsigned long long)conn_id(c));
    const char *script = r->script && *r->script ? *r->script : "?";
    snprintf(rc->head, sizeof rc->head,
             "# ricochet --record: conn %llu from %s\n"
             "# started %s\n"
             "# script %s\n"
             "# replay: ricochet --simulate FILE SCRIPT (with the "
             "server's options)\n",
             (unsigned long long)conn_id(c), conn_peer(c), when, script);
    rc->c = c;
    rc->next = r->live;
    if (r->live != NULL)
        r->live->prev = rc;
    r->live = rc;
    conn_set_tap_data(c, rc);
}

static void unlink_live(recorder *r, rec_conn *rc)
{
    if (rc->prev != NULL)
        rc->prev->next = rc->next;
    else
        r->live = rc->next;
    if (rc->next != NULL)
        rc->next->prev = rc->prev;
    if (rc->up != NULL)
        rc->up->client = NULL;
}

/* The client's recording an upstream connection belongs to, or NULL. */
static rec_conn *client_of(recorder *r, conn *up, rec_up *link)
{
    if (!link->looked) {
        link->looked = 1;
        void *owner = conn_owner(up);
        for (rec_conn *rc = r->live; rc != NULL && owner != NULL;
             rc = rc->next) {
            if (conn_owner(rc->c) != owner)
                continue;
            if (rc->up != NULL) /* one upstream at a time: the last */
                rc->up->client = NULL;
            rc->up = link;
            link->client = rc;
            snprintf(rc->up_peer, sizeof rc->up_peer, "%s", conn_peer(up));
            break;
        }
    }
    return link->client;
}

/* An upstream connection's event, into its client's transcript. */
static void on_upstream(recorder *r, conn *up, enum conn_tap_event ev,
                        const char *bytes, size_t len, int failed)
{
    rec_up *link = conn_tap_data(up);
    if (ev == CONN_TAP_OPEN) {
        link = calloc(1, sizeof *link); /* none: no upstream lines */
        conn_set_tap_data(up, link);
        return;
    }
    if (link == NULL)
        return;
    rec_conn *rc = client_of(r, up, link);
    if (ev == CONN_TAP_FREE) {
        if (rc != NULL)
            rc->up = NULL;
        conn_set_tap_data(up, NULL);
        free(link);
        return;
    }
    if (rc != NULL && failed) /* a relay hook's: it resets the pair */
        rc->hook_error = 1;
    if (rc == NULL || rc->peer_reset || rc->closed)
        return; /* after the client's end: not the client's story */
    conn *c = rc->c;
    const char *word = NULL;
    switch (ev) {
    case CONN_TAP_CONNECTED: word = "upstream accept"; break;
    case CONN_TAP_CONNECT_REFUSED: word = "upstream refuse"; break;
    case CONN_TAP_CONNECT_TIMEOUT: word = "upstream timeout"; break;
    case CONN_TAP_CONNECT_FAILED:
        put_word(r, c, rc, "# the connect failed (not refused, not "
                 "timed out): replayed as refused");
        word = "upstream refuse";
        break;
    case CONN_TAP_PEER_FIN: word = "upstream shutdown"; break;
    case CONN_TAP_PEER_RESET: word = "upstream reset"; break;
    case CONN_TAP_IN:
        put_bytes(r, c, rc, "upstream send ", bytes, len);
        rc->had_upstream = 1;
        return;
    default: /* what the proxy does to the upstream: --simulate's part */
        return;
    }
    put_word(r, c, rc, word);
    rc->had_upstream = 1;
}

static int write_all(FILE *f, const char *s, size_t n)
{
    return n == 0 || fwrite(s, 1, n, f) == n ? 0 : -1;
}

/* Write rc to its file, through a temporary name. */
static void finish(recorder *r, conn *c, rec_conn *rc)
{
    if (rc->dropped) {
        stat_add(&r->lost, 1);
        return;
    }
    char path[4096], tmp[4096], tail[160] = "";
    int fits = snprintf(path, sizeof path, "%s/%s", r->dir, rc->name) <
                   (int)sizeof path &&
               snprintf(tmp, sizeof tmp, "%s/.%s.tmp", r->dir, rc->name) <
                   (int)sizeof tmp;
    if (rc->truncated)
        snprintf(tail, sizeof tail,
                 "# cut here: the connection went on past --record-max "
                 "(%llu bytes of transcript)\ntruncated\n",
                 (unsigned long long)r->max_bytes);
    errno = 0;
    FILE *f = fits ? fopen(tmp, "wb") : NULL;
    int bad = f == NULL;
    int err = errno;
    char proxy[160] = "";
    if (rc->had_upstream)
        snprintf(proxy, sizeof proxy, "# proxy mode: replay with --upstream "
                 "(not dialled), e.g. --upstream %s\n", rc->up_peer);
    if (!bad) {
        bad = write_all(f, rc->head, strlen(rc->head)) != 0 ||
              write_all(f, proxy, strlen(proxy)) != 0 ||
              (rc->truncated &&
               write_all(f, "# TRUNCATED: see the end\n", 25) != 0) ||
              write_all(f, rc->text, rc->len) != 0 ||
              write_all(f, tail, strlen(tail)) != 0 || fflush(f) != 0;
        err = errno;
        bad |= fclose(f) != 0;
        if (!bad && rename(tmp, path) != 0) {
            err = errno;
            bad = 1;
        }
        if (bad)
            remove(tmp);
    }
    if (bad) {
        stat_add(&r->lost, 1);
        log_warn("conn %llu: cannot write its recording %s: %s "
                 "(recordings lost so far: %llu)",
                 (unsigned long long)conn_id(c),
                 fits ? path : rc->name,
                 fits ? (err ? strerror(err) : "write error")
                      : "path too long",
                 (unsigned long long)stat_get(&r->lost));
        return;
    }
    stat_add(&r->written, 1);
    log_debug("recorded conn %llu to %s%s", (unsigned long long)conn_id(c),
              path, rc->truncated ? " (truncated)" : "");
}

/* --- the tap ------------------------------------------------------------- */

static void on_event(void *data, conn *c, enum conn_tap_event ev,
                     const char *bytes, size_t len)
{
    recorder *r = data;
    int failed = hook_failed(r);
    r->input = ev == CONN_TAP_IN || ev == CONN_TAP_PEER_FIN ||
               ev == CONN_TAP_PEER_RESET || ev == CONN_TAP_CONNECTED ||
               ev == CONN_TAP_CONNECT_REFUSED ||
               ev == CONN_TAP_CONNECT_FAILED;
    if (conn_outbound(c)) {
        on_upstream(r, c, ev, bytes, len, failed);
        return;
    }
    if (ev == CONN_TAP_OPEN) {
        start(r, c);
        return;
    }
    rec_conn *rc = conn_tap_data(c);
    if (rc == NULL)
        return;
    /* a hook error ends its connection at once: the next event is that
     * connection's own (its last bytes, then its RST) */
    if (failed)
        rc->hook_error = 1;
    if (rc->peer_reset && ev != CONN_TAP_FREE)
        return; /* our close after the client's RST: the client is gone */
    switch (ev) {
    case CONN_TAP_IN:
        put_bytes(r, c, rc, "send ", bytes, len);
        break;
    case CONN_TAP_OUT:
        put_expect(r, c, rc, bytes, len);
        break;
    case CONN_TAP_PEER_FIN:
        put_word(r, c, rc, "shutdown");
        break;
    case CONN_TAP_PEER_RESET:
        put_word(r, c, rc, "reset");
        rc->peer_reset = 1;
        break;
    case CONN_TAP_FIN:
        put_word(r, c, rc, "expect fin");
        break;
    case CONN_TAP_CLOSE:
    case CONN_TAP_RESET:
        if (rc->hook_error && conn_reason(c) == CONN_REASON_ERROR)
            put_word(r, c, rc, "expect error");
        put_word(r, c, rc, ev == CONN_TAP_CLOSE ? "expect close"
                                                : "expect reset");
        rc->closed = 1;
        break;
    case CONN_TAP_FREE:
        if (failed) /* in on_close, which ran just before */
            put_word(r, c, rc, "expect error");
        unlink_live(r, rc);
        finish(r, c, rc);
        conn_set_tap_data(c, NULL);
        free(rc->text);
        free(rc);
        break;
    default: /* OPEN; the connect's: a client has none */
        break;
    }
}

/* --- the recorder -------------------------------------------------------- */

int record_check_dir(const char *dir, char *err, size_t errlen)
{
    char probe[4096];
    if (snprintf(probe, sizeof probe, "%s/.ricochet-probe-%llu", dir,
                 (unsigned long long)proc_id()) >= (int)sizeof probe) {
        snprintf(err, errlen, "the path is too long");
        return -1;
    }
    errno = 0;
    FILE *f = fopen(probe, "wb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot create a file there: %s",
                 errno ? strerror(errno) : "unknown error");
        return -1;
    }
    fclose(f);
    remove(probe);
    return 0;
}

recorder *recorder_create(const char *dir, size_t max_bytes, loop *l,
                          const policy_stats *hook_stats,
                          char *const *script)
{
    recorder *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->dir = dir;
    r->max_bytes = max_bytes;
    r->loop = l;
    r->hook_stats = hook_stats;
    r->script = script;
    r->tap.event = on_event;
    r->tap.data = r;
    hook_failed(r); /* errors before now are not this recorder's */
    return r;
}

const conn_tap *recorder_tap(recorder *r) { return &r->tap; }
uint64_t recorder_written(const recorder *r)
{
    return stat_get(&r->written);
}

uint64_t recorder_lost(const recorder *r) { return stat_get(&r->lost); }

void recorder_free(recorder *r)
{
    free(r);
}
