/* it_path.c -- paths under the repository root (RICOCHET_SOURCE_DIR). */
#include "it_path.h"

#include <stdio.h>

#ifndef RICOCHET_SOURCE_DIR
#error "RICOCHET_SOURCE_DIR must name the repository root"
#endif

const char *it_path(const char *rel)
{
    static char slots[8][4096];
    static unsigned next;
    char *p = slots[next++ % 8];
    snprintf(p, sizeof slots[0], "%s/%s", RICOCHET_SOURCE_DIR, rel);
    return p;
}
