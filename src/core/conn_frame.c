/* conn_frame.c -- a connection's framing: input cut into frames (frame.c)
 * before the data callback sees it, one frame a call. */
#include "conn_int.h"

#include <stdlib.h>

#include "log.h"

/* A frame the mode cannot take: the connection ends. */
static void frame_error(conn *c, int rc)
{
    const frame_spec *spec = &c->framing->fr.spec;
    const char *mode = frame_mode_name(spec->mode);
    if (rc == ERR_ENOMEM) {
        conn__fail_nomem(c, "holding a frame");
        return;
    }
    if (rc == ERR_ETOOBIG && spec->mode == FRAME_LENGTH)
        log_warn("conn %llu%s: length frame of %llu bytes is over max %zu: "
                 "resetting the connection", CONN_ID(c),
                 (unsigned long long)c->framing->fr.bad_value, spec->max);
    else if (rc == ERR_ETOOBIG)
        log_warn("conn %llu%s: %s frame longer than max %zu bytes: resetting "
                 "the connection", CONN_ID(c), mode, spec->max);
    else
        log_warn("conn %llu%s: negative length prefix (mode %s, %zu-byte "
                 "signed prefix): resetting the connection", CONN_ID(c), mode,
                 spec->size);
    conn_reset(c, CONN_REASON_ERROR);
}

/* Cut data into frames and hand them over one at a time, looking at the
 * mode again before each (the owner may change it in between). Every
 * frame takes at least one byte, so this ends. */
void conn__frame_input(conn *c, const char *data, size_t len)
{
    framer *f = &c->framing->fr;
    while (c->state != CONN_CLOSED && c->state != CONN_CLOSING) {
        const char *frame;
        size_t frame_len, used;
        int rc = framer_next(f, data, len, &used, &frame, &frame_len);
        if (used > 0) { /* data is NULL when only held bytes are cut */
            data += used;
            len -= used;
        }
        if (rc == FRAME_NEED)
            return;
        if (rc < 0) {
            frame_error(c, rc);
            return;
        }
        conn__deliver(c, frame, frame_len);
    }
}

void conn__frame_eof(conn *c)
{
    if (c->framing)
        conn__frame_input(c, NULL, 0);
}

void conn__frame_end(conn *c)
{
    if (c->framing == NULL)
        return;
    if (framer_has_rest(&c->framing->fr))
        log_debug("conn %llu%s: %s frame unfinished at the end of stream: "
                  "dropped", CONN_ID(c),
                  frame_mode_name(c->framing->fr.spec.mode));
    framer_clear(&c->framing->fr);
}

void conn__frame_stop(conn *c)
{
    if (c->framing)
        loop_timer_stop(conn__loop(c), &c->framing->kick);
}

void conn__frame_free(conn *c)
{
    if (c->framing == NULL)
        return;
    framer_clear(&c->framing->fr);
    free(c->framing);
    c->framing = NULL;
}

static void on_frame_kick(timer *t)
{
    conn *c = t->data;
    if (c->state != CONN_CLOSED)
        conn__frame_input(c, NULL, 0);
}

int conn_frame(conn *c, const frame_spec *spec)
{
    if (c->state == CONN_CLOSED)
        return 0;
    if (c->framing == NULL) {
        if (spec->mode == FRAME_RAW)
            return 0;
        c->framing = malloc(sizeof *c->framing);
        if (c->framing == NULL)
            return conn__fail_nomem(c, "starting its framing");
        framer_init(&c->framing->fr, spec);
        timer_init(&c->framing->kick, on_frame_kick, c);
        return 0;
    }
    framer_set(&c->framing->fr, spec);
    /* Held bytes may now make whole frames; outside the data callback
     * nothing would cut them before more input came, so look soon (never
     * from here: the owner may be inside a callback). */
    if (framer_has_rest(&c->framing->fr) && !c->peer_eof &&
        loop_timer_start(conn__loop(c), &c->framing->kick, 0) != 0)
        return conn__fail_nomem(c, "arming its framing timer");
    return 0;
}

frame_mode conn_frame_mode(const conn *c)
{
    return c->framing ? c->framing->fr.spec.mode : FRAME_RAW;
}

int conn_frame_used(conn *c, size_t n)
{
    if (c->framing == NULL || c->state == CONN_CLOSED)
        return 0;
    framer *f = &c->framing->fr;
    int rc = framer_used(f, n);
    if (rc == ERR_ETOOBIG) { /* the buffer's max: the mode may be another */
        log_warn("conn %llu%s: %llu unused bytes of a buffer frame are over "
                 "max %zu: resetting the connection", CONN_ID(c),
                 (unsigned long long)f->bad_value, f->shown_max);
        conn_reset(c, CONN_REASON_ERROR);
    } else if (rc < 0) {
        frame_error(c, rc);
    }
    return rc;
}

const char *conn_take_rest(conn *c, size_t *len)
{
    *len = 0;
    if (c->framing == NULL)
        return NULL;
    return framer_take_rest(&c->framing->fr, len);
}
