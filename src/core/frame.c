/* frame.c -- the framer: one frame at a time, bounded buffering.
 *
 * Invariant: unless `rescan` is set, the pending bytes hold no complete
 * frame of the current mode (for line and delim: no terminator), so new
 * input is searched once, plus the few bytes where a delimiter may
 * straddle the old and the new bytes. A slow client that dribbles one byte
 * at a time therefore costs linear, not quadratic, time. */
#include "frame.h"

#include "err.h"

#include <string.h>

const char *frame_mode_name(frame_mode mode)
{
    switch (mode) {
    case FRAME_RAW: return "raw";
    case FRAME_LINE: return "line";
    case FRAME_DELIM: return "delim";
    case FRAME_FIXED: return "fixed";
    case FRAME_LENGTH: return "length";
    case FRAME_BUFFER: return "buffer";
    }
    return "?";
}

void frame_spec_init(frame_spec *spec, frame_mode mode)
{
    memset(spec, 0, sizeof *spec);
    spec->mode = mode;
    spec->max = FRAME_DEFAULT_MAX;
}

static int native_big_endian(void)
{
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 0;
}

int frame_parse_length_format(const char *fmt, size_t len, frame_spec *spec)
{
    size_t i = 0, size;
    int big = native_big_endian();
    for (; i < len; i++) {
        char ch = fmt[i];
        if (ch == '<')
            big = 0;
        else if (ch == '>')
            big = 1;
        else if (ch == '=')
            big = native_big_endian();
        else if (ch == '!')
            while (i + 1 < len && fmt[i + 1] >= '0' && fmt[i + 1] <= '9')
                i++; /* alignment: meaningless for one integer */
        else if (ch != ' ')
            break;
    }
    if (i == len)
        return ERR_EINVAL;
    char option = fmt[i++];
    switch (option) {
    case 'b': case 'B': size = 1; break;
    case 'h': case 'H': size = 2; break;
    case 'l': case 'L': size = sizeof(long); break;
    case 'j': case 'J': size = 8; break; /* lua_Integer: 64 bits */
    case 'T': size = sizeof(size_t); break;
    case 'i': case 'I':
        size = sizeof(int);
        if (i < len && fmt[i] >= '0' && fmt[i] <= '9') {
            size = 0;
            for (int digits = 0; i < len && fmt[i] >= '0' && fmt[i] <= '9';
                 i++, digits++) {
                if (digits >= 2)
                    return ERR_EINVAL;
                size = size * 10 + (size_t)(fmt[i] - '0');
            }
        }
        break;
    default:
        return ERR_EINVAL;
    }
    while (i < len && fmt[i] == ' ')
        i++;
    if (i != len || size < 1 || size > 8)
        return ERR_EINVAL;
    spec->size = size;
    spec->big_endian = big;
    spec->is_signed = option >= 'a' && option <= 'z'; /* lower: signed */
    return 0;
}

void framer_init(framer *f, const frame_spec *spec)
{
    memset(f, 0, sizeof *f);
    f->spec = *spec;
}

void framer_set(framer *f, const frame_spec *spec)
{
    /* bytes held under another mode are new to a buffer; a buffer's own
     * were all shown already */
    if (spec->mode == FRAME_BUFFER && f->spec.mode != FRAME_BUFFER)
        f->unseen = 1;
    f->spec = *spec;
    f->rescan = 1;
}

/* First occurrence of needle in hay (memmem is not everywhere). */
static const char *find(const char *hay, size_t hay_len, const char *needle,
                        size_t needle_len)
{
    if (needle_len == 0 || hay_len < needle_len)
        return NULL;
    const char *end = hay + (hay_len - needle_len) + 1;
    for (const char *p = hay; p < end;) {
        p = memchr(p, needle[0], (size_t)(end - p));
        if (p == NULL)
            return NULL;
        if (memcmp(p, needle, needle_len) == 0)
            return p;
        p++;
    }
    return NULL;
}

/* The payload of a length prefix at p (spec->size bytes). Returns 0, or
 * ERR_EBADFRAME for a negative one (value in *out as raw). */
static int decode_length(const frame_spec *spec, const unsigned char *p,
                         uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < spec->size; i++)
        v = v << 8 | p[spec->big_endian ? i : spec->size - 1 - i];
    *out = v;
    if (spec->is_signed && (v >> (spec->size * 8 - 1)) & 1)
        return ERR_EBADFRAME;
    return 0;
}

/* Would n bytes without a line or delim terminator already be over max? */
static int unterminated_too_big(const frame_spec *spec, size_t n,
                                char last)
{
    if (spec->mode == FRAME_LINE)
        return n > spec->max + 1 || (n == spec->max + 1 && last != '\r');
    return n > spec->delim_len - 1 && n - (spec->delim_len - 1) > spec->max;
}

/* Cut one frame from p[0..n) with f's mode (not raw): FRAME_READY with
 * the frame at p + *off, *flen long, *total bytes used; FRAME_NEED; or an
 * error. */
static int cut(framer *f, const char *p, size_t n, size_t *off,
               size_t *flen, size_t *total)
{
    const frame_spec *spec = &f->spec;
    const char *end;
    size_t content;
    uint64_t value;
    *off = 0;
    switch (spec->mode) {
    case FRAME_LINE:
    case FRAME_DELIM:
        if (spec->mode == FRAME_LINE)
            end = memchr(p, '\n', n);
        else
            end = find(p, n, spec->delim, spec->delim_len);
        if (end == NULL) {
            if (n > 0 && unterminated_too_big(spec, n, p[n - 1]))
                return ERR_ETOOBIG;
            return FRAME_NEED;
        }
        content = (size_t)(end - p);
        if (spec->mode == FRAME_LINE) {
            *total = content + 1;
            if (content > 0 && p[content - 1] == '\r')
                content--;
        } else {
            *total = content + spec->delim_len;
        }
        if (content > spec->max)
            return ERR_ETOOBIG;
        *flen = spec->keep ? *total : content;
        return FRAME_READY;
    case FRAME_FIXED:
        if (n < spec->size)
            return FRAME_NEED;
        *flen = *total = spec->size;
        return FRAME_READY;
    case FRAME_LENGTH:
        if (n < spec->size)
            return FRAME_NEED;
        if (decode_length(spec, (const unsigned char *)p, &value) != 0) {
            f->bad_value = value;
            return ERR_EBADFRAME;
        }
        if (value > spec->max) {
            f->bad_value = value;
            return ERR_ETOOBIG;
        }
        if (n - spec->size < value)
            return FRAME_NEED;
        *total = spec->size + (size_t)value;
        *off = spec->keep ? 0 : spec->size;
        *flen = *total - *off;
        return FRAME_READY;
    case FRAME_RAW:
    case FRAME_BUFFER:
        break;
    }
    *flen = *total = n;
    return n ? FRAME_READY : FRAME_NEED;
}

static int from_pending(framer *f, size_t off, size_t flen, size_t total,
                        const char **frame, size_t *frame_len)
{
    *frame = buf_head(&f->pending) + off;
    *frame_len = flen;
    f->delivered = total;
    return FRAME_READY;
}

/* How many bytes of in finish the pending line or delimited frame, or 0
 * when in does not. Pending holds no terminator (the invariant), so only
 * a delimiter straddling the two can come before one inside in. */
static size_t find_end(const framer *f, const char *in, size_t len)
{
    const frame_spec *spec = &f->spec;
    const char *hit;
    if (spec->mode == FRAME_LINE) {
        hit = memchr(in, '\n', len);
        return hit ? (size_t)(hit - in) + 1 : 0;
    }
    size_t dl = spec->delim_len, plen = buf_len(&f->pending);
    size_t tail = plen < dl - 1 ? plen : dl - 1;
    size_t head = len < dl - 1 ? len : dl - 1;
    if (tail > 0 && head > 0) {
        char joint[2 * FRAME_DELIM_MAX];
        memcpy(joint, buf_head(&f->pending) + plen - tail, tail);
        memcpy(joint + tail, in, head);
        for (size_t i = 0; i < tail && i + dl <= tail + head; i++)
            if (memcmp(joint + i, spec->delim, dl) == 0)
                return i + dl - tail;
    }
    hit = find(in, len, spec->delim, dl);
    return hit ? (size_t)(hit - in) + dl : 0;
}

/* How many more bytes the pending fixed or length frame needs. */
static size_t still_needed(const framer *f)
{
    const frame_spec *spec = &f->spec;
    size_t plen = buf_len(&f->pending);
    uint64_t value;
    if (spec->mode == FRAME_FIXED || plen < spec->size)
        return spec->size - plen;
    /* cut() has checked the prefix: it is valid and within max */
    decode_length(spec, (const unsigned char *)buf_head(&f->pending),
                  &value);
    return spec->size + (size_t)value - plen;
}

/* A buffer frame: the held bytes and all of in, once each time bytes
 * arrive (or held bytes became a buffer's), so an owner that uses none
 * is not shown the same bytes again until more come. */
static int next_buffer(framer *f, const char *in, size_t len, size_t *used,
                       const char **frame, size_t *frame_len)
{
    size_t plen = buf_len(&f->pending);
    if (len == 0 && !(plen > 0 && f->unseen))
        return FRAME_NEED;
    f->unseen = 0;
    f->shown_max = f->spec.max;
    *used = len;
    if (plen == 0) {      /* the input itself: framer_used keeps its rest */
        f->shown = *frame = in;
        f->shown_len = *frame_len = len;
        return FRAME_READY;
    }
    if (len > 0 && buf_append(&f->pending, in, len) != 0)
        return ERR_ENOMEM;
    *frame = buf_head(&f->pending);
    *frame_len = f->delivered = buf_len(&f->pending);
    f->shown_held = 1;
    return FRAME_READY;
}

int framer_used(framer *f, size_t n)
{
    size_t held;
    if (f->shown != NULL) {
        const char *rest = f->shown + n;
        held = n < f->shown_len ? f->shown_len - n : 0;
        f->shown = NULL;
        if (held > f->shown_max) {
            f->bad_value = held;
            return ERR_ETOOBIG;
        }
        return held && buf_append(&f->pending, rest, held) != 0 ? ERR_ENOMEM
                                                                : 0;
    }
    if (!f->shown_held)
        return 0;
    f->shown_held = 0;
    if (n < f->delivered)
        f->delivered = n;
    held = buf_len(&f->pending) - f->delivered;
    if (held > f->shown_max) {
        f->bad_value = held;
        return ERR_ETOOBIG;
    }
    return 0;
}

int framer_next(framer *f, const char *in, size_t len, size_t *used,
                const char **frame, size_t *frame_len)
{
    size_t off, flen, total, plen;
    int rc;
    *used = 0;
    f->shown = NULL;
    f->shown_held = 0;
    if (f->delivered) {
        buf_consume(&f->pending, f->delivered);
        f->delivered = 0;
        f->rescan = 1;
    }
    if (f->spec.mode == FRAME_BUFFER) {
        f->rescan = 0;
        return next_buffer(f, in, len, used, frame, frame_len);
    }
    plen = buf_len(&f->pending);
    if (plen > 0 && f->rescan) {
        /* held bytes from before a mode change, or after a frame cut from
         * several: they may hold a whole frame of the current mode */
        f->rescan = 0;
        rc = cut(f, buf_head(&f->pending), plen, &off, &flen, &total);
        if (rc == FRAME_READY)
            return from_pending(f, off, flen, total, frame, frame_len);
        if (rc < 0)
            return rc;
    }
    f->rescan = 0;
    if (f->spec.mode == FRAME_RAW || len == 0) {
        if (len == 0)
            return FRAME_NEED;
        *frame = in;
        *frame_len = *used = len;
        return FRAME_READY;
    }
    if (plen == 0) {
        rc = cut(f, in, len, &off, &flen, &total);
        if (rc == FRAME_READY) {
            *frame = in + off;
            *frame_len = flen;
            *used = total;
            return FRAME_READY;
        }
        if (rc < 0)
            return rc;
        if (buf_append(&f->pending, in, len) != 0)
            return ERR_ENOMEM;
        *used = len;
        return FRAME_NEED;
    }
    /* Pending holds an unfinished frame: take from in only what finishes
     * it, so the buffer never grows past the mode's bound. A length frame
     * may take two rounds: the rest of the prefix, then the payload. */
    for (int round = 0; round < 3 && len > 0; round++) {
        size_t take;
        if (f->spec.mode == FRAME_LINE || f->spec.mode == FRAME_DELIM) {
            size_t tail = f->spec.mode == FRAME_LINE ? 2 : f->spec.delim_len;
            take = find_end(f, in, len);
            if (take == 0) {
                if (unterminated_too_big(&f->spec, plen + len, in[len - 1]))
                    return ERR_ETOOBIG;
                take = len;
            } else if (plen + take > f->spec.max + tail) {
                return ERR_ETOOBIG;
            }
        } else {
            take = still_needed(f);
            if (take > len)
                take = len;
        }
        if (buf_append(&f->pending, in, take) != 0)
            return ERR_ENOMEM;
        in += take;
        len -= take;
        *used += take;
        plen += take;
        rc = cut(f, buf_head(&f->pending), plen, &off, &flen, &total);
        if (rc == FRAME_READY)
            return from_pending(f, off, flen, total, frame, frame_len);
        if (rc < 0)
            return rc;
    }
    return FRAME_NEED;
}

int framer_has_rest(const framer *f)
{
    return buf_len(&f->pending) > f->delivered;
}

const char *framer_take_rest(framer *f, size_t *len)
{
    if (f->delivered) {
        buf_consume(&f->pending, f->delivered);
        f->delivered = 0;
    }
    *len = buf_len(&f->pending);
    if (*len == 0)
        return NULL;
    f->delivered = *len;
    return buf_head(&f->pending);
}

void framer_clear(framer *f)
{
    buf_free(&f->pending);
    f->delivered = 0;
    f->rescan = 0;
    f->unseen = 0;
    f->shown = NULL;
    f->shown_held = 0;
}
