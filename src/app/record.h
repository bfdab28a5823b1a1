/* record.h -- --record DIR: each finished connection of the live server
 * written to DIR as a transcript that `ricochet --simulate FILE SCRIPT`
 * replays: what the client sent, when, as send / wait / shutdown / reset
 * lines, and what the server answered as expect lines.
 *
 * A recorder is one loop's (one worker's): it is the conn_tap of that
 * loop's table and runs on its thread only. The file is written when the
 * connection is freed, under a temporary name then renamed, so a reader
 * never sees half of one. Recording never changes what the server does:
 * past max_bytes of transcript a connection's recording stops (it is
 * written marked truncated, and fails when replayed); when memory runs
 * out it is dropped, never the connection. */
#ifndef RICOCHET_RECORD_H
#define RICOCHET_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "loop.h"
#include "policy.h"

/* --record-max's default: bytes of transcript kept per connection. */
#define RECORD_DEFAULT_MAX ((size_t)1 << 20)

typedef struct recorder recorder;

/* 0 when this process can create files in dir (tried with a probe file,
 * removed at once); else -1 and why in err. Called once at start-up. */
int record_check_dir(const char *dir, char *err, size_t errlen);

/* A recorder into dir (kept, not copied), keeping at most max_bytes of
 * transcript a connection, on loop l. hook_stats (may be NULL) counts the
 * loop's hook errors: an error shows as expect error. *script is the
 * script's path (read at each connection's start: it changes on reload).
 * NULL when memory runs out. */
recorder *recorder_create(const char *dir, size_t max_bytes, loop *l,
                          const policy_stats *hook_stats,
                          char *const *script);
/* The tap to put in the loop's conn_config; valid while r lives. */
const conn_tap *recorder_tap(recorder *r);
/* Recordings written, and lost (not written: disk, memory), so far. Any
 * thread may read them while r's loop runs (stat.h). */
uint64_t recorder_written(const recorder *r);
uint64_t recorder_lost(const recorder *r);
/* After the table is freed (its connections are then freed, and written,
 * first). NULL is fine. */
void recorder_free(recorder *r);

#endif
