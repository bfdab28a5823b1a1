/* A probe: core's header, from a layer that must not see it. */
#include "conn.h"
