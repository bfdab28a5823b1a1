/* path_win32.c -- the file system questions of path.h, on Win32. */
#include "path.h"

#include <windows.h>

int path_is_file(const char *path)
{
    /* the ANSI call, as the C library's fopen (which loads the script)
     * takes the same bytes */
    DWORD attrs = GetFileAttributesA(path);
    return attrs != INVALID_FILE_ATTRIBUTES &&
           (attrs & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_DEVICE)) == 0;
}
