/* test_addr.c -- listen address parsing: what is accepted and what not. */
#include "addr.h"
#include "cases.h"
#include "err.h"
#include "test.h"

void test_addr_good(void)
{
    static const struct {
        const char *spec, *host;
        int port;
    } good[] = {
        { "127.0.0.1:7007", "127.0.0.1", 7007 },
        { "0.0.0.0:0", "0.0.0.0", 0 },
        { "255.255.255.255:65535", "255.255.255.255", 65535 },
        { "[::1]:0", "::1", 0 },
        { "[::]:80", "::", 80 },
        { ":9", "127.0.0.1", 9 },
        { "7007", "127.0.0.1", 7007 },
        { "0", "127.0.0.1", 0 },
        { "[1:2:3:4:5:6:7:8]:1", "1:2:3:4:5:6:7:8", 1 },
        { "[fe80::1:abcd]:443", "fe80::1:abcd", 443 },
        { "[FFFF::]:2", "FFFF::", 2 },
        { "[1::]:3", "1::", 3 },
        { "[1:2:3:4:5:6:7::]:4", "1:2:3:4:5:6:7::", 4 },
        { "[::2:3:4:5:6:7:8]:5", "::2:3:4:5:6:7:8", 5 },
        { "[::ffff:192.0.2.1]:6", "::ffff:192.0.2.1", 6 },
        { "[1:2:3:4:5:6:1.2.3.4]:7", "1:2:3:4:5:6:1.2.3.4", 7 },
        { "[::1.2.3.4]:8", "::1.2.3.4", 8 },
        { "1.2.3.4:00080", "1.2.3.4", 80 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char host[ADDR_HOST_MAX], err[128] = "";
        int port = -1;
        int rc = addr_parse(good[i].spec, host, sizeof host, &port, err,
                            sizeof err);
        if (rc != 0)
            TEST_FAIL("'%s' refused: %s", good[i].spec, err);
        ASSERT_STR_EQ(host, good[i].host);
        ASSERT_EQ(port, good[i].port);
    }
}

void test_addr_bad(void)
{
    static const char *const bad[] = {
        "",
        "1.2.3.4:65536",
        "1.2.3.4:99999",
        "1.2.3.4:123456",
        "1.2.3:80",
        "1.2.3.4.5:80",
        "256.0.0.1:80",
        "01.2.3.4:80",      /* octal to some resolvers */
        "1..2.3:80",
        "1.2.3.4:",
        "1.2.3.4",
        "1.2.3.4:-1",
        "1.2.3.4:+80",
        "1.2.3.4: 80",
        " 1.2.3.4:80",
        "1.2.3.4:80 ",
        "1.2.3.4:0x50",
        "[::1:80",
        "[::1]",
        "[::1]80",
        "[::1]:",
        "[]:80",
        "[1.2.3.4]:80",     /* brackets are for IPv6 */
        "[:::]:80",
        "[1:::2]:80",
        "[1::2::3]:80",
        "[12345::]:80",
        "[:1]:80",
        "[1:]:80",
        "[1:2:3:4:5:6:7]:80",
        "[1:2:3:4:5:6:7:8:9]:80",
        "[1:2:3:4:5:6:7:8::]:80",
        "[1:2:3:4:5:6:7:1.2.3.4]:80",
        "[::1.2.3]:80",
        "[1.2.3.4::]:80",
        "[fe80::1%eth0]:80", /* zone ids are not supported */
        "[g::1]:80",
        "host:80",
        "localhost:80",
        "::1:80",           /* ambiguous: where does the address end? */
        "::",
        ":",
        "x",
        "80x",
        "-1",
        "65536",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char host[ADDR_HOST_MAX] = "untouched", err[128] = "";
        int port = -1;
        int rc = addr_parse(bad[i], host, sizeof host, &port, err,
                            sizeof err);
        if (rc != ERR_EINVAL)
            TEST_FAIL("'%s' accepted as host '%s' port %d", bad[i], host,
                      port);
        if (err[0] == '\0')
            TEST_FAIL("'%s' refused without a reason", bad[i]);
    }
    /* The reason for an unbracketed IPv6 address says what to do. */
    char host[ADDR_HOST_MAX], err[128];
    int port;
    ASSERT_EQ(addr_parse("::1:80", host, sizeof host, &port, err,
                         sizeof err), ERR_EINVAL);
    ASSERT(strstr(err, "brackets") != NULL);
    /* A NULL err is allowed. */
    ASSERT_EQ(addr_parse("nope", host, sizeof host, &port, NULL, 0), ERR_EINVAL);
}

void test_addr_small_buffer(void)
{
    char host[10], err[128];
    int port;
    ASSERT_EQ(addr_parse("1.2.3.4:1", host, sizeof host, &port, err,
                         sizeof err), 0);
    ASSERT_STR_EQ(host, "1.2.3.4");
    ASSERT_EQ(addr_parse("[1:2:3:4:5:6:7:8]:1", host, sizeof host, &port,
                         err, sizeof err), ERR_EINVAL);
    /* The error text is cut to fit, and always terminated. */
    char tiny[8];
    ASSERT_EQ(addr_parse("bad", host, sizeof host, &port, tiny,
                         sizeof tiny), ERR_EINVAL);
    ASSERT_LT(strlen(tiny), sizeof tiny);
}
