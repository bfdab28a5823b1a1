/* log.c -- leveled log lines on stderr.
 *
 * A line is formatted whole in memory and handed to stdio in one fwrite
 * followed by fflush, so lines from several workers sharing stderr never
 * interleave inside a line. */
#include "log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"


/* Big enough for nearly every line; longer ones (tracebacks) are
 * formatted again into a heap buffer of the exact size. */
#define LINE_STACK_SIZE 1024

static log_level current_level = LOG_INFO;

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

void log_vmsg(log_level level, const char *fmt, va_list ap)
{
    if (level > current_level)
        return;

    char stack[LINE_STACK_SIZE];
    char *line = stack;
    char stamp[40];
    format_time(stamp, sizeof stamp);
    int prefix = snprintf(stack, sizeof stack, "%s %-5s ", stamp,
                          log_level_name(level));
    if (prefix < 0)
        return;

    /* Room is kept for the newline that ends the line. */
    size_t room = sizeof stack - (size_t)prefix - 1;
    va_list again;
    va_copy(again, ap);
    int body = vsnprintf(stack + prefix, room, fmt, ap);
    if (body < 0) {
        va_end(again);
        return;
    }
    size_t len = (size_t)prefix + (size_t)body;
    if ((size_t)body >= room) {
        char *big = malloc(len + 2);
        if (big != NULL) {
            memcpy(big, stack, (size_t)prefix);
            vsnprintf(big + prefix, (size_t)body + 1, fmt, again);
            line = big;
        } else {
            len = sizeof stack - 2; /* keep what fit */
        }
    }
    va_end(again);

    while (len > (size_t)prefix && line[len - 1] == '\n')
        len--;
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
    fflush(stderr);
    if (line != stack)
        free(line);
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
