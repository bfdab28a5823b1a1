/* form.h -- sets of "key=value" strings: a form-encoded body decoded
 * (application/x-www-form-urlencoded: + is a space, %XX a byte), and a
 * set laid over another (the admin API's POST /args). */
#ifndef RICOCHET_FORM_H
#define RICOCHET_FORM_H

#include <stddef.h>

#define FORM_MAX_PAIRS 64 /* key=value pairs in one body */

/* One set of "key=value" strings (a key alone: "key"), each malloc'd.
 * older chains the sets an owner keeps alive. */
typedef struct args_set {
    struct args_set *older;
    int n;
    char *kv[];
} args_set;

/* The pairs of body[0..len), or NULL with *why saying what is wrong (a
 * bad %XX, a NUL, an empty key, a key with '=', over FORM_MAX_PAIRS, no
 * pair at all); NULL with *why NULL: out of memory. */
args_set *form_parse(const char *body, size_t len, const char **why);

/* A new set: cur[0..ncur) with add's pairs laid over it (a key in both
 * takes add's value, in cur's place). NULL: out of memory. */
args_set *form_merge(char *const *cur, int ncur, const args_set *add);

/* Free set and its strings (not the sets it chains). */
void form_free(args_set *set);

#endif
