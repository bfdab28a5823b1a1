/* simulate_batch.c -- --simulate with many transcripts: each one played
 * on a fresh load of the script (no state from another, as a CI run of
 * one would have), no event log, one line each and a count at the end.
 * A hook's traceback still goes to stderr as it happens, so in a log
 * with both streams it sits just above its transcript's line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dir.h"
#include "err.h"
#include "path.h"
#include "simulate.h"

#define FAILURE_MAX 16384

typedef struct path_list {
    char **path;
    size_t n, cap;
    int oom;
} path_list;

static void add_path(path_list *l, const char *dir, const char *name)
{
    if (l->oom)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **bigger = realloc(l->path, cap * sizeof *bigger);
        if (bigger == NULL) {
            l->oom = 1;
            return;
        }
        l->path = bigger;
        l->cap = cap;
    }
    size_t dlen = dir ? strlen(dir) : 0;
    /* "DIR/NAME", with no second separator after one DIR ends with */
    int sep = dlen > 0 && dir[dlen - 1] != '/' && dir[dlen - 1] != '\\';
    size_t size = dlen + sep + strlen(name) + 1;
    char *path = malloc(size);
    if (path == NULL) {
        l->oom = 1;
        return;
    }
    snprintf(path, size, "%s%s%s", dir ? dir : "", sep ? "/" : "", name);
    l->path[l->n++] = path;
}

static void free_paths(path_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->path[i]);
    free(l->path);
}

typedef struct folder {
    const char *dir;
    path_list names;
} folder;

/* A *.sim that is a regular file: not a folder, nor a FIFO that would
 * hold the run on its open. */
static int take_sim(const char *name, void *data)
{
    folder *f = data;
    size_t len = strlen(name);
    char path[4096];
    if (len > 4 && strcmp(name + len - 4, ".sim") == 0 &&
        path_join(f->dir, name, path, sizeof path) == 0 &&
        path_is_file(path) == 1)
        add_path(&f->names, NULL, name);
    return f->names.oom ? ERR_ENOMEM : 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The transcripts a path names, appended to all. Returns 0 or an exit
 * code (said). */
static int expand(path_list *all, const char *path)
{
    int kind = dir_is_dir(path);
    if (kind < 0) {
        fprintf(stderr, "ricochet: --simulate %s: %s\n", path,
                err_strerror(kind));
        return EXIT_USAGE;
    }
    if (kind == 0) {
        add_path(all, NULL, path);
        return 0;
    }
    folder f = {path, {NULL, 0, 0, 0}};
    int rc = dir_each(path, take_sim, &f);
    if (rc == 0 && f.names.n == 0) {
        fprintf(stderr, "ricochet: --simulate %s: no transcripts (*.sim) "
                "in this folder\n", path);
        free_paths(&f.names);
        return EXIT_USAGE;
    }
    if (rc != 0) {
        fprintf(stderr, "ricochet: --simulate %s: %s\n", path,
                err_strerror(rc));
        free_paths(&f.names);
        return rc == ERR_ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
    }
    /* the OS lists in its own order: sorted, a run reads the same */
    qsort(f.names.path, f.names.n, sizeof *f.names.path, by_name);
    for (size_t i = 0; i < f.names.n; i++)
        add_path(all, path, f.names.path[i]);
    free_paths(&f.names);
    return 0;
}

int simulate_many_wanted(const char *const *paths, int n)
{
    return n > 1 || (n == 1 && dir_is_dir(paths[0]) == 1);
}

int simulate_many(const char *const *paths, int n, const server_config *cfg,
                  simulate_loader load, void *data)
{
    path_list all = {NULL, 0, 0, 0};
    for (int i = 0; i < n; i++) {
        int rc = expand(&all, paths[i]);
        if (rc != 0) {
            free_paths(&all);
            return rc;
        }
    }
    char *failure = malloc(FAILURE_MAX);
    if (all.oom || failure == NULL) {
        fprintf(stderr, "ricochet: out of memory\n");
        free(failure);
        free_paths(&all);
        return EXIT_RUNTIME;
    }
    size_t passed = 0, failed = 0;
    int code = EXIT_OK;
    for (size_t i = 0; i < all.n; i++) {
        policy *p = load(data);
        if (p == NULL) {
            code = EXIT_SCRIPT;
            break;
        }
        int rc = simulate_play(all.path[i], cfg, p, 1, failure,
                               FAILURE_MAX);
        if (rc == EXIT_OK) {
            printf("ok   %s\n", all.path[i]);
            passed++;
        } else {
            size_t plen = strlen(all.path[i]);
            if (strncmp(failure, all.path[i], plen) == 0 &&
                failure[plen] == ':')
                printf("FAIL %s\n", failure);
            else if (failure[0] != '\0') /* one that names no line */
                printf("FAIL %s: %s\n", all.path[i], failure);
            else
                printf("FAIL %s: exit status %d\n", all.path[i], rc);
            failed++;
        }
        fflush(stdout);
    }
    if (code == EXIT_OK) {
        printf("%zu passed, %zu failed\n", passed, failed);
        code = failed > 0 ? EXIT_RUNTIME : EXIT_OK;
    }
    fflush(stdout);
    free(failure);
    free_paths(&all);
    return code;
}
