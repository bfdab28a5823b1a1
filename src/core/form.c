/* form.c -- form-encoded bodies (POST /args): "key=value" pairs decoded,
 * and one set laid over another (see form.h). */
#include "form.h"

#include <stdlib.h>
#include <string.h>

#include "hex.h"

/* Form-decode s[0..len) (+ is a space, %XX a byte) into out, which has
 * room for len + 1. Returns NULL, or why it cannot. */
static const char *decode(const char *s, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '+') {
            ch = ' ';
        } else if (ch == '%') {
            int hi = i + 2 < len ? hex_digit(s[i + 1]) : -1;
            int lo = i + 2 < len ? hex_digit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return "bad percent-encoding in the form body";
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (ch == '\0')
            return "NUL byte in the form body";
        out[n++] = ch;
    }
    out[n] = '\0';
    return NULL;
}

void form_free(args_set *set)
{
    for (int i = 0; i < set->n; i++)
        free(set->kv[i]);
    free(set);
}

static args_set *new_set(int n)
{
    args_set *set = calloc(1, sizeof *set + (size_t)n * sizeof(char *));
    return set;
}

args_set *form_parse(const char *body, size_t len, const char **why)
{
    args_set *set = new_set(FORM_MAX_PAIRS);
    *why = NULL;
    if (set == NULL)
        return NULL;
    size_t start = 0;
    int oom = 0;
    while (start <= len && *why == NULL && !oom) {
        const char *amp = memchr(body + start, '&', len - start);
        size_t end = amp ? (size_t)(amp - body) : len;
        const char *pair = body + start;
        size_t plen = end - start;
        start = end + 1;
        if (plen == 0)
            continue;
        if (set->n == FORM_MAX_PAIRS) {
            *why = "over 64 key=value pairs";
            break;
        }
        const char *eq = memchr(pair, '=', plen);
        size_t klen = eq ? (size_t)(eq - pair) : plen;
        char *kv = malloc(plen + 2);
        if (kv == NULL) {
            oom = 1;
            break;
        }
        set->kv[set->n++] = kv;
        *why = decode(pair, klen, kv);
        if (*why != NULL)
            break;
        if (kv[0] == '\0')
            *why = "empty key in the form body";
        else if (strchr(kv, '=') != NULL)
            *why = "a key holds '=' (percent-encoded)";
        if (*why != NULL || eq == NULL)
            continue;
        size_t k = strlen(kv);
        kv[k] = '=';
        *why = decode(eq + 1, plen - klen - 1, kv + k + 1);
    }
    if (*why == NULL && !oom && set->n == 0)
        *why = "no key=value pairs in the body";
    if (*why != NULL || oom) {
        form_free(set);
        return NULL;
    }
    return set;
}

static size_t key_len(const char *kv)
{
    const char *eq = strchr(kv, '=');
    return eq ? (size_t)(eq - kv) : strlen(kv);
}

args_set *form_merge(char *const *cur, int ncur, const args_set *add)
{
    args_set *set = new_set(ncur + add->n);
    if (set == NULL)
        return NULL;
    for (int i = 0; i < ncur + add->n; i++) {
        const char *kv = i < ncur ? cur[i] : add->kv[i - ncur];
        size_t k = key_len(kv);
        int j = 0;
        while (j < set->n && !(key_len(set->kv[j]) == k &&
                               memcmp(set->kv[j], kv, k) == 0))
            j++;
        char *copy = malloc(strlen(kv) + 1);
        if (copy == NULL) {
            form_free(set);
            return NULL;
        }
        strcpy(copy, kv);
        if (j < set->n)
            free(set->kv[j]);
        else
            set->n++;
        set->kv[j] = copy;
    }
    return set;
}
