/* version.c -- the --version text. The build's facts come from CMake as
 * compile definitions of this file's library (CMakeLists.txt); Lua's
 * release from src/lua, the poller's name from src/os. */
#include "version.h"

#include <string.h>

#include "policy.h"
#include "poller.h"

#ifndef RICOCHET_VERSION
#define RICOCHET_VERSION "unknown"
#endif
#ifndef RICOCHET_BUILD_TYPE
#define RICOCHET_BUILD_TYPE ""
#endif
#ifndef RICOCHET_BUILD_LTO
#define RICOCHET_BUILD_LTO 0
#endif
#ifndef RICOCHET_BUILD_SANITIZERS
#define RICOCHET_BUILD_SANITIZERS ""
#endif
#ifndef RICOCHET_BUILD_COMPILER
#define RICOCHET_BUILD_COMPILER "unknown compiler"
#endif

void version_print(FILE *out)
{
    const char *built = policy_lua_release();
    const char *running = policy_lua_running();
    fprintf(out, "ricochet %s\n", RICOCHET_VERSION);
    if (strcmp(built, running) == 0)
        fprintf(out, "lua: %s\n", running);
    else
        fprintf(out, "lua: %s (built with %s)\n", running, built);
    fprintf(out, "poller: %s\n", poller_name());
    /* No build type (a bare cmake with CMAKE_BUILD_TYPE emptied) is
     * CMake's plain flags: say so rather than print an empty field. */
    fprintf(out, "build: %s, LTO %s, sanitizers %s, %s\n",
            RICOCHET_BUILD_TYPE[0] ? RICOCHET_BUILD_TYPE : "no build type",
            RICOCHET_BUILD_LTO ? "on" : "off",
            RICOCHET_BUILD_SANITIZERS[0] ? RICOCHET_BUILD_SANITIZERS : "none",
            RICOCHET_BUILD_COMPILER);
}
