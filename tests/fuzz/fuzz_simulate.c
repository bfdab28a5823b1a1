/* fuzz_simulate.c -- the --simulate transcript parser and the engine
 * behind it (src/app/simulate.c), as `ricochet --simulate FILE SCRIPT`
 * runs them.
 *
 * Each input is written to a temporary file and played against
 * scripts/echo.lua (the C echo path) and tests/fuzz/hooks.lua (every hook,
 * with commands in the client's data that reach framing, shaping, timers,
 * actions and the log), then in proxy mode, scripts/proxy.lua and
 * hooks.lua again, the upstream played by the upstream lines. There is
 * no model: a crash, a sanitizer report, a leak or a hang (libFuzzer's
 * -timeout) is the failure. What the simulation prints goes to
 * /dev/null; run.sh also closes stderr (the transcript errors and the
 * log) unless asked to keep it.
 *
 * The server options vary with the input's length, so the idle timeout
 * and a tiny --out-limit are reached without a format of their own: the
 * seeds are plain transcripts. */
#include "fuzz.h"

#include <fcntl.h>
#include <unistd.h>

#include "log.h"
#include "policy.h"
#include "rng.h"
#include "server.h"
#include "simulate.h"

#ifndef RICOCHET_SOURCE_DIR
#error "RICOCHET_SOURCE_DIR: the repository root, for the scripts"
#endif

static char transcript[512];

static void remove_transcript(void)
{
    if (transcript[0])
        unlink(transcript);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("TMPDIR");
    snprintf(transcript, sizeof transcript, "%s/ricochet-fuzz-XXXXXX",
             dir && *dir ? dir : P_tmpdir);
    int fd = mkstemp(transcript);
    if (fd < 0)
        FUZZ_FAIL("mkstemp %s failed", transcript);
    close(fd);
    atexit(remove_transcript);
    /* the simulation's report: not needed, only its effects */
    int null = open("/dev/null", O_WRONLY);
    if (null < 0 || dup2(null, 1) < 0)
        FUZZ_FAIL("cannot send stdout to /dev/null");
    close(null);
    return 0;
}

static void play(const char *script, const server_config *cfg,
                 const policy_opts *opts)
{
    char err[512];
    policy *p = policy_load(script, opts, err, sizeof err);
    if (p == NULL)
        FUZZ_FAIL("cannot load %s: %s", script, err);
    rng_seed(7); /* the same input, the same jitter */
    int code = simulate_run(transcript, cfg, p); /* takes p */
    /* EXIT_RUNTIME: an expect line failed, or a hook error */
    if (code != EXIT_OK && code != EXIT_RUNTIME && code != EXIT_USAGE)
        FUZZ_FAIL("simulate_run returned %d", code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t idle_ms[] = {300 * 1000, 1000, 0};
    static const size_t out_limit[] = {1 << 20, 64, 1};
    static policy_opts opts; /* outlives every policy loaded with it */
    static policy_opts proxy_opts;
    server_config cfg;

    FILE *f = fopen(transcript, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        FUZZ_FAIL("cannot write %s", transcript);

    memset(&cfg, 0, sizeof cfg);
    cfg.max_conns = 1;
    cfg.workers = 1;
    cfg.idle_ms = idle_ms[size % 3];
    cfg.drain_ms = 5 * 1000;
    cfg.out_limit = out_limit[size / 3 % 3];
    cfg.policy_opts = &opts;
    opts.memory_limit = (size_t)64 << 20;
    opts.hook_budget = POLICY_DEFAULT_BUDGET;
    opts.worker = 1;

    play(RICOCHET_SOURCE_DIR "/scripts/echo.lua", &cfg, &opts);
    play(RICOCHET_SOURCE_DIR "/tests/fuzz/hooks.lua", &cfg, &opts);

    /* Proxy mode: the transcript's upstream lines play the upstream (the
     * address is never dialled), the relay in C and the hooks in front
     * of it; the connect timeout varies as the idle timeout does. */
    static const uint64_t connect_ms[] = {5 * 1000, 1, 0};
    proxy_opts = opts;
    proxy_opts.upstream_host = "127.0.0.1";
    proxy_opts.upstream_port = 6379;
    proxy_opts.connect_timeout_ms = connect_ms[size / 9 % 3];
    cfg.policy_opts = &proxy_opts;
    play(RICOCHET_SOURCE_DIR "/scripts/proxy.lua", &cfg, &proxy_opts);
    play(RICOCHET_SOURCE_DIR "/tests/fuzz/hooks.lua", &cfg, &proxy_opts);
    return 0;
}
