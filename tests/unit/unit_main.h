/* unit_main.h -- the main of a unit runner: the network layer is set up
 * around the cases (Winsock needs it before any socket; elsewhere it
 * ignores SIGPIPE), as the server sets it up around its loop. */
#ifndef RICOCHET_UNIT_MAIN_H
#define RICOCHET_UNIT_MAIN_H

#include "test.h"

/* net_init, then test_main(cases, argc, argv), then net_cleanup. Returns
 * main's exit status: test_main's, or 1 when net_init fails (a failed
 * assertion exits by itself). */
int unit_main(const test_case *cases, int argc, char **argv);

#endif
