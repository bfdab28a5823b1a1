/* version.h -- what `ricochet --version` says: ricochet's version, the Lua
 * it was built with and runs, the poller, and how it was built. */
#ifndef RICOCHET_VERSION_H
#define RICOCHET_VERSION_H

#include <stdio.h>

/* Write the --version text to out, one fact a line:
 *     ricochet 0.1.0
 *     lua: Lua 5.4.4          ("Lua 5.4.6 (built with Lua 5.4.4)" when the
 *                              library running is not the headers' release)
 *     poller: epoll
 *     build: RelWithDebInfo, LTO on, sanitizers none, GNU 12.2.0 */
void version_print(FILE *out);

#endif
