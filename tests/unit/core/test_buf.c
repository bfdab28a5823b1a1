/* test_buf.c -- the byte queue: order, growth, compaction, freeing. */
#include "buf.h"
#include "cases.h"
#include "test.h"

/* A small deterministic generator, so a failure replays exactly. */
static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

void test_buf_append_consume(void)
{
    buf b = BUF_INIT;
    ASSERT_UEQ(buf_len(&b), 0);
    ASSERT_EQ(buf_append(&b, "hello", 5), 0);
    ASSERT_EQ(buf_append(&b, " world", 6), 0);
    ASSERT_MEM_EQ(buf_head(&b), buf_len(&b), "hello world", 11);
    buf_consume(&b, 6);
    ASSERT_MEM_EQ(buf_head(&b), buf_len(&b), "world", 5);
    ASSERT_EQ(buf_append(&b, "!", 1), 0);
    ASSERT_MEM_EQ(buf_head(&b), buf_len(&b), "world!", 6);
    /* NUL bytes are data like any other. */
    ASSERT_EQ(buf_append(&b, "\0x\0", 3), 0);
    ASSERT_MEM_EQ(buf_head(&b), buf_len(&b), "world!\0x\0", 9);
    buf_consume(&b, 9);
    ASSERT_UEQ(buf_len(&b), 0);
    buf_free(&b);
}

/* Random appends and consumes against a flat model of the contents. */
void test_buf_growth(void)
{
    enum { TOTAL = 1 << 20 };
    char *model = malloc(TOTAL);
    ASSERT(model != NULL);
    for (size_t i = 0; i < TOTAL; i++)
        model[i] = (char)(rng() & 0xff);

    buf b = BUF_INIT;
    size_t written = 0, read = 0;
    size_t peak_cap = 0;
    while (read < TOTAL) {
        size_t chunk = rng() % 5000;
        if (chunk > TOTAL - written)
            chunk = TOTAL - written;
        ASSERT_EQ(buf_append(&b, model + written, chunk), 0);
        written += chunk;
        ASSERT_UEQ(buf_len(&b), written - read);
        if (b.cap > peak_cap)
            peak_cap = b.cap;

        size_t take = rng() % 6000;
        if (take > buf_len(&b) || written == TOTAL)
            take = buf_len(&b);
        ASSERT_MEM_EQ(buf_head(&b), take, model + read, take);
        buf_consume(&b, take);
        read += take;
    }
    ASSERT_UEQ(buf_len(&b), 0);
    ASSERT(b.data == NULL);
    /* Consumption keeps pace with appends, so the queue stays small. */
    ASSERT_LT(peak_cap, 64 * 1024);

    /* One big append grows in one go and keeps every byte. */
    ASSERT_EQ(buf_append(&b, model, TOTAL), 0);
    ASSERT_MEM_EQ(buf_head(&b), buf_len(&b), model, TOTAL);
    buf_free(&b);
    free(model);
}

/* A dead prefix at least as large as the live bytes is reused instead of
 * growing; a smaller one is not worth the move. */
void test_buf_compaction(void)
{
    char block[256];
    for (size_t i = 0; i < sizeof block; i++)
        block[i] = (char)i;

    buf b = BUF_INIT;
    ASSERT_EQ(buf_append(&b, block, sizeof block), 0);
    size_t cap = b.cap;
    ASSERT_UEQ(b.end, cap); /* full: the next append needs room */
    buf_consume(&b, 200);
    ASSERT_EQ(buf_append(&b, block, 100), 0);
    ASSERT_UEQ(b.cap, cap);
    ASSERT_UEQ(b.start, 0);
    ASSERT_MEM_EQ(buf_head(&b), 56, block + 200, 56);
    ASSERT_MEM_EQ(buf_head(&b) + 56, 100, block, 100);

    /* 156 live, 100 free at the end; 10 dead in front is too little. */
    ASSERT_EQ(buf_append(&b, block, 100), 0);
    buf_consume(&b, 10);
    ASSERT_EQ(buf_append(&b, block, 50), 0);
    ASSERT_GT(b.cap, cap);
    ASSERT_UEQ(buf_len(&b), 296);
    ASSERT_MEM_EQ(buf_head(&b), 46, block + 210, 46);
    ASSERT_MEM_EQ(buf_head(&b) + 46, 100, block, 100);
    ASSERT_MEM_EQ(buf_head(&b) + 146, 100, block, 100);
    ASSERT_MEM_EQ(buf_head(&b) + 246, 50, block, 50);
    buf_free(&b);
}

void test_buf_empty_frees(void)
{
    buf b = BUF_INIT;
    ASSERT(buf_head(&b) == NULL); /* and computing it is defined */
    /* An empty append allocates nothing. */
    ASSERT_EQ(buf_append(&b, NULL, 0), 0);
    ASSERT(b.data == NULL);

    ASSERT_EQ(buf_append(&b, "abc", 3), 0);
    ASSERT(b.data != NULL);
    buf_consume(&b, 1);
    ASSERT(b.data != NULL);
    buf_consume(&b, 2);
    ASSERT(b.data == NULL);
    ASSERT_UEQ(b.cap, 0);
    ASSERT_UEQ(b.start, 0);
    ASSERT_UEQ(b.end, 0);

    /* Usable again after being emptied, and after buf_free. */
    ASSERT_EQ(buf_append(&b, "xyz", 3), 0);
    ASSERT_MEM_EQ(buf_head(&b), buf_len(&b), "xyz", 3);
    buf_free(&b);
    ASSERT(b.data == NULL);
    ASSERT_UEQ(buf_len(&b), 0);
    buf_free(&b); /* twice is harmless */
    ASSERT_EQ(buf_append(&b, "q", 1), 0);
    ASSERT_MEM_EQ(buf_head(&b), buf_len(&b), "q", 1);
    buf_free(&b);
}
