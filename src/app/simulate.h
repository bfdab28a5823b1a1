/* simulate.h -- --simulate: a script driven by a client transcript, with
 * no sockets, on a virtual clock. */
#ifndef RICOCHET_SIMULATE_H
#define RICOCHET_SIMULATE_H

#include "policy.h"
#include "server.h"

/* Play the transcript at path against p (whose reference this takes) and
 * print what the server does to stdout, one line an event. Returns an exit
 * code: EXIT_OK; EXIT_RUNTIME when an expect line does not hold or a hook
 * error has no expect error (said on stderr); EXIT_USAGE for a transcript
 * that cannot be read or is malformed. */
int simulate_run(const char *path, const server_config *cfg, policy *p);

#endif
