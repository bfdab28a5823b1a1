/* fixture.h -- what the connection cases (test_conn_*.c) share: a table
 * of connections driven without sockets.
 *
 * A table with a recording transport (vtrace.h) stands in for the socket:
 * a case plays the peer with conn_feed / conn_feed_eof / conn_feed_reset
 * and the owner with conn_send / conn_shutdown / conn_close / conn_reset,
 * on a virtual clock. The owner's callbacks add to the same trace:
 *
 *   data(BYTES)   the data callback            done   the done callback
 *   rest(BYTES)   conn_take_rest in done       closed(REASON)  the close
 *   timeout       the timeout callback (when set)     callback
 *
 * and each step asserts the exact trace it produced. */
#ifndef RICOCHET_UNIT_CORE_FIXTURE_H
#define RICOCHET_UNIT_CORE_FIXTURE_H

#include "conn.h"
#include "loop.h"
#include "test.h"
#include "vtrace.h"

#define START_MS 1000

typedef struct fixture fixture;

/* What a case does inside a callback, after it was traced. */
typedef void (*data_fn)(fixture *fx, conn *c, const char *data, size_t len);
typedef void (*conn_fn)(fixture *fx, conn *c);

struct fixture {
    loop *loop;
    conn_table *table;
    vtrace tr;           /* the transport, and the trace */
    conn_callbacks callbacks;
    data_fn on_data;
    conn_fn on_done;
    conn_fn on_close;
    conn_fn on_timeout;
    int closes;          /* close callbacks run */
    int last_send_rc;    /* what conn_send returned inside a callback */
};

#define EXPECT(fx, want) VTRACE_EXPECT(&(fx)->tr, want)
#define EXPECT_PER_CONN(fx, want) VTRACE_EXPECT_PER_CONN(&(fx)->tr, want)

/* A table on a virtual clock at START_MS, with a tracing transport and
 * tracing callbacks (the case may clear some before opening). */
void fixture_start(fixture *fx, uint64_t idle_ms, uint64_t drain_ms,
                   size_t out_limit, int write_later);
/* The same, with an observer of the table's connections. */
void fixture_start_tapped(fixture *fx, uint64_t idle_ms, uint64_t drain_ms,
                          size_t out_limit, int write_later,
                          const conn_tap *tap);
/* Frees the table (the close callbacks of the open ones run) and the
 * loop. */
void fixture_end(fixture *fx);
/* The timeout callback, which fixture_start leaves out (NULL: the core's
 * default); a case that wants it sets callbacks.timeout to this: it
 * traces "timeout", then runs the case's on_timeout. */
void fixture_timeout(conn *c);
/* The loop's before-sleep hook: data is the table, which is ticked. */
void fixture_before_sleep(loop *l, void *data);

/* An open connection with the fixture's callbacks. */
conn *fixture_open(fixture *fx);
/* A connection whose peer has finished and whose done callback waited. */
conn *fixture_open_client_done(fixture *fx);
/* A connection in SHUTTING: "queued" is waiting for a transport that
 * refuses everything. */
conn *fixture_open_shutting(fixture *fx);
/* A connection in CLOSING, its output refused as above. */
conn *fixture_open_closing(fixture *fx);

/* Virtual time: to START_MS + ms, firing the timers due on the way (the
 * before-sleep hook, the table's tick, runs after each). */
void fixture_advance(fixture *fx, uint64_t ms);

/* Data callback: answer each chunk with "<" chunk ">" and remember rc. */
void fixture_reply_bracketed(fixture *fx, conn *c, const char *data,
                             size_t len);

static inline void feed(conn *c, const char *s)
{
    conn_feed(c, s, strlen(s));
}

static inline int send_str(conn *c, const char *s)
{
    return conn_send(c, s, strlen(s));
}

#endif
