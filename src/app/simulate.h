/* simulate.h -- --simulate: a script driven by a client transcript, with
 * no sockets, on a virtual clock; one transcript with its event log, or
 * many with one line each. */
#ifndef RICOCHET_SIMULATE_H
#define RICOCHET_SIMULATE_H

#include <stddef.h>

#include "policy.h"
#include "server.h"

/* Play the transcript at path against p (whose reference this takes) and
 * print what the server does to stdout, one line an event. Returns an exit
 * code: EXIT_OK; EXIT_RUNTIME when an expect line does not hold or a hook
 * error has no expect error (said on stderr); EXIT_USAGE for a transcript
 * that cannot be read or is malformed. */
int simulate_run(const char *path, const server_config *cfg, policy *p);

/* simulate_run, and with batch set: no event log, and the first failure
 * is not printed but kept in failure (failure_cap bytes, "" for none) as
 * "FILE:LINE: ...". */
int simulate_play(const char *path, const server_config *cfg, policy *p,
                  int batch, char *failure, size_t failure_cap);

/* A fresh state of the script for each transcript, or NULL when it does
 * not load (the loader has said why). */
typedef policy *(*simulate_loader)(void *data);

/* 1 when paths (n of them) ask for the many-transcripts mode: more than
 * one, or a folder. */
int simulate_many_wanted(const char *const *paths, int n);

/* The many-transcripts mode (simulate_batch.c): each path a transcript,
 * or a folder whose *.sim files are (sorted, not recursive); each played
 * against its own load of the script, with one line on stdout: "ok
 * FILE" or "FAIL FILE:LINE: why", then "N passed, M failed". Returns
 * EXIT_OK when all passed, EXIT_RUNTIME when any failed, EXIT_USAGE for a
 * path that is neither (or a folder with none: nothing is played), and
 * EXIT_SCRIPT when the script does not load. */
int simulate_many(const char *const *paths, int n, const server_config *cfg,
                  simulate_loader load, void *data);

#endif
