/* watch.h -- noticing that the script file changed (--watch).
 *
 * One backend is compiled in: inotify on Linux (watch_inotify.c), a cheap
 * stat() poll elsewhere (watch_stat.c). Neither knows the event loop: the
 * owner waits on watch_handle() for reading when there is one, or calls
 * watch_check() every watch_poll_ms() when there is not, and applies its
 * own settle delay (with watch_stamp_file) so that a burst of writes is
 * one change and a half-written file is not loaded. */
#ifndef RICOCHET_WATCH_H
#define RICOCHET_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"

typedef struct watch watch;

/* Start watching path. Returns NULL with a reason in err when it cannot. */
watch *watch_open(const char *path, char *err, size_t errlen);
void watch_close(watch *w);

/* A descriptor that turns readable when the file may have changed, or
 * NET_INVALID when the backend must be polled instead. */
net_socket watch_handle(const watch *w);
/* How often to call watch_check when there is no handle (ms). */
unsigned watch_poll_ms(void);

/* 1 when the file changed since the last call that said so, else 0.
 * Never blocks; drains the handle. */
int watch_check(watch *w);

/* The backend's name: "inotify" or "stat poll". */
const char *watch_backend(void);

/* What a file looks like: the owner compares two of these, a settle delay
 * apart, to load only a file that has stopped changing. */
typedef struct watch_stamp {
    int found;          /* 0: it could not be read (the rest is 0) */
    long long size;
    long long mtime_ns; /* whole seconds where that is all there is */
    uint64_t hash;      /* of the bytes: an edit within one mtime tick */
} watch_stamp;

/* Stamp the file at path now (reading it whole). Never fails: a file
 * that cannot be read gets found 0. */
void watch_stamp_file(const char *path, watch_stamp *out);
/* 1 when a and b are the same. */
int watch_stamp_equal(const watch_stamp *a, const watch_stamp *b);

#endif
