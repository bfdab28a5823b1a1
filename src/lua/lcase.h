/* lcase.h -- string.upper and string.lower, many bytes at a time (sixteen
 * with SSE2, eight elsewhere; see lcase.c). */
#ifndef RICOCHET_LCASE_H
#define RICOCHET_LCASE_H

#include <lua.h>

/* Replace upper and lower in the string library table at the index (also
 * the string metatable's __index, so s:upper() gets them). May raise:
 * call it in protected mode. */
void lcase_install(lua_State *L, int string_table_index);

#endif
