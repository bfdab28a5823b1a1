/* path.c -- splitting a path into folder and name. The only difference
 * between the platforms is which characters separate (and, on Windows,
 * that "C:" starts a path), so one file serves both. */
#include "path.h"

#include "err.h"

#include <stdio.h>
#include <string.h>

#ifdef _WIN32
static int is_separator(char ch) { return ch == '/' || ch == '\\'; }

/* The "C:" of a drive-relative or absolute path: 2, else 0. */
static size_t drive_len(const char *path)
{
    char c = path[0];
    int letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    return letter && path[1] == ':' ? 2 : 0;
}
#else
static int is_separator(char ch) { return ch == '/'; }
static size_t drive_len(const char *path) { (void)path; return 0; }
#endif

const char *path_basename(const char *path)
{
    const char *name = path + drive_len(path);
    for (const char *p = name; *p; p++)
        if (is_separator(*p))
            name = p + 1;
    return name;
}

void path_dirname(const char *path, char *out, size_t outlen)
{
    size_t drive = drive_len(path);
    size_t len = (size_t)(path_basename(path) - path);
    /* drop the separators before the name, but keep a root's */
    while (len > drive + 1 && is_separator(path[len - 1]))
        len--;
    if (len == drive && drive == 0) {
        snprintf(out, outlen, ".");
        return;
    }
    if (len == drive) { /* "C:name": the drive's current folder */
        snprintf(out, outlen, "%.*s.", (int)drive, path);
        return;
    }
    snprintf(out, outlen, "%.*s", (int)len, path);
}

int path_has_dir(const char *path)
{
    return path_basename(path) != path;
}

int path_join(const char *dir, const char *name, char *out, size_t outlen)
{
    size_t len = strlen(dir);
    const char *sep = len > 0 && is_separator(dir[len - 1]) ? "" : "/";
    int n = snprintf(out, outlen, "%s%s%s", dir, sep, name);
    if (n < 0 || (size_t)n >= outlen) {
        if (outlen > 0)
            out[0] = '\0';
        return ERR_EINVAL;
    }
    return 0;
}
