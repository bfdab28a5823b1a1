/* test_err.c -- the one error space: every code has a text, OS errors
 * translate once. */
#include "cases.h"
#include "err.h"
#include "test.h"

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

