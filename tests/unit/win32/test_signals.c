/* test_signals.c -- signals_win32.c, compiled in with its send
 * seen through one that can be held half-way: install and restore, and a
 * Ctrl-C racing the teardown. */
#include "win32.h" /* first: it sets up <windows.h> */

/* net_send, for signals_win32.c: a send that can be held half-way. */
static struct {
    volatile LONG sends;
    HANDLE entered; /* non-NULL: set on entry, then wait for release */
    HANDLE release;
} send_fake;

static long held_net_send(net_socket s, const void *buf, size_t len)
{
    InterlockedIncrement(&send_fake.sends);
    if (send_fake.entered != NULL) {
        SetEvent(send_fake.entered);
        WaitForSingleObject(send_fake.release, 5000);
    }
    return net_send(s, buf, len);
}

#define net_send held_net_send
#include "signals_win32.c"
#undef net_send



static DWORD WINAPI press_ctrl_c(void *unused)
{
    (void)unused;
    return (DWORD)console_handler(CTRL_C_EVENT);
}

static DWORD WINAPI restore_signals(void *unused)
{
    (void)unused;
    signals_restore();
    return 0;
}

/* A Ctrl-C racing the teardown: signals_restore waits for a handler in
 * the middle of its send, and once it has returned no handler sends, so
 * the caller may close the wake-up socket. */
void test_signals_teardown(void)
{
    net_socket r, w;
    HANDLE press, restore;
    int stops = -1, reloads = -1;
    char byte;

    start();
    ASSERT_EQ(net_wakeup_pair(&r, &w), ERR_OK);
    ASSERT_EQ(signals_install(w), ERR_OK);

    /* A Ctrl-C counts a stop and wakes the loop. */
    send_fake.sends = 0;
    ASSERT(console_handler(CTRL_C_EVENT));
    ASSERT_EQ(send_fake.sends, 1);
    signals_take(&stops, &reloads);
    ASSERT_EQ(stops, 1);
    ASSERT_EQ(reloads, 0);
    {
        poller *p = poller_create();
        poller_handle h = { 0 };
        h.sock = r;
        ASSERT_EQ(poller_set(p, &h, POLLER_READ), ERR_OK);
        ASSERT(wait_for(p, &h, 5000) & POLLER_READ);
        ASSERT_EQ(net_recv(r, &byte, 1), 1);
        ASSERT_EQ(byte, 's');
        ASSERT_EQ(poller_set(p, &h, 0), ERR_OK);
        poller_free(p);
    }

    /* A second one is held in its send while the teardown starts. */
    send_fake.entered = CreateEventW(NULL, TRUE, FALSE, NULL);
    send_fake.release = CreateEventW(NULL, TRUE, FALSE, NULL);
    ASSERT(send_fake.entered != NULL && send_fake.release != NULL);
    press = CreateThread(NULL, 0, press_ctrl_c, NULL, 0, NULL);
    ASSERT(press != NULL);
    ASSERT_EQ(WaitForSingleObject(send_fake.entered, 5000), WAIT_OBJECT_0);
    restore = CreateThread(NULL, 0, restore_signals, NULL, 0, NULL);
    ASSERT(restore != NULL);
    ASSERT_EQ(WaitForSingleObject(restore, 200), WAIT_TIMEOUT);
    SetEvent(send_fake.release);
    ASSERT_EQ(WaitForSingleObject(restore, 5000), WAIT_OBJECT_0);
    ASSERT_EQ(WaitForSingleObject(press, 5000), WAIT_OBJECT_0);
    CloseHandle(press);
    CloseHandle(restore);
    CloseHandle(send_fake.entered);
    CloseHandle(send_fake.release);
    send_fake.entered = send_fake.release = NULL;
    ASSERT_EQ(send_fake.sends, 2);

    /* Torn down: a late Ctrl-C is still taken, and sends nothing. */
    ASSERT_EQ(net_close(w), ERR_OK);
    ASSERT(console_handler(CTRL_C_EVENT));
    ASSERT_EQ(send_fake.sends, 2);
    signals_take(&stops, &reloads);
    ASSERT_EQ(stops, 2);
    ASSERT_EQ(net_close(r), ERR_OK);
    net_cleanup();
}
/* The console handler is installed and removed; with no event, no stop. */
void test_signals(void)
{
    net_socket r, w;
    int stops = -1, reloads = -1;

    start();
    ASSERT_EQ(net_wakeup_pair(&r, &w), ERR_OK);
    ASSERT_EQ(signals_install(w), ERR_OK);
    signals_take(&stops, &reloads);
    ASSERT_EQ(stops, 0);
    ASSERT_EQ(reloads, 0);
    signals_restore();
    net_close(r);
    net_close(w);
    net_cleanup();
}

