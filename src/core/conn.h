/* conn.h -- one connection's life: its state machine, output, framing and
 * shaping; and the table of one loop's connections.
 *
 * A connection knows nothing of Lua. It reports what happens (bytes
 * arrived, the peer finished sending, the connection closed) through a
 * small table of callbacks set by its owner, and its owner calls down
 * into it to send, shut down, close or reset. Callbacks are plain C calls
 * that return: nothing may unwind through them (a Lua error never leaves
 * the Lua layer). A connection is never freed inside its own callback
 * chain: closing marks it, and conn_table_tick(), at a safe point of the
 * loop, runs the close callback and frees it.
 *
 * The struct is private (conn_int.h); other layers use the functions. Every
 * function that can fail returns 0 or a negative err.h code. */
#ifndef RICOCHET_CONN_H
#define RICOCHET_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "frame.h"
#include "loop.h"
#include "net.h"

enum conn_state {
    CONN_OPEN,        /* both directions open */
    CONN_CLIENT_DONE, /* the peer finished sending; our side still open */
    CONN_SHUTTING,    /* graceful half-close asked: flush, then FIN */
    CONN_HALF_CLOSED, /* our FIN is out: reading until the peer closes */
    CONN_CLOSING,     /* close asked: flush, then close */
    CONN_CLOSED       /* socket closed; waiting to be freed */
};

enum conn_reason {
    CONN_REASON_DONE,    /* graceful end, or a close the script asked for */
    CONN_REASON_RESET,   /* reset by the peer or by the script */
    CONN_REASON_TIMEOUT, /* idle or drain timeout */
    CONN_REASON_ERROR,   /* socket error, hook error or out of memory */
    CONN_REASON_STOP     /* the server stopped before the connection ended */
};
#define CONN_REASONS 5

/* How an outbound connection's connect ended (conn_stats). */
enum conn_connect_result {
    CONN_CONNECT_OK,
    CONN_CONNECT_REFUSED,  /* ERR_ECONNREFUSED */
    CONN_CONNECT_TIMEOUT,  /* ERR_ETIMEDOUT: the connect timeout passed */
    CONN_CONNECT_ERROR,    /* any other error */
    CONN_CONNECT_RESULTS
};

typedef struct conn conn;
typedef struct conn_table conn_table;

/* What a connection reports to its owner. Any may be NULL. */
typedef struct conn_callbacks {
    /* Bytes (or, when framing, one frame) arrived. The owner answers with
     * conn_send(). When NULL, the bytes are echoed unchanged (the fast
     * path). Called in every state but CLOSING and CLOSED; after a
     * shutdown was asked, what it sends is refused with ERR_ENOTWRITABLE. */
    void (*data)(conn *c, const char *data, size_t len);
    /* The peer finished sending while our side was still open (the state
     * is now CONN_CLIENT_DONE); exactly once. When NULL: conn_shutdown(). */
    void (*done)(conn *c);
    /* The peer finished sending after our side had begun its end (a
     * shutdown or close asked: SHUTTING, HALF_CLOSED or CLOSING); exactly
     * once, and never as well as done. The connection ends by itself; a
     * relay passes the FIN on to the other side. May be NULL. */
    void (*late_done)(conn *c);
    /* The connection is closed; called from conn_table_tick(), just before
     * c is freed. The owner drops every pointer it keeps to c. */
    void (*close)(conn *c, enum conn_reason reason);
    /* No byte went in or out for the idle timeout while the owner may
     * still send (OPEN or CLIENT_DONE). The owner may send a last reply
     * and end the connection (conn_shutdown, conn_close, conn_reset);
     * if it leaves the connection writable, it gets one more idle
     * period. When NULL: conn_shutdown(), the graceful close. Either
     * way, once the idle timeout has ended a connection, what is queued
     * has the drain timeout to go out; if it cannot (the peer does not
     * read), the connection is reset (CONN_REASON_TIMEOUT), and a close
     * that would have been "done" is reported as a timeout. */
    void (*timeout)(conn *c);
    /* An outbound connection (conn_connect) finished connecting: err is 0
     * (it is open: what was sent meanwhile goes out now) or the reason it
     * could not (ERR_ECONNREFUSED, ERR_ETIMEDOUT for --connect-timeout,
     * ...; the connection then closes, CONN_REASON_ERROR). */
    void (*connected)(conn *c, int err);
    /* c's unsent output went over out_limit (over = 1) or back down to
     * half of it (over = 0). When set, c does not pause its own reading
     * for its output: the owner pauses the connection it feeds c from
     * (conn_hold_reading), as a relay must. */
    void (*pressure)(conn *c, int over);
} conn_callbacks;

/* Where a connection's bytes go instead of a socket: --simulate and the
 * unit tests drive connections with no sockets through conn_feed*(). Each
 * callback gets the transport's own pointer (data) first. */
typedef struct conn_transport {
    /* Take up to len bytes; return how many, or ERR_EAGAIN. */
    long (*send)(void *data, conn *c, const char *bytes, size_t len);
    void (*shutdown_send)(void *data, conn *c);         /* our FIN */
    void (*close)(void *data, conn *c, int abortive);   /* close or RST */
    void (*note)(void *data, conn *c, const char *what); /* timers, ... */
    void *data;
    /* The connector: conn_connect on this table made c, an outbound
     * connection with no socket, to host:port; the transport plays that
     * server. c is connecting (its connect timeout runs) until the
     * transport answers with conn_feed_connected, later: never from
     * inside this call, as the owner sets c's callbacks only after
     * conn_connect returns. NULL: conn_connect fails (ERR_EINVAL). */
    void (*connect)(void *data, conn *c, const char *host, int port);
} conn_transport;

/* What a connection did, as an observer (conn_tap) sees it: what went
 * over the wire, in the order it went, with no policy in it. */
enum conn_tap_event {
    CONN_TAP_OPEN,       /* c was made: accepted, virtual or connecting */
    CONN_TAP_IN,         /* the peer's bytes, as read (before framing) */
    CONN_TAP_OUT,        /* our bytes, as the socket took them */
    CONN_TAP_PEER_FIN,   /* the peer finished sending */
    CONN_TAP_PEER_RESET, /* the peer reset c */
    CONN_TAP_FIN,        /* our FIN went out */
    CONN_TAP_CLOSE,      /* we closed c, gracefully */
    CONN_TAP_RESET,      /* we reset c (RST), or an error closed it */
    CONN_TAP_FREE,       /* c is freed next (after its close callback) */
    /* an outbound connection's connect (conn_connect) ended: */
    CONN_TAP_CONNECTED,        /* it is through */
    CONN_TAP_CONNECT_REFUSED,  /* ERR_ECONNREFUSED */
    CONN_TAP_CONNECT_TIMEOUT,  /* ERR_ETIMEDOUT: the connect timeout */
    CONN_TAP_CONNECT_FAILED    /* any other error */
};

/* An observer of every connection of a table (--record). event gets the
 * tap's own pointer first; bytes and len only with IN and OUT (else NULL
 * and 0). It runs on the table's loop, inside the connection's own call
 * chain: it must only look (conn_id, conn_peer, ...) and keep what it
 * needs, never call down into c. With no tap a connection pays one NULL
 * check per event. */
typedef struct conn_tap {
    void (*event)(void *data, conn *c, enum conn_tap_event ev,
                  const char *bytes, size_t len);
    void *data;
} conn_tap;

/* The settings of one loop's connections. */
/* The largest read (see conn_set_read_max). */
#define CONN_READ_MAX (256 * 1024)

typedef struct conn_config {
    loop *loop;
    size_t out_limit;    /* pause reading above this much unsent output */
    uint64_t idle_ms;    /* 0: no idle timeout */
    uint64_t drain_ms;   /* wait for the peer's close after our FIN */
    uint64_t first_id;   /* the first connection's id (1 if 0) */
    uint64_t id_stride;  /* ids step by this (workers interleave); 0: 1 */
    const conn_transport *transport; /* NULL: real sockets */
    int write_later;     /* 1: small sends wait for conn_table_tick() */
    int count_peers;     /* 1: count open connections per peer address */
    const conn_tap *tap; /* NULL: nobody observes (see conn_tap) */
} conn_config;

/* A table for the connections of one loop, with cfg's settings (copied).
 * Returns NULL when memory runs out. */
conn_table *conn_table_create(const conn_config *cfg);
/* Reset every connection still open (CONN_REASON_STOP), run their close
 * callbacks and free everything. */
void conn_table_free(conn_table *t);
/* Call at the top of every loop iteration (the before-sleep hook): write
 * the small sends of the iteration, each connection's in one system call,
 * then run the close callback of, and free, every connection closed since
 * the last call. */
void conn_table_tick(conn_table *t);
/* Connections not yet freed (the closed ones waiting for the tick too). */
size_t conn_table_live(const conn_table *t);
/* Connections not closed: what holds a place under a connection limit. */
size_t conn_table_open(const conn_table *t);
/* Outbound connections (conn_connect) not closed; not in the above. */
size_t conn_table_outbound(const conn_table *t);
/* Open connections whose peer has the address of peer ("ADDR:PORT" or
 * "[ADDR]:PORT"; the port is ignored). Counted only with count_peers
 * (else 0). */
size_t conn_table_peer_open(const conn_table *t, const char *peer);
/* The open connection that has gone longest with no byte in or out (to
 * within 50 ms: CONN_ORDER_GRAIN_MS), or NULL when none is open. O(1):
 * the table keeps its connections in the order of their activity. */
conn *conn_table_idlest(conn_table *t);
/* The open (not closed) connection with this id, or NULL. */
conn *conn_table_find(conn_table *t, uint64_t id);
/* The open connection after c in t (c NULL: the first), skipping the
 * closed ones not yet freed; NULL at the end. For walking the table
 * between events, on its loop's thread (conn_info.c). */
conn *conn_table_next(conn_table *t, conn *c);
/* 1 when c was made by conn_connect (an upstream), else 0. */
int conn_outbound(const conn *c);
/* The server is stopping: bound every connection's life by deadline_ms.
 * A connection still open then is closed (reason stop); one with output
 * still unsent is reset instead, so that its peer cannot take a cut
 * stream for a whole one. */
void conn_table_stop_by(conn_table *t, uint64_t deadline_ms);
/* Reset every open connection now, with reason. */
void conn_table_reset_all(conn_table *t, enum conn_reason reason);

/* What a table has counted since it was made. Inbound connections are
 * the accepted (and virtual) ones; outbound, conn_connect's. The ones
 * open now are accepted minus the sum of closed (and, outbound,
 * up_started minus up_closed). */
typedef struct conn_stats {
    uint64_t accepted;
    uint64_t closed[CONN_REASONS];      /* inbound, by reason */
    uint64_t bytes_in, bytes_out;       /* inbound */
    uint64_t up_started;                /* outbound made */
    uint64_t up_connects[CONN_CONNECT_RESULTS]; /* how their connect ended */
    uint64_t up_closed;
    uint64_t up_bytes_in, up_bytes_out;
} conn_stats;

/* t's counts into *out. Any thread may call it while t's loop runs
 * (each count is one the table had: stat.h), until conn_table_free. */
void conn_table_stats(const conn_table *t, conn_stats *out);

/* Take ownership of an accepted, non-blocking socket and start reading.
 * The connection starts with no callbacks (plain echo); the owner sets
 * them with conn_set_callbacks before the loop runs again. Returns NULL
 * (and closes sock) when memory or the poller runs out. */
conn *conn_accept(conn_table *t, net_socket sock, const char *peer);
/* A connection with no socket, for a table with a transport. The peer's
 * side is played by calling conn_feed*: bytes arrive (none, or an
 * outbound connection still connecting: nothing happens), the peer
 * finishes sending (FIN), the peer resets, or the
 * transport, which refused bytes (a short count or ERR_EAGAIN), can take
 * more: the output queue is flushed again, as a socket's write readiness
 * would. Input fed while reading is paused (out_limit) is still taken:
 * the feeder plays a peer that sends regardless. NULL when memory runs
 * out. */
conn *conn_open_virtual(conn_table *t, const char *peer);
void conn_feed(conn *c, const char *data, size_t len);
void conn_feed_eof(conn *c);
void conn_feed_reset(conn *c);
void conn_feed_writable(conn *c);
/* The transport's answer to a connect it was given (its connect
 * callback): err 0, connected; else why not (ERR_ECONNREFUSED, ...), and
 * c closes. Reported through the connected callback, as a socket's
 * connect is. Nothing happens when c is not connecting. */
void conn_feed_connected(conn *c, int err);

/* Start an outbound connection to the numeric address host:port, in
 * *out. It is OPEN at once: what is sent or asked meanwhile (a shutdown,
 * a close) waits until it connects; it reads only then. The connected
 * callback says how it ended, within timeout_ms (0: none). On a table
 * with a transport, the transport's connector plays the server (no
 * socket; see conn_transport). An outbound
 * connection has no idle timeout of its own (its owner ties it to
 * another's), does not count against a listener's cap and is never
 * evicted. Returns 0, or an err.h code (nothing was made). */
int conn_connect(conn_table *t, const char *host, int port,
                 uint64_t timeout_ms, conn **out);
/* 1 while an outbound connection is still connecting. */
int conn_connecting(const conn *c);
/* Stop (hold = 1) or resume reading from c, whatever else holds it: the
 * owner of a relay holds the side whose bytes it cannot pass on. */
void conn_hold_reading(conn *c, int hold);

void conn_set_callbacks(conn *c, const conn_callbacks *cb, void *owner);
/* The most one read from c's socket takes, so the most on_data gets at
 * once: n, within 1 and CONN_READ_MAX (the default, and the size of the
 * one buffer a table reads into). A relay in C moves bulk with less CPU
 * in large reads; a hook that copies what it is given (a Lua string
 * the size of the read) does better with smaller ones. */
void conn_set_read_max(conn *c, size_t n);
/* The table c belongs to (to connect a companion from the same loop). */
conn_table *conn_table_of(const conn *c);
/* Name c's role in its log lines from now on: "conn 3 (upstream of 2):"
 * for label "upstream of 2" (cut to fit 36 bytes; NULL or "": none). */
void conn_set_label(conn *c, const char *label);
/* The owner's pointer given to conn_set_callbacks. */
void *conn_owner(const conn *c);
/* The tap's own pointer for c (NULL until set): the tap keeps its state
 * of c here, from CONN_TAP_OPEN to CONN_TAP_FREE, and frees it. */
void *conn_tap_data(const conn *c);
void conn_set_tap_data(conn *c, void *data);

uint64_t conn_id(const conn *c);
/* "ADDR:PORT" of the peer. */
const char *conn_peer(const conn *c);
enum conn_state conn_state(const conn *c);
/* Why it closed (meaningful once the state is CONN_CLOSED). */
enum conn_reason conn_reason(const conn *c);
uint64_t conn_bytes_in(const conn *c);
/* The most one read takes (conn_set_read_max). */
size_t conn_read_max(const conn *c);
uint64_t conn_bytes_out(const conn *c);
/* 1 when the peer reset c (not we: a reset we sent is not one). */
int conn_peer_reset(const conn *c);
/* 1 when the peer has finished sending (FIN seen). */
int conn_peer_done(const conn *c);
/* Who half-closed first: the peer (its FIN came in first), we (ours
 * went out first) or neither (a reset, an error, a stop before any). */
enum conn_first_fin { CONN_FIN_NEITHER, CONN_FIN_PEER, CONN_FIN_OURS };
enum conn_first_fin conn_first_fin(const conn *c);
/* Milliseconds from c's accept (or connect) to its close, or to now while
 * it is not closed. */
uint64_t conn_age_ms(const conn *c);
/* Milliseconds since c's last byte in or out (or since it opened). */
uint64_t conn_idle_ms(const conn *c);
/* 1 while the owner may send: OPEN or CLIENT_DONE. */
int conn_writable(const conn *c);

/* Send len bytes, straight away if the socket takes them; only the rest
 * is copied to the output queue (with write_later, a send of up to
 * CONN_LATER_MAX bytes a connection and iteration is copied aside and
 * written by conn_table_tick). Returns 0; ERR_ENOTWRITABLE after a
 * shutdown or close was asked; or ERR_ENOMEM, the connection then being
 * reset. A socket error closes the connection too, but still returns 0:
 * the bytes were taken, and the close is reported through the close
 * callback. */
int conn_send(conn *c, const char *data, size_t len);

/* Graceful half-close: no more sending from now on; FIN goes out once the
 * output queue is empty; then the connection reads until the peer closes.
 * Returns 0, or ERR_ENOTWRITABLE when a shutdown or close was asked. */
int conn_shutdown(conn *c);
/* Flush the output queue, then close. Returns 0 or ERR_ENOTWRITABLE. */
int conn_close(conn *c);
/* Abortive close (RST) now; queued output is dropped. */
void conn_reset(conn *c, enum conn_reason reason);
/* Close c now to give its place to another connection (why says who
 * asked, for the log), reason timeout: a plain close, or a reset when
 * output is still unsent. Returns 1 when it was a reset. */
int conn_evict(conn *c, const char *why);

/* Report something that happened to c that is neither bytes nor a close
 * (a script timer firing): a trace line, or the transport's note. */
#if defined(__MINGW32__)
__attribute__((format(gnu_printf, 2, 3)))
#elif defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void conn_note(conn *c, const char *fmt, ...);

/* --- framing (conn_frame.c): how input is cut before the data callback -- */

/* Cut input with spec from the next frame on (also from inside the data
 * callback: the frame after the current one is cut with the new mode).
 * Bytes already held are cut again with the new mode. Returns 0, or
 * ERR_ENOMEM (the connection is then reset). A frame over the mode's max
 * resets the connection (CONN_REASON_ERROR) with a warning naming the
 * mode and the max. */
int conn_frame(conn *c, const frame_spec *spec);
/* The mode input is cut with now (FRAME_RAW when it is not framed). */
frame_mode conn_frame_mode(const conn *c);
/* From the data callback of a buffer frame (FRAME_BUFFER): its first n
 * bytes were used, the rest is held and comes again, with what arrives
 * next, in the next one (by default all is used). Returns 0, or the
 * error of frame.h's framer_used, after which the connection is reset
 * with a warning. */
int conn_frame_used(conn *c, size_t n);
/* At the peer's end of stream (from the done callback): the bytes of an
 * unfinished frame, or NULL when there are none. Valid until the done
 * callback returns; they are dropped then. */
const char *conn_take_rest(conn *c, size_t *len);

/* --- shaping (conn_shape.c): when and how what is sent goes out ---------- */
/* Each applies from now on and keeps the order of the bytes; a graceful
 * half-close or close still waits for every shaped byte, and bytes held
 * back count for the out_limit backpressure. The first call gives the
 * connection its shaping state (freed with the connection). Each returns
 * 0, or ERR_ENOMEM (the connection is then reset); on a closed
 * connection, 0 and nothing happens. */

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

/* The shaping c was given (for its summary): every field 0 where that
 * shaping was never asked. Returns 0 when none was, else 1. Valid until
 * c is freed (in its close callback too). */
typedef struct conn_shaping {
    uint64_t delay_ms, jitter_ms;
    uint64_t rate;              /* bytes per second */
    size_t slice_size, slice_variation;
    uint64_t slice_gap_ms;
    uint64_t close_after_bytes, close_after_ms, reset_after_ms;
    int stalled;                /* conn_stall was called */
} conn_shaping;
int conn_get_shaping(const conn *c, conn_shaping *out);

/* The largest send copied aside for conn_table_tick (see conn_out.c). */
#define CONN_LATER_MAX 16384

const char *conn_state_name(enum conn_state s);
const char *conn_reason_name(enum conn_reason r);
/* "ok", "refused", "timeout", "error". */
const char *conn_connect_result_name(enum conn_connect_result r);

#endif
