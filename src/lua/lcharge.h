/* lcharge.h -- what the standard library's calls cost.
 *
 * A library function runs in C, where the count hook never fires, so one
 * call is one instruction however much it does. What a call builds is
 * charged by the allocator (lalloc.h, lbudget.h): string.rep, `..`,
 * table.concat's result, string.format, string.pack, tostring, utf8.char,
 * gsub's result, ... This module charges the rest, the calls whose work
 * grows with their arguments without allocating:
 *
 *   bytes read (8 an instruction)  tonumber, load (the chunk, or each
 *       piece its reader returns), string.pack / packsize / unpack (the
 *       format), utf8.len, utf8.offset, utf8.codes' steps, the heap for
 *       collectgarbage("collect" / "step" / a mode change)
 *   values moved (1 each)  string.byte, utf8.codepoint, table.unpack,
 *       table.move, table.insert / remove (the elements shifted),
 *       table.concat (the elements joined), coroutine.resume (lbudget.c),
 *       table.create (the slots; Lua 5.5's, added to a Lua without it)
 *   comparisons (1 each, plus the bytes of two strings)  table.sort
 *
 * string.rep is replaced by one that copies by doubling (the stock one
 * loops once per copy, for ever with an empty string); table.concat,
 * insert and remove by ones that charge as they go; table.move works in
 * slices and table.sort, past 65,536 elements, through an order
 * function that charges, so these stop mid-call when over a limit (a
 * huge table.move ran for ever in one call). Results and error messages
 * are the stock ones (tests/unit/lua/test_lcharge.c compares them). */
#ifndef RICOCHET_LCHARGE_H
#define RICOCHET_LCHARGE_H

#include <lua.h>

/* Replace the functions above in the global tables of L with charged
 * ones. Run protected, after the libraries and lbudget_open. */
void lcharge_open(lua_State *L);

#endif
