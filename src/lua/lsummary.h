/* lsummary.h -- the summary line of a finished connection (--log-conns):
 * what the Lua layer knows of it (hook calls, a failed hook, the
 * script's tags, the upstream of a pair) with what core knows (peer,
 * bytes, time, who half-closed first, the reason, the shaping), handed
 * to core's log_event. For policy.c only. */
#ifndef RICOCHET_LSUMMARY_H
#define RICOCHET_LSUMMARY_H

#include "conn.h"
#include "lconn.h"

/* Write lc's summary line for its client connection c, closed with
 * reason: "conn 7 done: peer=... ms=... in=... out=... ..." at info (or
 * the JSON event "conn_done"). Nothing, and no work, when info lines or
 * --log-conns are off. Call from the close callback, after on_close and
 * before lconn_detach. Never raises. */
void lsummary_log(const lconn *lc, const conn *c, enum conn_reason reason);

#endif
