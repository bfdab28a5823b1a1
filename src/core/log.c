/* log.c -- leveled log lines on stderr.
 *
 * A line is formatted whole in memory and handed to stdio in one fwrite
 * followed by fflush, so lines from several workers sharing stderr never
 * interleave inside a line. The rate limit's state is per thread (each
 * worker is one), so the hot path takes no lock. */
#include "log.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "thread.h"


/* Big enough for nearly every line; longer ones (tracebacks) are
 * formatted again into a heap buffer of the exact size. */
#define LINE_STACK_SIZE 1024

static log_level current_level = LOG_INFO;
static log_sink_fn sink;
static void *sink_data;
static uint64_t (*repeat_clock)(void) = clock_monotonic_ms;

static const char *const level_names[] = {
    "error", "warn", "info", "debug", "trace"
};

void log_set_level(log_level level) { current_level = level; }

log_level log_get_level(void) { return current_level; }

int log_parse_level(const char *name, log_level *out)
{
    for (int i = 0; i <= (int)LOG_TRACE; i++) {
        if (name != NULL && strcmp(name, level_names[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    }
    return ERR_EINVAL;
}

const char *log_level_name(log_level level)
{
    if ((int)level < 0 || level > LOG_TRACE)
        return "?";
    return level_names[level];
}

void log_set_sink(log_sink_fn fn, void *data)
{
    sink = fn;
    sink_data = data;
}

void log_set_clock(uint64_t (*now_ms)(void))
{
    repeat_clock = now_ms ? now_ms : clock_monotonic_ms;
}

/* Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
 * civil_from_days). Done by hand because gmtime is not thread-safe and
 * its safe variants are spelled differently on POSIX and Windows. */
static void civil_from_days(int64_t days, int *year, int *month, int *day)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = m;
    *year = (int)(yoe + era * 400 + (m <= 2));
}

/* "2026-11-26T06:14:11.123Z": ISO-8601 UTC with milliseconds. */
static int format_time(char *out, size_t outlen)
{
    int64_t secs;
    int ms;
    clock_wall(&secs, &ms);
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int year, month, day;
    civil_from_days(days, &year, &month, &day);
    return snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                    year, month, day, (int)(rem / 3600),
                    (int)(rem / 60 % 60), (int)(rem % 60), ms);
}

/* --- escaping ------------------------------------------------------------ */

/* The bytes escaped: every control byte but TAB, and DEL. A newline is
 * one too, unless the next line is indented (see log.h). */
static int needs_escape(const char *text, size_t len, size_t i)
{
    unsigned char ch = (unsigned char)text[i];
    if (ch == '\n')
        return i + 1 >= len || (text[i + 1] != ' ' && text[i + 1] != '\t');
    return (ch < 0x20 && ch != '\t') || ch == 0x7f;
}

/* Bytes text takes once escaped. */
static size_t escaped_len(const char *text, size_t len)
{
    size_t out = len;
    for (size_t i = 0; i < len; i++)
        if (needs_escape(text, len, i))
            out += text[i] == '\n' || text[i] == '\r' ? 1 : 3;
    return out;
}

/* Copy text to out (escaped_len bytes of room) escaped; returns the end. */
static char *escape_into(char *out, const char *text, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (!needs_escape(text, len, i)) {
            *out++ = (char)ch;
            continue;
        }
        *out++ = '\\';
        if (ch == '\n') {
            *out++ = 'n';
        } else if (ch == '\r') {
            *out++ = 'r';
        } else {
            *out++ = 'x';
            *out++ = hex[ch >> 4];
            *out++ = hex[ch & 15];
        }
    }
    return out;
}

/* --- JSON ---------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at text[i] (1 to 4), or 0 when
 * the byte there starts none (RFC 3629: no overlongs, no surrogates,
 * nothing past U+10FFFF). */
static size_t utf8_seq(const unsigned char *text, size_t len, size_t i)
{
    unsigned char b = text[i];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf) {
        n = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
        n = 3;
        if (b == 0xe0)
            lo = 0xa0;
        else if (b == 0xed)
            hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 4;
        if (b == 0xf0)
            lo = 0x90;
        else if (b == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (len - i < n || text[i + 1] < lo || text[i + 1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if ((text[i + k] & 0xc0) != 0x80)
            return 0;
    return n;
}

/* How byte ch (alone: ASCII, or not in a valid sequence) is written. */
static size_t json_byte_len(unsigned char ch)
{
    if (ch == '"' || ch == '\\' || ch == '\n' || ch == '\r' || ch == '\t' ||
        ch == '\b' || ch == '\f')
        return 2;
    return ch < 0x20 || ch >= 0x7f ? 6 : 1;
}

size_t log_json_escaped_len(const char *text, size_t len)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t out = 0;
    for (size_t i = 0; i < len;) {
        size_t n = t[i] >= 0x80 ? utf8_seq(t, len, i) : 0;
        if (n > 1) {
            out += n;
            i += n;
        } else {
            out += json_byte_len(t[i++]);
        }
    }
    return out;
}

char *log_json_escape(char *out, const char *text, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *t = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t n = t[i] >= 0x80 ? utf8_seq(t, len, i) : 0;
        if (n > 1) {
            memcpy(out, t + i, n);
            out += n;
            i += n;
            continue;
        }
        unsigned char ch = t[i++];
        const char *two = NULL;
        switch (ch) {
        case '"': two = "\\\""; break;
        case '\\': two = "\\\\"; break;
        case '\n': two = "\\n"; break;
        case '\r': two = "\\r"; break;
        case '\t': two = "\\t"; break;
        case '\b': two = "\\b"; break;
        case '\f': two = "\\f"; break;
        default: break;
        }
        if (two != NULL) {
            memcpy(out, two, 2);
            out += 2;
        } else if (ch < 0x20 || ch >= 0x7f) {
            memcpy(out, "\\u00", 4);
            out[4] = hex[ch >> 4];
            out[5] = hex[ch & 15];
            out += 6;
        } else {
            *out++ = (char)ch;
        }
    }
    return out;
}

/* --- writing ------------------------------------------------------------- */

static log_format current_format = LOG_FORMAT_TEXT;
static int conns_on = 1;

void log_set_format(log_format format) { current_format = format; }

log_format log_get_format(void) { return current_format; }

int log_parse_format(const char *name, log_format *out)
{
    if (name != NULL && strcmp(name, "text") == 0)
        *out = LOG_FORMAT_TEXT;
    else if (name != NULL && strcmp(name, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return ERR_EINVAL;
    return 0;
}

void log_set_conns(int on) { conns_on = on != 0; }

int log_conns_on(void) { return conns_on; }

/* Hand one whole line (with its newline) to the sink or stderr. */
static void write_line(const char *line, size_t len)
{
    if (sink != NULL) {
        sink(line, len, sink_data);
    } else {
        fwrite(line, 1, len, stderr);
        fflush(stderr);
    }
}

/* The connection a message is about: "conn N" at its start, N followed
 * by ':' or ' ' (how every such line begins). 0: none. */
static uint64_t conn_of(const char *body, size_t len)
{
    if (len < 7 || memcmp(body, "conn ", 5) != 0)
        return 0;
    uint64_t id = 0;
    size_t i = 5;
    while (i < len && i < 25 && body[i] >= '0' && body[i] <= '9')
        id = id * 10 + (uint64_t)(body[i++] - '0');
    if (i == 5 || i >= len || (body[i] != ':' && body[i] != ' '))
        return 0;
    return id;
}

/* The JSON form of a line: {"time":..,"level":..,["conn":N,]"msg":..}
 * with body and then suffix as the message. */
static void emit_json(log_level level, const char *stamp, const char *body,
                      size_t len, const char *suffix)
{
    char stack[LINE_STACK_SIZE];
    size_t suffix_len = suffix ? strlen(suffix) : 0;
    size_t need = 96 + strlen(stamp) + log_json_escaped_len(body, len)
                  + log_json_escaped_len(suffix, suffix_len);
    char *line = need <= sizeof stack ? stack : malloc(need);
    if (line == NULL) {
        if (len > sizeof stack / 6 - 32)
            len = sizeof stack / 6 - 32; /* its head still says something */
        suffix_len = 0;
        line = stack;
    }
    uint64_t id = conn_of(body, len);
    int head;
    if (id != 0)
        head = snprintf(line, 96, "{\"time\":\"%s\",\"level\":\"%s\","
                        "\"conn\":%llu,\"msg\":\"", stamp,
                        log_level_name(level), (unsigned long long)id);
    else
        head = snprintf(line, 96, "{\"time\":\"%s\",\"level\":\"%s\","
                        "\"msg\":\"", stamp, log_level_name(level));
    char *end = log_json_escape(line + head, body, len);
    end = log_json_escape(end, suffix ? suffix : "", suffix_len);
    memcpy(end, "\"}\n", 3);
    end += 3;
    write_line(line, (size_t)(end - line));
    if (line != stack)
        free(line);
}

/* Write one entry: stamp, level, the body escaped, then suffix (ours, not
 * escaped) and the newline, in one write. */
static void emit(log_level level, const char *body, size_t len,
                 const char *suffix)
{
    char stack[LINE_STACK_SIZE];
    char stamp[40];
    format_time(stamp, sizeof stamp);
    if (current_format == LOG_FORMAT_JSON) {
        emit_json(level, stamp, body, len, suffix);
        return;
    }
    size_t suffix_len = suffix ? strlen(suffix) : 0;
    size_t need = strlen(stamp) + 7 + escaped_len(body, len) + suffix_len
                  + 1;
    char *line = need <= sizeof stack ? stack : malloc(need);
    if (line == NULL) {
        /* no memory for this long line: its head still says something
         * (escaped, a byte takes at most 4) */
        if (len > sizeof stack / 4 - 64)
            len = sizeof stack / 4 - 64;
        suffix_len = 0;
        line = stack;
    }
    int prefix = snprintf(line, 48, "%s %-5s ", stamp,
                          log_level_name(level));
    if (prefix < 0)
        prefix = 0;
    char *end = escape_into(line + prefix, body, len);
    memcpy(end, suffix ? suffix : "", suffix_len);
    end += suffix_len;
    *end++ = '\n';
    write_line(line, (size_t)(end - line));
    if (line != stack)
        free(line);
}

/* --- structured lines ---------------------------------------------------- */

/* A growing line on the heap; a failed growth sets failed. */
typedef struct line_buf {
    char *data;
    size_t len, cap;
    int failed;
} line_buf;

static char *reserve(line_buf *b, size_t more)
{
    if (b->failed)
        return NULL;
    if (b->len + more > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + more)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (grown == NULL) {
            b->failed = 1;
            return NULL;
        }
        b->data = grown;
        b->cap = cap;
    }
    return b->data + b->len;
}

static void put(line_buf *b, const char *text, size_t len)
{
    char *at = reserve(b, len);
    if (at == NULL)
        return;
    memcpy(at, text, len);
    b->len += len;
}

static void put_str(line_buf *b, const char *text)
{
    put(b, text, strlen(text));
}

/* A JSON string, quoted. */
static void put_json_str(line_buf *b, const char *text, size_t len)
{
    char *at = reserve(b, log_json_escaped_len(text, len) + 2);
    if (at == NULL)
        return;
    *at++ = '"';
    at = log_json_escape(at, text, len);
    *at++ = '"';
    b->len = (size_t)(at - b->data);
}

/* A text value: as it is, or quoted when it would not read as one word;
 * control bytes escaped here, a newline too, so that a summary stays one
 * line. */
static void put_text_str(line_buf *b, const char *text, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    int quote = len == 0;
    for (size_t i = 0; i < len && !quote; i++) {
        unsigned char ch = (unsigned char)text[i];
        quote = ch == ' ' || ch == '"' || ch == '\\' || ch == '=' ||
                ch < 0x20 || ch == 0x7f;
    }
    if (!quote) {
        put(b, text, len);
        return;
    }
    put(b, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        char esc[4] = {'\\', 'x', hex[ch >> 4], hex[ch & 15]};
        if (ch == '"' || ch == '\\') {
            esc[1] = (char)ch;
            put(b, esc, 2);
        } else if (ch == '\n' || ch == '\r' || ch == '\t') {
            esc[1] = ch == '\n' ? 'n' : ch == '\r' ? 'r' : 't';
            put(b, esc, 2);
        } else if (ch < 0x20 || ch == 0x7f) {
            put(b, esc, 4);
        } else {
            put(b, text + i, 1);
        }
    }
    put(b, "\"", 1);
}

static void put_value(line_buf *b, const log_field *f, int json)
{
    char num[48];
    switch (f->type) {
    case LOG_FIELD_STR:
        if (json)
            put_json_str(b, f->str, f->len);
        else
            put_text_str(b, f->str, f->len);
        return;
    case LOG_FIELD_UINT:
        snprintf(num, sizeof num, "%llu", (unsigned long long)f->u);
        break;
    case LOG_FIELD_INT:
        snprintf(num, sizeof num, "%lld", (long long)f->i);
        break;
    case LOG_FIELD_NUM:
        if (f->d != f->d || f->d - f->d != 0) { /* NaN, +-inf */
            snprintf(num, sizeof num, json ? "\"%s\"" : "%s",
                     f->d != f->d ? "nan" : f->d > 0 ? "inf" : "-inf");
        } else {
            snprintf(num, sizeof num, "%.17g", f->d);
        }
        break;
    case LOG_FIELD_BOOL:
        snprintf(num, sizeof num, "%s", f->u ? "true" : "false");
        break;
    }
    put_str(b, num);
}

void log_event(log_level level, uint64_t conn_id, const char *event,
               const char *title, const log_field *fields, size_t nfields)
{
    if (level > current_level)
        return;
    int json = current_format == LOG_FORMAT_JSON;
    line_buf b = {NULL, 0, 0, 0};
    char head[160];
    char stamp[40];
    if (json) {
        format_time(stamp, sizeof stamp);
        snprintf(head, sizeof head, "{\"time\":\"%s\",\"level\":\"%s\"",
                 stamp, log_level_name(level));
        put_str(&b, head);
        if (conn_id != 0) {
            snprintf(head, sizeof head, ",\"conn\":%llu",
                     (unsigned long long)conn_id);
            put_str(&b, head);
        }
        put_str(&b, ",\"event\":");
        put_json_str(&b, event, strlen(event));
    } else {
        if (conn_id != 0)
            snprintf(head, sizeof head, "conn %llu %s:",
                     (unsigned long long)conn_id, title);
        else
            snprintf(head, sizeof head, "%s:", title);
        put_str(&b, head);
    }
    for (size_t k = 0; k < nfields; k++) {
        put_str(&b, json ? ",\"" : " ");
        put_str(&b, fields[k].key);
        put_str(&b, json ? "\":" : "=");
        put_value(&b, &fields[k], json);
    }
    if (json) {
        put(&b, "}\n", 2);
        if (!b.failed)
            write_line(b.data, b.len);
    } else if (!b.failed) {
        emit(level, b.data, b.len, NULL); /* stamped and escaped there */
    }
    if (b.failed)
        log_msg(LOG_ERROR, "out of memory writing a %s line", event);
    free(b.data);
}

/* --- repeats ------------------------------------------------------------- */

#define REPEAT_SITES 32   /* call sites followed per thread */
#define SAMPLE_MAX 256    /* bytes of a suppressed line kept to show */

/* One call site's window. */
typedef struct repeat_site {
    const char *fmt;        /* the site; NULL: a free slot */
    log_level level;
    uint64_t window_start;  /* ms of the repeat clock */
    unsigned written;       /* lines written in this window */
    int have_last;
    uint64_t last_hash;     /* of the last line written (or repeated) */
    uint64_t suppressed;    /* lines counted instead of written */
    int all_same;           /* each of them was the same line */
    uint64_t sample_hash;
    size_t sample_len;
    char sample[SAMPLE_MAX]; /* the last one suppressed */
} repeat_site;

static _Thread_local repeat_site sites[REPEAT_SITES];
static _Thread_local int sites_owing; /* sites with a count to write */

static uint64_t hash_text(const char *text, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 0x100000001b3ULL;
    return h;
}

/* Write the site's count, start a new window at now; lines identical to
 * the last stay suppressed. Nothing when the window dropped nothing. */
static void end_window(repeat_site *site, uint64_t now)
{
    if (site->suppressed > 0) {
        char suffix[128];
        uint64_t secs = (now - site->window_start + 999) / 1000;
        if (secs == 0)
            secs = 1;
        if (site->all_same && site->suppressed == 1)
            snprintf(suffix, sizeof suffix, " (repeated once in the last "
                     "%llu s)", (unsigned long long)secs);
        else if (site->all_same)
            snprintf(suffix, sizeof suffix, " (repeated %llu times in the "
                     "last %llu s)", (unsigned long long)site->suppressed,
                     (unsigned long long)secs);
        else /* suppressed >= 2: the sample and at least one other */
            snprintf(suffix, sizeof suffix, " (and %llu similar line%s in "
                     "the last %llu s)",
                     (unsigned long long)site->suppressed - 1,
                     site->suppressed == 2 ? "" : "s",
                     (unsigned long long)secs);
        emit(site->level, site->sample, site->sample_len, suffix);
        site->last_hash = site->sample_hash;
        sites_owing--;
    } else {
        site->have_last = 0; /* a quiet window: the next line shows */
    }
    site->window_start = now;
    site->written = 0;
    site->suppressed = 0;
}

/* The slot of (fmt, level); a new one starts a window at now. When every
 * slot is taken, the one whose window started first gives its slot up
 * (its count is written first). */
static repeat_site *find_site(const char *fmt, log_level level,
                              uint64_t now)
{
    repeat_site *free_slot = NULL, *oldest = &sites[0];
    for (int i = 0; i < REPEAT_SITES; i++) {
        repeat_site *site = &sites[i];
        if (site->fmt == fmt && site->level == level)
            return site;
        if (site->fmt == NULL && free_slot == NULL)
            free_slot = site;
        if (site->window_start < oldest->window_start)
            oldest = site;
    }
    repeat_site *site = free_slot;
    if (site == NULL) {
        site = oldest;
        end_window(site, now);
    }
    memset(site, 0, offsetof(repeat_site, sample));
    site->fmt = fmt;
    site->level = level;
    site->window_start = now;
    return site;
}

/* At exit, the main thread's counts (--simulate, --check: one thread,
 * no loop that would write them); the server's threads write theirs as
 * they end. */
static void flush_at_exit(void)
{
    log_repeats_flush(1);
}

static void *exit_flush_registered;

/* 1 when the line of body is to be counted instead of written. */
static int suppress(log_level level, const char *fmt, const char *body,
                    size_t len)
{
    uint64_t now = repeat_clock();
    repeat_site *site = find_site(fmt, level, now);
    if (now - site->window_start >= LOG_REPEAT_WINDOW_MS)
        end_window(site, now);
    uint64_t h = hash_text(body, len);
    int same = site->have_last && h == site->last_hash;
    if (!same && site->written < LOG_REPEAT_BURST) {
        site->written++;
        site->have_last = 1;
        site->last_hash = h;
        return 0;
    }
    if (site->suppressed == 0) {
        if (thread_exchange_ptr(&exit_flush_registered, &sites_owing) ==
            NULL)
            atexit(flush_at_exit); /* once, whichever thread comes first */
        sites_owing++;
        site->all_same = 1;
        site->sample_hash = h;
    } else if (h != site->sample_hash) {
        site->all_same = 0;
    }
    site->suppressed++;
    site->sample_hash = h;
    site->sample_len = len < SAMPLE_MAX ? len : SAMPLE_MAX;
    memcpy(site->sample, body, site->sample_len);
    return 1;
}

int64_t log_repeats_due_ms(void)
{
    int64_t due = -1;
    if (sites_owing == 0)
        return -1; /* the common case, once per loop iteration: cheap */
    uint64_t now = repeat_clock();
    for (int i = 0; i < REPEAT_SITES; i++) {
        const repeat_site *site = &sites[i];
        if (site->fmt == NULL || site->suppressed == 0)
            continue;
        uint64_t end = site->window_start + LOG_REPEAT_WINDOW_MS;
        int64_t left = end > now ? (int64_t)(end - now) : 0;
        if (due < 0 || left < due)
            due = left;
    }
    return due;
}

void log_repeats_flush(int all)
{
    if (sites_owing == 0)
        return;
    uint64_t now = repeat_clock();
    for (int i = 0; i < REPEAT_SITES; i++) {
        repeat_site *site = &sites[i];
        if (site->fmt == NULL || site->suppressed == 0)
            continue;
        if (all || now - site->window_start >= LOG_REPEAT_WINDOW_MS)
            end_window(site, now);
    }
}

/* --- the entry points ---------------------------------------------------- */

void log_vmsg(log_level level, const char *fmt, va_list ap)
{
    if (level > current_level)
        return;
    char stack[LINE_STACK_SIZE];
    char *body = stack;
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(stack, sizeof stack, fmt, ap);
    if (n < 0) {
        va_end(again);
        return;
    }
    size_t len = (size_t)n;
    if (len >= sizeof stack) {
        body = malloc(len + 1);
        if (body != NULL) {
            vsnprintf(body, len + 1, fmt, again);
        } else {
            body = stack;
            len = sizeof stack - 1; /* keep what fit */
        }
    }
    va_end(again);
    if (level > LOG_WARN || !suppress(level, fmt, body, len))
        emit(level, body, len, NULL);
    if (body != stack)
        free(body);
}

void log_msg(log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

static int hexdump_on;

void log_set_hexdump(int on) { hexdump_on = on; }

int log_hexdump_on(void) { return hexdump_on; }

void log_hexdump(const char *title, const void *data, size_t len)
{
    if (!hexdump_on || current_level < LOG_TRACE)
        return;
    const unsigned char *bytes = data;
    size_t rows = (len + 15) / 16;
    /* title + newline, then 78 characters a row */
    size_t cap = strlen(title) + 2 + rows * 80;
    char *out = malloc(cap);
    if (out == NULL)
        return;
    size_t used = (size_t)snprintf(out, cap, "%s", title);
    for (size_t row = 0; row < rows; row++) {
        size_t base = row * 16;
        used += (size_t)snprintf(out + used, cap - used, "\n  %08zx ", base);
        for (size_t i = 0; i < 16; i++) {
            if (base + i < len)
                used += (size_t)snprintf(out + used, cap - used, "%s%02x",
                                         i == 8 ? "  " : " ",
                                         bytes[base + i]);
            else
                used += (size_t)snprintf(out + used, cap - used, "%s   ",
                                         i == 8 ? " " : "");
        }
        used += (size_t)snprintf(out + used, cap - used, "  |");
        for (size_t i = 0; i < 16 && base + i < len; i++) {
            unsigned char ch = bytes[base + i];
            out[used++] = ch >= 32 && ch < 127 ? (char)ch : '.';
        }
        out[used++] = '|';
        out[used] = '\0';
    }
    log_msg(LOG_TRACE, "%s", out);
    free(out);
}
