/* test_frame_buffer.c -- the framer's buffer mode: every byte held or
 * new, each time bytes arrive, with the owner's unused rest held for the
 * next one, bounded by max; and the switches to and from other modes. */
#include <stdio.h>
#include <string.h>

#include "cases.h"
#include "err.h"
#include "frame.h"
#include "test.h"

/* What the owner made of a stream: the whole lines it used, each as
 * "line,", then "rest=..." for what was held at the end. */
typedef struct lines {
    char text[4096];
    size_t len;
    int frames;          /* buffer frames given out */
} lines;

static void add(lines *l, const char *s, size_t n)
{
    ASSERT_LT(l->len + n, sizeof l->text);
    memcpy(l->text + l->len, s, n);
    l->len += n;
}

/* An owner that uses the whole lines of each frame and leaves the rest,
 * as a line parser over a buffer does. */
static void use_lines(framer *f, const char *frame, size_t len, lines *l)
{
    size_t used = 0;
    const char *nl;
    while ((nl = memchr(frame + used, '\n', len - used)) != NULL) {
        size_t end = (size_t)(nl - frame) + 1;
        add(l, frame + used, end - used - 1);
        add(l, ",", 1);
        used = end;
    }
    ASSERT_EQ(framer_used(f, used), 0);
}

/* Feed in cut at `cut` (and byte by byte when cut is 0). */
static void feed_lines(const frame_spec *spec, const char *in, size_t n,
                       size_t cut, lines *l)
{
    framer f;
    framer_init(&f, spec);
    memset(l, 0, sizeof *l);
    size_t from = 0;
    while (from < n) {
        size_t to = cut == 0 ? from + 1 : (from < cut && cut < n ? cut : n);
        const char *p = in + from;
        size_t len = to - from;
        for (int guard = 0; guard < 100; guard++) {
            const char *frame;
            size_t flen, used;
            int rc = framer_next(&f, p, len, &used, &frame, &flen);
            p += used;
            len -= used;
            if (rc == FRAME_NEED)
                break;
            ASSERT_EQ(rc, FRAME_READY);
            l->frames++;
            use_lines(&f, frame, flen, l);
        }
        ASSERT_EQ(len, 0);
        from = to;
    }
    size_t rest_len;
    const char *rest = framer_take_rest(&f, &rest_len);
    add(l, "rest=", 5);
    if (rest != NULL)
        add(l, rest, rest_len);
    framer_clear(&f);
}

void test_frame_buffer_rest_held(void)
{
    static const char in[] = "one\ntwo\nthree\nfou";
    static const char want[] = "one,two,three,rest=fou";
    frame_spec spec;
    frame_spec_init(&spec, FRAME_BUFFER);
    lines l;
    for (size_t cut = 0; cut < sizeof in - 1; cut++) {
        feed_lines(&spec, in, sizeof in - 1, cut, &l);
        if (l.len != strlen(want) || memcmp(l.text, want, l.len) != 0)
            fprintf(stderr, "cut at %zu\n", cut);
        ASSERT_MEM_EQ(l.text, l.len, want, strlen(want));
    }
    /* whole: one frame; byte by byte: one a byte, never one again for
     * bytes already shown */
    feed_lines(&spec, in, sizeof in - 1, sizeof in - 1, &l);
    ASSERT_EQ(l.frames, 1);
    feed_lines(&spec, in, sizeof in - 1, 0, &l);
    ASSERT_EQ(l.frames, (int)(sizeof in - 1));
}

void test_frame_buffer_max(void)
{
    frame_spec spec;
    frame_spec_init(&spec, FRAME_BUFFER);
    spec.max = 4;
    framer f;
    framer_init(&f, &spec);
    const char *frame;
    size_t flen, used;
    /* 4 unused bytes may be held, from the input or from the held ones */
    ASSERT_EQ(framer_next(&f, "abcd", 4, &used, &frame, &flen), FRAME_READY);
    ASSERT_EQ(framer_used(&f, 0), 0);
    ASSERT_EQ(framer_next(&f, "e", 1, &used, &frame, &flen), FRAME_READY);
    ASSERT_MEM_EQ(frame, flen, "abcde", 5);
    ASSERT_EQ(framer_used(&f, 1), 0);
    ASSERT_EQ(framer_next(&f, "", 0, &used, &frame, &flen), FRAME_NEED);
    /* a fifth is one too many */
    ASSERT_EQ(framer_next(&f, "f", 1, &used, &frame, &flen), FRAME_READY);
    ASSERT_MEM_EQ(frame, flen, "bcdef", 5);
    ASSERT_EQ(framer_used(&f, 0), ERR_ETOOBIG);
    ASSERT_UEQ(f.bad_value, 5);
    framer_clear(&f);
    /* and from the input straight */
    framer_init(&f, &spec);
    ASSERT_EQ(framer_next(&f, "abcdef", 6, &used, &frame, &flen),
              FRAME_READY);
    ASSERT_EQ(framer_used(&f, 1), ERR_ETOOBIG);
    ASSERT_UEQ(f.bad_value, 5);
    framer_clear(&f);
}

void test_frame_buffer_switch(void)
{
    frame_spec line, buffer;
    frame_spec_init(&line, FRAME_LINE);
    frame_spec_init(&buffer, FRAME_BUFFER);
    framer f;
    framer_init(&f, &buffer);
    const char *frame;
    size_t flen, used;
    /* a buffer's unused rest is cut by the next mode */
    const char *in = "AB\nline one\nline two\npart";
    ASSERT_EQ(framer_next(&f, in, strlen(in), &used, &frame, &flen),
              FRAME_READY);
    ASSERT_EQ(framer_used(&f, 3), 0);
    framer_set(&f, &line);
    ASSERT_EQ(framer_next(&f, in + used, 0, &used, &frame, &flen),
              FRAME_READY);
    ASSERT_MEM_EQ(frame, flen, "line one", 8);
    /* back to a buffer: the held bytes come as one, once */
    framer_set(&f, &buffer);
    ASSERT_EQ(framer_next(&f, NULL, 0, &used, &frame, &flen), FRAME_READY);
    ASSERT_MEM_EQ(frame, flen, "line two\npart", 13);
    ASSERT_EQ(framer_used(&f, 0), 0);
    ASSERT_EQ(framer_next(&f, NULL, 0, &used, &frame, &flen), FRAME_NEED);
    /* setting the buffer again shows nothing again */
    framer_set(&f, &buffer);
    ASSERT_EQ(framer_next(&f, NULL, 0, &used, &frame, &flen), FRAME_NEED);
    ASSERT_EQ(framer_next(&f, "!", 1, &used, &frame, &flen), FRAME_READY);
    ASSERT_MEM_EQ(frame, flen, "line two\npart!", 14);
    /* not told: all used */
    ASSERT_EQ(framer_next(&f, NULL, 0, &used, &frame, &flen), FRAME_NEED);
    ASSERT_EQ(framer_has_rest(&f), 0);
    framer_clear(&f);
}

/* A switch inside the call of a frame made of held bytes: the unused
 * ones are cut by the new mode, and the buffer's max, not the new mode's,
 * bounds them then. */
void test_frame_buffer_switch_held(void)
{
    frame_spec line, buffer;
    frame_spec_init(&line, FRAME_LINE);
    line.max = 4;
    frame_spec_init(&buffer, FRAME_BUFFER);
    framer f;
    framer_init(&f, &buffer);
    const char *frame;
    size_t flen, used;
    ASSERT_EQ(framer_next(&f, "SWI", 3, &used, &frame, &flen), FRAME_READY);
    ASSERT_EQ(framer_used(&f, 0), 0);
    ASSERT_EQ(framer_next(&f, "TCH\nab\ncd\nef\n", 13, &used, &frame, &flen),
              FRAME_READY);
    ASSERT_MEM_EQ(frame, flen, "SWITCH\nab\ncd\nef\n", 16);
    framer_set(&f, &line);              /* from inside the call */
    ASSERT_EQ(framer_used(&f, 7), 0);   /* 9 held: over 4, within 65536 */
    static const char *const want[] = {"ab", "cd", "ef"};
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(framer_next(&f, NULL, 0, &used, &frame, &flen),
                  FRAME_READY);
        ASSERT_MEM_EQ(frame, flen, want[i], 2);
    }
    ASSERT_EQ(framer_next(&f, NULL, 0, &used, &frame, &flen), FRAME_NEED);
    framer_clear(&f);
}

/* A small deterministic generator for the property below. */
static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Any stream, cut anywhere, with the owner using any part of each
 * frame: every frame is the unused rest of the last one followed by the
 * bytes new since, the used parts and the rest at the end give back the
 * stream, and more than max held unused is the one error. */
void test_frame_buffer_any_use(void)
{
    uint32_t seed = 2463534242u;
    for (int round = 0; round < 3000; round++) {
        char stream[256], expect[512];
        size_t n = next_rand(&seed) % sizeof stream;
        for (size_t i = 0; i < n; i++)
            stream[i] = "ab\n"[next_rand(&seed) % 3];
        frame_spec spec;
        frame_spec_init(&spec, FRAME_BUFFER);
        spec.max = 1 + next_rand(&seed) % 64;
        framer f;
        framer_init(&f, &spec);
        size_t consumed = 0;     /* bytes used, in order */
        size_t shown_to = 0;     /* the stream up to here was shown */
        int failed = 0;
        size_t from = 0;
        while (from < n && !failed) {
            size_t to = from + 1 + next_rand(&seed) % (n - from);
            const char *p = stream + from;
            size_t len = to - from;
            const char *frame;
            size_t flen, used;
            int rc = framer_next(&f, p, len, &used, &frame, &flen);
            ASSERT_EQ(rc, FRAME_READY);
            ASSERT_EQ(used, len);
            /* the unused rest, then what is new */
            size_t want = to - consumed;
            ASSERT_LE(want, sizeof expect);
            memcpy(expect, stream + consumed, want);
            ASSERT_MEM_EQ(frame, flen, expect, want);
            shown_to = to;
            size_t take = next_rand(&seed) % (flen + 1);
            rc = framer_used(&f, take);
            consumed += take;
            if (flen - take > spec.max) {
                ASSERT_EQ(rc, ERR_ETOOBIG);
                ASSERT_UEQ(f.bad_value, flen - take);
                failed = 1;
            } else {
                ASSERT_EQ(rc, 0);
                /* nothing new: nothing shown */
                ASSERT_EQ(framer_next(&f, NULL, 0, &used, &frame, &flen),
                          FRAME_NEED);
            }
            from = to;
        }
        if (!failed) {
            size_t rest_len;
            const char *rest = framer_take_rest(&f, &rest_len);
            ASSERT_EQ(consumed + rest_len, shown_to);
            if (rest_len > 0)
                ASSERT_MEM_EQ(rest, rest_len, stream + consumed, rest_len);
            else
                ASSERT(rest == NULL);
        }
        framer_clear(&f);
    }
}
