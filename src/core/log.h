/* log.h -- leveled log lines on stderr, flushed line by line. */
#ifndef RICOCHET_LOG_H
#define RICOCHET_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    LOG_ERROR = 0,
    LOG_WARN,
    LOG_INFO,
    LOG_DEBUG,
    LOG_TRACE
} log_level;

/* Lines above this level are not written. Default LOG_INFO. */
void log_set_level(log_level level);
log_level log_get_level(void);
/* Parse "error", "warn", "info", "debug", "trace". Returns 0 or ERR_EINVAL. */
int log_parse_level(const char *name, log_level *out);
const char *log_level_name(log_level level);

/* One entry: "2026-11-26T06:14:11.123Z warn  message", on stderr.
 *
 * Control bytes are escaped, whoever wrote them (a script, a client):
 * CR as \r, ESC as \x1b, every byte below 0x20 but TAB, and 0x7f, as
 * \xHH, and a newline as \n, except before a line that starts with a
 * space or a TAB. That is how ricochet writes its own multi-line messages
 * (a Lua traceback's frames, a hex dump's rows), and such a line cannot be
 * taken for an entry of its own, which always starts at column 0 with
 * its timestamp. So no message can forge an entry or drive the terminal.
 *
 * Warnings and errors are rate-limited per call site (fmt) and thread.
 * Within a window of LOG_REPEAT_WINDOW_MS, a line identical to the site's
 * previous one, and any line past the site's LOG_REPEAT_BURST, is counted
 * instead of written, and one line reports the count when the window
 * ends: "<line> (repeated 1234 times in the last 5 s)"; while the repeats
 * go on, each window ends with such a count. Info, debug and trace lines,
 * which the operator asked for, are never dropped. */
#if defined(__MINGW32__)
__attribute__((format(gnu_printf, 2, 3))) /* %zu with MinGW's ANSI stdio */
#elif defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void log_msg(log_level level, const char *fmt, ...);
void log_vmsg(log_level level, const char *fmt, va_list ap);

#define LOG_REPEAT_WINDOW_MS 5000
#define LOG_REPEAT_BURST 10     /* different lines of one site a window */

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                  \
    do {                                                                \
        if (log_get_level() >= LOG_DEBUG)                               \
            log_msg(LOG_DEBUG, __VA_ARGS__);                            \
    } while (0)
#define log_trace(...)                                                  \
    do {                                                                \
        if (log_get_level() >= LOG_TRACE)                               \
            log_msg(LOG_TRACE, __VA_ARGS__);                            \
    } while (0)

/* Milliseconds until the calling thread owes a count of repeated lines,
 * 0 when one is due now, -1 when none is pending. An event loop arms a
 * timer with it so that the count comes when the window ends, even when
 * the repeats have stopped. */
int64_t log_repeats_due_ms(void);
/* Write the calling thread's counts that are due; with all, every
 * pending one (a thread about to end). */
void log_repeats_flush(int all);

/* For tests, before any thread logs: where whole lines go (fn gets one
 * line with its newline; NULL: stderr), and the clock of the rate limit
 * (NULL: the monotonic clock). */
typedef void (*log_sink_fn)(const char *line, size_t len, void *data);
void log_set_sink(log_sink_fn fn, void *data);
void log_set_clock(uint64_t (*now_ms)(void));

/* --log-format: how every line is written. Text (the default) as
 * above; JSON, one object a line: {"time":"...","level":"info",
 * "conn":7,"msg":"..."} ("conn" when the message is about one
 * connection, i.e. starts "conn N"), a repeat count's line included, and
 * log_event's lines with their fields. */
typedef enum { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON } log_format;
void log_set_format(log_format format);
log_format log_get_format(void);
/* Parse "text" or "json". Returns 0 or ERR_EINVAL. */
int log_parse_format(const char *name, log_format *out);

/* --log-conns: the summary line of each finished connection (default
 * on). Read by whoever writes it, before building it. */
void log_set_conns(int on);
int log_conns_on(void);

/* A field of a structured line (log_event). */
typedef enum {
    LOG_FIELD_STR,      /* str, len bytes (any bytes: escaped) */
    LOG_FIELD_UINT,     /* u */
    LOG_FIELD_INT,      /* i */
    LOG_FIELD_NUM,      /* d (NaN and infinities: a string in JSON) */
    LOG_FIELD_BOOL      /* u: 0 false, else true */
} log_field_type;

typedef struct log_field {
    const char *key;    /* [A-Za-z_.][A-Za-z0-9_.]*: written as it is */
    log_field_type type;
    const char *str;
    size_t len;
    uint64_t u;
    int64_t i;
    double d;
} log_field;

/* One structured line at level (LOG_INFO or below: such lines are never
 * rate-limited), about connection conn_id (0: none).
 * Text: "<stamp> info  conn 7 done: key=value key=value ...", where
 * title is "done"; a string value with a space, a quote, a backslash,
 * an '=' or a control byte in it, or none at all, is quoted ("a b"; \"
 * \\ \n \r \t and \xHH inside), so a summary is always one line.
 * JSON: {"time":"...","level":"info","conn":7,"event":EVENT,
 * "key":value,...}, strings escaped by log_json_escape. */
void log_event(log_level level, uint64_t conn_id, const char *event,
               const char *title, const log_field *fields, size_t nfields);

/* JSON string escaping (without the quotes): '"' and '\\' escaped, control
 * bytes as \n \r \t \b \f or \u00XX, DEL as \u007f; valid UTF-8 kept
 * as it is, and each byte that is not part of a valid UTF-8 sequence
 * (overlong, surrogate, past U+10FFFF, cut short) as \u00XX, its value.
 * Writes to out, which has room for log_json_escaped_len(text, len)
 * bytes (at most 6 a byte); returns the end. */
size_t log_json_escaped_len(const char *text, size_t len);
char *log_json_escape(char *out, const char *text, size_t len);

/* --hexdump: trace lines about data carry the bytes as a hex dump. */
void log_set_hexdump(int on);
int log_hexdump_on(void);
/* One trace line: title, then the bytes 16 a row with offsets and text,
 * as `hexdump -C` shows them. Nothing unless tracing with --hexdump. */
void log_hexdump(const char *title, const void *data, size_t len);

#endif
