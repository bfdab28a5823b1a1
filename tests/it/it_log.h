/* it_log.h -- a server's log (its stderr) read back, waited on, counted.
 *
 * An entry is a timestamped line plus its continuation lines (e.g. a
 * traceback). The log is a file: waits on it poll it every 10 ms. */
#ifndef RICOCHET_IT_LOG_H
#define RICOCHET_IT_LOG_H

#include "it_server.h"

/* The whole stderr so far, NUL-terminated, '\r' removed; free() it. */
char *it_log_read(const it_server *s);
/* Wait up to timeout_ms until the server's log contains needle; 1 when it
 * does. Lets a test act after the server reached a point it logs. */
int it_log_wait(const it_server *s, const char *needle, int timeout_ms);
/* Wait up to timeout_ms until at least count log entries of level (NULL:
 * any) contain needle; returns the count last seen. For what a test makes
 * happen more than once (reloads, closed Lua states). */
int it_log_wait_count(const it_server *s, const char *level,
                      const char *needle, int count, int timeout_ms);
/* Print the log (its tail when long) to stderr between marker lines. */
void it_log_dump(const it_server *s);

/* Log entries of the given level ("error", "warn", ...; NULL: any) in
 * log (an it_log_read() text) that contain every needle given (NULL: no
 * condition). Returns the count. */
int it_log_count(const char *log, const char *level, const char *needle1,
                 const char *needle2);
/* Like it_log_count but word must be followed by a non-digit (so that
 * "conn 1" does not match "conn 12"). */
int it_log_count_word(const char *log, const char *level, const char *word,
                      const char *needle2);

#endif
