/* script.h -- a script written by a test, loaded into a policy. */
#ifndef RICOCHET_UNIT_SCRIPT_H
#define RICOCHET_UNIT_SCRIPT_H

#include "policy.h"

/* Write text to a file of this process's own in the working folder, load
 * it with opts (kept alive by the caller) and remove the file: a policy
 * reads its file only when loading. Fails the test when it does not
 * load. */
policy *unit_load_script(const char *name, const char *text,
                         const policy_opts *opts);

/* The report the scripts share: note(id, ...) adds "id:..." to a list,
 * report() returns the list, space separated, ordered by id (each id's
 * entries in the order they came), and empties it. */
#define UNIT_SCRIPT_PRELUDE                                             \
    "local seen = {}\n"                                                 \
    "local function note(...)\n"                                        \
    "  local args = {...}\n"                                            \
    "  seen[#seen + 1] = { id = tonumber(args[1]) or 0, n = #seen + 1,\n" \
    "                      text = table.concat(args, ':') }\n"          \
    "end\n"                                                             \
    "local function report()\n"                                         \
    "  table.sort(seen, function(a, b)\n"                               \
    "    if a.id ~= b.id then return a.id < b.id end\n"                 \
    "    return a.n < b.n\n"                                            \
    "  end)\n"                                                          \
    "  local out = {}\n"                                                \
    "  for i, e in ipairs(seen) do out[i] = e.text end\n"               \
    "  seen = {}\n"                                                     \
    "  return table.concat(out, ' ')\n"                                 \
    "end\n"

#endif
