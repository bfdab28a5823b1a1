/* conn_int.h -- the connection's insides, for the files of core that make
 * up a connection: conn.c (the state machine), conn_out.c (the output
 * queue and the write-later batch), conn_frame.c (framing), conn_shape.c
 * (shaping) and conn_io.c (the socket or the transport). Nothing outside
 * src/core includes this; the other layers use conn.h's functions.
 *
 * Functions named conn__* are shared between those files only. */
#ifndef RICOCHET_CONN_INT_H
#define RICOCHET_CONN_INT_H

#include "buf.h"
#include "conn.h"
#include "frame.h"
#include "loop.h"
#include "shape.h"
#include "stat.h"

/* At most this much is read or written for one connection per loop
 * iteration, so one busy client cannot starve the others. */
#define CONN_MAX_IO_PER_EVENT (1024 * 1024)

/* The small sends of one loop iteration, copied here to be written just
 * before the loop sleeps (see conn_out.c). */
typedef struct conn_later {
    char *data;
    size_t len, cap;
    conn *first;        /* the connections with bytes here */
} conn_later;

/* The open connections of one peer address (count_peers). */
typedef struct conn_peer_group {
    struct conn_peer_group *next;  /* in its hash bucket */
    uint64_t hash;
    size_t open;
    char addr[64];
} conn_peer_group;

typedef struct conn_peers {
    conn_peer_group **buckets;
    size_t nbuckets;    /* 0 or a power of two */
    size_t ngroups;
} conn_peers;

/* conn_stats as the table's own thread counts it (stat.h). */
typedef struct conn_counters {
    stat_counter accepted;
    stat_counter closed[CONN_REASONS];
    stat_counter bytes_in, bytes_out;
    stat_counter up_started;
    stat_counter up_connects[CONN_CONNECT_RESULTS];
    stat_counter up_closed;
    stat_counter up_bytes_in, up_bytes_out;
} conn_counters;

struct conn_table {
    conn_config cfg;
    conn_counters stats;
    char *rbuf;         /* one receive buffer for all connections */
    size_t rbuf_size;
    conn *all;          /* every connection not yet freed */
    conn *reap;         /* closed connections waiting for the tick */
    conn *active_first; /* open connections, the last active first ... */
    conn *active_last;  /* ... and the idle longest last */
    size_t outbound_open; /* open outbound connections (conn_connect) */
    uint64_t next_id;
    size_t live;        /* connections not yet freed */
    size_t closed;      /* of those, closed (waiting for the tick) */
    conn_later later;
    conn_peers peers;
};

/* A connection's framer, for the connections that asked for one. */
typedef struct conn_framing {
    framer fr;
    timer kick;       /* frames held after a mode change: cut them soon */
} conn_framing;

/* A connection's shaping state, for the connections that asked for it. */
typedef struct conn_shaper {
    shape sh;
    timer wake;         /* the next release, token or slice */
    timer close_timer;  /* close_after{ms} */
    timer reset_timer;  /* reset_after */
    unsigned socket_full : 1;  /* the socket refused bytes: poll for write */
    unsigned stalled_once : 1; /* conn_stall was called (its summary) */
    uint64_t close_after_bytes, close_after_ms, reset_after_ms; /* asked */
} conn_shaper;

struct conn {
    conn_table *table;
    size_t read_max;     /* the most one recv takes (conn_set_read_max) */
    loop_io io;
    timer deadline;      /* idle, drain or stop deadline, whichever is due */
    enum conn_state state;
    enum conn_reason reason;
    unsigned peer_eof : 1;      /* recv() returned 0 */
    unsigned read_paused : 1;   /* output above out_limit */
    unsigned stalled : 1;       /* conn_stall: neither reading nor sending */
    unsigned later_listed : 1;  /* in table->later's list */
    unsigned timed_out : 1;     /* the idle timeout began its end */
    unsigned outbound : 1;      /* made by conn_connect */
    unsigned held : 1;          /* conn_hold_reading */
    unsigned over_limit : 1;    /* pressure reported over the limit */
    unsigned peer_reset : 1;    /* the peer reset the connection */
    unsigned first_fin : 2;     /* enum conn_first_fin */
    buf out;                    /* unsent output */
    size_t later_off, later_len; /* bytes waiting in table->later */
    conn *later_next;
    uint64_t id;
    uint64_t bytes_in, bytes_out;
    uint64_t opened_ms;
    uint64_t closed_ms;         /* when it closed (CONN_CLOSED) */
    uint64_t last_active_ms;
    uint64_t half_closed_ms;
    uint64_t timed_out_ms;      /* when the idle timeout began its end */
    uint64_t stop_deadline_ms;  /* 0: the server is not stopping */
    const conn_callbacks *cb;
    void *owner;
    void *tap_data;             /* the tap's own (conn_tap) */
    conn_framing *framing;      /* NULL: input goes up as it arrives */
    conn_shaper *shaper;        /* NULL: output goes straight out */
    struct conn_connecting *connecting; /* NULL: connected (or inbound) */
    conn *prev, *next;          /* in table->all */
    conn *more_active, *less_active; /* in table->active_first's list */
    uint64_t ordered_ms;        /* when c last moved to its front */
    conn_peer_group *peer_group; /* count_peers: its address's count */
    conn *reap_next;
    char peer[64];              /* "ADDR:PORT" */
    char label[40];             /* "" or " (LABEL)": conn_set_label */
};

/* A connection as its log lines name it: "conn %llu%s" takes these two,
 * its id and its label (" (upstream of 2)" in proxy mode, else ""). */
#define CONN_ID(c) (unsigned long long)(c)->id, (c)->label

static inline loop *conn__loop(const conn *c) { return c->table->cfg.loop; }

/* Tell the table's tap, if any, what c did (conn_tap). */
static inline void conn__tap(conn *c, enum conn_tap_event ev,
                             const char *bytes, size_t len)
{
    const conn_tap *tap = c->table->cfg.tap;
    if (tap != NULL)
        tap->event(tap->data, c, ev, bytes, len);
}

/* conn.c: the state machine. */
void conn__set_state(conn *c, enum conn_state to);
void conn__close_now(conn *c, enum conn_reason reason, int abortive);
/* A byte went in or out now: c is (within CONN_ORDER_GRAIN_MS) the most
 * recently active. */
void conn__touch(conn *c);
/* The table's order by activity may lag the truth by this much. */
#define CONN_ORDER_GRAIN_MS 50
/* A send or receive failed with err: the connection is over. */
void conn__fail(conn *c, int err, const char *what);
/* Memory ran out while doing what: log it, reset c; returns ERR_ENOMEM. */
int conn__fail_nomem(conn *c, const char *what);
void conn__update_interest(conn *c);
/* FIN goes out; then wait for the peer's own end (or the drain timeout). */
void conn__send_fin(conn *c);
/* After writing: read again below half the limit, finish what an empty
 * queue was waited for, follow the interest. */
void conn__after_write(conn *c);
/* Hand one received chunk or frame to the owner, or echo it. */
void conn__deliver(conn *c, const char *data, size_t len);
/* --trace: one line per chunk, with the bytes under --hexdump. */
void conn__trace_chunk(conn *c, const char *dir, uint64_t offset,
                       const char *data, size_t len);

/* n bytes went out of (in to) c: its count and its table's. */
static inline void conn__count_out(conn *c, uint64_t n)
{
    c->bytes_out += n;
    conn_counters *s = &c->table->stats;
    stat_add(c->outbound ? &s->up_bytes_out : &s->bytes_out, n);
}

static inline void conn__count_in(conn *c, uint64_t n)
{
    c->bytes_in += n;
    conn_counters *s = &c->table->stats;
    stat_add(c->outbound ? &s->up_bytes_in : &s->bytes_in, n);
}

/* An outbound connection's connect ended with err (0: connected). */
void conn__count_connect(conn_table *t, int err);

/* conn_out.c: the output queue and the write-later batch. */
int conn__send_or_queue(conn *c, const char *data, size_t len);
/* Send what the socket takes now. Returns the count, or the err.h code of
 * a failed send (the connection is then closed). */
long conn__send_now(conn *c, const char *data, size_t len);
/* Send up to want bytes from the head of the queue: the count, 0 when the
 * socket is full, or an err.h code (the connection is then closed). */
long conn__send_queued(conn *c, size_t want);
/* Write from the queue until it is empty, the socket is full or this
 * event's share is used. */
void conn__flush(conn *c);
void conn__pause_if_over_limit(conn *c);
/* Write c's bytes waiting for the tick now; the rest goes to its queue. */
void conn__write_later_now(conn *c);
/* At a close: c's waiting bytes go out first, best effort, unqueued. */
void conn__write_later_at_close(conn *c);
void conn__write_later_all(conn_table *t);
void conn__later_free(conn_table *t);
/* 1 while bytes of c wait in the queue or for the tick. */
static inline int conn__has_output(const conn *c)
{
    return buf_len(&c->out) > 0 || c->later_len > 0;
}

/* conn_peers.c: open connections per peer address (count_peers). */
/* Count c under its peer's address. Returns 0 or ERR_ENOMEM. */
int conn__peers_add(conn_table *t, conn *c);
/* c no longer counts (it closed); harmless when it never did. */
void conn__peers_remove(conn_table *t, conn *c);
void conn__peers_free(conn_table *t);

/* conn_connect.c: outbound connections. */
/* c's socket turned writable while connecting: see how it went. */
void conn__connect_io(conn *c);
/* The deadline of c's connect, or UINT64_MAX when c is not connecting. */
uint64_t conn__connect_deadline(const conn *c);
/* c's connect deadline passed. */
void conn__connect_timed_out(conn *c);
void conn__connect_stop(conn *c);
void conn__connect_free(conn *c);
/* Count c as live, as conn_accept's do (conn.c). */
void conn__link(conn_table *t, conn *c);
conn *conn__new(conn_table *t, net_socket sock, const char *peer);

/* conn_frame.c: framing glue. */
void conn__frame_input(conn *c, const char *data, size_t len);
/* At the peer's FIN: whole frames held go up; the rest stays for
 * conn_take_rest until conn__frame_end. */
void conn__frame_eof(conn *c);
void conn__frame_end(conn *c);
void conn__frame_stop(conn *c);
void conn__frame_free(conn *c);

/* conn_shape.c: shaping glue. */
int conn__shaped_send(conn *c, const char *data, size_t len);
void conn__shaped_flush(conn *c);
void conn__shaper_stop(conn *c);
void conn__shaper_free(conn *c);

/* conn_io.c: the socket, or the table's transport. */
long conn__tx_send(conn *c, const char *data, size_t len);
int conn__tx_shutdown_send(conn *c);
void conn__tx_close(conn *c, int abortive);
long conn__tx_recv(conn *c, char *into, size_t len);

#endif
