/* it_log.c -- reading a server's log and counting its entries. */
#include "it_log.h"

#include <time.h>

#include "it_clock.h"
#include "it_fd.h"
#include "it_text.h"
#include "test.h"

#define LOG_DUMP_TAIL 12000

char *it_log_read(const it_server *s)
{
    char *text;
    size_t len;
    it_fd_read_all(s->log_fd, &text, &len);
    it_text_strip_cr(text);
    return text;
}

int it_log_wait(const it_server *s, const char *needle, int timeout_ms)
{
    int64_t deadline = it_clock_now_us() + (int64_t)timeout_ms * 1000;
    for (;;) {
        char *text = it_log_read(s);
        int found = strstr(text, needle) != NULL;
        free(text);
        if (found)
            return 1;
        if (it_clock_now_us() >= deadline)
            return 0;
        /* the log is a file: there is nothing to block on but time */
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

int it_log_wait_count(const it_server *s, const char *level,
                      const char *needle, int count, int timeout_ms)
{
    int64_t deadline = it_clock_now_us() + (int64_t)timeout_ms * 1000;
    for (;;) {
        char *text = it_log_read(s);
        int seen = it_log_count(text, level, needle, NULL);
        free(text);
        if (seen >= count || it_clock_now_us() >= deadline)
            return seen;
        /* the log is a file: there is nothing to block on but time */
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

void it_log_dump(const it_server *s)
{
    char *text;
    size_t len;
    if (s->log_fd < 0)
        return;
    it_fd_read_all(s->log_fd, &text, &len);
    fprintf(stderr, "---- stderr of server pid %d (%zu bytes%s) ----\n",
            (int)s->pid, len, len > LOG_DUMP_TAIL ? ", tail" : "");
    fputs(len > LOG_DUMP_TAIL ? text + len - LOG_DUMP_TAIL : text, stderr);
    if (len && text[len - 1] != '\n')
        fputc('\n', stderr);
    fprintf(stderr, "---- end of stderr of server pid %d ----\n", (int)s->pid);
    free(text);
}

/* An entry starts at a line whose first word is a timestamp (a digit
 * first); continuation lines (tracebacks) belong to the entry above. */
static int starts_entry(const char *line)
{
    return line[0] >= '0' && line[0] <= '9';
}

static int entry_level_is(const char *entry, const char *level)
{
    const char *p = strchr(entry, ' ');
    size_t n;
    if (level == NULL)
        return 1;
    n = strlen(level);
    if (p == NULL)
        return 0;
    while (*p == ' ')
        p++;
    return strncmp(p, level, n) == 0 && (p[n] == ' ' || p[n] == '\n' ||
                                         p[n] == '\0' || p[n] == ':');
}

static int contains_word(const char *hay, size_t len, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = hay; p && p + wl <= hay + len;) {
        p = it_text_find(p, (size_t)(hay + len - p), word, wl);
        if (p == NULL)
            return 0;
        if (p + wl == hay + len || !(p[wl] >= '0' && p[wl] <= '9'))
            return 1;
        p++;
    }
    return 0;
}

static int count_entries(const char *log, const char *level,
                         const char *needle1, int word, const char *needle2)
{
    int count = 0;
    const char *p = log;
    while (*p) {
        const char *start = p, *end;
        /* skip to the next entry start */
        if (!starts_entry(p)) {
            const char *nl = strchr(p, '\n');
            if (nl == NULL)
                break;
            p = nl + 1;
            continue;
        }
        end = strchr(start, '\n');
        while (end != NULL && end[1] != '\0' && !starts_entry(end + 1))
            end = strchr(end + 1, '\n');
        if (end == NULL)
            end = start + strlen(start);
        size_t len = (size_t)(end - start);
        int ok = level == NULL || entry_level_is(start, level);
        if (ok && needle1)
            ok = word ? contains_word(start, len, needle1)
                      : it_text_find(start, len, needle1,
                                     strlen(needle1)) != NULL;
        if (ok && needle2)
            ok = it_text_find(start, len, needle2, strlen(needle2)) != NULL;
        count += ok;
        p = *end ? end + 1 : end;
    }
    return count;
}

int it_log_count(const char *log, const char *level, const char *needle1,
                 const char *needle2)
{
    return count_entries(log, level, needle1, 0, needle2);
}

int it_log_count_word(const char *log, const char *level, const char *word,
                      const char *needle2)
{
    return count_entries(log, level, word, 1, needle2);
}
