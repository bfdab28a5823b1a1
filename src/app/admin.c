/* admin.c -- the admin API on the controller's loop (see admin.h).
 *
 * A connection goes READ (a deadline for the whole request) -> one of
 * WORKERS (its request is with the workers), RELOAD (a load runs) ->
 * WRITE (the answer goes out, under the deadline again) -> LINGER (our
 * FIN is out: what the client still sends is read and dropped, so its
 * answer is not lost to a reset) -> DEAD (freed by admin_reap). */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "form.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "quote.h"

#define ADMIN_MAX_CONNS 16
#define ADMIN_BUSY_CONNS 4     /* more, answered 503 */
#define ADMIN_TIMEOUT_MS 5000  /* to send a request, and to read its answer */
#define ADMIN_LINGER_MS 1000
#define ADMIN_IN_MAX (HTTP_MAX_HEAD + HTTP_MAX_BODY)

enum phase { PH_READ, PH_WORKERS, PH_RELOAD, PH_WRITE, PH_LINGER, PH_DEAD };

typedef struct aconn aconn;

struct aconn {
    struct admin *a;
    loop_io io;
    timer deadline;
    enum phase phase;
    char in[ADMIN_IN_MAX];
    size_t in_len;
    http_request req;
    char *out;                /* the whole response */
    size_t out_len, out_sent;
    enum worker_ask_op op;    /* PH_WORKERS: what to ask */
    uint64_t id;
    args_set *pairs;          /* POST /args: the pairs posted */
    int load;                 /* PH_RELOAD: the load awaited */
    aconn *next;              /* all of them */
    aconn *queue_next;        /* waiting for the workers */
};

typedef struct admin {
    controller *ctl;
    loop_io listen;
    char name[80];            /* ADDR:PORT */
    int loopback;             /* on 127.x or ::1 */
    int nconns;
    aconn *conns;
    aconn *queue, *queue_tail; /* PH_WORKERS, asked in turn */
    aconn *asking;            /* the one the workers have; NULL */
    int unanswered;
    worker_ask *asks;         /* one per worker */
    args_set *sets;           /* every set made; sets->kv is current */
} admin;

static void conn_end(aconn *c);
static void ask_next(admin *a);

/* --- answers ------------------------------------------------------------- */

static void respond(aconn *c, int status, const char *type,
                    const char *extra, const char *body, size_t len)
{
    loop *l = c->a->ctl->loop;
    char head[512];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n"
                     "Content-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\n%sConnection: close\r\n\r\n",
                     status, http_status_text(status), type, len, extra);
    c->out = malloc((size_t)n + len);
    if (c->out == NULL) {
        conn_end(c);
        return;
    }
    memcpy(c->out, head, (size_t)n);
    memcpy(c->out + n, body, len);
    c->out_len = (size_t)n + len;
    c->out_sent = 0;
    c->phase = PH_WRITE;
    loop_timer_start(l, &c->deadline, ADMIN_TIMEOUT_MS);
    loop_io_set(l, &c->io, POLLER_WRITE);
}

static void respond_json(aconn *c, int status, json_buf *b)
{
    if (b->oom) {
        static const char oom[] = "{\"error\":\"out of memory\"}\n";
        respond(c, 500, "application/json", "", oom, sizeof oom - 1);
        return;
    }
    json_raw(b, "\n", 1);
    respond(c, status, "application/json", "", b->text, b->len);
    json_free(b);
}

/* {"error":"why"} with status. */
static void respond_error(aconn *c, int status, const char *why)
{
    json_buf b = {0};
    json_raw(&b, "{\"error\":", 9);
    json_str(&b, why);
    json_raw(&b, "}", 1);
    respond_json(c, status, &b);
}

static void json_hooks(json_buf *b, const char *hooks)
{
    json_raw(b, "[", 1);
    if (strcmp(hooks, "(none)") != 0) {
        const char *s = hooks;
        for (int first = 1; *s != '\0'; first = 0) {
            const char *end = strchr(s, ' ');
            size_t n = end ? (size_t)(end - s) : strlen(s);
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)n, s);
            json_printf(b, "%s", first ? "" : ",");
            json_str(b, name);
            s += n + (end != NULL);
        }
    }
    json_raw(b, "]", 1);
}

/* The current arguments as an object; a bare key is the flag "true". */
static void json_args(json_buf *b, char *const *kv, int n)
{
    json_raw(b, "{", 1);
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(kv[i], '=');
        char key[256];
        snprintf(key, sizeof key, "%.*s",
                 (int)(eq ? (size_t)(eq - kv[i]) : strlen(kv[i])), kv[i]);
        json_printf(b, "%s", i ? "," : "");
        json_str(b, key);
        json_raw(b, ":", 1);
        json_str(b, eq ? eq + 1 : "true");
    }
    json_raw(b, "}", 1);
}

static void script_fields(json_buf *b, controller *ctl)
{
    char when[64];
    quote_utc(ctl->loaded_s, ctl->loaded_ms, when, sizeof when);
    json_raw(b, "\"path\":", 7);
    json_str(b, ctl->workers[0].script);
    json_printf(b, ",\"version\":%lu,\"loaded_at\":", ctl->version);
    json_str(b, when);
    json_raw(b, ",\"hooks\":", 9);
    json_hooks(b, ctl->hooks);
}

static void get_script(aconn *c)
{
    controller *ctl = c->a->ctl;
    json_buf b = {0};
    json_raw(&b, "{", 1);
    script_fields(&b, ctl);
    json_raw(&b, ",\"args\":", 8);
    json_args(&b, ctl->args, ctl->nargs);
    json_raw(&b, "}", 1);
    respond_json(c, 200, &b);
}

static void get_metrics(aconn *c)
{
    char *text;
    size_t len;
    if (metrics_render(c->a->ctl, &text, &len) != 0) {
        respond_error(c, 500, "out of memory");
        return;
    }
    respond(c, 200, "text/plain; version=0.0.4", "", text, len);
    free(text);
}

/* --- asking the workers -------------------------------------------------- */

static void queue_ask(aconn *c, enum worker_ask_op op, uint64_t id)
{
    admin *a = c->a;
    c->phase = PH_WORKERS;
    c->op = op;
    c->id = id;
    loop_timer_stop(a->ctl->loop, &c->deadline);
    loop_io_set(a->ctl->loop, &c->io, 0);
    c->queue_next = NULL;
    if (a->queue_tail != NULL)
        a->queue_tail->queue_next = c;
    else
        a->queue = c;
    a->queue_tail = c;
    ask_next(a);
}

/* Post the first queued request to every worker. */
static void ask_next(admin *a)
{
    controller *ctl = a->ctl;
    if (a->asking != NULL || a->queue == NULL)
        return;
    aconn *c = a->queue;
    a->queue = c->queue_next;
    if (a->queue == NULL)
        a->queue_tail = NULL;
    a->asking = c;
    a->unanswered = ctl->nworkers;
    for (int k = 0; k < ctl->nworkers; k++) {
        worker_ask *w = &a->asks[k];
        memset(w, 0, sizeof *w);
        w->op = c->op;
        w->id = c->id;
        if (c->pairs != NULL) {
            w->args = c->pairs->kv;
            w->nargs = c->pairs->n;
        }
        worker_ask_post(&ctl->workers[k], w);
    }
}

static void answer_list(aconn *c)
{
    admin *a = c->a;
    json_buf b = {0};
    json_printf(&b, "{\"workers\":%d,\"connections\":[", a->ctl->nworkers);
    int first = 1;
    for (int k = 0; k < a->ctl->nworkers; k++) {
        worker_ask *w = &a->asks[k];
        if (w->result != 0)
            b.oom = 1;
        if (w->json == NULL || w->len == 0)
            continue;
        json_printf(&b, "%s", first ? "" : ",");
        json_raw(&b, w->json, w->len);
        first = 0;
    }
    json_raw(&b, "]}", 2);
    respond_json(c, 200, &b);
}

static void answer_close(aconn *c)
{
    admin *a = c->a;
    for (int k = 0; k < a->ctl->nworkers; k++) {
        if (a->asks[k].result == 1) {
            json_buf b = {0};
            json_printf(&b, "{\"ok\":true,\"id\":%llu,\"worker\":%d,"
                        "\"action\":\"%s\"}", (unsigned long long)c->id,
                        k + 1, c->op == WORKER_ASK_CLOSE ? "close" : "reset");
            respond_json(c, 200, &b);
            return;
        }
    }
    char why[64];
    snprintf(why, sizeof why, "no connection %llu",
             (unsigned long long)c->id);
    respond_error(c, 404, why);
}

static void answer_args(aconn *c)
{
    admin *a = c->a;
    controller *ctl = a->ctl;
    const char *err = NULL;
    int failed = 0;
    for (int k = 0; k < ctl->nworkers && err == NULL; k++)
        if (a->asks[k].result != 0) {
            err = a->asks[k].err;
            failed = k + 1;
        }
    /* a load that started before has the old ones: load again after it */
    if (err == NULL && ctl->reload != RELOAD_IDLE) {
        int load;
        (void)controller_reload(ctl, "POST /args during a reload", &load);
    }
    /* the next load gets the new pairs too, once every worker took them */
    args_set *set = err ? NULL : form_merge(ctl->args, ctl->nargs, c->pairs);
    if (err == NULL && set == NULL) {
        respond_error(c, 500, "out of memory");
        return;
    }
    if (set != NULL) {
        set->older = a->sets;
        a->sets = set;
        ctl->args = set->kv;
        ctl->nargs = set->n;
    }
    json_buf b = {0};
    if (err == NULL) {
        json_raw(&b, "{\"ok\":true", 10);
    } else {
        char why[600];
        if (ctl->nworkers > 1)
            snprintf(why, sizeof why, "worker %d: %s", failed, err);
        else
            snprintf(why, sizeof why, "%s", err);
        json_raw(&b, "{\"ok\":false,\"error\":", 20);
        json_str(&b, why);
    }
    json_raw(&b, ",\"args\":", 8);
    json_args(&b, ctl->args, ctl->nargs);
    json_raw(&b, "}", 1);
    respond_json(c, err == NULL ? 200 : 422, &b);
}

static void answer_reload(aconn *c)
{
    json_buf b = {0};
    json_raw(&b, "{\"ok\":true,", 11);
    script_fields(&b, c->a->ctl);
    json_raw(&b, "}", 1);
    respond_json(c, 200, &b);
}

void admin_answered(controller *ctl, int k)
{
    admin *a = ctl->admin;
    if (a == NULL || worker_answer(&ctl->workers[k]) == NULL ||
        a->asking == NULL || --a->unanswered > 0)
        return;
    aconn *c = a->asking;
    a->asking = NULL;
    switch (c->op) {
    case WORKER_ASK_LIST: answer_list(c); break;
    case WORKER_ASK_CLOSE:
    case WORKER_ASK_RESET: answer_close(c); break;
    case WORKER_ASK_ARGS: answer_args(c); break;
    case WORKER_ASK_SYNC: answer_reload(c); break;
    }
    for (int w = 0; w < ctl->nworkers; w++) {
        free(a->asks[w].json);
        a->asks[w].json = NULL;
    }
    ask_next(a);
}

void admin_reloaded(controller *ctl, int load, const char *err)
{
    admin *a = ctl->admin;
    if (a == NULL)
        return;
    for (aconn *c = a->conns; c != NULL; c = c->next) {
        if (c->phase != PH_RELOAD || c->load > load)
            continue;
        if (err != NULL) {
            json_buf b = {0};
            json_raw(&b, "{\"ok\":false,\"error\":", 20);
            json_str(&b, err);
            json_raw(&b, "}", 1);
            respond_json(c, 422, &b);
        } else {
            /* answered once every worker has taken the new script */
            queue_ask(c, WORKER_ASK_SYNC, 0);
        }
    }
}

static void post_reload(aconn *c)
{
    controller *ctl = c->a->ctl;
    if (ctl->stops > 0) {
        respond_error(c, 503, "stopping: not reloaded");
        return;
    }
    int rc = controller_reload(ctl, "POST /reload", &c->load);
    if (rc != 0) {
        char why[160];
        snprintf(why, sizeof why, "reload failed, keeping the running "
                 "script: cannot start a thread to load it: %s",
                 err_strerror(rc));
        respond_error(c, 500, why);
        return;
    }
    c->phase = PH_RELOAD;
    loop_timer_stop(ctl->loop, &c->deadline);
    loop_io_set(ctl->loop, &c->io, 0);
}

static void post_args(aconn *c)
{
    if (!c->req.has_length) {
        respond_error(c, 411, "POST /args needs a Content-Length");
        return;
    }
    const char *why;
    c->pairs = form_parse(c->req.body, c->req.content_length, &why);
    if (c->pairs == NULL) {
        respond_error(c, why ? 400 : 500, why ? why : "out of memory");
        return;
    }
    queue_ask(c, WORKER_ASK_ARGS, 0);
}

/* --- routing ------------------------------------------------------------- */

/* "/connections/ID/close": the id and the action, or 0. */
static int conn_action(const char *path, uint64_t *id,
                       enum worker_ask_op *op)
{
    static const char prefix[] = "/connections/";
    if (strncmp(path, prefix, sizeof prefix - 1) != 0)
        return 0;
    const char *s = path + sizeof prefix - 1;
    uint64_t n = 0;
    int digits = 0;
    for (; *s >= '0' && *s <= '9' && digits < 19; s++, digits++)
        n = n * 10 + (uint64_t)(*s - '0');
    if (digits == 0)
        return 0;
    if (strcmp(s, "/close") == 0)
        *op = WORKER_ASK_CLOSE;
    else if (strcmp(s, "/reset") == 0)
        *op = WORKER_ASK_RESET;
    else
        return 0;
    *id = n;
    return 1;
}

static void wrong_method(aconn *c, const char *path, const char *allow)
{
    char why[400], extra[32];
    snprintf(why, sizeof why, "%s %s: method not allowed (use %s)",
             c->req.method, path, allow);
    snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
    json_buf b = {0};
    json_raw(&b, "{\"error\":", 9);
    json_str(&b, why);
    json_raw(&b, "}\n", 2);
    if (b.oom) {
        respond_error(c, 500, "out of memory");
        return;
    }
    respond(c, 405, "application/json", extra, b.text, b.len);
    json_free(&b);
}

static void route(aconn *c)
{
    char path[HTTP_MAX_TARGET + 1];
    snprintf(path, sizeof path, "%s", c->req.target);
    char *query = strchr(path, '?');
    if (query != NULL)
        *query = '\0';
    int get = strcmp(c->req.method, "GET") == 0;
    int post = strcmp(c->req.method, "POST") == 0;
    uint64_t id;
    enum worker_ask_op op;
    if (c->a->ctl->stops > 0 && strcmp(path, "/metrics") != 0) {
        respond_error(c, 503, "stopping");
    } else if (strcmp(path, "/metrics") == 0) {
        if (get)
            get_metrics(c);
        else
            wrong_method(c, path, "GET");
    } else if (strcmp(path, "/script") == 0) {
        if (get)
            get_script(c);
        else
            wrong_method(c, path, "GET");
    } else if (strcmp(path, "/connections") == 0) {
        if (get)
            queue_ask(c, WORKER_ASK_LIST, 0);
        else
            wrong_method(c, path, "GET");
    } else if (strcmp(path, "/reload") == 0) {
        if (post)
            post_reload(c);
        else
            wrong_method(c, path, "POST");
    } else if (strcmp(path, "/args") == 0) {
        if (post)
            post_args(c);
        else
            wrong_method(c, path, "POST");
    } else if (conn_action(path, &id, &op)) {
        if (post)
            queue_ask(c, op, id);
        else
            wrong_method(c, path, "POST");
    } else {
        char why[300];
        snprintf(why, sizeof why, "no such path: %s", path);
        respond_error(c, 404, why);
    }
}

/* --- connections --------------------------------------------------------- */

static void conn_end(aconn *c)
{
    loop *l = c->a->ctl->loop;
    if (c->phase == PH_DEAD)
        return;
    loop_timer_stop(l, &c->deadline);
    loop_io_set(l, &c->io, 0);
    net_close(c->io.handle.sock);
    c->io.handle.sock = NET_INVALID;
    c->phase = PH_DEAD;
}

static void on_readable(aconn *c)
{
    if (c->phase == PH_LINGER) {
        char drop[512];
        long n = net_recv(c->io.handle.sock, drop, sizeof drop);
        if (n == 0 || (n < 0 && n != ERR_EAGAIN))
            conn_end(c);
        return;
    }
    long n = net_recv(c->io.handle.sock, c->in + c->in_len,
                      sizeof c->in - c->in_len);
    if (n == ERR_EAGAIN)
        return;
    if (n <= 0) { /* gone before its request was whole */
        conn_end(c);
        return;
    }
    c->in_len += (size_t)n;
    switch (http_parse(c->in, c->in_len, &c->req)) {
    case HTTP_MORE:
        break;
    case HTTP_DONE:
        route(c);
        break;
    case HTTP_ERROR:
        respond_error(c, c->req.status, c->req.reason);
        break;
    }
}

static void on_writable(aconn *c)
{
    while (c->out_sent < c->out_len) {
        long n = net_send(c->io.handle.sock, c->out + c->out_sent,
                          c->out_len - c->out_sent);
        if (n == ERR_EAGAIN)
            return;
        if (n <= 0) {
            conn_end(c);
            return;
        }
        c->out_sent += (size_t)n;
    }
    net_shutdown_send(c->io.handle.sock);
    c->phase = PH_LINGER;
    loop_timer_start(c->a->ctl->loop, &c->deadline, ADMIN_LINGER_MS);
    loop_io_set(c->a->ctl->loop, &c->io, POLLER_READ);
}

static void on_conn_io(loop *l, loop_io *io, int events)
{
    aconn *c = io->data;
    (void)l;
    if ((events & POLLER_WRITE) && c->phase == PH_WRITE)
        on_writable(c);
    else if ((events & POLLER_READ) &&
             (c->phase == PH_READ || c->phase == PH_LINGER))
        on_readable(c);
}

static void on_deadline(timer *t)
{
    aconn *c = t->data;
    if (c->phase != PH_READ) {
        conn_end(c); /* it does not read its answer, or its end */
        return;
    }
    char why[80];
    snprintf(why, sizeof why, "no whole request within %d s",
             ADMIN_TIMEOUT_MS / 1000);
    respond_error(c, 408, why);
}

static void on_accept(loop *l, loop_io *io, int events)
{
    admin *a = io->data;
    (void)events;
    /* a bounded batch: the loop turns between batches */
    for (int i = 0; i < ADMIN_MAX_CONNS; i++) {
        net_socket sock;
        char peer[80];
        int rc = net_accept(io->handle.sock, &sock, peer, sizeof peer);
        if (rc != 0)
            return;
        /* over the cap, a few more are told so (503) the usual way,
         * with their request read and dropped; past those, closed */
        aconn *c = a->nconns < ADMIN_MAX_CONNS + ADMIN_BUSY_CONNS
                       ? calloc(1, sizeof *c) : NULL;
        if (c == NULL) {
            net_close(sock);
            continue;
        }
        c->a = a;
        c->phase = PH_READ;
        timer_init(&c->deadline, on_deadline, c);
        loop_io_init(&c->io, sock, on_conn_io, c);
        c->next = a->conns;
        a->conns = c;
        a->nconns++;
        loop_timer_start(l, &c->deadline, ADMIN_TIMEOUT_MS);
        if (a->nconns > ADMIN_MAX_CONNS)
            respond_error(c, 503, "too many admin connections");
        else if (loop_io_set(l, &c->io, POLLER_READ) != 0)
            conn_end(c);
    }
}

void admin_reap(controller *ctl)
{
    admin *a = ctl->admin;
    if (a == NULL)
        return;
    for (aconn **p = &a->conns; *p != NULL;) {
        aconn *c = *p;
        if (c->phase != PH_DEAD) {
            p = &c->next;
            continue;
        }
        *p = c->next;
        a->nconns--;
        free(c->out);
        if (c->pairs != NULL)
            form_free(c->pairs);
        free(c);
    }
}

int admin_open(controller *ctl, const char *host, int port)
{
    admin *a = calloc(1, sizeof *a);
    if (a != NULL)
        a->asks = calloc((size_t)ctl->nworkers, sizeof *a->asks);
    if (a == NULL || a->asks == NULL) {
        free(a);
        fprintf(stderr, "ricochet: --admin: out of memory\n");
        return ERR_ENOMEM;
    }
    a->ctl = ctl;
    ctl->admin = a;
    a->listen.handle.sock = NET_INVALID;
    net_socket sock;
    int rc = net_listen(host, port, 16, 0, &sock);
    if (rc == 0) {
        loop_io_init(&a->listen, sock, on_accept, a);
        rc = net_local_name(sock, a->name, sizeof a->name);
    }
    if (rc != 0) {
        int v6 = strchr(host, ':') != NULL;
        fprintf(stderr, "ricochet: --admin: cannot listen on %s%s%s:%d: "
                "%s\n", v6 ? "[" : "", host, v6 ? "]" : "", port,
                err_strerror(rc));
        return rc;
    }
    rc = loop_io_set(ctl->loop, &a->listen, POLLER_READ);
    if (rc != 0) {
        fprintf(stderr, "ricochet: --admin: %s\n", err_strerror(rc));
        return rc;
    }
    policy_describe(ctl->workers[0].policy, ctl->hooks, sizeof ctl->hooks);
    /* what the first load was given, until POST /args */
    ctl->args = ctl->workers[0].opts.args;
    ctl->nargs = ctl->workers[0].opts.nargs;
    a->loopback = strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
    return 0;
}

void admin_announce(controller *ctl)
{
    admin *a = ctl->admin;
    if (a == NULL)
        return;
    if (!a->loopback)
        log_warn("the admin API listens on %s, not on loopback: it has no "
                 "authentication; anyone who reaches it can reset "
                 "connections and change the script's arguments", a->name);
    printf("admin listening on %s\n", a->name);
    fflush(stdout);
}

void admin_close(controller *ctl)
{
    admin *a = ctl->admin;
    if (a == NULL)
        return;
    for (aconn *c = a->conns; c != NULL; c = c->next)
        conn_end(c);
    admin_reap(ctl);
    if (a->listen.handle.sock != NET_INVALID) {
        loop_io_set(ctl->loop, &a->listen, 0);
        net_close(a->listen.handle.sock);
    }
    while (a->sets != NULL) {
        args_set *older = a->sets->older;
        form_free(a->sets);
        a->sets = older;
    }
    for (int k = 0; k < ctl->nworkers; k++)
        free(a->asks[k].json);
    free(a->asks);
    free(a);
    ctl->admin = NULL;
}
