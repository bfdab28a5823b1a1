/* watch.h -- noticing that the script file changed (--watch).
 *
 * One backend is compiled in: inotify on Linux (watch_inotify.c), a cheap
 * stat() poll elsewhere (watch_stat.c). Either reports through the loop,
 * after a short settle delay, so an editor's write-then-rename is seen as
 * one change. */
#ifndef RICOCHET_WATCH_H
#define RICOCHET_WATCH_H

#include "loop.h"

typedef struct watch watch;
typedef void (*watch_fn)(void *data);

/* Start watching path; fn(data) runs from the loop after it changed.
 * Returns NULL with errno-style text in err when it cannot. */
watch *watch_start(loop *l, const char *path, watch_fn fn, void *data,
                   char *err, size_t errlen);
void watch_stop(watch *w);
/* The backend's name: "inotify" or "stat poll". */
const char *watch_backend(void);

#endif
