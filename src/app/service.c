/* service.c -- telling a service manager how the server is (see
 * service.h); the protocol's socket is src/os's notify.h. */
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"

/* How often the connection count is looked at: the manager shows it, a
 * person reads it; more often would only cost the controller. */
#define SERVICE_STATUS_MS 1000

struct service {
    notify *channel;
    char address[108];   /* $NOTIFY_SOCKET, for the one warning */
    int warned;          /* a failure to tell was logged */
    int ready;           /* the status timer runs */
    int stopping;        /* STOPPING=1 was told */
    uint64_t told_open;  /* the count in the last STATUS= */
    timer status_timer;
};

static uint64_t open_conns(controller *ctl)
{
    metrics_snapshot snap;
    uint64_t closed = 0;
    metrics_collect(ctl, &snap);
    for (int r = 0; r < CONN_REASONS; r++)
        closed += snap.conns.closed[r];
    /* the counts are read one by one while they change: never below 0 */
    return snap.conns.accepted > closed ? snap.conns.accepted - closed : 0;
}

static void tell(service *s, const char *text)
{
    int rc = notify_send(s->channel, text, strlen(text));
    if (rc == 0 || s->warned)
        return;
    s->warned = 1;
    log_warn("cannot tell the service manager (NOTIFY_SOCKET=%s): %s; "
             "serving on, this is logged once", s->address,
             err_strerror(rc));
}

/* ", 3 connections open" with the count now, which becomes the told
 * one. */
static void count_text(controller *ctl, char *out, size_t cap)
{
    service *s = ctl->service;
    s->told_open = open_conns(ctl);
    snprintf(out, cap, "%s%llu connection%s open",
             s->stopping ? "stopping, " : "",
             (unsigned long long)s->told_open, s->told_open == 1 ? "" : "s");
}

static void on_status_timer(timer *t)
{
    controller *ctl = t->data;
    service *s = ctl->service;
    char text[160], status[128];
    if (open_conns(ctl) != s->told_open) {
        count_text(ctl, status, sizeof status);
        snprintf(text, sizeof text, "STATUS=%s", status);
        tell(s, text);
    }
    loop_timer_start(ctl->loop, &s->status_timer, SERVICE_STATUS_MS);
}

/* What service_take_env found, for service_open. */
static struct {
    int taken;
    int rc;
    notify *channel;
    char address[108];
} env;

void service_take_env(void)
{
    if (env.taken)
        return;
    env.taken = 1;
    env.rc = notify_open(&env.channel, env.address, sizeof env.address);
}

void service_open(controller *ctl)
{
    char address[sizeof ctl->service->address];
    notify *channel = env.channel;
    int rc = env.rc;
    memcpy(address, env.address, sizeof address);
    env.channel = NULL;
    env.rc = 0;
    ctl->service = NULL;
    if (rc != 0) {
        log_warn("NOTIFY_SOCKET=%s: %s; the service manager is not told "
                 "how ricochet is", address, rc == ERR_EINVAL
                 ? "not an absolute path nor an @abstract name, or too long"
                 : err_strerror(rc));
        return;
    }
    if (channel == NULL)
        return;
    service *s = calloc(1, sizeof *s);
    if (s == NULL) {
        notify_close(channel);
        log_warn("NOTIFY_SOCKET=%s: %s; the service manager is not told "
                 "how ricochet is", address, err_strerror(ERR_ENOMEM));
        return;
    }
    s->channel = channel;
    memcpy(s->address, address, sizeof s->address);
    timer_init(&s->status_timer, on_status_timer, ctl);
    ctl->service = s;
}

void service_ready(controller *ctl)
{
    service *s = ctl->service;
    char text[200], status[128];
    if (s == NULL)
        return;
    count_text(ctl, status, sizeof status);
    snprintf(text, sizeof text, "READY=1\nSTATUS=serving, %s", status);
    tell(s, text);
    s->ready = 1;
    loop_timer_start(ctl->loop, &s->status_timer, SERVICE_STATUS_MS);
}

void service_reloading(controller *ctl, const char *why)
{
    service *s = ctl->service;
    char text[256];
    if (s == NULL)
        return;
    /* systemd's Type=notify-reload wants the time of the request, on
     * its own (CLOCK_MONOTONIC) clock */
    snprintf(text, sizeof text, "RELOADING=1\nSTATUS=reloading (%s)\n"
             "MONOTONIC_USEC=%llu", why,
             (unsigned long long)clock_monotonic_us());
    tell(s, text);
}

void service_reloaded(controller *ctl, const char *why,
                      const char *failure)
{
    service *s = ctl->service;
    char text[320], status[128];
    if (s == NULL)
        return;
    count_text(ctl, status, sizeof status);
    if (failure == NULL)
        snprintf(text, sizeof text, "READY=1\nSTATUS=reloaded (%s), %s",
                 why, status);
    else
        snprintf(text, sizeof text, "READY=1\nSTATUS=reload (%s) %s, "
                 "keeping the running script, %s", why, failure, status);
    tell(s, text);
}

void service_stopping(controller *ctl)
{
    service *s = ctl->service;
    char text[200], status[128];
    if (s == NULL || s->stopping)
        return;
    s->stopping = 1;
    count_text(ctl, status, sizeof status);
    snprintf(text, sizeof text, "STOPPING=1\nSTATUS=%s", status);
    tell(s, text);
}

void service_close(controller *ctl)
{
    service *s = ctl->service;
    if (s == NULL)
        return;
    if (ctl->loop != NULL)
        loop_timer_stop(ctl->loop, &s->status_timer);
    notify_close(s->channel);
    free(s);
    ctl->service = NULL;
}
