/* search.c -- finding a script named without a folder (see search.h).
 * The file system is asked through src/os (path_is_file). */
#include "search.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "path.h"

#ifndef RICOCHET_SCRIPT_DIR
#error "RICOCHET_SCRIPT_DIR must name the installed scripts' folder"
#endif

const char *search_installed_dir(void) { return RICOCHET_SCRIPT_DIR; }

/* One search: the name, where a hit goes, and the folders tried so far
 * (for the message when there is none). */
typedef struct search {
    const char *name;
    char *out;
    size_t cap;
    char *err;
    size_t errcap;
    size_t errlen;
    int folders;         /* folders named in err so far */
} search;

static void note_folder(search *s, const char *dir, size_t dirlen)
{
    if (s->errlen >= s->errcap)
        return;
    int n = snprintf(s->err + s->errlen, s->errcap - s->errlen, "%s%.*s",
                     s->folders++ ? ", " : "", (int)dirlen, dir);
    if (n > 0) /* cut short: nothing more is added */
        s->errlen = s->errlen + (size_t)n < s->errcap
                    ? s->errlen + (size_t)n : s->errcap;
}

/* Try dir (dirlen bytes of it): 1 when the name is a file there. */
static int try_folder(search *s, const char *dir, size_t dirlen)
{
    char folder[4096];
    if (dirlen >= sizeof folder)
        dirlen = sizeof folder - 1;
    memcpy(folder, dir, dirlen);
    folder[dirlen] = '\0';
    note_folder(s, folder, dirlen);
    return path_join(folder, s->name, s->out, s->cap) == 0 &&
           path_is_file(s->out);
}

int search_script(const char *name, const char *const *dirs, int ndirs,
                  const char *env, char *out, size_t cap, char *err,
                  size_t errcap)
{
    search s = {name, out, cap, err, errcap, 0, 0};
    int n;

    if (path_has_dir(name) || path_is_file(name)) {
        snprintf(out, cap, "%s", name);
        return 0;
    }
    n = snprintf(err, errcap, "cannot open %s: not found in ", name);
    s.errlen = n > 0 && (size_t)n < errcap ? (size_t)n : errcap;
    note_folder(&s, ".", 1);
    for (int i = 0; i < ndirs; i++)
        if (try_folder(&s, dirs[i], strlen(dirs[i])))
            return 0;
    /* $RICOCHET_PATH: empty entries ("a::b", a leading or trailing
     * separator) mean nothing, not the current folder */
    for (const char *p = env; p != NULL && *p != '\0';) {
        const char *end = strchr(p, PATH_LIST_SEP);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0 && try_folder(&s, p, len))
            return 0;
        p = end ? end + 1 : p + len;
    }
    if (try_folder(&s, search_installed_dir(),
                   strlen(search_installed_dir())))
        return 0;
    if (cap > 0)
        out[0] = '\0';
    return ERR_ENOTFOUND;
}
