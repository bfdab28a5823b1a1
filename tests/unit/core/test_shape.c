/* test_shape.c -- the shaping arithmetic on a fake clock: rate, delay
 * with jitter (ordered, reproducible with the seed), slices, limit, stall. */
#include "cases.h"
#include "rng.h"
#include "shape.h"
#include "test.h"

/* Send everything queued in [sent, end) as fast as the shaping allows,
 * jumping the clock to each wake-up. Returns the clock at the end. */
static uint64_t drain(shape *s, uint64_t *sent, uint64_t end, uint64_t now,
                      size_t max_write, int *wakeups)
{
    for (int i = 0; i < 1000000 && *sent < end; i++) {
        uint64_t wake;
        size_t allow = shape_allowance(s, *sent, end, now, &wake);
        if (allow == 0) {
            ASSERT(wake != SHAPE_NEVER);
            ASSERT_GT(wake, now);
            now = wake;
            if (wakeups)
                (*wakeups)++;
            continue;
        }
        if (allow > max_write)
            allow = max_write;
        if (allow > end - *sent)
            allow = (size_t)(end - *sent);
        *sent += allow;
        shape_sent(s, allow, now);
    }
    ASSERT_UEQ(*sent, end);
    return now;
}

void test_shape_passthrough(void)
{
    shape s;
    uint64_t wake;
    shape_init(&s, 0);
    ASSERT_EQ(shape_push(&s, 0, 1000, 0), 0);
    ASSERT_UEQ(shape_allowance(&s, 0, 1000, 0, &wake), 1000);
    shape_free(&s);
}

void test_shape_rate(void)
{
    static const uint64_t rates[] = {100, 4096, 16384, 1000000};
    for (size_t k = 0; k < 4; k++) {
        shape s;
        uint64_t sent = 0, total = rates[k] * 2; /* two seconds' worth */
        int wakeups = 0;
        shape_init(&s, 1000);
        shape_set_rate(&s, rates[k], 1000);
        ASSERT_EQ(shape_push(&s, 0, total, 1000), 0);
        uint64_t took = drain(&s, &sent, total, 1000, 65536, &wakeups) -
                        1000;
        /* the bucket starts with 10 ms of traffic; whole-millisecond
         * wake-ups lose nothing */
        if (took < 1985 || took > 2001)
            TEST_FAIL("rate %llu: %llu bytes took %llu ms",
                      (unsigned long long)rates[k],
                      (unsigned long long)total, (unsigned long long)took);
        ASSERT_LE(wakeups, 201); /* about one per 10 ms, not per byte */
        shape_free(&s);
    }
}

void test_shape_rate_no_burst_after_idle(void)
{
    shape s;
    uint64_t sent = 0, wake;
    shape_init(&s, 0);
    shape_set_rate(&s, 1000, 0);
    ASSERT_EQ(shape_push(&s, 0, 5000, 60000), 0);
    /* a minute idle buys 20 ms of traffic, not a minute's */
    ASSERT_LE(shape_allowance(&s, sent, 5000, 60000, &wake), 20);
    shape_free(&s);
}

void test_shape_delay(void)
{
    shape s;
    uint64_t wake, sent = 0;
    shape_init(&s, 0);
    shape_set_delay(&s, 100, 0);
    ASSERT_EQ(shape_push(&s, 0, 10, 0), 0);
    ASSERT_EQ(shape_push(&s, 10, 20, 5), 0);
    ASSERT_UEQ(shape_allowance(&s, sent, 20, 99, &wake), 0);
    ASSERT_UEQ(wake, 100);
    ASSERT_UEQ(shape_allowance(&s, sent, 20, 100, &wake), 10);
    sent = 10;
    shape_sent(&s, 10, 100);
    ASSERT_UEQ(shape_allowance(&s, sent, 20, 104, &wake), 0);
    ASSERT_UEQ(wake, 105);
    ASSERT_UEQ(shape_allowance(&s, sent, 20, 105, &wake), 10);
    /* bytes queued with no delay while nothing is held go at once... */
    shape_set_delay(&s, 0, 0);
    sent = 20;
    ASSERT_EQ(shape_push(&s, 20, 25, 200), 0);
    ASSERT_UEQ(shape_allowance(&s, sent, 25, 200, &wake), 5);
    /* ...and bytes queued before a delay was set are not held by it */
    ASSERT_EQ(shape_push(&s, 25, 30, 200), 0);
    shape_set_delay(&s, 50, 0);
    ASSERT_EQ(shape_push(&s, 30, 40, 200), 0);
    ASSERT_UEQ(shape_allowance(&s, sent, 40, 200, &wake), 10);
    ASSERT_UEQ(wake, SHAPE_NEVER);
    sent = 30;
    ASSERT_UEQ(shape_allowance(&s, sent, 40, 200, &wake), 0);
    ASSERT_UEQ(wake, 250);
    shape_free(&s);
}

/* Release times of n one-byte replies queued a millisecond apart. */
static void jitter_run(uint64_t seed, uint64_t *release, int n)
{
    shape s;
    uint64_t sent = 0;
    rng_seed(seed);
    shape_init(&s, 0);
    shape_set_delay(&s, 50, 40);
    for (int i = 0; i < n; i++)
        ASSERT_EQ(shape_push(&s, (uint64_t)i, (uint64_t)i + 1, (uint64_t)i),
                  0);
    uint64_t now = 0;
    for (int guard = 0; guard < 100000 && sent < (uint64_t)n; guard++) {
        uint64_t wake;
        size_t allow = shape_allowance(&s, sent, (uint64_t)n, now, &wake);
        for (size_t k = 0; k < allow; k++)
            release[sent + k] = now;
        sent += allow;
        if (allow == 0)
            now = wake;
    }
    ASSERT_UEQ(sent, (uint64_t)n);
    shape_free(&s);
}

void test_shape_jitter(void)
{
    enum { N = 200 };
    uint64_t a[N], b[N], c[N];
    jitter_run(42, a, N);
    jitter_run(42, b, N);
    jitter_run(43, c, N);
    int differ = 0;
    for (int i = 0; i < N; i++) {
        ASSERT_UEQ(a[i], b[i]); /* the same seed, the same times */
        differ += a[i] != c[i];
        /* within delay +- jitter of its queueing, or held by an earlier
         * reply (order is kept: times never go backwards) */
        ASSERT_GE(a[i], (uint64_t)i + 10);
        ASSERT_LE(a[i], (uint64_t)i + 90);
        if (i > 0)
            ASSERT_GE(a[i], a[i - 1]);
    }
    ASSERT_GT(differ, N / 4);
}

void test_shape_slice(void)
{
    shape s;
    uint64_t sent = 0, now = 0, last_end = 0;
    size_t smallest = SIZE_MAX, largest = 0;
    rng_seed(7);
    shape_init(&s, 0);
    shape_set_slice(&s, 10, 3, 5);
    ASSERT_EQ(shape_push(&s, 0, 1000, 0), 0);
    for (int guard = 0; guard < 10000 && sent < 1000; guard++) {
        uint64_t wake;
        size_t allow = shape_allowance(&s, sent, 1000, now, &wake);
        if (allow == 0) {
            ASSERT_UEQ(wake, last_end + 5); /* the gap */
            now = wake;
            continue;
        }
        if (sent + allow < 1000) {
            smallest = allow < smallest ? allow : smallest;
            largest = allow > largest ? allow : largest;
        }
        if (sent > 0)
            ASSERT_UEQ(now, last_end + 5);
        sent += allow;
        shape_sent(&s, allow, now);
        last_end = now;
    }
    ASSERT_UEQ(sent, 1000);
    ASSERT_GE(smallest, 7);
    ASSERT_LE(largest, 13);
    ASSERT_LT(smallest, largest); /* the sizes vary */
    shape_free(&s);
}

void test_shape_limit_stall(void)
{
    shape s;
    uint64_t wake;
    shape_init(&s, 0);
    s.limit = 100;
    ASSERT_EQ(shape_push(&s, 0, 500, 0), 0);
    ASSERT_UEQ(shape_allowance(&s, 0, 500, 0, &wake), 100);
    ASSERT_UEQ(shape_allowance(&s, 100, 500, 0, &wake), 0);
    ASSERT_UEQ(wake, SHAPE_NEVER);
    s.limit = SHAPE_NEVER;
    s.stalled = 1;
    ASSERT_UEQ(shape_allowance(&s, 100, 500, 0, &wake), 0);
    ASSERT_UEQ(wake, SHAPE_NEVER);
    s.stalled = 0;
    ASSERT_UEQ(shape_allowance(&s, 100, 500, 0, &wake), 400);
    shape_free(&s);
}
