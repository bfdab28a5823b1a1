/* main.c -- the command line: options, --help, --version, --check and the
 * exit codes; then it hands over to server_run (or simulate_run). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "net.h"
#include "path.h"
#include "policy.h"
#include "record.h"
#include "rng.h"
#include "search.h"
#include "service.h"
#include "server.h"
#include "simulate.h"
#include "version.h"

#define DEFAULT_LISTEN "127.0.0.1:7007"
#define MAX_CONNS 100000000ULL /* --max-conns and --max-conns-per-ip */

static const char usage_text[] =
"usage: ricochet [options] SCRIPT.lua [options] [-- key=value ...]\n"
"       ricochet --simulate FILE|DIR ... [options] SCRIPT.lua "
"[-- key=value ...]\n"
"\n"
"A TCP echo server whose behaviour is a Lua 5.4 script. With\n"
"scripts/echo.lua it echoes what a client sends and, once the client has\n"
"finished sending and everything is sent back, half-closes (FIN), waits\n"
"for the client to close, then closes.\n"
"\n"
"options:\n"
"  --listen ADDR:PORT    listen here; repeatable. IPv4 1.2.3.4:PORT or IPv6\n"
"                        [::1]:PORT; port 0 picks a free port.\n"
"                        (default " DEFAULT_LISTEN ")\n"
"  --admin ADDR:PORT     serve the admin API (HTTP/1.1, JSON: /connections,\n"
"                        /script, /reload, /args, /metrics; see README,\n"
"                        \"Operating it\") here; PORT alone is 127.0.0.1;\n"
"                        port 0 picks one. Off by default; not a public\n"
"                        port: it has no authentication\n"
"  --max-conns N         most connections at once (shared out among the\n"
"                        workers); more wait in the backlog, unless\n"
"                        --evict-idle makes room (default 10000)\n"
"  --evict-idle SEC      at --max-conns, a new client takes the place of\n"
"                        the connection idle longest if that one has had\n"
"                        no traffic for SEC seconds; 0: never (default 1)\n"
"  --max-conns-per-ip N  most connections from one address (shared out\n"
"                        among the workers); more are refused with a\n"
"                        reset; 0: no limit (default 0)\n"
"  --upstream HOST:PORT  proxy mode: connect each client to this server\n"
"                        (an IPv4 or [IPv6] address, or a host name,\n"
"                        resolved at start) and relay both ways, the\n"
"                        half-close carried across (see README); a\n"
"                        script's conn:connect may choose another, or\n"
"                        none, per connection\n"
"  --connect-timeout SEC the upstream's connect; 0: none (default 5)\n"
"  --workers N           event loops, one thread and one Lua state each,\n"
"                        sharing the ports; Lua globals are per worker\n"
"                        (default 1)\n"
"  --idle-timeout SEC    after SEC seconds with no traffic, the script's\n"
"                        on_timeout, by default a graceful close (FIN);\n"
"                        0: never (default 300)\n"
"  --drain-timeout SEC   after our half-close, wait this long for the client\n"
"                        to close; also bounds a graceful stop and the\n"
"                        sending after an idle timeout (default 5)\n"
"  --out-limit BYTES     unsent output per connection above which reading\n"
"                        pauses; k, m, g suffixes (default 1m)\n"
"  --log-level LEVEL     error, warn, info, debug or trace (default info)\n"
"  --trace               log every connection's life: accept, each chunk in\n"
"                        and out, hook calls and their time, FIN, RST,\n"
"                        timers, close reason (same as --log-level trace)\n"
"  --hexdump             with --trace, also the bytes of each chunk\n"
"  --log-format FORMAT   text, or json: each line one JSON object\n"
"                        (default text)\n"
"  --log-conns on|off    a summary line at info for each finished\n"
"                        connection: peer, time, bytes, hooks, who\n"
"                        half-closed first, reason, shaping, the\n"
"                        script's conn:tag fields (default on)\n"
"  --record DIR          write each finished connection to DIR as a\n"
"                        transcript (one .sim file each) that --simulate\n"
"                        replays against the script: what the client sent\n"
"                        and when, and what the server answered, as expect\n"
"                        lines (see README, \"Recording real traffic\")\n"
"  --record-max BYTES    transcript kept per connection; past it the\n"
"                        recording stops and is marked truncated (it\n"
"                        fails when replayed); k, m, g (default 1m)\n"
"\n"
"script options:\n"
"  --hook-budget N       instructions one hook call may run before it is\n"
"                        stopped (its connection ends); library calls count\n"
"                        the work they do (8 bytes built an instruction,\n"
"                        see README); 0: no limit (default 0 when serving\n"
"                        with a --hook-timeout, which then bounds a call at\n"
"                        no cost per instruction; else 50000000)\n"
"  --hook-timeout MS     wall-clock time one hook call may run before it is\n"
"                        stopped (its connection ends); 0: no limit\n"
"                        (default 1000)\n"
"  --lua-memory MB       memory cap of the script's Lua state; 0: no cap\n"
"                        (default 256)\n"
"  --unsafe              give scripts every standard library: io, os,\n"
"                        debug, require of C modules, loadfile/dofile and\n"
"                        binary chunks (off: scripts cannot reach outside\n"
"                        the process)\n"
"  --seed N              seed ricochet.random(), math.random and shaping\n"
"                        jitter, for reproducible runs\n"
"  --watch               reload the script when its file changes\n"
"  --script-path DIR     look for a SCRIPT.lua named without a folder in\n"
"                        DIR too; repeatable, tried in order (see below)\n"
"  -- key=value ...      script arguments, read as ricochet.args.key\n"
"\n"
"  --check               load the script, print the hooks it defines and\n"
"                        the path it was loaded from, exit\n"
"  --simulate FILE       run the script against a client transcript with no\n"
"                        sockets, on a virtual clock, and print what the\n"
"                        server does; with --upstream, the transcript plays\n"
"                        the upstream too; exit 1 when an expect line does\n"
"                        not hold or a hook fails (see README)\n"
"  --simulate FILE|DIR ...  many transcripts (repeat --simulate, or list\n"
"                        them before the script; a DIR is its *.sim files,\n"
"                        sorted): each on a fresh load of the script, one\n"
"                        line each (\"ok   FILE\" or \"FAIL FILE:LINE: "
"why\"),\n"
"                        then \"N passed, M failed\"; exit 1 when any\n"
"                        failed, 2 for a path that cannot be read or a DIR\n"
"                        with no *.sim\n"
"  -h, --help            this text\n"
"  -V, --version         version, Lua's version, the poller and the build\n"
"                        options (build type, LTO, sanitizers)\n"
"\n"
"Every option also takes the form --option=value.\n"
"Once every listener is bound, one line \"listening on ADDR:PORT\" per\n"
"listener goes to stdout (then \"admin listening on ADDR:PORT\" with\n"
"--admin); logs go to stderr.\n"
"Stop: SIGINT/SIGTERM (Windows: Ctrl-C, Ctrl-Break, closing the console)\n"
"stop gracefully (a connection whose output is still unsent after\n"
"--drain-timeout is reset); a second one stops at once. Reload: SIGHUP\n"
"or --watch or POST /reload (--admin; on Windows, the way to reload);\n"
"live connections finish on the script they started with.\n"
"SIGUSR1 writes the counters (Prometheus text) to the log at info.\n"
"With $NOTIFY_SOCKET set (systemd's Type=notify), it tells systemd when\n"
"it is ready, reloading and stopping, and how many connections are open.\n"
"\n"
"exit codes: 0 ok, 1 runtime failure, 2 usage error, 3 script error,\n"
"4 cannot listen.\n"
"\n"
"A SCRIPT.lua named without a folder that is not in the current folder is\n"
"looked for in each --script-path DIR, then in each folder of\n"
"$RICOCHET_PATH (" PATH_LIST_SEP_TEXT "-separated), then in the installed "
"scripts:\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "ricochet: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see ricochet --help)\n");
    return EXIT_USAGE;
}

/* strtod and strtoull skip spaces and take signs: a value must start
 * with a digit (or a dot, for seconds) to be taken at all. */
static int starts_with_digit(const char *s)
{
    return s[0] >= '0' && s[0] <= '9';
}

/* Seconds, fractions allowed, to milliseconds. A value that is not 0 but
 * would round to 0 ms (which means "none") is refused, not rounded. */
static int parse_seconds(const char *s, uint64_t *ms)
{
    char *end;
    errno = 0;
    if (!starts_with_digit(s) && !(s[0] == '.' && starts_with_digit(s + 1)))
        return ERR_EINVAL;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 1e9 || isnan(v))
        return ERR_EINVAL;
    uint64_t rounded = (uint64_t)llround(v * 1000.0);
    if (v > 0 && rounded == 0)
        return ERR_EINVAL;
    *ms = rounded;
    return 0;
}

/* A whole number from 1 to max; "0" too when zero_ok (it means none). */
static int parse_count(const char *s, unsigned long long max, int zero_ok,
                       size_t *out)
{
    char *end;
    errno = 0;
    if (!starts_with_digit(s))
        return ERR_EINVAL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || (v == 0 && !zero_ok) || v > max)
        return ERR_EINVAL;
    *out = (size_t)v;
    return 0;
}

/* A byte count with an optional k, m or g suffix (powers of 1024). */
static int parse_bytes(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    if (!starts_with_digit(s))
        return ERR_EINVAL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return ERR_EINVAL;
    unsigned shift = 0;
    if (*end == 'k' || *end == 'K')
        shift = 10;
    else if (*end == 'm' || *end == 'M')
        shift = 20;
    else if (*end == 'g' || *end == 'G')
        shift = 30;
    if (shift)
        end++;
    if (*end || v == 0 || v > (1ULL << 40) >> shift)
        return ERR_EINVAL;
    *out = (size_t)(v << shift);
    return 0;
}

static int add_listen(server_config *cfg, const char *spec)
{
    char err[128];
    if (cfg->nlisten == SERVER_MAX_LISTEN)
        return usage_error("too many --listen (at most 16): %s", spec);
    server_listen *ls = &cfg->listen[cfg->nlisten];
    if (addr_parse(spec, ls->host, sizeof ls->host, &ls->port, err,
                   sizeof err) != 0) {
        fprintf(stderr, "ricochet: --listen %s: %s (see ricochet --help)\n",
                spec, err);
        return EXIT_USAGE;
    }
    cfg->nlisten++;
    return 0;
}

/* --admin [ADDR:]PORT: loopback unless an address is named. */
static int set_admin(server_config *cfg, const char *spec)
{
    char err[128];
    if (addr_parse(spec, cfg->admin.host, sizeof cfg->admin.host,
                   &cfg->admin.port, err, sizeof err) != 0) {
        fprintf(stderr, "ricochet: --admin %s: %s (see ricochet --help)\n",
                spec, err);
        return EXIT_USAGE;
    }
    cfg->has_admin = 1;
    return 0;
}

/* Options that take a value; the flags are handled by name below. */
static const char *const value_options[] = {
    "--listen", "--max-conns", "--max-conns-per-ip", "--evict-idle",
    "--upstream", "--connect-timeout",
    "--idle-timeout", "--drain-timeout", "--out-limit", "--log-level",
    "--hook-budget", "--hook-timeout", "--lua-memory", "--seed",
    "--simulate", "--workers", "--log-format", "--log-conns", "--admin",
    "--script-path", "--record", "--record-max", NULL
};

static int takes_value(const char *name)
{
    for (int i = 0; value_options[i]; i++)
        if (strcmp(name, value_options[i]) == 0)
            return 1;
    return 0;
}

typedef struct cli {
    server_config cfg;
    policy_opts opts;
    const char *script;
    const char **simulate;   /* the transcripts' paths (room for argc) */
    int nsimulate;
    const char **positional; /* the arguments that are not options */
    int npositional;
    int seeded;              /* --seed given: each fresh load reseeds */
    uint64_t seed;
    int check;
    int budget_given;        /* --hook-budget was given */
    const char *script_path[SEARCH_MAX_DIRS]; /* --script-path, in order */
    int nscript_path;
} cli;

/* --upstream HOST:PORT: a numeric address as for --listen, or a host
 * name, which is resolved now (start-up may block on the resolver; the
 * event loops never do). Returns 0 or an exit code. */
static int set_upstream(cli *o, const char *spec)
{
    static char host[ADDR_HOST_MAX];
    char name[256], err[128];
    int port;
    const char *colon = strrchr(spec, ':');
    if (addr_parse(spec, host, sizeof host, &port, err, sizeof err) == 0 &&
        colon != NULL && colon != spec) {
        o->opts.upstream_host = host;
        o->opts.upstream_port = port;
        return 0;
    }
    /* NAME:PORT */
    size_t name_len = colon ? (size_t)(colon - spec) : 0;
    char *end;
    long value = colon ? strtol(colon + 1, &end, 10) : -1;
    if (name_len == 0 || name_len >= sizeof name || spec[0] == '[' ||
        !starts_with_digit(colon + 1) || *end || value < 1 || value > 65535)
        return usage_error("--upstream %s: expected HOST:PORT (an address "
                           "or a host name, and a port from 1 to 65535)",
                           spec);
    memcpy(name, spec, name_len);
    name[name_len] = '\0';
    int rc = net_init();
    if (rc == 0)
        rc = net_resolve(name, host, sizeof host);
    if (rc != 0) {
        fprintf(stderr, "ricochet: --upstream %s: %s\n", spec,
                err_strerror(rc));
        return EXIT_RUNTIME;
    }
    o->opts.upstream_host = host;
    o->opts.upstream_port = (int)value;
    return 0;
}

/* What an option's value must be, for its error message; NULL: see
 * --help. */
static const char *expected(const char *name)
{
    static const char *const kinds[][2] = {
        {"--idle-timeout", "seconds: 0 for none, or 0.001 to 1e9"},
        {"--drain-timeout", "seconds: 0, or 0.001 to 1e9"},
        {"--connect-timeout", "seconds: 0 for none, or 0.001 to 1e9"},
        {"--max-conns", "a whole number from 1 to 100000000"},
        {"--workers", "a whole number from 1 to 64"},
        {"--out-limit", "bytes, with k, m or g: 1 to 1 TiB"},
        {"--record-max", "bytes, with k, m or g: 1k to 1 TiB"},
        {"--hook-budget", "instructions: 0 for none, or 1 to 2000000000"},
        {"--hook-timeout", "milliseconds: 0 for none, or 1 to 3600000"},
        {"--lua-memory", "MiB: 0 for none, or 1 to 1048576"},
        {"--seed", "a whole number, decimal or 0x hex"},
        {"--log-level", "error, warn, info, debug or trace"},
        {"--log-format", "text or json"},
        {"--log-conns", "on or off"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(name, kinds[i][0]) == 0)
            return kinds[i][1];
    return NULL;
}

/* --script-path DIR: one more folder to search, after the ones before
 * it. Returns 0 or an exit code. */
static int add_script_path(cli *o, const char *dir)
{
    if (dir[0] == '\0')
        return usage_error("--script-path: bad value '%s' (a folder)", dir);
    if (o->nscript_path == SEARCH_MAX_DIRS)
        return usage_error("too many --script-path (at most 16): %s", dir);
    o->script_path[o->nscript_path++] = dir;
    return 0;
}

/* Apply one option with its value. Returns 0 or an exit code. */
static int apply_value(cli *o, const char *name, const char *value)
{
    int rc = 0;
    if (strcmp(name, "--listen") == 0)
        return add_listen(&o->cfg, value);
    if (strcmp(name, "--admin") == 0)
        return set_admin(&o->cfg, value);
    if (strcmp(name, "--script-path") == 0)
        return add_script_path(o, value);
    if (strcmp(name, "--max-conns") == 0) {
        rc = parse_count(value, MAX_CONNS, 0, &o->cfg.max_conns);
    } else if (strcmp(name, "--max-conns-per-ip") == 0) {
        rc = parse_count(value, MAX_CONNS, 1, &o->cfg.max_conns_per_ip);
    } else if (strcmp(name, "--upstream") == 0) {
        return set_upstream(o, value);
    } else if (strcmp(name, "--connect-timeout") == 0) {
        rc = parse_seconds(value, &o->opts.connect_timeout_ms);
    } else if (strcmp(name, "--evict-idle") == 0) {
        rc = parse_seconds(value, &o->cfg.evict_idle_ms);
    } else if (strcmp(name, "--idle-timeout") == 0) {
        rc = parse_seconds(value, &o->cfg.idle_ms);
    } else if (strcmp(name, "--drain-timeout") == 0) {
        rc = parse_seconds(value, &o->cfg.drain_ms);
    } else if (strcmp(name, "--out-limit") == 0) {
        rc = parse_bytes(value, &o->cfg.out_limit);
    } else if (strcmp(name, "--hook-budget") == 0) {
        size_t n = 0;
        rc = parse_count(value, POLICY_MAX_BUDGET, 1, &n);
        o->opts.hook_budget = n;
        o->budget_given = 1;
    } else if (strcmp(name, "--hook-timeout") == 0) {
        size_t ms = 0;
        rc = parse_count(value, POLICY_MAX_TIMEOUT_MS, 1, &ms);
        o->opts.hook_timeout_ms = ms;
    } else if (strcmp(name, "--lua-memory") == 0) {
        size_t mb = 0;
        rc = parse_count(value, 1u << 20, 1, &mb);
        o->opts.memory_limit = mb << 20;
    } else if (strcmp(name, "--seed") == 0) {
        char *end;
        errno = 0;
        unsigned long long seed = strtoull(value, &end, 0);
        rc = errno || end == value || *end || !starts_with_digit(value)
             ? ERR_EINVAL : 0;
        if (rc == 0) {
            rng_seed((uint64_t)seed);
            o->seeded = 1;
            o->seed = (uint64_t)seed;
        }
    } else if (strcmp(name, "--workers") == 0) {
        size_t n = 0;
        rc = parse_count(value, SERVER_MAX_WORKERS, 0, &n);
        o->cfg.workers = (int)n;
    } else if (strcmp(name, "--simulate") == 0) {
        o->simulate[o->nsimulate++] = value;
    } else if (strcmp(name, "--record") == 0) {
        rc = value[0] != '\0' ? 0 : ERR_EINVAL;
        o->cfg.record_dir = value;
    } else if (strcmp(name, "--record-max") == 0) {
        rc = parse_bytes(value, &o->cfg.record_max);
        if (rc == 0 && o->cfg.record_max < 1024)
            rc = ERR_EINVAL; /* a header and a line or two at least */
    } else if (strcmp(name, "--log-format") == 0) {
        log_format format;
        rc = log_parse_format(value, &format);
        if (rc == 0)
            log_set_format(format);
    } else if (strcmp(name, "--log-conns") == 0) {
        int on = strcmp(value, "on") == 0;
        rc = on || strcmp(value, "off") == 0 ? 0 : ERR_EINVAL;
        log_set_conns(on);
    } else {
        log_level level;
        rc = log_parse_level(value, &level);
        if (rc == 0)
            log_set_level(level);
    }
    if (rc != 0) {
        fprintf(stderr, "ricochet: %s: bad value '%s'%s%s%s (see ricochet "
                "--help)\n", name, value, expected(name) ? " (" : "",
                expected(name) ? expected(name) : "",
                expected(name) ? ")" : "");
        return EXIT_USAGE;
    }
    return 0;
}

/* Returns -1 to go on, or the exit code. */
static int parse_args(cli *o, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(usage_text, stdout);
            printf("  %s\n", search_installed_dir());
            return EXIT_OK;
        }
        if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
            version_print(stdout);
            return EXIT_OK;
        }
        if (strcmp(arg, "--") == 0) {
            o->opts.args = argv + i + 1;
            o->opts.nargs = argc - i - 1;
            for (int k = 0; k < o->opts.nargs; k++)
                if (o->opts.args[k][0] == '=' || o->opts.args[k][0] == '\0')
                    return usage_error("bad script argument '%s' (expected "
                                       "key=value)", o->opts.args[k]);
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0') {
            o->positional[o->npositional++] = arg;
            continue;
        }
        if (strcmp(arg, "--check") == 0) {
            o->check = 1;
        } else if (strcmp(arg, "--unsafe") == 0) {
            o->opts.unsafe = 1;
        } else if (strcmp(arg, "--watch") == 0) {
            o->cfg.watch = 1;
        } else if (strcmp(arg, "--trace") == 0) {
            log_set_level(LOG_TRACE);
        } else if (strcmp(arg, "--hexdump") == 0) {
            log_set_level(LOG_TRACE);
            log_set_hexdump(1);
        } else {
            /* --name value or --name=value */
            char name[32];
            const char *eq = strchr(arg, '=');
            size_t namelen = eq ? (size_t)(eq - arg) : strlen(arg);
            if (namelen >= sizeof name)
                return usage_error("unknown option: %s", arg);
            memcpy(name, arg, namelen);
            name[namelen] = '\0';
            if (!takes_value(name))
                return usage_error("unknown option: %s", name);
            const char *value = eq ? eq + 1 : NULL;
            if (value == NULL && i + 1 < argc)
                value = argv[++i];
            if (value == NULL)
                return usage_error("%s needs a value", name);
            int rc = apply_value(o, name, value);
            if (rc)
                return rc;
        }
    }
    /* With --simulate, the last is the script and the others are more
     * transcripts: ricochet --simulate FILE|DIR ... SCRIPT. */
    if (o->npositional > 1 && o->nsimulate == 0)
        return usage_error("unexpected argument: %s (one script only; "
                           "script arguments go after --)",
                           o->positional[1]);
    if (o->npositional > 0)
        o->script = o->positional[o->npositional - 1];
    for (int i = 0; i + 1 < o->npositional; i++)
        o->simulate[o->nsimulate++] = o->positional[i];
    if (o->script == NULL)
        return usage_error("%s", "no script given: ricochet [options] "
                           "SCRIPT.lua");
    if (o->cfg.nlisten == 0 && add_listen(&o->cfg, DEFAULT_LISTEN) != 0)
        return EXIT_USAGE;
    if (o->cfg.record_dir != NULL && (o->nsimulate > 0 || o->check))
        return usage_error("%s", "--record records the live server: not "
                           "with --simulate or --check");
    char why[256];
    if (o->cfg.record_dir != NULL &&
        record_check_dir(o->cfg.record_dir, why, sizeof why) != 0) {
        fprintf(stderr, "ricochet: --record %s: %s (see ricochet --help)\n",
                o->cfg.record_dir, why);
        return EXIT_USAGE;
    }
    return -1;
}

/* Load the script with the options; NULL when it does not load (said
 * on stderr). */
static policy *load_script(cli *o)
{
    char err[1024];
    policy *p = policy_load(o->script, &o->opts, err, sizeof err);
    if (p == NULL) {
        /* Keep the message on one line: an operator greps for it. */
        for (char *nl = err; (nl = strchr(nl, '\n')) != NULL;)
            *nl = ' ';
        fprintf(stderr, "ricochet: %s\n", err);
    }
    return p;
}

/* A fresh load for each of many transcripts: reseeded with --seed, so
 * that each plays as it would alone. */
static policy *load_fresh(void *data)
{
    cli *o = data;
    if (o->seeded)
        rng_seed(o->seed);
    return load_script(o);
}

int main(int argc, char **argv)
{
    static cli o; /* the options outlive every policy loaded with them */
    /* argc bounds both: each is an argument */
    o.simulate = calloc((size_t)argc, sizeof *o.simulate);
    o.positional = calloc((size_t)argc, sizeof *o.positional);
    if (o.simulate == NULL || o.positional == NULL) {
        fprintf(stderr, "ricochet: out of memory\n");
        return EXIT_RUNTIME;
    }
    o.cfg.max_conns = 10000;
    o.cfg.max_conns_per_ip = 0; /* loopback clients share one address */
    o.cfg.evict_idle_ms = 1000;
    o.cfg.workers = 1;
    o.opts.worker = 1;
    o.cfg.idle_ms = 300 * 1000;
    o.cfg.drain_ms = 5 * 1000;
    o.cfg.out_limit = 1 << 20;
    o.cfg.record_max = RECORD_DEFAULT_MAX;
    o.cfg.policy_opts = &o.opts;
    o.opts.memory_limit = POLICY_DEFAULT_MEMORY;
    o.opts.hook_budget = POLICY_DEFAULT_BUDGET;
    o.opts.hook_timeout_ms = POLICY_DEFAULT_TIMEOUT_MS;
    o.opts.connect_timeout_ms = 5 * 1000;

    int rc = parse_args(&o, argc, argv);
    if (rc >= 0)
        return rc;
    /* A server's hooks are bounded by the time limit, which costs nothing
     * per instruction; --simulate and --check count instructions too, so
     * a transcript's runaway hook stops at the same place every run, and
     * so does a server with no time limit. */
    if (!o.budget_given && o.nsimulate == 0 && !o.check &&
        o.opts.hook_timeout_ms > 0)
        o.opts.hook_budget = 0;

    /* the script by its name, or found on the search path: from here on
     * (reloads, --watch, require beside it, every fresh load of many
     * transcripts) the path found is the one */
    static char found[4096];
    char err[4096];
    service_take_env(); /* before the script's top level runs */
    if (search_script(o.script, o.script_path, o.nscript_path,
                      getenv("RICOCHET_PATH"), found, sizeof found, err,
                      sizeof err) != 0) {
        fprintf(stderr, "ricochet: %s\n", err);
        return EXIT_SCRIPT;
    }
    o.script = found;
    if (!o.check && simulate_many_wanted(o.simulate, o.nsimulate))
        return simulate_many(o.simulate, o.nsimulate, &o.cfg, load_fresh,
                             &o);
    policy *p = load_script(&o);
    if (p == NULL)
        return EXIT_SCRIPT;
    if (o.check) {
        char hooks[128];
        policy_describe(p, hooks, sizeof hooks);
        printf("hooks: %s\n", hooks);
        printf("script: %s\n", o.script);
        policy_release(p);
        return EXIT_OK;
    }
    if (o.nsimulate > 0)
        return simulate_run(o.simulate[0], &o.cfg, p);
    return server_run(&o.cfg, p);
}
