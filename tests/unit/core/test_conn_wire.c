/* test_conn_wire.c -- backpressure and the drain over a real socket pair:
 * the poller drives the output (write readiness, the bytes written per
 * event) and reading pauses above out_limit, which a virtual connection's
 * feeder does not (it plays a peer that sends regardless). */
#include "cases.h"
#include "conn.h"
#include "fixture.h"

/* --- real sockets: backpressure and the drain ----------------------------- */

/* A connection over one end of a socket pair; the test is the peer on the
 * other end. No transport, so the loop's poller drives the output. */
typedef struct wire {
    loop *loop;
    conn_table *table;
    conn *c;
    net_socket peer;
} wire;

static void wire_start(wire *w, size_t out_limit, conn_callbacks *cb,
                       void *owner)
{
    memset(w, 0, sizeof *w);
    w->loop = loop_create();
    ASSERT(w->loop != NULL);
    conn_config cfg = { .loop = w->loop, .out_limit = out_limit,
                        .drain_ms = 60000 };
    w->table = conn_table_create(&cfg);
    ASSERT(w->table != NULL);
    loop_set_before_sleep(w->loop, fixture_before_sleep, w->table);
    net_socket ours;
    ASSERT_EQ(net_wakeup_pair(&ours, &w->peer), 0);
    w->c = conn_accept(w->table, ours, "127.0.0.1:1");
    ASSERT(w->c != NULL);
    if (cb)
        conn_set_callbacks(w->c, cb, owner);
}

static void wire_end(wire *w)
{
    conn_table_free(w->table);
    loop_free(w->loop);
    if (w->peer != NET_INVALID)
        net_close(w->peer);
}

/* The byte at offset i of the test stream. */
static char pattern_byte(uint64_t i)
{
    return (char)('a' + (i * 7 + i / 251) % 26);
}

static size_t peer_write(net_socket s, uint64_t *offset, uint64_t total)
{
    char chunk[8192];
    size_t written = 0;
    while (*offset < total) {
        size_t n = sizeof chunk;
        if (total - *offset < n)
            n = (size_t)(total - *offset);
        for (size_t i = 0; i < n; i++)
            chunk[i] = pattern_byte(*offset + i);
        long rc = net_send(s, chunk, n);
        if (rc == ERR_EAGAIN)
            break;
        ASSERT_GT(rc, 0);
        *offset += (uint64_t)rc;
        written += (size_t)rc;
    }
    return written;
}

/* Read at most max bytes, checking them against the pattern. Returns
 * the count; *eof is set at the end of stream. */
static size_t peer_read(net_socket s, uint64_t *offset, size_t max,
                        int *eof)
{
    char chunk[4096];
    size_t got = 0;
    while (got < max) {
        size_t want = max - got < sizeof chunk ? max - got : sizeof chunk;
        long rc = net_recv(s, chunk, want);
        if (rc == ERR_EAGAIN)
            break;
        ASSERT_GE(rc, 0);
        if (rc == 0) {
            *eof = 1;
            break;
        }
        for (long i = 0; i < rc; i++)
            if (chunk[i] != pattern_byte(*offset + (uint64_t)i))
                TEST_FAIL("byte %llu: '%c', expected '%c'",
                          (unsigned long long)(*offset + (uint64_t)i),
                          chunk[i], pattern_byte(*offset + (uint64_t)i));
        *offset += (uint64_t)rc;
        got += (size_t)rc;
    }
    return got;
}

/* The echo (no callbacks) of a peer that sends much and reads little:
 * reading pauses once the unsent echo passes out_limit, and resumes only
 * when it is back to half of it; every byte comes back, in order. */
void test_conn_backpressure(void)
{
    /* The limit is well above what one write event flushes (a socket
     * buffer's worth), so the queue passes through (limit / 2, limit] on
     * its way down and a resume there would show. */
    const size_t limit = 1024 * 1024;
    /* How much the sockets hold differs (a Unix socket pair, loopback TCP
     * with autotuned buffers on Windows): the peer writes until they are
     * full, then 3 limits more. */
    uint64_t total = (uint64_t)256 << 20;
    wire w;
    wire_start(&w, limit, NULL, NULL);
    uint64_t sent = 0, received = 0;
    int eof = 0, paused = 0, pauses = 0, resumes = 0;
    uint64_t last_in = 0;

    /* 1: the peer writes and never reads, until nothing moves */
    int still = 0;
    for (int i = 0; i < 100000 && still < 20; i++) {
        peer_write(w.peer, &sent, total);
        ASSERT_EQ(loop_run_once(w.loop, 0), 0);
        uint64_t in = conn_bytes_in(w.c);
        still = in == last_in ? still + 1 : 0;
        last_in = in;
    }
    ASSERT_EQ(still, 20);
    uint64_t queued = conn_bytes_in(w.c) - conn_bytes_out(w.c);
    /* over the limit, by at most one read */
    ASSERT_GT(queued, limit);
    ASSERT_LE(queued, limit + CONN_READ_MAX);
    /* and the peer has bytes the connection is not reading */
    ASSERT_GT(sent, conn_bytes_in(w.c));
    ASSERT_LT(sent, total);
    total = sent + 3 * limit;
    paused = 1;
    pauses = 1;

    /* 2: the peer reads a little at a time; reading resumes when the
     * queue is down to half the limit, not before, and not later: once
     * a write event brought it there, the next iteration reads */
    int must_read = 0;
    for (int i = 0; i < 1000000 && !(received == total); i++) {
        uint64_t in_before = conn_bytes_in(w.c);
        peer_read(w.peer, &received, 16384, &eof);
        ASSERT_EQ(eof, 0);
        peer_write(w.peer, &sent, total);
        ASSERT_EQ(loop_run_once(w.loop, 0), 0);
        uint64_t in = conn_bytes_in(w.c), out = conn_bytes_out(w.c);
        if (must_read)
            ASSERT_GT(in, in_before);
        if (paused && in > in_before) {
            /* it read again: the queue had gone down to half the limit
             * (before this read) */
            ASSERT_LE(in_before - out, limit / 2);
            paused = 0;
            resumes++;
        }
        if (in - out > limit && !paused) {
            paused = 1;
            pauses++;
        }
        must_read = paused && in - out <= limit / 2 && sent > in;
    }
    ASSERT_UEQ(received, total);
    ASSERT_UEQ(sent, total);
    ASSERT_UEQ(conn_bytes_in(w.c), total);
    ASSERT_UEQ(conn_bytes_out(w.c), total);
    ASSERT_GE(resumes, 1);
    ASSERT_GE(pauses, resumes);
    ASSERT_EQ(conn_state(w.c), CONN_OPEN);
    wire_end(&w);
}

/* The owner answers "go" with a reply far larger than the socket takes,
 * and shuts down at once: the peer gets every byte, then the FIN. */
static uint64_t big_reply_len;

static void big_reply(conn *c, const char *data, size_t len)
{
    ASSERT_MEM_EQ(data, len, "go", 2);
    char *reply = malloc((size_t)big_reply_len);
    ASSERT(reply != NULL);
    for (uint64_t i = 0; i < big_reply_len; i++)
        reply[i] = pattern_byte(i);
    ASSERT_EQ(conn_send(c, reply, (size_t)big_reply_len), 0);
    free(reply);
    ASSERT_EQ(conn_shutdown(c), 0);
    ASSERT_EQ(conn_state(c), CONN_SHUTTING);
    ASSERT_EQ(conn_send(c, "x", 1), ERR_ENOTWRITABLE);
}

static int wire_closes;
static enum conn_reason wire_reason;

static void wire_closed(conn *c, enum conn_reason reason)
{
    (void)c;
    wire_closes++;
    wire_reason = reason;
}

void test_conn_drain_socket(void)
{
    static conn_callbacks cb = {
        .data = big_reply, .close = wire_closed,
    };
    /* larger than any socket pair holds (loopback TCP buffers under
     * Windows grow to several MiB) */
    big_reply_len = 32 * 1024 * 1024;
    wire_closes = 0;
    wire w;
    wire_start(&w, 64 * 1024, &cb, NULL);
    ASSERT_EQ(net_send(w.peer, "go", 2), 2);
    /* the reply is larger than the socket's buffers: some stays queued */
    for (int i = 0; i < 1000 && conn_bytes_in(w.c) < 2; i++)
        ASSERT_EQ(loop_run_once(w.loop, 0), 0);
    ASSERT_UEQ(conn_bytes_in(w.c), 2);
    ASSERT_EQ(conn_state(w.c), CONN_SHUTTING);
    ASSERT_LT(conn_bytes_out(w.c), big_reply_len);

    uint64_t received = 0;
    int eof = 0;
    for (int i = 0; i < 1000000 && !eof; i++) {
        peer_read(w.peer, &received, 65536, &eof);
        if (!eof)
            ASSERT_EQ(loop_run_once(w.loop, 0), 0);
    }
    /* every byte, then the end of stream */
    ASSERT_EQ(eof, 1);
    ASSERT_UEQ(received, big_reply_len);
    ASSERT_EQ(conn_state(w.c), CONN_HALF_CLOSED);
    ASSERT_EQ(wire_closes, 0);
    /* the peer closes: the connection ends, gracefully */
    ASSERT_EQ(net_close(w.peer), 0);
    w.peer = NET_INVALID;
    for (int i = 0; i < 1000 && wire_closes == 0; i++)
        ASSERT_EQ(loop_run_once(w.loop, 0), 0);
    ASSERT_EQ(wire_closes, 1);
    ASSERT_EQ(wire_reason, CONN_REASON_DONE);
    ASSERT_UEQ(conn_table_live(w.table), 0);
    wire_end(&w);
}

/* --- the size of one read -------------------------------------------------- */

static size_t chunks, biggest, total_in;

static void count_chunk(conn *c, const char *data, size_t len)
{
    (void)c;
    (void)data;
    chunks++;
    if (len > biggest)
        biggest = len;
    total_in += len;
}

/* Read what the peer wrote with read_max set to max; returns what the
 * peer wrote. */
static uint64_t read_with_max(size_t max)
{
    conn_callbacks cb = {.data = count_chunk};
    wire w;
    wire_start(&w, 64 << 20, &cb, NULL);
    conn_set_read_max(w.c, max);
    chunks = biggest = total_in = 0;
    uint64_t sent = 0;
    /* 64 KiB, or what the socket holds: one-byte reads of a socket's
     * worth (megabytes, with Windows' autotuned TCP) would take long */
    peer_write(w.peer, &sent, 64 << 10);
    ASSERT_GT(sent, 4096);
    for (int i = 0; i < 1000 && total_in < sent; i++)
        ASSERT_EQ(loop_run_once(w.loop, 0), 0);
    ASSERT_UEQ(total_in, sent);
    wire_end(&w);
    return sent;
}

/* conn_set_read_max bounds each read, so each chunk the owner gets;
 * 0 is 1 and too much is CONN_READ_MAX. */
void test_conn_read_max(void)
{
    uint64_t sent = read_with_max(1000);
    /* a stream socket may return less than asked (a TCP pair on
     * Windows does), never more */
    ASSERT_EQ(biggest, 1000);
    ASSERT(chunks >= (sent + 999) / 1000);
    read_with_max(0);
    ASSERT_EQ(biggest, 1);
    read_with_max((size_t)1 << 30);
    ASSERT_LE(biggest, CONN_READ_MAX);
}
