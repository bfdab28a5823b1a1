/* test_err.c -- the one error space: every code has a text, OS errors
 * translate once, and the text of an untranslated one is per thread. */
#include "cases.h"
#include "err.h"
#include "test.h"
#include "thread.h"

#ifndef _WIN32
#include <errno.h>
#endif

void test_err_strerror(void)
{
    for (int err = ERR_OK; err >= ERR_EOTHER; err--) {
        const char *text = err_strerror(err);
        ASSERT(text != NULL && text[0] != '\0');
    }
    ASSERT_STR_EQ(err_strerror(-1000), "unknown error");
#ifndef _WIN32
    ASSERT_EQ(err_from_os(0), ERR_OK);
    ASSERT_EQ(err_from_os(EAGAIN), ERR_EAGAIN);
    ASSERT_EQ(err_from_os(EPIPE), ERR_ERESET);
    ASSERT_EQ(err_from_os(EMFILE), ERR_EMFILE);
    /* No code of our own: the OS's text is kept for err_strerror. */
    ASSERT_EQ(err_from_os(ELOOP), ERR_EOTHER);
    ASSERT_STR_EQ(err_strerror(ERR_EOTHER), strerror(ELOOP));
#endif
}

#ifndef _WIN32
/* What one thread saw: the text err_strerror gave it for ERR_EOTHER,
 * copied before the thread ends (the buffer is the thread's own). */
typedef struct thread_seen {
    int os_error;       /* set before reading; 0: set none */
    int code;
    char text[128];
} thread_seen;

static void record_other(thread_seen *seen)
{
    seen->code = seen->os_error ? err_from_os(seen->os_error) : ERR_OK;
    snprintf(seen->text, sizeof seen->text, "%s",
             err_strerror(ERR_EOTHER));
}

static void thread_body(void *arg)
{
    record_other(arg);
}
#endif

/* Workers are threads: one thread's untranslated error must not change
 * the text another reads. The main thread keeps ELOOP while a second
 * thread sets and reads EXDEV, and a third, which set none, reads the
 * "unknown error" of a fresh thread. */
void test_err_strerror_per_thread(void)
{
#ifndef _WIN32
    char expect_loop[128], expect_xdev[128];
    snprintf(expect_loop, sizeof expect_loop, "%s", strerror(ELOOP));
    snprintf(expect_xdev, sizeof expect_xdev, "%s", strerror(EXDEV));
    ASSERT(strcmp(expect_loop, expect_xdev) != 0);

    thread_seen mine = { ELOOP, 0, "" };
    record_other(&mine);
    ASSERT_EQ(mine.code, ERR_EOTHER);
    ASSERT_STR_EQ(mine.text, expect_loop);
    /* valid until this thread's next call, whatever other threads do */
    const char *kept = err_strerror(ERR_EOTHER);

    thread_seen other = { EXDEV, 0, "" }, fresh = { 0, 0, "" };
    thread *t = NULL;
    ASSERT_EQ(thread_start(&t, thread_body, &other), 0);
    ASSERT(t != NULL);
    thread_join(t);
    ASSERT_EQ(thread_start(&t, thread_body, &fresh), 0);
    ASSERT(t != NULL);
    thread_join(t);

    ASSERT_EQ(other.code, ERR_EOTHER);
    ASSERT_STR_EQ(other.text, expect_xdev);
    ASSERT_EQ(fresh.code, ERR_OK);
    ASSERT_STR_EQ(fresh.text, "unknown error");
    /* The main thread's text was not overwritten, and its last error is
     * still its own. */
    ASSERT_STR_EQ(kept, expect_loop);
    ASSERT_STR_EQ(err_strerror(ERR_EOTHER), expect_loop);
#endif
}
