/* fixture.c -- the connection cases' table without sockets (see
 * fixture.h). */
#include "fixture.h"

/* --- the owner's callbacks ------------------------------------------------ */

static void cb_data(conn *c, const char *data, size_t len)
{
    fixture *fx = conn_owner(c);
    vtrace_add(&fx->tr, c, "data", data, len);
    if (fx->on_data)
        fx->on_data(fx, c, data, len);
}

static void cb_done(conn *c)
{
    fixture *fx = conn_owner(c);
    vtrace_add(&fx->tr, c, "done", NULL, 0);
    if (fx->on_done)
        fx->on_done(fx, c);
}

static void cb_close(conn *c, enum conn_reason reason)
{
    fixture *fx = conn_owner(c);
    const char *name = conn_reason_name(reason);
    ASSERT_EQ(conn_state(c), CONN_CLOSED);
    ASSERT_EQ(conn_reason(c), reason);
    fx->closes++;
    vtrace_add(&fx->tr, c, "closed", name, strlen(name));
    if (fx->on_close)
        fx->on_close(fx, c);
}

void fixture_timeout(conn *c)
{
    fixture *fx = conn_owner(c);
    vtrace_add(&fx->tr, c, "timeout", NULL, 0);
    if (fx->on_timeout)
        fx->on_timeout(fx, c);
}

void fixture_before_sleep(loop *l, void *data)
{
    (void)l;
    conn_table_tick(data);
}

void fixture_start(fixture *fx, uint64_t idle_ms, uint64_t drain_ms,
                   size_t out_limit, int write_later)
{
    fixture_start_tapped(fx, idle_ms, drain_ms, out_limit, write_later,
                         NULL);
}

void fixture_start_tapped(fixture *fx, uint64_t idle_ms, uint64_t drain_ms,
                          size_t out_limit, int write_later,
                          const conn_tap *tap)
{
    memset(fx, 0, sizeof *fx);
    fx->loop = loop_create();
    ASSERT(fx->loop != NULL);
    loop_use_virtual_clock(fx->loop, START_MS);
    vtrace_init(&fx->tr);
    fx->callbacks.data = cb_data;
    fx->callbacks.done = cb_done;
    fx->callbacks.close = cb_close;
    conn_config cfg = {
        .loop = fx->loop, .out_limit = out_limit, .idle_ms = idle_ms,
        .drain_ms = drain_ms, .transport = &fx->tr.transport,
        .write_later = write_later, .tap = tap,
    };
    fx->table = conn_table_create(&cfg);
    ASSERT(fx->table != NULL);
    loop_set_before_sleep(fx->loop, fixture_before_sleep, fx->table);
}

void fixture_end(fixture *fx)
{
    conn_table_free(fx->table);
    loop_free(fx->loop);
}

/* --- connections in each state -------------------------------------------- */

conn *fixture_open(fixture *fx)
{
    conn *c = conn_open_virtual(fx->table, "192.0.2.1:5000");
    ASSERT(c != NULL);
    ASSERT_EQ(conn_state(c), CONN_OPEN);
    conn_set_callbacks(c, &fx->callbacks, fx);
    return c;
}

conn *fixture_open_client_done(fixture *fx)
{
    conn *c = fixture_open(fx);
    conn_feed_eof(c);
    ASSERT_EQ(conn_state(c), CONN_CLIENT_DONE);
    return c;
}

conn *fixture_open_shutting(fixture *fx)
{
    conn *c = fixture_open(fx);
    long room = fx->tr.room;
    fx->tr.room = 0;
    ASSERT_EQ(send_str(c, "queued"), 0);
    fx->tr.room = room;
    ASSERT_EQ(conn_shutdown(c), 0);
    ASSERT_EQ(conn_state(c), CONN_SHUTTING);
    ASSERT_EQ(conn_writable(c), 0);
    return c;
}

conn *fixture_open_closing(fixture *fx)
{
    conn *c = fixture_open(fx);
    fx->tr.room = 0;
    ASSERT_EQ(send_str(c, "queued"), 0);
    fx->tr.room = -1;
    ASSERT_EQ(conn_close(c), 0);
    ASSERT_EQ(conn_state(c), CONN_CLOSING);
    return c;
}

/* --- time and replies ----------------------------------------------------- */

void fixture_advance(fixture *fx, uint64_t ms)
{
    loop_advance(fx->loop, START_MS + ms);
    ASSERT_UEQ(loop_now(fx->loop), START_MS + ms);
}

void fixture_reply_bracketed(fixture *fx, conn *c, const char *data,
                             size_t len)
{
    char out[256];
    ASSERT_LT(len + 2, sizeof out);
    out[0] = '<';
    memcpy(out + 1, data, len);
    out[len + 1] = '>';
    fx->last_send_rc = conn_send(c, out, len + 2);
}
