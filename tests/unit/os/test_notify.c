/* test_notify.c -- notify.h: $NOTIFY_SOCKET read once and taken out of
 * the environment, a path or (Linux) an "@abstract" address, one
 * datagram per send, bad addresses refused. Windows: never a socket. */
#include "cases.h"
#include "err.h"
#include "notify.h"
#include "test.h"

#ifndef _WIN32
#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A datagram socket bound at path (a NUL first byte: abstract, of len
 * bytes in all). */
static int bound(const char *path, size_t len)
{
    struct sockaddr_un addr;
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    ASSERT(fd >= 0);
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    ASSERT(len < sizeof addr.sun_path);
    memcpy(addr.sun_path, path, len);
    if (bind(fd, (struct sockaddr *)&addr,
             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) != 0)
        TEST_FAIL("bind: %s", strerror(errno));
    return fd;
}

/* Open from $NOTIFY_SOCKET=value, send text, and read it at fd. */
static void round_trip(const char *value, int fd)
{
    char addr[128], got[64];
    notify *n;
    ASSERT_EQ(setenv("NOTIFY_SOCKET", value, 1), 0);
    ASSERT_EQ(notify_open(&n, addr, sizeof addr), 0);
    ASSERT(n != NULL);
    ASSERT_STR_EQ(addr, value);
    ASSERT(getenv("NOTIFY_SOCKET") == NULL);
    ASSERT_EQ(notify_send(n, "READY=1\nSTATUS=x", 16), 0);
    ASSERT_EQ(recv(fd, got, sizeof got, 0), 16);
    ASSERT(memcmp(got, "READY=1\nSTATUS=x", 16) == 0);
    notify_close(n);
}
#endif

void test_notify_socket(void)
{
#ifndef _WIN32
    char path[64];
    snprintf(path, sizeof path, "unit_os_notify_%ld.sock", (long)getpid());
    unlink(path);
    int fd = bound(path, strlen(path) + 1);
    char cwd[512], full[600];
    ASSERT(getcwd(cwd, sizeof cwd) != NULL);
    snprintf(full, sizeof full, "%s/%s", cwd, path);
    round_trip(full, fd);
    close(fd);
    unlink(path);
#ifdef __linux__
    char abstract[64], value[64];
    int len = snprintf(abstract, sizeof abstract, "%cricochet-unit-%ld",
                       '\0', (long)getpid());
    fd = bound(abstract, (size_t)len);
    snprintf(value, sizeof value, "@%s", abstract + 1);
    round_trip(value, fd);
    close(fd);
#endif
#endif
}

void test_notify_bad(void)
{
    char addr[128];
    notify *n = (notify *)&addr;
#ifndef _WIN32
    char longer[200];
    const char *const bad[] = {"relative.sock", "./x", longer};
    memset(longer, 'a', sizeof longer - 1);
    longer[0] = '/';
    longer[sizeof longer - 1] = '\0';
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ASSERT_EQ(setenv("NOTIFY_SOCKET", bad[i], 1), 0);
        ASSERT_EQ(notify_open(&n, addr, sizeof addr), ERR_EINVAL);
        ASSERT(n == NULL);
        ASSERT(getenv("NOTIFY_SOCKET") == NULL);
    }
    /* unset or empty: nobody to tell, not an error */
    ASSERT_EQ(setenv("NOTIFY_SOCKET", "", 1), 0);
    ASSERT_EQ(notify_open(&n, addr, sizeof addr), 0);
    ASSERT(n == NULL);
#endif
    ASSERT_EQ(notify_open(&n, addr, sizeof addr), 0);
    ASSERT(n == NULL);
    notify_close(NULL);
}
