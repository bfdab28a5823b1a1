/* test.h -- the assertions and the case table shared by the test runners.
 *
 * Each runner lists its cases in a TEST_LIST and is invoked as
 * "runner CASE" by ctest (one registration per case, so a failure names
 * itself) or as "runner" to run them all in one process. A failed
 * assertion prints both sides and exits 1; atexit handlers (the black-box
 * harness kills its servers there) still run. */
#ifndef RICOCHET_TEST_H
#define RICOCHET_TEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_FAIL(...)                                                  \
    do {                                                                \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                 \
        fprintf(stderr, __VA_ARGS__);                                   \
        fputc('\n', stderr);                                            \
        exit(1);                                                        \
    } while (0)

#define ASSERT(expr)                                                    \
    do {                                                                \
        if (!(expr)) TEST_FAIL("assertion failed: %s", #expr);          \
    } while (0)

/* Integer comparisons print both sides as intmax_t. */
#define ASSERT_INT_OP(a, op, b)                                         \
    do {                                                                \
        intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);                \
        if (!(a_ op b_))                                                \
            TEST_FAIL("%s %s %s: %jd vs %jd", #a, #op, #b, a_, b_);     \
    } while (0)
#define ASSERT_EQ(a, b) ASSERT_INT_OP(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_INT_OP(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_INT_OP(a, <, b)
#define ASSERT_LE(a, b) ASSERT_INT_OP(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_INT_OP(a, >, b)
#define ASSERT_GE(a, b) ASSERT_INT_OP(a, >=, b)

#define ASSERT_UINT_OP(a, op, b)                                        \
    do {                                                                \
        uintmax_t a_ = (uintmax_t)(a), b_ = (uintmax_t)(b);             \
        if (!(a_ op b_))                                                \
            TEST_FAIL("%s %s %s: %ju vs %ju", #a, #op, #b, a_, b_);     \
    } while (0)
#define ASSERT_UEQ(a, b) ASSERT_UINT_OP(a, ==, b)

#define ASSERT_STR_EQ(a, b)                                             \
    do {                                                                \
        const char *a_ = (a), *b_ = (b);                                \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)            \
            TEST_FAIL("%s == %s: \"%s\" vs \"%s\"", #a, #b,             \
                      a_ ? a_ : "(null)", b_ ? b_ : "(null)");          \
    } while (0)

/* Byte-exact comparison: reports both lengths and the first difference. */
#define ASSERT_MEM_EQ(a, alen, b, blen)                                 \
    test_assert_mem_eq(__FILE__, __LINE__, #a, (const void *)(a),       \
                       (size_t)(alen), #b, (const void *)(b),           \
                       (size_t)(blen))

static inline void test_assert_mem_eq(const char *file, int line,
                                      const char *an, const void *a,
                                      size_t alen, const char *bn,
                                      const void *b, size_t blen)
{
    const unsigned char *x = a, *y = b;
    size_t n = alen < blen ? alen : blen, i;
    for (i = 0; i < n && x[i] == y[i]; i++)
        ;
    if (i == n && alen == blen)
        return;
    fprintf(stderr, "%s:%d: %s != %s: lengths %zu vs %zu, first difference "
            "at offset %zu", file, line, an, bn, alen, blen, i);
    if (i < n)
        fprintf(stderr, " (0x%02x vs 0x%02x)", x[i], y[i]);
    fputc('\n', stderr);
    exit(1);
}

typedef struct test_case {
    const char *name;
    void (*fn)(void);
} test_case;

/* The runner's main: run argv[1] or every case. */
static inline int test_main(const test_case *cases, int argc, char **argv)
{
    int ran = 0;
    for (const test_case *t = cases; t->name; t++) {
        if (argc > 1 && strcmp(argv[1], t->name) != 0)
            continue;
        fprintf(stderr, "== %s\n", t->name);
        t->fn();
        ran++;
    }
    if (ran == 0) {
        fprintf(stderr, "no test case named %s\n", argc > 1 ? argv[1] : "");
        return 2;
    }
    return 0;
}

#endif
