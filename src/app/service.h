/* service.h -- what ricochet tells a service manager (systemd's
 * Type=notify or Type=notify-reload, through src/os/notify.h) about
 * itself: READY=1 once every listener is bound and the workers serve;
 * RELOADING=1 (with MONOTONIC_USEC) when a reload's load starts and
 * READY=1 when it ends, loaded or refused (STATUS= says which);
 * STOPPING=1 on a graceful stop; and STATUS= with the open connection
 * count, at most once a second and only when it changed. The count is
 * read on the controller's thread (as metrics.c does), never on a
 * worker's. Nothing is told when $NOTIFY_SOCKET is unset (or on
 * Windows); a failure to tell is logged once and is never fatal. */
#ifndef RICOCHET_SERVICE_H
#define RICOCHET_SERVICE_H

#include "controller.h"

typedef struct service service;

/* Read $NOTIFY_SOCKET and take it out of the environment (notify.h):
 * call it before the script's top level first runs (under --unsafe a
 * script could start a child that would inherit it) and before any
 * thread starts. Only the first call reads it. */
void service_take_env(void);

/* Give ctl what service_take_env found (logging an address it could
 * not use): from now on the service_* calls below tell the manager.
 * After controller_init, on the main thread. */
void service_open(controller *ctl);

/* The server serves: READY=1 and the first STATUS=; from now on the
 * count is looked at every second. */
void service_ready(controller *ctl);

/* A reload's load starts (why: "SIGHUP", "POST /reload", ...). */
void service_reloading(controller *ctl, const char *why);

/* That load has ended: failure is NULL when it was handed to the
 * workers, else why not (a short text: "failed", "dropped"). */
void service_reloaded(controller *ctl, const char *why,
                      const char *failure);

/* A graceful stop begins (the first stop signal). */
void service_stopping(controller *ctl);

/* Stop the timer and close the socket; nothing is told after. */
void service_close(controller *ctl);

#endif
