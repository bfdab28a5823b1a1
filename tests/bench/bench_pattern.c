/* bench_pattern.c -- making the pattern and checking bytes against it. */
#include "bench_pattern.h"

#include <stdlib.h>
#include <string.h>

#include "bench_sys.h"

void bench_pattern_make(struct bench_pattern *p, enum bench_expect expect)
{
    uint64_t state = 0x9e3779b97f4a7c15u;
    size_t i;

    p->bytes = malloc(2 * (size_t)PATTERN_LEN);
    p->expected = malloc(2 * (size_t)PATTERN_LEN);
    if (p->bytes == NULL || p->expected == NULL)
        bench_sys_fatal("out of memory");
    for (i = 0; i < PATTERN_LEN; i++) {
        /* xorshift64*: cheap, and every byte value occurs */
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        p->bytes[i] = (uint8_t)((state * 0x2545f4914f6cdd1du) >> 56);
    }
    memcpy(p->bytes + PATTERN_LEN, p->bytes, PATTERN_LEN);
    for (i = 0; i < 2 * (size_t)PATTERN_LEN; i++) {
        uint8_t b = p->bytes[i];

        /* Lua's string.upper in the C locale: a-z only */
        if (expect == EXPECT_UPPER && b >= 'a' && b <= 'z')
            b = (uint8_t)(b - 'a' + 'A');
        p->expected[i] = b;
    }
}

int bench_pattern_verify(const struct bench_pattern *p, uint32_t seed,
                         uint64_t off, const uint8_t *data, size_t n,
                         uint64_t *bad_offset)
{
    while (n > 0) {
        size_t pos = (size_t)((seed + off) % PATTERN_LEN);
        size_t len = n < PATTERN_LEN ? n : PATTERN_LEN;

        if (memcmp(data, p->expected + pos, len) != 0) {
            size_t i = 0;

            while (data[i] == p->expected[pos + i])
                i++;
            *bad_offset = off + i;
            return -1;
        }
        data += len;
        off += len;
        n -= len;
    }
    return 0;
}
