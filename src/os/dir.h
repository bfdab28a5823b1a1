/* dir.h -- what a folder holds: the one place that lists one (opendir on
 * POSIX, FindFirstFile on Windows). */
#ifndef RICOCHET_DIR_H
#define RICOCHET_DIR_H

/* 1 when path names a folder (following links), 0 when it names
 * something else, or an err.h code when it cannot be looked at (no such
 * path: ERR_EOTHER, whose err_strerror is the OS's text). */
int dir_is_dir(const char *path);

/* Call fn(name, data) once for each name in the folder at path (not "."
 * nor ".."; any kind of entry; in no particular order); a non-zero return
 * of fn stops the walk and is returned. Returns 0, fn's non-zero, or an
 * err.h code when the folder cannot be listed. name is valid only
 * during the call. */
int dir_each(const char *path, int (*fn)(const char *name, void *data),
             void *data);

#endif
