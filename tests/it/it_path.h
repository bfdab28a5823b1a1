/* it_path.h -- where the scripts and fixtures the cases run are. */
#ifndef RICOCHET_IT_PATH_H
#define RICOCHET_IT_PATH_H

/* rel under the repository root, e.g. "scripts/echo.lua". The result lives
 * in one of a few static slots, valid for a while (enough for one call). */
const char *it_path(const char *rel);
#define SCRIPT(name) it_path("scripts/" name)
#define FIXTURE(name) it_path("tests/it/" name)

#endif
