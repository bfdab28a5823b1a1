/* path.h -- the parts of a file path, with the platform's separators: '/'
 * on POSIX; '/' and '\' (and a drive's "C:") on Windows. */
#ifndef RICOCHET_PATH_H
#define RICOCHET_PATH_H

#include <stddef.h>

/* Write the folder part of path into out: "." when path names no folder,
 * "/" (or "C:\") for a file at a root. Truncated to outlen - 1 bytes. */
void path_dirname(const char *path, char *out, size_t outlen);

/* The file name part of path (a pointer into path). */
const char *path_basename(const char *path);

/* 1 when path has a folder part (a separator, or on Windows a drive's
 * "C:"), 0 for a bare name: only a bare script name is searched for. */
int path_has_dir(const char *path);

/* dir and name joined with '/' (none added when dir ends in a
 * separator) into out. Returns 0, or ERR_EINVAL when it does not fit in
 * outlen - 1 bytes (out is then an empty string). */
int path_join(const char *dir, const char *name, char *out, size_t outlen);

/* What separates the folders of a list in an environment variable, as
 * PATH does: ':' on POSIX, ';' on Windows (where ':' follows a drive). */
#ifdef _WIN32
#define PATH_LIST_SEP ';'
#define PATH_LIST_SEP_TEXT "';'"
#else
#define PATH_LIST_SEP ':'
#define PATH_LIST_SEP_TEXT "':'"
#endif

/* 1 when path names an existing regular file (a folder is not one),
 * else 0. Implemented once per platform
 * (path_posix.c, path_win32.c). */
int path_is_file(const char *path);

#endif
