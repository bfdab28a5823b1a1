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

#endif
