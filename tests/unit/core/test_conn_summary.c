/* test_conn_summary.c -- what a connection tells its summary line: who
 * half-closed first, how long it lived, the shaping it was given. Read
 * after the close (until the tick frees it), as the close callback
 * reads them. */
#include "cases.h"
#include "fixture.h"

void test_conn_first_fin(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);

    conn *ours = fixture_open(&fx);
    ASSERT_EQ(conn_first_fin(ours), CONN_FIN_NEITHER);
    fixture_advance(&fx, 250);
    ASSERT_EQ(conn_shutdown(ours), 0);
    ASSERT_EQ(conn_first_fin(ours), CONN_FIN_OURS);
    fixture_advance(&fx, 400);
    conn_feed_eof(ours);     /* the peer's FIN after ours: still ours */
    ASSERT_EQ(conn_state(ours), CONN_CLOSED);
    ASSERT_EQ(conn_first_fin(ours), CONN_FIN_OURS);
    ASSERT_UEQ(conn_age_ms(ours), 400);

    conn *peer = fixture_open(&fx);
    fixture_advance(&fx, 450);
    ASSERT_UEQ(conn_age_ms(peer), 50);  /* while open: up to now */
    conn_feed_eof(peer);                /* done: traced, no shutdown */
    ASSERT_EQ(conn_first_fin(peer), CONN_FIN_PEER);
    ASSERT_EQ(conn_shutdown(peer), 0);
    ASSERT_EQ(conn_state(peer), CONN_CLOSED);
    ASSERT_EQ(conn_first_fin(peer), CONN_FIN_PEER);
    fixture_advance(&fx, 500);          /* closed: the age stays */
    ASSERT_UEQ(conn_age_ms(peer), 50);

    conn *reset = fixture_open(&fx);
    conn_feed_reset(reset);
    ASSERT_EQ(conn_state(reset), CONN_CLOSED);
    ASSERT_EQ(conn_first_fin(reset), CONN_FIN_NEITHER);
    fixture_end(&fx);
}

void test_conn_shaping_summary(void)
{
    fixture fx;
    fixture_start(&fx, 0, 10000, 65536, 0);
    conn *c = fixture_open(&fx);
    conn_shaping sh;
    ASSERT_EQ(conn_get_shaping(c, &sh), 0);
    ASSERT_UEQ(sh.delay_ms + sh.rate + sh.slice_size + sh.reset_after_ms,
               0);
    ASSERT_EQ(conn_delay(c, 100, 10), 0);
    ASSERT_EQ(conn_rate(c, 4096), 0);
    ASSERT_EQ(conn_slice(c, 10, 2, 20), 0);
    ASSERT_EQ(conn_close_after_bytes(c, 7), 0);
    ASSERT_EQ(conn_close_after_ms(c, 3000), 0);
    ASSERT_EQ(conn_reset_after(c, 5000), 0);
    ASSERT_EQ(conn_stall(c), 0);
    conn_resume(c);
    ASSERT_EQ(conn_delay(c, 200, 0), 0);   /* the last one set counts */
    conn_feed_reset(c);
    ASSERT_EQ(conn_get_shaping(c, &sh), 1);  /* after the close too */
    ASSERT_UEQ(sh.delay_ms, 200);
    ASSERT_UEQ(sh.jitter_ms, 0);
    ASSERT_UEQ(sh.rate, 4096);
    ASSERT_UEQ(sh.slice_size, 10);
    ASSERT_UEQ(sh.slice_variation, 2);
    ASSERT_UEQ(sh.slice_gap_ms, 20);
    ASSERT_UEQ(sh.close_after_bytes, 7);
    ASSERT_UEQ(sh.close_after_ms, 3000);
    ASSERT_UEQ(sh.reset_after_ms, 5000);
    ASSERT_EQ(sh.stalled, 1);
    fixture_end(&fx);
}
