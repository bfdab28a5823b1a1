/* metrics.c -- the server's counters as Prometheus text (see metrics.h).
 * For now only the number of workers: the counters come next. */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>

#include "err.h"

int metrics_render(controller *ctl, char **out, size_t *len)
{
    char *text = malloc(128);
    if (text == NULL)
        return ERR_ENOMEM;
    int n = snprintf(text, 128,
                     "# HELP ricochet_workers Worker threads running.\n"
                     "# TYPE ricochet_workers gauge\n"
                     "ricochet_workers %d\n", ctl->nworkers);
    *out = text;
    *len = (size_t)n;
    return 0;
}
