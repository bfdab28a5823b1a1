/* test_version.c -- the Lua releases --version names: the headers' and
 * the running library's, read from its lua_ident. */
#include <string.h>

#include "cases.h"
#include "policy.h"
#include "test.h"

/* "Lua 5.4." and digits, nothing after: no "Copyright", no spaces. */
static void assert_release(const char *release)
{
    ASSERT(strncmp(release, "Lua 5.4.", 8) == 0);
    ASSERT(release[8] != '\0');
    for (const char *c = release + 8; *c; c++)
        ASSERT(*c >= '0' && *c <= '9');
}

void test_policy_lua_release_shape(void)
{
    assert_release(policy_lua_release());
    assert_release(policy_lua_running());
    /* a static string, the same each call */
    ASSERT_STR_EQ(policy_lua_running(), policy_lua_running());
}
