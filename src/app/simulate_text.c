/* simulate_text.c -- --simulate's words: the event log's lines, the
 * transcript's strings and words, and the failures' messages (to stderr,
 * or kept for a batch's summary line). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "hex.h"
#include "quote.h"
#include "simulate_int.h"

#define SHOW_MAX 1024 /* bytes of one chunk printed; the rest is counted */

static void put_quoted(FILE *f, const char *data, size_t len)
{
    size_t shown = len < SHOW_MAX ? len : SHOW_MAX;
    char esc[QUOTE_BYTE_MAX];
    fputc('"', f);
    for (size_t i = 0; i < shown; i++) {
        quote_byte((unsigned char)data[i], esc);
        fputs(esc, f);
    }
    fputc('"', f);
    if (shown < len)
        fprintf(f, " ... (%zu more bytes)", len - shown);
}

/* "  TIME ms  " and, for a named connection, "NAME: ". */
static void stamp(const sim_conn *sc)
{
    fprintf(sc->sm->log, "%6" PRIu64 " ms  ", loop_now(sc->sm->loop));
    if (sc->name[0] != '\0')
        fprintf(sc->sm->log, "%s: ", sc->name);
}

void sim_say(const sim_conn *sc, const char *fmt, ...)
{
    FILE *log = sc->sm->log;
    if (log == NULL)
        return;
    va_list ap;
    stamp(sc);
    va_start(ap, fmt);
    vfprintf(log, fmt, ap);
    va_end(ap);
    fputc('\n', log);
    fflush(log);
}

void sim_say_bytes(const sim_conn *sc, const char *who, const char *data,
                   size_t len)
{
    FILE *log = sc->sm->log;
    if (log == NULL)
        return;
    stamp(sc);
    fprintf(log, "%s %zu byte%s ", who, len, len == 1 ? "" : "s");
    put_quoted(log, data, len);
    fputc('\n', log);
    fflush(log);
}

void sim_text_add(sim_text *t, const char *fmt, ...)
{
    size_t room = sizeof t->buf - t->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n < room ? (size_t)n : room - 1;
}

void sim_text_quoted(sim_text *t, const char *data, size_t len)
{
    size_t shown = len < SHOW_MAX ? len : SHOW_MAX;
    char esc[QUOTE_BYTE_MAX];
    sim_text_add(t, "\"");
    for (size_t i = 0; i < shown; i++) {
        quote_byte((unsigned char)data[i], esc);
        sim_text_add(t, "%s", esc);
    }
    sim_text_add(t, "\"");
    if (shown < len)
        sim_text_add(t, " ... (%zu more bytes)", len - shown);
}

void sim_report(const sim_reader *r, int tool, const char *text)
{
    if (r->failure != NULL && r->failure[0] == '\0')
        snprintf(r->failure, r->failure_cap, "%s", text);
    if (!r->batch)
        fprintf(stderr, "%s%s\n", tool ? "ricochet: " : "", text);
}

int sim_fail(const sim_reader *r, const char *msg, const char *word)
{
    sim_text t = {.len = 0};
    sim_text_add(&t, "%s:%d: %s%s%s", r->path, r->line, msg,
                 word ? " " : "", word ? word : "");
    sim_report(r, 1, t.buf);
    return ERR_EINVAL;
}

/* A decoded string is never longer than its text. */
int sim_parse_quoted(const sim_reader *r, const char **p, char *out,
                     size_t *len)
{
    const char *s = *p + 1;
    size_t n = 0;
    for (;; s++) {
        if (*s == '\0' || *s == '\n')
            return sim_fail(r, "unfinished string", NULL);
        if (*s == '"')
            break;
        if (*s != '\\') {
            out[n++] = *s;
            continue;
        }
        s++;
        switch (*s) {
        case 'r': out[n++] = '\r'; break;
        case 'n': out[n++] = '\n'; break;
        case 't': out[n++] = '\t'; break;
        case '0': out[n++] = '\0'; break;
        case '\\': out[n++] = '\\'; break;
        case '"': out[n++] = '"'; break;
        case 'x': {
            int hi = hex_digit(s[1]), lo = hi < 0 ? -1 : hex_digit(s[2]);
            if (lo < 0)
                return sim_fail(r, "\\x needs two hex digits", NULL);
            out[n++] = (char)(hi * 16 + lo);
            s += 2;
            break;
        }
        default:
            return sim_fail(r, "unknown escape in string (use \\r \\n "
                            "\\t \\0 \\\\ \\\" \\xHH)", NULL);
        }
    }
    *p = s + 1;
    *len = n;
    return 0;
}

const char *sim_skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

const char *sim_word(const char *p, char *word, size_t cap)
{
    size_t n = 0;
    while (p[n] && p[n] != ' ' && p[n] != '\t' && p[n] != '\r' &&
           p[n] != '\n' && n < cap - 1) {
        word[n] = p[n];
        n++;
    }
    word[n] = '\0';
    return p + n;
}

static int name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
}

const char *sim_prefix(const char *line, char *name)
{
    const char *p = sim_skip_space(line);
    size_t n = 0;
    name[0] = '\0';
    while (name_char(p[n]))
        n++;
    if (p[n] != ':') {
        /* a ':' later in the first word: a name gone wrong */
        for (const char *q = p + n; *q && *q != ' ' && *q != '\t' &&
             *q != '\r' && *q != '\n' && *q != '"' && *q != '#'; q++)
            if (*q == ':')
                return NULL;
        return line;
    }
    if (n == 0 || n > SIM_NAME_MAX)
        return NULL;
    memcpy(name, p, n);
    name[n] = '\0';
    return sim_skip_space(p + n + 1);
}
