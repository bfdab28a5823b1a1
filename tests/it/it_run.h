/* it_run.h -- ricochet run to completion, its output captured whole: for
 * usage errors, --check, --help, --simulate. */
#ifndef RICOCHET_IT_RUN_H
#define RICOCHET_IT_RUN_H

typedef struct it_run {
    int code;      /* exit code, or -1 when it did not exit normally */
    int sig;       /* the terminating signal, or 0 */
    int listened;  /* it printed "listening on" and was killed */
    char *out;     /* NUL-terminated */
    char *err;
} it_run;

/* Run ricochet with args (NULL-terminated) until it exits; stdout and
 * stderr are captured whole ('\r' removed) into r, which it_run_free
 * releases. A server that prints "listening on" (it did not stop) or
 * outlives IT_WAIT_MS is killed. */
void it_run_capture(it_run *r, const char *const *args);
#define RUN(r, ...) it_run_capture(r, (const char *const[]){__VA_ARGS__, NULL})
/* Free what it_run_capture captured; r may be captured into again. */
void it_run_free(it_run *r);
/* Assert: exit code, nothing on stdout, a stderr line that starts
 * "ricochet: " and contains needle (NULL: any). Prints the run on failure. */
void it_run_assert_error(const it_run *r, int code, const char *needle);

#endif
