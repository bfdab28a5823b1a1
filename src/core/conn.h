/* conn.h -- one connection's life: its state machine and its output queue.
 *
 * conn.c knows nothing of Lua. It reports what happens (bytes arrived, the
 * peer finished sending, the connection closed) through a small table of
 * callbacks set by its owner, and its owner calls down into it to send,
 * shut down, close or reset. A connection is never freed inside its own
 * callback chain: closing marks it and puts it on the reap list, and
 * conn_reap() (called by the server at a safe point of the loop) runs the
 * close callback and frees it. */
#ifndef RICOCHET_CONN_H
#define RICOCHET_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "frame.h"
#include "loop.h"
#include "net.h"

typedef enum conn_state {
    CONN_OPEN,        /* both directions open */
    CONN_CLIENT_DONE, /* the peer finished sending; our side still open */
    CONN_SHUTTING,    /* graceful half-close asked: flush, then FIN */
    CONN_HALF_CLOSED, /* our FIN is out: reading until the peer closes */
    CONN_CLOSING,     /* close asked: flush, then close */
    CONN_CLOSED       /* socket closed; waiting to be reaped */
} conn_state;

typedef enum conn_reason {
    CONN_REASON_DONE,    /* graceful end, or a close the script asked for */
    CONN_REASON_RESET,   /* reset by the peer or by the script */
    CONN_REASON_TIMEOUT, /* idle or drain timeout */
    CONN_REASON_ERROR,   /* socket error, hook error or out of memory */
    CONN_REASON_STOP     /* the server stopped before the connection ended */
} conn_reason;

/* conn_send's answer when the sending side is closed or closing. */
#define ERR_ENOTWRITABLE (-100)

typedef struct conn conn;
/* Per-connection extras, allocated only for the connections that use them
 * (an idle plain connection does not pay for them). */
typedef struct conn_framing conn_framing;
typedef struct conn_shaper conn_shaper;

/* What a connection reports to its owner. Any may be NULL. */
typedef struct conn_callbacks {
    /* Bytes arrived. The owner answers with conn_send(). When NULL, the
     * bytes are echoed unchanged (the fast path). Called in every state
     * but CLOSING and CLOSED; after a shutdown was asked, what it sends is
     * refused with ERR_ENOTWRITABLE. */
    void (*data)(conn *c, const char *data, size_t len);
    /* The peer finished sending while our side was still open (state is
     * now CONN_CLIENT_DONE); exactly once. When NULL: conn_shutdown(). */
    void (*done)(conn *c);
    /* The connection is closed; called from conn_reap(), just before c is
     * freed. The owner drops every pointer it keeps to c. */
    void (*close)(conn *c, conn_reason reason);
} conn_callbacks;

/* Where a connection's bytes go instead of a socket: --simulate drives
 * connections with no sockets at all, through conn_feed*(). */
typedef struct conn_transport {
    /* Take up to len bytes; return how many, or ERR_EAGAIN. */
    long (*send)(conn *c, const char *data, size_t len);
    void (*shutdown_send)(conn *c);              /* our FIN */
    void (*close)(conn *c, int abortive);        /* close or RST */
    void (*note)(conn *c, const char *what);     /* timers and the like */
} conn_transport;

/* The small sends of one loop iteration, copied here to be written just
 * before the loop sleeps (conn_write_later); see conn.c. */
typedef struct conn_later {
    char *data;
    size_t len, cap;
    conn *first;        /* the connections with bytes here */
} conn_later;

/* Settings and scratch space shared by every connection of one loop. */
typedef struct conn_shared {
    loop *loop;
    size_t out_limit;   /* pause reading above this much unsent output */
    uint64_t idle_ms;   /* 0: no idle timeout */
    uint64_t drain_ms;  /* wait for the peer's close after our FIN */
    char *rbuf;         /* one receive buffer for all connections */
    size_t rbuf_size;
    conn *all;          /* every connection not yet reaped */
    conn *reap;         /* closed connections waiting for conn_reap() */
    uint64_t next_id;   /* the last id handed out */
    uint64_t id_stride; /* ids step by this (workers interleave); 0: 1 */
    size_t live;        /* connections not yet reaped */
    const conn_transport *transport; /* NULL: real sockets */
    int write_later;    /* 1: small sends wait for conn_write_later() */
    conn_later later;
} conn_shared;

struct conn {
    conn_shared *shared;
    loop_io io;
    timer deadline;      /* idle, drain or stop deadline, whichever is due */
    conn_state state;
    conn_reason reason;
    unsigned peer_eof : 1;      /* recv() returned 0 */
    unsigned read_paused : 1;   /* output above out_limit */
    unsigned warned_discard : 1;
    unsigned stalled : 1;       /* conn_stall: neither reading nor sending */
    unsigned later_listed : 1;  /* in shared->later's list */
    buf out;                    /* unsent output */
    size_t later_off, later_len; /* bytes waiting in shared->later */
    conn *later_next;
    uint64_t id;
    uint64_t bytes_in, bytes_out;
    uint64_t opened_ms;
    uint64_t last_active_ms;
    uint64_t half_closed_ms;
    uint64_t stop_deadline_ms;  /* 0: the server is not stopping */
    const conn_callbacks *cb;
    void *data;                 /* the owner's */
    conn_framing *framing;      /* NULL: input goes up as it arrives */
    conn_shaper *shaper;        /* NULL: output goes straight out */
    conn *prev, *next;          /* in shared->all */
    conn *reap_next;
    char peer[64];              /* "ADDR:PORT" */
};

/* Take ownership of an accepted, non-blocking socket and start reading.
 * The connection starts with no callbacks (plain echo); the owner sets
 * them with conn_set_callbacks before the loop runs again. Returns NULL
 * (and closes sock) when memory or the poller runs out. */
conn *conn_create(conn_shared *shared, net_socket sock, const char *peer);
void conn_set_callbacks(conn *c, const conn_callbacks *cb, void *data);

/* A connection with no socket, for shared->transport (--simulate). The
 * peer's side is played by calling these: bytes arrive, the peer finishes
 * sending (FIN), or the peer resets. */
conn *conn_create_virtual(conn_shared *shared, const char *peer);
void conn_feed(conn *c, const char *data, size_t len);
void conn_feed_eof(conn *c);
void conn_feed_reset(conn *c);

/* Send len bytes, straight away if the socket takes them; only the rest is
 * copied to the output queue. With shared->write_later, sends of up to
 * CONN_LATER_MAX bytes a connection and iteration are instead copied
 * aside and written by conn_write_later. Returns 0, ERR_ENOTWRITABLE after a
 * shutdown or close was asked, or a NET_ code when memory runs out (the
 * connection is then closed with CONN_REASON_ERROR). A socket error closes
 * the connection too, but still returns 0: the bytes were accepted and the
 * close is reported through the close callback. */
int conn_send(conn *c, const char *data, size_t len);

/* Graceful half-close: no more sending from now on; FIN goes out once the
 * output queue is empty; then the connection reads until the peer closes.
 * Returns 0, or ERR_ENOTWRITABLE when a shutdown or close was asked. */
int conn_shutdown(conn *c);
/* Flush the output queue, then close. Returns 0 or ERR_ENOTWRITABLE. */
int conn_close(conn *c);
/* Abortive close (RST) now; queued output is dropped. */
void conn_reset(conn *c, conn_reason reason);

/* --- framing: how input is cut before the data callback sees it -------- */

/* Cut input with spec from the next frame on (also from inside the data
 * callback: the frame after the current one is cut with the new mode).
 * Bytes already held are cut again with the new mode. Returns 0 or
 * ERR_ENOMEM. A frame over the mode's max resets the connection
 * (CONN_REASON_ERROR) with a warning naming the mode and the max. */
int conn_frame(conn *c, const frame_spec *spec);
/* At the peer's end of stream (from the done callback): the bytes of an
 * unfinished frame, or NULL when there are none. Valid until the done
 * callback returns; they are dropped then. */
const char *conn_take_rest(conn *c, size_t *len);

/* --- shaping: when and how what is sent goes out ------------------------- */
/* Each applies from now on and keeps the order of the bytes; a graceful
 * half-close or close still waits for every shaped byte, and bytes held
 * back count for the out_limit backpressure. The first call gives the
 * connection its shaping state (freed with the connection). Each returns
 * 0, or ERR_ENOMEM (nothing changed); on a closed connection, nothing. */

/* Hold each reply back delay_ms +- jitter_ms (uniform, from rng.c). */
int conn_delay(conn *c, uint64_t delay_ms, uint64_t jitter_ms);
/* At most bytes_per_second (0: no limit). */
int conn_rate(conn *c, uint64_t bytes_per_second);
/* Write in slices of size +- variation bytes, gap_ms apart (size 0: off). */
int conn_slice(conn *c, size_t size, size_t variation, uint64_t gap_ms);
/* Stop sending and reading (a hung peer) until conn_resume. */
int conn_stall(conn *c);
void conn_resume(conn *c);
/* After n more bytes went out, drop the rest and half-close (FIN). */
int conn_close_after_bytes(conn *c, uint64_t n);
/* In ms: drop what is unsent and half-close (FIN). */
int conn_close_after_ms(conn *c, uint64_t ms);
/* In ms: abortive close (RST), reason CONN_REASON_RESET. */
int conn_reset_after(conn *c, uint64_t ms);

/* The server is stopping: bound this connection's life by deadline_ms. */
void conn_stop_by(conn *c, uint64_t deadline_ms);

#define CONN_LATER_MAX 16384

/* Write the sends that waited for the end of the iteration, each
 * connection's in one system call; what a socket does not take goes to
 * its output queue. Call from the loop's before-sleep hook. */
void conn_write_later(conn_shared *shared);

/* Free shared->later's memory (when the loop is done). */
void conn_later_free(conn_shared *shared);

/* Run the close callback of, and free, every connection closed since the
 * last call (writing what waits for conn_write_later first). Call only
 * from the top of the loop (before-sleep). */
void conn_reap(conn_shared *shared);

/* Report something that happened to c that is neither bytes nor a close
 * (a script timer firing): a trace line, or the transport's note. */
#if defined(__MINGW32__)
__attribute__((format(gnu_printf, 2, 3)))
#elif defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void conn_note(conn *c, const char *fmt, ...);

const char *conn_state_name(conn_state s);
const char *conn_reason_name(conn_reason r);
static inline int conn_writable(const conn *c)
{
    return c->state == CONN_OPEN || c->state == CONN_CLIENT_DONE;
}

#endif
