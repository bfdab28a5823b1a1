/* metrics.h -- the server's counters, summed over its workers: the
 * Prometheus text for GET /metrics, and the log lines of SIGUSR1. */
#ifndef RICOCHET_METRICS_H
#define RICOCHET_METRICS_H

#include <stddef.h>

#include "controller.h"

/* Every metric of ctl's workers (and its own: reloads) in the Prometheus
 * text exposition format 0.0.4, in a malloc'd string *out of *len bytes
 * (the caller frees it). Runs on the controller's thread and reads the
 * workers' counters without a lock. Returns 0 or ERR_ENOMEM. */
int metrics_render(controller *ctl, char **out, size_t *len);

#endif
