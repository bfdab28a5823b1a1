/* search.h -- where a script named without a folder is found, so that
 * an installed "ricochet chaos.lua" works from any folder: the current
 * folder, then each --script-path DIR in order, then each folder of
 * $RICOCHET_PATH, then the installed scripts' folder. */
#ifndef RICOCHET_SEARCH_H
#define RICOCHET_SEARCH_H

#include <stddef.h>

#define SEARCH_MAX_DIRS 16 /* --script-path options */

/* The installed scripts' folder, compiled in (CMake's install prefix):
 * static text. */
const char *search_installed_dir(void);

/* The script to load for name. A name with a folder part (path.h) is
 * used as given. A bare name is looked for in the current folder, then
 * in dirs[0..ndirs) in order, then in each non-empty folder of env (the
 * value of $RICOCHET_PATH, separated by PATH_LIST_SEP; NULL: none),
 * then in search_installed_dir(); the first regular file wins. Returns
 * 0 with its path in out (cap bytes), or ERR_ENOTFOUND with err (errcap
 * bytes) saying "cannot open NAME: not found in " and every folder
 * looked in, in order. */
int search_script(const char *name, const char *const *dirs, int ndirs,
                  const char *env, char *out, size_t cap, char *err,
                  size_t errcap);

#endif
