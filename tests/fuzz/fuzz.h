/* fuzz.h -- what the libFuzzer targets share: reading choices from the
 * fuzzer's bytes, a growable record of what a run produced, and the one
 * way a target reports a difference (abort(), so libFuzzer saves the
 * input as a crash). */
#ifndef RICOCHET_FUZZ_H
#define RICOCHET_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The entry point libFuzzer calls once per input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FAIL(...)                                                  \
    do {                                                                \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                 \
        fprintf(stderr, __VA_ARGS__);                                   \
        fputc('\n', stderr);                                            \
        abort();                                                        \
    } while (0)

#define FUZZ_ASSERT(expr)                                               \
    do {                                                                \
        if (!(expr)) FUZZ_FAIL("assertion failed: %s", #expr);          \
    } while (0)

/* The fuzzer's bytes, read front to back; past the end every read is 0,
 * so any input decodes to something. */
typedef struct fuzz_in {
    const uint8_t *p;
    size_t n;
} fuzz_in;

static inline unsigned fuzz_byte(fuzz_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

/* Up to want bytes from the front (fewer when the input ends). */
static inline const uint8_t *fuzz_bytes(fuzz_in *in, size_t want,
                                        size_t *got)
{
    const uint8_t *p = in->p;
    *got = want < in->n ? want : in->n;
    in->p += *got;
    in->n -= *got;
    return p;
}

/* A byte string that grows; binary-safe. */
typedef struct fuzz_rec {
    char *text;
    size_t len, cap;
} fuzz_rec;

static inline void fuzz_rec_add(fuzz_rec *r, const void *data, size_t len)
{
    if (len == 0)
        return;
    if (r->cap - r->len < len) {
        size_t cap = r->cap ? r->cap : 256;
        while (cap - r->len < len)
            cap *= 2;
        char *p = realloc(r->text, cap);
        if (p == NULL)
            FUZZ_FAIL("out of memory");
        r->text = p;
        r->cap = cap;
    }
    memcpy(r->text + r->len, data, len);
    r->len += len;
}

static inline void fuzz_rec_str(fuzz_rec *r, const char *s)
{
    fuzz_rec_add(r, s, strlen(s));
}

static inline void fuzz_rec_free(fuzz_rec *r)
{
    free(r->text);
    r->text = NULL;
    r->len = r->cap = 0;
}

/* Print bytes with C escapes, for a failure report. */
static inline void fuzz_print(const char *what, const void *data,
                              size_t len)
{
    const unsigned char *s = data;
    fprintf(stderr, "%s (%zu bytes): \"", what, len);
    for (size_t i = 0; i < len; i++) {
        if (s[i] >= 32 && s[i] < 127 && s[i] != '"' && s[i] != '\\')
            fputc(s[i], stderr);
        else
            fprintf(stderr, "\\x%02x", s[i]);
    }
    fputs("\"\n", stderr);
}

/* Two records must be the same bytes; otherwise print both and abort. */
static inline void fuzz_rec_same(const fuzz_rec *want, const char *want_name,
                                 const fuzz_rec *got, const char *got_name)
{
    if (want->len == got->len &&
        (want->len == 0 || memcmp(want->text, got->text, want->len) == 0))
        return;
    fuzz_print(want_name, want->text, want->len);
    fuzz_print(got_name, got->text, got->len);
    FUZZ_FAIL("%s and %s differ", want_name, got_name);
}

#endif
