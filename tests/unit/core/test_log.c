/* test_log.c -- level names and filtering; the line format itself is
 * checked by the black-box tests, which read the server's stderr. */
#include "cases.h"
#include "err.h"
#include "log.h"
#include "test.h"

void test_log_levels(void)
{
    static const char *const names[] = {
        "error", "warn", "info", "debug", "trace"
    };
    ASSERT_EQ(log_get_level(), LOG_INFO);
    for (int i = 0; i <= (int)LOG_TRACE; i++) {
        log_level level = LOG_ERROR;
        ASSERT_EQ(log_parse_level(names[i], &level), 0);
        ASSERT_EQ(level, i);
        ASSERT_STR_EQ(log_level_name(level), names[i]);
    }
    log_level untouched = LOG_WARN;
    ASSERT_EQ(log_parse_level("warning", &untouched), ERR_EINVAL);
    ASSERT_EQ(log_parse_level("", &untouched), ERR_EINVAL);
    ASSERT_EQ(log_parse_level("INFO", &untouched), ERR_EINVAL);
    ASSERT_EQ(untouched, LOG_WARN);

    log_set_level(LOG_ERROR);
    ASSERT_EQ(log_get_level(), LOG_ERROR);
    log_warn("this line must not appear");
    log_set_level(LOG_TRACE);
    ASSERT_EQ(log_get_level(), LOG_TRACE);
    log_set_level(LOG_INFO);
}

/* Longer than the stack buffer: goes through the heap path whole. */
void test_log_long_line(void)
{
    char text[3001];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    log_info("long line: %s (end)", text);
    log_info("two lines\n  second line, then a trailing newline\n");
}
