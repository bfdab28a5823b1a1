/* harness.h -- drive the real ricochet binary over loopback sockets.
 *
 * The black-box tests start the server (it_server.h), wait for its
 * "listening on" lines, and talk to it as ordinary TCP clients (it_cli.h,
 * many at once with it_job.h); they read its log (it_log.h) and run it to
 * completion for usage errors (it_run.h). Every wait is bounded: a poll()
 * with a deadline (it_clock.h), never a sleep. Script paths are relative
 * to the repository root (it_path.h); payloads come from a seeded
 * generator (it_rng.h); it_host.h covers descriptor limits and IPv6.
 *
 * Every helper is named it_<file>_..., a prefix no module of the server
 * uses. A case file includes this header and gets all of them. */
#ifndef RICOCHET_IT_HARNESS_H
#define RICOCHET_IT_HARNESS_H

#include "test.h"

#include "it_cli.h"
#include "it_clock.h"
#include "it_host.h"
#include "it_job.h"
#include "it_log.h"
#include "it_path.h"
#include "it_rng.h"
#include "it_run.h"
#include "it_server.h"
#include "it_tmp.h"

#endif
