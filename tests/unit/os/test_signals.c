/* test_signals.c -- stop and reload requests become counts and a wake-up
 * byte. POSIX signals only: on Windows the requests come from the console
 * handler, which a test cannot raise, so the case passes trivially there. */
#include "cases.h"
#include "signals.h"
#include "test.h"

#ifndef _WIN32
#include <signal.h>
#endif

void test_signals_take(void)
{
#ifndef _WIN32
    net_socket r, w;
    char bytes[16];
    int stops = -1, reloads = -1;

    ASSERT_EQ(net_wakeup_pair(&r, &w), 0);
    ASSERT_EQ(signals_install(w), 0);
    signals_take(&stops, &reloads);
    ASSERT_EQ(stops, 0);
    ASSERT_EQ(reloads, 0);

    ASSERT_EQ(raise(SIGHUP), 0);
    ASSERT_EQ(raise(SIGTERM), 0);
    ASSERT_EQ(raise(SIGINT), 0);
    signals_take(&stops, &reloads);
    ASSERT_EQ(stops, 2);
    ASSERT_EQ(reloads, 1);
    /* Taken means cleared. */
    signals_take(&stops, &reloads);
    ASSERT_EQ(stops, 0);
    ASSERT_EQ(reloads, 0);
    /* One byte per signal woke the loop. */
    ASSERT_EQ(net_recv(r, bytes, sizeof bytes), 3);
    ASSERT_EQ(net_recv(r, bytes, sizeof bytes), ERR_EAGAIN);

    /* SIGUSR1 asks for the metrics: neither a stop nor a reload */
    ASSERT_EQ(signals_take_dumps(), 0);
    ASSERT_EQ(raise(SIGUSR1), 0);
    ASSERT_EQ(raise(SIGUSR1), 0);
    signals_take(&stops, &reloads);
    ASSERT_EQ(stops, 0);
    ASSERT_EQ(reloads, 0);
    ASSERT_EQ(signals_take_dumps(), 2);
    ASSERT_EQ(signals_take_dumps(), 0);
    ASSERT_EQ(net_recv(r, bytes, sizeof bytes), 2);

    signals_restore();
    ASSERT_EQ(net_close(r), 0);
    ASSERT_EQ(net_close(w), 0);
#endif
}
