/* log.h -- leveled log lines on stderr, flushed line by line. */
#ifndef RICOCHET_LOG_H
#define RICOCHET_LOG_H

#include <stdarg.h>
#include <stddef.h>

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

/* One line: "2026-11-26T06:14:11.123Z warn  message". A trailing newline
 * in fmt is not needed; multi-line messages (tracebacks) are kept whole. */
#if defined(__MINGW32__)
__attribute__((format(gnu_printf, 2, 3))) /* %zu with MinGW's ANSI stdio */
#elif defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void log_msg(log_level level, const char *fmt, ...);
void log_vmsg(log_level level, const char *fmt, va_list ap);

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

/* --hexdump: trace lines about data carry the bytes as a hex dump. */
void log_set_hexdump(int on);
int log_hexdump_on(void);
/* One trace line: title, then the bytes 16 a row with offsets and text,
 * as `hexdump -C` shows them. Nothing unless tracing with --hexdump. */
void log_hexdump(const char *title, const void *data, size_t len);

#endif
