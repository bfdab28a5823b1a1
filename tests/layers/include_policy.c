/* A probe: the Lua layer's header, which core must not see. */
#include "policy.h"
