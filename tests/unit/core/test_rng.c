/* test_rng.c -- the seeded generator: a seed replays, uniform stays in
 * [0, 1). */
#include "cases.h"
#include "rng.h"
#include "test.h"

void test_rng_seeded(void)
{
    uint64_t a[8];
    rng_seed(1234);
    for (int i = 0; i < 8; i++)
        a[i] = rng_next();
    rng_seed(1234);
    for (int i = 0; i < 8; i++)
        ASSERT_UEQ(rng_next(), a[i]);
    for (int i = 0; i < 10000; i++) {
        double u = rng_uniform();
        ASSERT(u >= 0.0 && u < 1.0);
    }
}
