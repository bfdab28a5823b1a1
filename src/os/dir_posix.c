/* dir_posix.c -- dir.h with opendir and stat. */
#include "dir.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"

int dir_is_dir(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return err_from_os(errno);
    return S_ISDIR(st.st_mode) ? 1 : 0;
}

int dir_each(const char *path, int (*fn)(const char *name, void *data),
             void *data)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return err_from_os(errno);
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (e == NULL) {
            if (errno != 0)
                rc = err_from_os(errno);
            break;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        rc = fn(e->d_name, data);
        if (rc != 0)
            break;
    }
    closedir(d);
    return rc;
}
