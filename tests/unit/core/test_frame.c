/* test_frame.c -- the framer: every mode, input split at every byte
 * boundary (two and three chunks, and byte by byte), mode changes between
 * frames, the max bound, and the unfinished frame at the end. */
#include "cases.h"
#include "err.h"
#include "frame.h"
#include "test.h"

/* What a run produced: "len:bytes," per frame, then "!ERR" or
 * "rest=len:bytes". Binary-safe, so NUL and CR show up in comparisons. */
typedef struct record {
    char text[16384];
    size_t len;
} record;

static void rec_add(record *r, const char *data, size_t len)
{
    ASSERT_LT(r->len + len, sizeof r->text);
    memcpy(r->text + r->len, data, len);
    r->len += len;
}

static void rec_frame(record *r, const char *prefix, const char *data,
                      size_t len)
{
    char head[32];
    snprintf(head, sizeof head, "%s%zu:", prefix, len);
    rec_add(r, head, strlen(head));
    rec_add(r, data, len);
    rec_add(r, ",", 1);
}

/* Called after each frame; may change the mode (a header, then a body). */
typedef void (*on_frame_fn)(framer *f, const char *frame, size_t len);

/* The most a framer may hold for its current mode. */
static size_t held_bound(const frame_spec *s)
{
    switch (s->mode) {
    case FRAME_LINE: return s->max + 2;
    case FRAME_DELIM: return s->max + s->delim_len;
    case FRAME_FIXED: return s->size;
    case FRAME_LENGTH: return s->size + s->max;
    case FRAME_BUFFER: return s->max;
    case FRAME_RAW: break;
    }
    return 0;
}

/* Feed in[0..n) cut at the given ascending offsets; record the frames,
 * the error or the rest. */
static void run(const frame_spec *spec, const char *in, size_t n,
                const size_t *cuts, size_t ncuts, on_frame_fn on_frame,
                record *r)
{
    framer f;
    size_t from = 0;
    framer_init(&f, spec);
    r->len = 0;
    for (size_t k = 0; k <= ncuts; k++) {
        size_t to = k < ncuts ? cuts[k] : n;
        const char *p = in + from;
        size_t len = to - from;
        for (int guard = 0;; guard++) {
            const char *frame;
            size_t flen, used;
            ASSERT_LT(guard, 100000);
            int rc = framer_next(&f, p, len, &used, &frame, &flen);
            ASSERT_LE(used, len);
            p += used;
            len -= used;
            size_t bound = held_bound(&f.spec);
            size_t held = buf_len(&f.pending);
            /* a frame just handed out from the held bytes is not counted:
             * it was within the bound of the mode that cut it */
            if (rc != FRAME_READY && f.spec.mode != FRAME_RAW &&
                held > bound)
                TEST_FAIL("held %zu bytes, bound %zu", held, bound);
            if (rc == FRAME_NEED) {
                ASSERT_EQ(len, 0);
                break;
            }
            if (rc < 0) {
                char err[16];
                snprintf(err, sizeof err, "!%s", rc == ERR_ETOOBIG ? "big"
                         : rc == ERR_EBADFRAME ? "bad" : "other");
                rec_add(r, err, strlen(err));
                framer_clear(&f);
                return;
            }
            rec_frame(r, "", frame, flen);
            if (on_frame)
                on_frame(&f, frame, flen);
        }
        from = to;
    }
    size_t rest_len;
    const char *rest = framer_take_rest(&f, &rest_len);
    if (rest != NULL)
        rec_frame(r, "rest=", rest, rest_len);
    framer_clear(&f);
}

/* Every way to cut in: whole, at each offset, at each pair of offsets
 * (when short), and byte by byte; each must give want exactly. */
static void check_splits(const frame_spec *spec, const char *in, size_t n,
                         on_frame_fn on_frame, const char *want,
                         size_t want_len)
{
    static record r;
    size_t cuts[4096];
    run(spec, in, n, NULL, 0, on_frame, &r);
    ASSERT_MEM_EQ(r.text, r.len, want, want_len);
    for (size_t i = 0; i <= n; i++) {
        cuts[0] = i;
        run(spec, in, n, cuts, 1, on_frame, &r);
        if (r.len != want_len || memcmp(r.text, want, want_len) != 0)
            fprintf(stderr, "split at %zu:\n", i);
        ASSERT_MEM_EQ(r.text, r.len, want, want_len);
    }
    if (n <= 64) {
        for (size_t i = 0; i <= n; i++)
            for (size_t j = i; j <= n; j++) {
                cuts[0] = i;
                cuts[1] = j;
                run(spec, in, n, cuts, 2, on_frame, &r);
                if (r.len != want_len || memcmp(r.text, want, want_len))
                    fprintf(stderr, "split at %zu and %zu:\n", i, j);
                ASSERT_MEM_EQ(r.text, r.len, want, want_len);
            }
    }
    ASSERT_LT(n, sizeof cuts / sizeof cuts[0]);
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    run(spec, in, n, cuts, n ? n - 1 : 0, on_frame, &r);
    ASSERT_MEM_EQ(r.text, r.len, want, want_len);
}

#define CHECK(spec, in, on_frame, want) \
    check_splits((spec), (in), sizeof(in) - 1, (on_frame), (want), \
                 sizeof(want) - 1)

static frame_spec spec_of(frame_mode mode, size_t max, int keep)
{
    frame_spec s;
    frame_spec_init(&s, mode);
    s.max = max;
    s.keep = keep;
    return s;
}

void test_frame_raw(void)
{
    frame_spec s = spec_of(FRAME_RAW, 0, 0);
    framer f;
    const char *frame;
    size_t used, flen;
    framer_init(&f, &s);
    ASSERT_EQ(framer_next(&f, "abc", 3, &used, &frame, &flen), FRAME_READY);
    ASSERT_EQ(used, 3);
    ASSERT_MEM_EQ(frame, flen, "abc", 3);
    ASSERT_EQ(framer_next(&f, "", 0, &used, &frame, &flen), FRAME_NEED);
    ASSERT_EQ(buf_len(&f.pending), 0); /* raw never holds a byte */
    framer_clear(&f);
}

void test_frame_line(void)
{
    frame_spec s = spec_of(FRAME_LINE, 16, 0);
    CHECK(&s, "one\ntwo\r\nthree\r\r\n\n\r\nlast", NULL,
          "3:one,3:two,6:three\r,0:,0:,rest=4:last,");
    s.keep = 1;
    CHECK(&s, "one\ntwo\r\n\nx", NULL, "4:one\n,5:two\r\n,1:\n,rest=1:x,");
    s.keep = 0;
    CHECK(&s, "a\0b\n\0\n", NULL, "3:a\0b,1:\0,");
}

void test_frame_line_max(void)
{
    frame_spec s = spec_of(FRAME_LINE, 4, 0);
    /* exactly max, with either terminator, is fine */
    CHECK(&s, "abcd\nabcd\r\nab\n", NULL, "4:abcd,4:abcd,2:ab,");
    CHECK(&s, "abcd\r", NULL, "rest=5:abcd\r,");
    /* one more is not, whatever the cut, and nothing past it goes up */
    CHECK(&s, "ab\nabcde\nzz\n", NULL, "2:ab,!big");
    CHECK(&s, "ab\nabcde", NULL, "2:ab,!big");
    CHECK(&s, "abcd\rx", NULL, "!big");
}

void test_frame_delim(void)
{
    frame_spec s = spec_of(FRAME_DELIM, 64, 0);
    memcpy(s.delim, "\r\n\r\n", 4);
    s.delim_len = 4;
    CHECK(&s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n\r\n\r\nbody\r\n\r", NULL,
          "23:GET / HTTP/1.1\r\nHost: x,0:,rest=7:body\r\n\r,");
    s.keep = 1;
    CHECK(&s, "a\r\n\r\nb\r\n\r\n", NULL, "5:a\r\n\r\n,5:b\r\n\r\n,");
    /* a delimiter that overlaps itself: the first match wins */
    s.keep = 0;
    memcpy(s.delim, "abab", 4);
    CHECK(&s, "xabaababababyabab", NULL, "4:xaba,0:,1:y,");
}

void test_frame_delim_max(void)
{
    frame_spec s = spec_of(FRAME_DELIM, 3, 0);
    memcpy(s.delim, "--", 2);
    s.delim_len = 2;
    CHECK(&s, "abc--ab--", NULL, "3:abc,2:ab,");
    CHECK(&s, "abc-", NULL, "rest=4:abc-,");
    CHECK(&s, "abcd--", NULL, "!big");
    CHECK(&s, "ab--abcde", NULL, "2:ab,!big");
}

/* Random streams over a small alphabet, against a naive splitter. */
void test_frame_delim_random(void)
{
    static const char *const delims[] = {"\n", "\r\n\r\n", "abab", "aab"};
    static char in[48], want[4096];
    uint64_t seed = 0x5eed;
    for (int d = 0; d < 4; d++) {
        frame_spec s = spec_of(FRAME_DELIM, 64, 0);
        s.delim_len = strlen(delims[d]);
        memcpy(s.delim, delims[d], s.delim_len);
        for (int round = 0; round < 40; round++) {
            size_t n = sizeof in, want_len = 0, at = 0;
            for (size_t i = 0; i < n; i++) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                in[i] = "ab\r\n"[(seed >> 33) % 4];
            }
            for (;;) { /* the naive splitter */
                size_t hit = at;
                while (hit + s.delim_len <= n &&
                       memcmp(in + hit, s.delim, s.delim_len) != 0)
                    hit++;
                if (hit + s.delim_len > n)
                    break;
                want_len += (size_t)snprintf(want + want_len,
                                             sizeof want - want_len, "%zu:",
                                             hit - at);
                memcpy(want + want_len, in + at, hit - at);
                want_len += hit - at;
                want[want_len++] = ',';
                at = hit + s.delim_len;
            }
            if (at < n) {
                want_len += (size_t)snprintf(want + want_len,
                                             sizeof want - want_len,
                                             "rest=%zu:", n - at);
                memcpy(want + want_len, in + at, n - at);
                want_len += n - at;
                want[want_len++] = ',';
            }
            check_splits(&s, in, n, NULL, want, want_len);
        }
    }
}

void test_frame_fixed(void)
{
    frame_spec s = spec_of(FRAME_FIXED, 0, 0);
    s.size = s.max = 3;
    CHECK(&s, "abcdef\0\0\0gh", NULL, "3:abc,3:def,3:\0\0\0,rest=2:gh,");
}

void test_frame_length(void)
{
    frame_spec s = spec_of(FRAME_LENGTH, 100, 0);
    ASSERT_EQ(frame_parse_length_format(">I2", 3, &s), 0);
    CHECK(&s, "\0\3abc\0\0\0\1z\0\5ab", NULL,
          "3:abc,0:,1:z,rest=4:\0\5ab,");
    s.keep = 1;
    CHECK(&s, "\0\2hi", NULL, "4:\0\2hi,");
    s.keep = 0;
    ASSERT_EQ(frame_parse_length_format("<I4", 3, &s), 0);
    CHECK(&s, "\2\0\0\0hi\1\0\0\0!", NULL, "2:hi,1:!,");
    ASSERT_EQ(frame_parse_length_format("B", 1, &s), 0);
    CHECK(&s, "\1a\2bc\0", NULL, "1:a,2:bc,0:,");
}

void test_frame_length_bad(void)
{
    frame_spec s = spec_of(FRAME_LENGTH, 100, 0);
    ASSERT_EQ(frame_parse_length_format(">I2", 3, &s), 0);
    /* over max: known from the prefix alone, before any body is held */
    CHECK(&s, "\0\1a\0\145", NULL, "1:a,!big");
    ASSERT_EQ(frame_parse_length_format(">i2", 3, &s), 0);
    ASSERT_EQ(s.is_signed, 1);
    CHECK(&s, "\0\1a\377\376xx", NULL, "1:a,!bad");
}

void test_frame_length_formats(void)
{
    static const struct {
        const char *fmt;
        int ok, size, big, is_signed;
    } cases[] = {
        {">I2", 1, 2, 1, 0}, {"<I4", 1, 4, 0, 0}, {">i4", 1, 4, 1, 1},
        {"B", 1, 1, -1, 0}, {"b", 1, 1, -1, 1}, {">H", 1, 2, 1, 0},
        {"<j", 1, 8, 0, 1}, {"> I3 ", 1, 3, 1, 0}, {"!4>I8", 1, 8, 1, 0},
        {"", 0, 0, 0, 0}, {">", 0, 0, 0, 0}, {">I9", 0, 0, 0, 0},
        {">I0", 0, 0, 0, 0}, {">I2I2", 0, 0, 0, 0}, {"s2", 0, 0, 0, 0},
        {"d", 0, 0, 0, 0}, {">I123", 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        frame_spec s;
        frame_spec_init(&s, FRAME_LENGTH);
        int rc = frame_parse_length_format(cases[i].fmt,
                                           strlen(cases[i].fmt), &s);
        if ((rc == 0) != cases[i].ok)
            TEST_FAIL("format \"%s\": rc %d", cases[i].fmt, rc);
        if (!cases[i].ok)
            continue;
        ASSERT_EQ(s.size, cases[i].size);
        ASSERT_EQ(s.is_signed, cases[i].is_signed);
        if (cases[i].big >= 0)
            ASSERT_EQ(s.big_endian, cases[i].big);
    }
}

/* "LEN n" lines switch to a fixed body of n bytes, then back to lines. */
static void header_then_body(framer *f, const char *frame, size_t len)
{
    frame_spec s;
    if (f->spec.mode == FRAME_LINE && len > 4 &&
        memcmp(frame, "LEN ", 4) == 0) {
        frame_spec_init(&s, FRAME_FIXED);
        s.size = s.max = (size_t)atoi(frame + 4);
        framer_set(f, &s);
    } else if (f->spec.mode == FRAME_FIXED) {
        frame_spec_init(&s, FRAME_LINE);
        s.max = 32;
        framer_set(f, &s);
    }
}

void test_frame_mode_switch(void)
{
    frame_spec s = spec_of(FRAME_LINE, 32, 0);
    CHECK(&s, "hello\nLEN 5\n12\n45LEN 2\nab\nbye\n", header_then_body,
          "5:hello,5:LEN 5,5:12\n45,5:LEN 2,2:ab,0:,3:bye,");
}

/* A mode change while bytes are held: they are cut again with the new
 * mode, and several frames may come from them alone. */
void test_frame_switch_held(void)
{
    frame_spec line = spec_of(FRAME_LINE, 32, 0);
    frame_spec fixed = spec_of(FRAME_FIXED, 0, 0);
    frame_spec raw = spec_of(FRAME_RAW, 0, 0);
    framer f;
    const char *frame;
    size_t used, flen;
    fixed.size = fixed.max = 2;
    framer_init(&f, &line);
    ASSERT_EQ(framer_next(&f, "abcde", 5, &used, &frame, &flen), FRAME_NEED);
    framer_set(&f, &fixed);
    ASSERT_EQ(framer_next(&f, NULL, 0, &used, &frame, &flen), FRAME_READY);
    ASSERT_MEM_EQ(frame, flen, "ab", 2);
    ASSERT_EQ(framer_next(&f, NULL, 0, &used, &frame, &flen), FRAME_READY);
    ASSERT_MEM_EQ(frame, flen, "cd", 2);
    ASSERT_EQ(framer_next(&f, NULL, 0, &used, &frame, &flen), FRAME_NEED);
    ASSERT(framer_has_rest(&f));
    framer_set(&f, &raw);
    ASSERT_EQ(framer_next(&f, "xy", 2, &used, &frame, &flen), FRAME_READY);
    ASSERT_EQ(used, 0);
    ASSERT_MEM_EQ(frame, flen, "e", 1);
    ASSERT_EQ(framer_next(&f, "xy", 2, &used, &frame, &flen), FRAME_READY);
    ASSERT_EQ(used, 2);
    ASSERT_MEM_EQ(frame, flen, "xy", 2);
    ASSERT(!framer_has_rest(&f));
    ASSERT_EQ(buf_len(&f.pending), 0);
    framer_clear(&f);
}
