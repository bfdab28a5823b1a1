/* A probe: Lua's header, which only src/lua may see. */
#include "lua.h"
