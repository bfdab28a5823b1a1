/* test_conn_limits.c -- what the table offers a connection limit: the
 * open count, the connection idle longest and its eviction, and the open
 * connections per peer address (over the fixture of fixture.h). */
#include <stdio.h>

#include "cases.h"
#include "fixture.h"

/* The table orders its open connections by their last byte in or out,
 * to within CONN_ORDER_GRAIN_MS (50 ms). */
void test_conn_idlest(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    fx.tr.ids = 1;
    ASSERT(conn_table_idlest(fx.table) == NULL);
    conn *a = fixture_open(&fx);
    fixture_advance(&fx, 100);
    conn *b = fixture_open(&fx);
    fixture_advance(&fx, 200);
    conn *c = fixture_open(&fx);
    ASSERT(conn_table_idlest(fx.table) == a);
    ASSERT_UEQ(conn_idle_ms(a), 200);
    ASSERT_UEQ(conn_idle_ms(c), 0);
    /* input and output are both activity; a refused send is not */
    fixture_advance(&fx, 300);
    feed(a, "in");
    ASSERT(conn_table_idlest(fx.table) == b);
    ASSERT_EQ(send_str(b, "out"), 0);
    ASSERT(conn_table_idlest(fx.table) == c);
    fx.tr.room = 0;
    ASSERT_EQ(send_str(c, "refused"), 0);
    fx.tr.room = -1;
    ASSERT(conn_table_idlest(fx.table) == c);
    ASSERT_UEQ(conn_idle_ms(c), 100);
    /* within the grain, activity counts for the idle time (and the idle
     * timeout) but does not reorder */
    conn_table *t = fx.table;
    fixture_advance(&fx, 320);
    conn_feed_writable(c);           /* c, moved at 200: moves */
    ASSERT(conn_table_idlest(t) == a);
    fixture_advance(&fx, 349);
    feed(b, "y");                    /* b, moved at 300: stays */
    ASSERT_UEQ(conn_idle_ms(b), 0);
    ASSERT(conn_table_idlest(t) == a);
    fixture_advance(&fx, 360);
    feed(a, "w");                    /* a, moved at 300: moves */
    ASSERT(conn_table_idlest(t) == b); /* c is idler, by less than 50 */
    ASSERT_UEQ(conn_idle_ms(b), 11);
    ASSERT_UEQ(conn_idle_ms(c), 40);
    fixture_advance(&fx, 400);
    feed(b, "v");
    ASSERT(conn_table_idlest(t) == c);
    EXPECT(&fx, "#1 data(in) #2 send(out) #3 eagain #3 send(refused) "
                "#2 data(y) #1 data(w) #2 data(v)");
    /* evicting: a reset when output would be dropped, else a close;
     * either way, reason timeout, and the place is free at once */
    fx.tr.room = 0;
    ASSERT_EQ(send_str(c, "stuck"), 0);
    fx.tr.room = -1;
    ASSERT_UEQ(conn_table_open(t), 3);
    ASSERT_EQ(conn_evict(c, "a test"), 1);
    ASSERT_UEQ(conn_table_open(t), 2);
    ASSERT_UEQ(conn_table_live(t), 3);
    ASSERT(conn_table_idlest(t) == a);
    ASSERT_EQ(conn_evict(a, "a test"), 0);
    ASSERT_EQ(conn_evict(a, "again"), 0); /* closed: nothing happens */
    ASSERT(conn_table_idlest(t) == b);
    ASSERT_EQ(conn_evict(b, "a test"), 0);
    ASSERT(conn_table_idlest(t) == NULL);
    ASSERT_UEQ(conn_table_open(t), 0);
    conn_table_tick(t);
    EXPECT_PER_CONN(&fx, "#3 eagain #3 rst #1 close #2 close "
                         "#3 closed(timeout) #1 closed(timeout) "
                         "#2 closed(timeout)");
    ASSERT_UEQ(conn_table_live(t), 0);
    fixture_end(&fx);
}

/* A table that counts its connections per peer address. */
static conn_table *peer_table(fixture *fx)
{
    conn_config cfg = {
        .loop = fx->loop, .out_limit = 65536, .drain_ms = 1000,
        .transport = &fx->tr.transport, .count_peers = 1,
    };
    conn_table *t = conn_table_create(&cfg);
    ASSERT(t != NULL);
    return t;
}

void test_conn_peer_counts(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    /* without count_peers nothing is counted */
    ASSERT(conn_open_virtual(fx.table, "192.0.2.1:1") != NULL);
    ASSERT_UEQ(conn_table_peer_open(fx.table, "192.0.2.1:2"), 0);
    conn_table *t = peer_table(&fx);
    conn *v4a = conn_open_virtual(t, "192.0.2.1:1000");
    conn *v4b = conn_open_virtual(t, "192.0.2.1:1001");
    conn *other = conn_open_virtual(t, "192.0.2.10:1000");
    conn *v6 = conn_open_virtual(t, "[2001:db8::1]:1000");
    ASSERT(v4a && v4b && other && v6);
    /* the port is not part of the address; a prefix is not the address */
    ASSERT_UEQ(conn_table_peer_open(t, "192.0.2.1:9"), 2);
    ASSERT_UEQ(conn_table_peer_open(t, "192.0.2.10:9"), 1);
    ASSERT_UEQ(conn_table_peer_open(t, "192.0.2.100:9"), 0);
    ASSERT_UEQ(conn_table_peer_open(t, "[2001:db8::1]:80"), 1);
    ASSERT_UEQ(conn_table_peer_open(t, "[2001:db8::]:80"), 0);
    /* a connection stops counting when it closes, not when it is freed */
    conn_reset(v4a, CONN_REASON_RESET);
    ASSERT_UEQ(conn_table_peer_open(t, "192.0.2.1:9"), 1);
    ASSERT_EQ(conn_shutdown(v4b), 0);
    ASSERT_EQ(conn_state(v4b), CONN_HALF_CLOSED);
    ASSERT_UEQ(conn_table_peer_open(t, "192.0.2.1:9"), 1);
    conn_feed_eof(v4b);
    ASSERT_EQ(conn_state(v4b), CONN_CLOSED);
    ASSERT_UEQ(conn_table_peer_open(t, "192.0.2.1:9"), 0);
    conn_table_tick(t);
    /* many addresses (the table grows), each counted apart; then all of
     * them go */
    conn *many[300];
    char peer[64];
    for (int i = 0; i < 300; i++) {
        snprintf(peer, sizeof peer, "10.0.%d.%d:%d", i / 100, i % 100,
                 4000 + i);
        many[i] = conn_open_virtual(t, peer);
        ASSERT(many[i] != NULL);
    }
    for (int i = 0; i < 300; i += 7) {
        snprintf(peer, sizeof peer, "10.0.%d.%d:1", i / 100, i % 100);
        ASSERT_UEQ(conn_table_peer_open(t, peer), 1);
    }
    for (int i = 0; i < 300; i++)
        conn_reset(many[i], CONN_REASON_RESET);
    ASSERT_UEQ(conn_table_peer_open(t, "10.0.2.99:1"), 0);
    ASSERT_UEQ(conn_table_peer_open(t, "192.0.2.10:9"), 1);
    ASSERT_UEQ(conn_table_open(t), 2);
    conn_table_free(t); /* resets other and v6; their counts go too */
    fixture_end(&fx);
}
