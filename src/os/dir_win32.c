/* dir_win32.c -- dir.h with FindFirstFileA and GetFileAttributesA (names
 * in the ANSI code page, as the rest of ricochet's paths). */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stdio.h>
#include <string.h>

#include "dir.h"
#include "err.h"

int dir_is_dir(const char *path)
{
    DWORD attrs = GetFileAttributesA(path);
    if (attrs == INVALID_FILE_ATTRIBUTES)
        return err_from_os((int)GetLastError());
    return (attrs & FILE_ATTRIBUTE_DIRECTORY) ? 1 : 0;
}

int dir_each(const char *path, int (*fn)(const char *name, void *data),
             void *data)
{
    char pattern[MAX_PATH];
    size_t len = strlen(path);
    const char *sep = len > 0 && (path[len - 1] == '/' ||
                                  path[len - 1] == '\\' ||
                                  path[len - 1] == ':') ? "" : "\\";
    int n = snprintf(pattern, sizeof pattern, "%s%s*", path, sep);
    if (n < 0 || (size_t)n >= sizeof pattern)
        return ERR_EINVAL;
    WIN32_FIND_DATAA found;
    HANDLE h = FindFirstFileA(pattern, &found);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD why = GetLastError();
        /* an empty folder (only a drive's root has not even "."): fine */
        return why == ERROR_FILE_NOT_FOUND ? 0 : err_from_os((int)why);
    }
    int rc = 0;
    do {
        if (strcmp(found.cFileName, ".") == 0 ||
            strcmp(found.cFileName, "..") == 0)
            continue;
        rc = fn(found.cFileName, data);
    } while (rc == 0 && FindNextFileA(h, &found));
    if (rc == 0 && GetLastError() != ERROR_NO_MORE_FILES)
        rc = err_from_os((int)GetLastError());
    FindClose(h);
    return rc;
}
