/* frame.h -- cutting a byte stream into frames: lines, delimited records,
 * fixed-size blocks or length-prefixed messages.
 *
 * A framer holds only the unfinished frame, never more than the mode's
 * bound (max plus the terminator or the prefix), and hands frames out one
 * at a time, so its owner may change the mode between two frames (a header
 * line, then a fixed-size body). When the unfinished frame is empty, frames
 * are cut straight from the caller's input, without a copy. The framer
 * knows nothing of sockets or Lua: conn.c feeds it, lconn.c configures it. */
#ifndef RICOCHET_FRAME_H
#define RICOCHET_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef enum frame_mode {
    FRAME_RAW,    /* whatever arrived, as it arrived */
    FRAME_LINE,   /* up to LF; a CR right before the LF is part of the end */
    FRAME_DELIM,  /* up to a delimiter string */
    FRAME_FIXED,  /* exactly size bytes */
    FRAME_LENGTH, /* an integer prefix of size bytes, then that many bytes */
    FRAME_BUFFER  /* every byte held or new, each time bytes arrive; the
                   * owner says how many it used (framer_used), the rest
                   * is held, at most max */
} frame_mode;

/* The default and the largest bound of a frame's payload. */
#define FRAME_DEFAULT_MAX (64 * 1024)
#define FRAME_MAX_LIMIT (64 * 1024 * 1024)
#define FRAME_DELIM_MAX 64

typedef struct frame_spec {
    frame_mode mode;
    size_t max;          /* payload bound (line, delim, length) */
    int keep;            /* deliver the terminator or prefix too */
    size_t size;         /* fixed: the frame size; length: prefix bytes */
    int big_endian;      /* length: the prefix's byte order */
    int is_signed;       /* length: a negative prefix is an error */
    size_t delim_len;    /* delim: 1..FRAME_DELIM_MAX */
    char delim[FRAME_DELIM_MAX];
} frame_spec;

/* What framer_next found, when it is not an error (err.h): ERR_ETOOBIG
 * (a frame's payload is over max), ERR_EBADFRAME (a negative length
 * prefix) or ERR_ENOMEM. */
enum {
    FRAME_NEED = 0,      /* all input taken, no frame yet */
    FRAME_READY = 1      /* a frame is out */
};

typedef struct framer {
    frame_spec spec;
    buf pending;         /* the unfinished frame */
    size_t delivered;    /* pending bytes handed out, dropped next call */
    int rescan;          /* pending was not scanned with the current mode */
    int unseen;          /* buffer: pending has bytes not shown as one yet */
    const char *shown;   /* buffer: the last frame, when cut from the
                          * input (not pending); NULL otherwise */
    size_t shown_len;
    int shown_held;      /* buffer: the last frame was the held bytes */
    size_t shown_max;    /* buffer: the last frame's max (the mode may
                          * change before framer_used) */
    uint64_t bad_value;  /* the length prefix behind ERR_ETOOBIG or
                          * ERR_EBADFRAME */
} framer;

/* Fill spec for a mode; max = FRAME_DEFAULT_MAX, keep off. */
void frame_spec_init(frame_spec *spec, frame_mode mode);

/* Read a string.pack integer format ("<I4", ">I2", "B", "=j", "i8") into
 * spec->size, big_endian and is_signed. Returns 0, or ERR_EINVAL when fmt
 * is not a single integer of 1 to 8 bytes. */
int frame_parse_length_format(const char *fmt, size_t len, frame_spec *spec);

const char *frame_mode_name(frame_mode mode);

/* Make f an empty framer with spec. */
void framer_init(framer *f, const frame_spec *spec);
/* Change the mode; the unfinished frame, if any, is cut with the new one
 * from the next framer_next on. May be called between two framer_next
 * calls, also while the last frame is being used. */
void framer_set(framer *f, const frame_spec *spec);

/* Cut the next frame from the unfinished bytes followed by in[0..len).
 * *used gets how many bytes of in were taken (possibly 0: a frame came
 * from the bytes already held). FRAME_READY: *frame and *frame_len are the
 * frame, which stays valid until the next framer_ call (it points into in
 * or into the framer). FRAME_NEED: every byte of in was taken. Negative:
 * the stream cannot be framed (the connection should end). */
int framer_next(framer *f, const char *in, size_t len, size_t *used,
                const char **frame, size_t *frame_len);

/* The owner of the buffer frame framer_next just gave out used its
 * first n bytes; the rest is held for the next one (by default all is
 * used). Call it before the next framer_ call, while the input the frame
 * may point into is still there. Returns 0, ERR_ETOOBIG when more than
 * max bytes would be held (their count in bad_value) or ERR_ENOMEM. A
 * no-op after any other mode's frame. */
int framer_used(framer *f, size_t n);

/* 1 when bytes of an unfinished frame are held. */
int framer_has_rest(const framer *f);
/* The unfinished frame (at the peer's end of stream), or NULL when there
 * is none; valid until the next framer_ call, after which it is gone. */
const char *framer_take_rest(framer *f, size_t *len);
/* Free the memory held; f stays usable (empty). */
void framer_clear(framer *f);

#endif
