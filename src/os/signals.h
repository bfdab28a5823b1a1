/* signals.h -- turning stop and reload requests into loop wake-ups.
 *
 * POSIX: SIGINT/SIGTERM ask for a stop, SIGHUP for a reload, SIGUSR1 for
 * the metrics in the log; SIGPIPE is ignored. Windows: Ctrl-C, Ctrl-Break
 * and console close ask for a stop.
 * The handler only counts the request and writes one byte to the wake-up
 * socket; the loop reads the counts with signals_take(). */
#ifndef RICOCHET_SIGNALS_H
#define RICOCHET_SIGNALS_H

#include "net.h"

/* Install the handlers; wake is the write end of net_wakeup_pair(). */
int signals_install(net_socket wake);
/* Restore the default handlers. */
void signals_restore(void);

/* The stop and reload requests that arrived since the last call. */
void signals_take(int *stops, int *reloads);
/* The SIGUSR1s that arrived since the last call (Windows: always 0). */
int signals_take_dumps(void);

#endif
