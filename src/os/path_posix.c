/* path_posix.c -- the file system questions of path.h, on stat(). */
#include "path.h"

#include <sys/stat.h>

int path_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}
