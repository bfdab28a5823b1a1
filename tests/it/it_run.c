/* it_run.c -- ricochet run to completion, stdout and stderr kept. */
#include "it_run.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "it_clock.h"
#include "it_fd.h"
#include "it_server.h"
#include "it_text.h"
#include "test.h"

void it_run_capture(it_run *r, const char *const *args)
{
    it_server *s = it_server_spawn(args);
    int64_t deadline = it_clock_now_ms() + IT_WAIT_MS;
    size_t cap = 4096, len = 0, errlen;
    char *out = malloc(cap);

    ASSERT(out != NULL);
    memset(r, 0, sizeof *r);
    for (int i = 0; i < 100000; i++) {
        if (len + 1 == cap) {
            cap *= 2;
            out = realloc(out, cap);
            ASSERT(out != NULL);
        }
        ssize_t got = read(s->out_fd, out + len, cap - 1 - len);
        if (got > 0) {
            len += (size_t)got;
            out[len] = '\0';
            /* a readiness line (not prose that mentions one) */
            if (strncmp(out, "listening on ", 13) == 0 ||
                strstr(out, "\nlistening on ") != NULL) {
                r->listened = 1;
                break;
            }
            continue;
        }
        if (got == 0)
            break;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            break;
        if (it_clock_left_ms(deadline) == 0)
            break;
        it_fd_poll(s->out_fd, POLLIN, it_clock_left_ms(deadline));
    }
    out[len] = '\0';
    /* stdout is closed: the process is on its way out (or a child of it
     * still holds the pipe, e.g. under wine): wait, bounded. */
    if (r->listened ||
        !it_server_wait_exit(s, it_clock_left_ms(deadline) + 100)) {
        kill(s->pid, SIGKILL);
        it_server_wait_exit(s, IT_WAIT_MS);
    }
    r->code = -1;
    if (s->reaped && s->status != -1) {
        if (WIFEXITED(s->status))
            r->code = WEXITSTATUS(s->status);
        else if (WIFSIGNALED(s->status))
            r->sig = WTERMSIG(s->status);
    }
    it_text_strip_cr(out);
    r->out = out;
    it_fd_read_all(s->log_fd, &r->err, &errlen);
    it_text_strip_cr(r->err);
    /* everything is copied out: release the slot */
    if (s->reaped)
        it_server_release(s);
}

void it_run_free(it_run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

static void print_run(const it_run *r)
{
    fprintf(stderr, "exit code %d, signal %d, listened %d\n---- stdout ----\n"
            "%s---- stderr ----\n%s---- end ----\n", r->code, r->sig,
            r->listened, r->out, r->err);
}

void it_run_assert_error(const it_run *r, int code, const char *needle)
{
    const char *line = r->err;
    int found = 0;
    if (r->code != code || r->out[0] != '\0')
        goto fail;
    /* a line starting "ricochet: " that contains the needle */
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (n >= 10 && strncmp(line, "ricochet: ", 10) == 0 &&
            (needle == NULL || it_text_find(line, n, needle, strlen(needle))))
            found = 1;
        line = nl ? nl + 1 : NULL;
    }
    if (found)
        return;
fail:
    print_run(r);
    TEST_FAIL("expected exit code %d, empty stdout and a stderr line "
              "\"ricochet: ...%s...\"", code, needle ? needle : "");
}
