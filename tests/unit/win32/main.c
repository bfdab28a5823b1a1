/* main.c -- unit_win32: the Winsock traps, checked through net.h,
 * poller.h and signals.h.
 *
 * Built only for Windows (run under Wine in CI). The peer side of each
 * connection is plain blocking Winsock, so what is under test is only
 * net_win32.c, poll_wsapoll.c and signals_win32.c. Everything talks to
 * 127.0.0.1. Nothing here depends on the Winsock edge cases where Wine and
 * Windows differ (an RST read as end-of-stream, WSAPoll's count).
 *
 * Those three files are compiled into this runner (each included by the
 * test file of its own: test_net.c, test_poll.c, test_signals.c) rather
 * than taken from ricochet_os, each with a few of the calls it makes seen
 * through a thin layer of the test file's: a case can then count WSAPoll
 * calls instead of guessing them from timings, make a call fail the way
 * an old or broken Windows would (which no socket can be made to do), and
 * hold the console handler in the middle of its send. Everything else
 * they call is the real thing. */
#include "win32.h"

static const test_case cases[] = {
    { "win32_wakeup_pair", test_wakeup_pair },
    { "win32_listen_exclusive", test_listen_exclusive },
    { "win32_listen_ipv6_name", test_listen_ipv6_name },
    { "win32_accept_nonblocking", test_accept_nonblocking },
    { "win32_shutdown_send", test_shutdown_send },
    { "win32_abort", test_abort },
    { "win32_poller_empty_timeout", test_poller_empty_timeout },
    { "win32_poller_many", test_poller_many },
    { "win32_poller_hangup", test_poller_hangup },
    { "win32_poller_hangup_blocked", test_poller_hangup_blocked },
    { "win32_poller_keeps_results", test_poller_keeps_results },
    { "win32_poller_error", test_poller_error },
    { "win32_no_inherit", test_no_inherit },
    { "win32_errors", test_errors },
    { "win32_signals", test_signals },
    { "win32_signals_teardown", test_signals_teardown },
    { NULL, NULL }
};

int main(int argc, char **argv)
{
    return test_main(cases, argc, argv);
}

