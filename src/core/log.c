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

/* --- writing ------------------------------------------------------------- */

/* Write one entry: stamp, level, the body escaped, then suffix (ours, not
 * escaped) and the newline, in one write. */
static void emit(log_level level, const char *body, size_t len,
                 const char *suffix)
{
    char stack[LINE_STACK_SIZE];
    char stamp[40];
    format_time(stamp, sizeof stamp);
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
    if (sink != NULL) {
        sink(line, (size_t)(end - line), sink_data);
    } else {
        fwrite(line, 1, (size_t)(end - line), stderr);
        fflush(stderr);
    }
    if (line != stack)
        free(line);
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
