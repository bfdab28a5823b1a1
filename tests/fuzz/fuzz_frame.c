/* fuzz_frame.c -- the framer (src/core/frame.c) against a plain model.
 *
 * The framer cuts frames incrementally, from chunks as they arrive,
 * holding at most one unfinished frame. The model here keeps no state
 * between calls: whenever a chunk has arrived it cuts what has arrived
 * and was not yet delivered, all at once, with the mode rules written out
 * as README.md states them. The fuzzer chooses up to four framing specs,
 * when each gives way to the next, where the stream is split into chunks,
 * and the stream. A mode change comes after a number of frames (as a
 * script makes it from on_data) or at the end of a chunk (from another
 * hook or a timer; the framer is then kicked with no input, as conn.c
 * does). Both sides must give the same frames, the same error (with the
 * same offending length prefix) and the same rest.
 *
 * Raw frames are whatever arrived, so the framer may hand out one run of
 * raw bytes in several pieces; both records join consecutive raw frames
 * into one. A raw spec gives way at the end of a chunk only (its frame
 * count depends on the chunks).
 *
 * Input layout: a spec count; per spec a mode byte, a max byte, a size
 * byte, the delimiter's bytes (delim mode) and, but for the last, a
 * switch byte (high bit or raw: after 1 + (b & 3) chunk ends, else after
 * 1 + b % 8 frames); a chunk count and one length byte per chunk; then the
 * stream (the last chunk is the rest of it). */
#include "fuzz.h"

#include "err.h"
#include "frame.h"

#define MAX_SPECS 4
#define MAX_CHUNKS 16

typedef struct plan {
    frame_spec specs[MAX_SPECS];
    /* spec i gives way to spec i+1 after this many frames, or at this
     * many chunk ends (counted from when it took over): one is 0 */
    unsigned switch_frames[MAX_SPECS], switch_chunks[MAX_SPECS];
    int nspecs;
    size_t chunk_len[MAX_CHUNKS + 1]; /* the last one: the rest */
    int nchunks;
    const uint8_t *stream;
    size_t stream_len;
} plan;

/* Bounds of a frame's payload: mostly tiny (the edges are reachable), at
 * times the default and the largest a script may ask for. */
static size_t pick_max(unsigned b)
{
    static const size_t large[] = {
        255, 256, 1024, 65535, FRAME_DEFAULT_MAX, FRAME_MAX_LIMIT
    };
    if (b < 240)
        return b % 40;
    return large[(b - 240) % (sizeof large / sizeof large[0])];
}

static void read_spec(fuzz_in *in, frame_spec *s)
{
    unsigned mode_byte = fuzz_byte(in), max_byte = fuzz_byte(in);
    unsigned size_byte = fuzz_byte(in);
    frame_mode mode = (frame_mode)(mode_byte % 5);
    frame_spec_init(s, mode);
    s->keep = (mode_byte >> 3) & 1;
    s->max = pick_max(max_byte);
    switch (mode) {
    case FRAME_DELIM: {
        size_t got;
        s->delim_len = 1 + (size_byte & 0x80 ? size_byte % FRAME_DELIM_MAX
                                             : size_byte % 4);
        const uint8_t *d = fuzz_bytes(in, s->delim_len, &got);
        memset(s->delim, 'x', s->delim_len);
        memcpy(s->delim, d, got);
        break;
    }
    case FRAME_FIXED:
        /* as conn:frame("fixed", n) sets it: n is also the bound */
        s->size = s->max = 1 + (size_byte & 0x80 ? size_byte * 37u
                                               : size_byte % 24);
        break;
    case FRAME_LENGTH:
        s->size = 1 + size_byte % 8;
        s->big_endian = (mode_byte >> 4) & 1;
        s->is_signed = (mode_byte >> 5) & 1;
        break;
    default:
        break;
    }
}

static void read_plan(const uint8_t *data, size_t size, plan *pl)
{
    fuzz_in in = {data, size};
    memset(pl, 0, sizeof *pl);
    pl->nspecs = 1 + (int)(fuzz_byte(&in) % MAX_SPECS);
    for (int i = 0; i < pl->nspecs; i++) {
        read_spec(&in, &pl->specs[i]);
        if (i == pl->nspecs - 1)
            break;
        unsigned b = fuzz_byte(&in);
        if ((b & 0x80) || pl->specs[i].mode == FRAME_RAW)
            pl->switch_chunks[i] = 1 + (b & 3);
        else
            pl->switch_frames[i] = 1 + b % 8;
    }
    int ncuts = (int)(fuzz_byte(&in) % (MAX_CHUNKS + 1));
    for (int i = 0; i < ncuts; i++)
        pl->chunk_len[i] = fuzz_byte(&in);
    pl->stream = in.p;
    pl->stream_len = in.n;
    /* the cuts, clipped to the stream; the last chunk is what is left */
    size_t at = 0;
    for (int i = 0; i < ncuts; i++) {
        if (pl->chunk_len[i] > pl->stream_len - at)
            pl->chunk_len[i] = pl->stream_len - at;
        at += pl->chunk_len[i];
    }
    pl->chunk_len[ncuts] = pl->stream_len - at;
    pl->nchunks = ncuts + 1;
}

/* --- the record both sides write ---------------------------------------- */

/* Frames as "len:bytes,", an error or the rest; raw bytes are held back
 * and written as one frame when something else comes. */
typedef struct record {
    fuzz_rec text;
    fuzz_rec raw;
} record;

static void rec_put(fuzz_rec *r, const char *tag, const void *data,
                    size_t len)
{
    char head[48];
    snprintf(head, sizeof head, "%s%zu:", tag, len);
    fuzz_rec_str(r, head);
    fuzz_rec_add(r, data, len);
    fuzz_rec_str(r, ",\n");
}

static void rec_flush_raw(record *r)
{
    if (r->raw.len > 0)
        rec_put(&r->text, "raw ", r->raw.text, r->raw.len);
    r->raw.len = 0;
}

static void rec_frame(record *r, frame_mode mode, const void *data,
                      size_t len)
{
    if (mode == FRAME_RAW) {
        if (len == 0)
            FUZZ_FAIL("an empty raw frame");
        fuzz_rec_add(&r->raw, data, len);
        return;
    }
    rec_flush_raw(r);
    rec_put(&r->text, "", data, len);
}

static void rec_rest(record *r, const void *data, size_t len)
{
    rec_flush_raw(r);
    rec_put(&r->text, "rest=", data, len);
}

static void rec_error(record *r, int rc, uint64_t bad_value)
{
    char line[96];
    rec_flush_raw(r);
    snprintf(line, sizeof line, "error %s (prefix %llu)\n",
             rc == ERR_ETOOBIG ? "too big" : rc == ERR_EBADFRAME
             ? "bad frame" : "other", (unsigned long long)bad_value);
    fuzz_rec_str(&r->text, line);
}

static void rec_free(record *r)
{
    fuzz_rec_free(&r->text);
    fuzz_rec_free(&r->raw);
}

/* Where both sides are in the plan of mode changes. */
typedef struct progress {
    int si;              /* the spec in force */
    unsigned frames;     /* frames cut with it */
    unsigned chunk_ends; /* chunk ends since it took over */
} progress;

/* After a frame: 1 when the next spec takes over now. */
static int next_after_frame(const plan *pl, progress *at)
{
    if (at->si + 1 >= pl->nspecs || pl->switch_frames[at->si] == 0 ||
        ++at->frames < pl->switch_frames[at->si])
        return 0;
    at->si++;
    at->frames = at->chunk_ends = 0;
    return 1;
}

/* At the end of a chunk: 1 when the next spec takes over now. */
static int next_after_chunk(const plan *pl, progress *at)
{
    if (at->si + 1 >= pl->nspecs || pl->switch_chunks[at->si] == 0 ||
        ++at->chunk_ends < pl->switch_chunks[at->si])
        return 0;
    at->si++;
    at->frames = at->chunk_ends = 0;
    return 1;
}

/* --- the model: what has arrived, cut at once ---------------------------- */

/* Cut one frame at the front of p[0..n) by the rules of README.md:
 * FRAME_READY with the payload at p + *off, *flen long, *total bytes of
 * the stream used; FRAME_NEED when the frame is not complete; or the
 * error, with the length prefix behind it in *bad. */
static int model_cut(const frame_spec *s, const uint8_t *p, size_t n,
                     size_t *off, size_t *flen, size_t *total,
                     uint64_t *bad)
{
    *off = 0;
    switch (s->mode) {
    case FRAME_LINE:
        for (size_t i = 0; i < n; i++) {
            if (p[i] != '\n')
                continue;
            /* a CR just before the LF belongs to the end */
            size_t content = i > 0 && p[i - 1] == '\r' ? i - 1 : i;
            if (content > s->max)
                return ERR_ETOOBIG;
            *total = i + 1;
            *flen = s->keep ? *total : content;
            return FRAME_READY;
        }
        /* no LF yet: an error once no LF can make it fit, i.e. longer
         * than max, unless the one byte over is a CR (of a CRLF) */
        if (n > s->max + 1 || (n == s->max + 1 && p[n - 1] != '\r'))
            return ERR_ETOOBIG;
        return FRAME_NEED;
    case FRAME_DELIM:
        for (size_t i = 0; i + s->delim_len <= n; i++) {
            if (memcmp(p + i, s->delim, s->delim_len) != 0)
                continue;
            if (i > s->max)
                return ERR_ETOOBIG;
            *total = i + s->delim_len;
            *flen = s->keep ? *total : i;
            return FRAME_READY;
        }
        /* the held bytes are max plus at most a delimiter's start */
        if (n > s->max + s->delim_len - 1)
            return ERR_ETOOBIG;
        return FRAME_NEED;
    case FRAME_FIXED:
        if (n < s->size)
            return FRAME_NEED;
        *flen = *total = s->size;
        return FRAME_READY;
    case FRAME_LENGTH: {
        if (n < s->size)
            return FRAME_NEED;
        uint64_t value = 0;
        for (size_t i = 0; i < s->size; i++)
            value = value << 8 | p[s->big_endian ? i : s->size - 1 - i];
        *bad = value;
        if (s->is_signed && (value >> (8 * s->size - 1)) & 1)
            return ERR_EBADFRAME;
        if (value > s->max)
            return ERR_ETOOBIG; /* known from the prefix alone */
        if (n - s->size < value)
            return FRAME_NEED;
        *total = s->size + (size_t)value;
        *off = s->keep ? 0 : s->size;
        *flen = *total - *off;
        return FRAME_READY;
    }
    case FRAME_RAW:
    case FRAME_BUFFER: /* never planned (mode_byte % 5) */
        break;
    }
    FUZZ_FAIL("model_cut: raw");
}

/* Cut every frame of what has arrived, p[*pos..arrived), changing the
 * spec as planned. Returns 1 once the stream cannot be framed. */
static int model_cut_arrived(const plan *pl, progress *at, size_t *pos,
                             size_t arrived, record *r)
{
    const uint8_t *p = pl->stream;
    for (;;) {
        const frame_spec *s = &pl->specs[at->si];
        size_t off = 0, flen = 0, total = 0;
        uint64_t bad = 0;
        if (s->mode == FRAME_RAW) {
            if (*pos < arrived)
                rec_frame(r, FRAME_RAW, p + *pos, arrived - *pos);
            *pos = arrived;
            return 0;
        }
        int rc = model_cut(s, p + *pos, arrived - *pos, &off, &flen, &total,
                           &bad);
        if (rc < 0) {
            rec_error(r, rc, s->mode == FRAME_LENGTH ? bad : 0);
            return 1;
        }
        if (rc == FRAME_NEED)
            return 0;
        rec_frame(r, s->mode, p + *pos + off, flen);
        *pos += total;
        next_after_frame(pl, at);
    }
}

static void run_model(const plan *pl, record *r)
{
    progress at = {0, 0, 0};
    size_t pos = 0, arrived = 0;
    for (int k = 0; k < pl->nchunks; k++) {
        arrived += pl->chunk_len[k];
        if (model_cut_arrived(pl, &at, &pos, arrived, r))
            return;
        if (next_after_chunk(pl, &at) &&
            model_cut_arrived(pl, &at, &pos, arrived, r))
            return;
    }
    if (pos < pl->stream_len)
        rec_rest(r, pl->stream + pos, pl->stream_len - pos);
    rec_flush_raw(r);
}

/* --- the framer, chunk by chunk ------------------------------------------ */

/* The most a framer may hold while it waits for more (frame_spec docs). */
static size_t held_bound(const frame_spec *s)
{
    switch (s->mode) {
    case FRAME_LINE: return s->max + 2;
    case FRAME_DELIM: return s->max + s->delim_len;
    case FRAME_FIXED: return s->size;
    case FRAME_LENGTH: return s->size + s->max;
    case FRAME_RAW:
    case FRAME_BUFFER: /* never planned: its frames need an owner's say */
        break;
    }
    return 0;
}

/* Feed one chunk (NULL when empty, as conn.c does at the end of stream
 * and when kicked) until the framer needs more, changing the spec after
 * frames as planned. Returns 1 once the framer reported an error. */
static int feed(framer *f, const plan *pl, progress *at,
                const uint8_t *chunk, size_t len, record *r)
{
    const char *in = (const char *)chunk;
    /* every frame takes at least one byte of the stream */
    for (size_t guard = 0; guard <= pl->stream_len + 2; guard++) {
        const char *frame;
        size_t frame_len, used;
        int rc = framer_next(f, in, len, &used, &frame, &frame_len);
        if (used > len)
            FUZZ_FAIL("framer_next used %zu of %zu bytes", used, len);
        if (used > 0) {
            in += used;
            len -= used;
        }
        if (rc == FRAME_NEED) {
            if (len != 0)
                FUZZ_FAIL("FRAME_NEED with %zu bytes not taken", len);
            if (f->spec.mode != FRAME_RAW &&
                buf_len(&f->pending) > held_bound(&f->spec))
                FUZZ_FAIL("holds %zu bytes, bound %zu",
                          buf_len(&f->pending), held_bound(&f->spec));
            return 0;
        }
        if (rc < 0) {
            rec_error(r, rc, f->spec.mode == FRAME_LENGTH ? f->bad_value
                                                          : 0);
            return 1;
        }
        if (rc != FRAME_READY)
            FUZZ_FAIL("framer_next returned %d", rc);
        rec_frame(r, f->spec.mode, frame, frame_len);
        if (next_after_frame(pl, at))
            framer_set(f, &pl->specs[at->si]);
    }
    FUZZ_FAIL("framer_next did not come to an end");
}

static void run_framer(const plan *pl, record *r)
{
    framer f;
    progress at = {0, 0, 0};
    const uint8_t *p = pl->stream;
    int failed = 0;
    framer_init(&f, &pl->specs[0]);
    for (int k = 0; k < pl->nchunks && !failed; k++) {
        size_t len = pl->chunk_len[k];
        failed = feed(&f, pl, &at, len ? p : NULL, len, r);
        p += len;
        if (!failed && next_after_chunk(pl, &at)) {
            framer_set(&f, &pl->specs[at.si]);
            failed = feed(&f, pl, &at, NULL, 0, r); /* the kick */
        }
    }
    /* the end of stream: held bytes are cut once more, as conn.c does */
    if (!failed)
        failed = feed(&f, pl, &at, NULL, 0, r);
    if (!failed) {
        size_t rest_len;
        const char *rest = framer_take_rest(&f, &rest_len);
        if (rest != NULL && rest_len == 0)
            FUZZ_FAIL("an empty rest that is not NULL");
        if (rest != NULL)
            rec_rest(r, rest, rest_len);
        /* taken: the framer holds nothing more */
        if (framer_take_rest(&f, &rest_len) != NULL || framer_has_rest(&f))
            FUZZ_FAIL("the rest was handed out twice");
    }
    rec_flush_raw(r);
    framer_clear(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    plan pl;
    record want = {{0}, {0}}, got = {{0}, {0}};
    read_plan(data, size, &pl);
    run_model(&pl, &want);
    run_framer(&pl, &got);
    fuzz_rec_same(&want.text, "model", &got.text, "framer");
    if (getenv("FUZZ_FRAME_PRINT") != NULL) /* to read what a seed does */
        fuzz_print("frames", got.text.text, got.text.len);
    rec_free(&want);
    rec_free(&got);
    return 0;
}
