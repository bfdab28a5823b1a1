/* main.c -- the command line: options, --help, --version, --check and the
 * exit codes. Everything else is the server's. */
#include <errno.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "policy.h"
#include "poller.h"
#include "server.h"

#define DEFAULT_LISTEN "127.0.0.1:7007"

static const char usage_text[] =
"usage: ricochet [options] SCRIPT.lua\n"
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
"  --max-conns N         most connections at once; more wait in the\n"
"                        backlog (default 10000)\n"
"  --idle-timeout SEC    close a connection with no traffic for SEC seconds;\n"
"                        0: never (default 300)\n"
"  --drain-timeout SEC   after our half-close, wait this long for the client\n"
"                        to close; also bounds a graceful stop (default 5)\n"
"  --out-limit BYTES     unsent output per connection above which reading\n"
"                        pauses; k, m, g suffixes (default 1m)\n"
"  --log-level LEVEL     error, warn, info, debug or trace (default info)\n"
"  --check               load the script, print the hooks it defines, exit\n"
"  -h, --help            this text\n"
"  -V, --version         version, Lua version and poller\n"
"\n"
"Every option also takes the form --option=value.\n"
"Once every listener is bound, one line \"listening on ADDR:PORT\" per\n"
"listener goes to stdout; logs go to stderr.\n"
"Signals: SIGINT/SIGTERM stop gracefully (a second one stops at once);\n"
"SIGHUP reloads the script (live connections keep the old one).\n"
"\n"
"exit codes: 0 ok, 1 runtime failure, 2 usage error, 3 script error,\n"
"4 cannot listen.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "ricochet: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see ricochet --help)\n");
    return EXIT_USAGE;
}

/* Seconds, fractions allowed, to milliseconds. */
static int parse_seconds(const char *s, uint64_t *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 1e9 || isnan(v))
        return -1;
    *ms = (uint64_t)llround(v * 1000.0);
    return 0;
}

static int parse_count(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v == 0 ||
        v > 100000000ULL)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* A byte count with an optional k, m or g suffix (powers of 1024). */
static int parse_bytes(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        return -1;
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
        return -1;
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

static void print_version(void)
{
    printf("ricochet %s (%s, poller %s)\n", RICOCHET_VERSION, LUA_RELEASE,
           poller_name());
}

int main(int argc, char **argv)
{
    server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_conns = 10000;
    cfg.idle_ms = 300 * 1000;
    cfg.drain_ms = 5 * 1000;
    cfg.out_limit = 1 << 20;
    const char *script = NULL;
    int check = 0;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(usage_text, stdout);
            return EXIT_OK;
        }
        if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
            print_version();
            return EXIT_OK;
        }
        if (strcmp(arg, "--check") == 0) {
            check = 1;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            if (i + 1 < argc && !script)
                script = argv[++i];
            if (i + 1 < argc)
                return usage_error("unexpected argument: %s", argv[i + 1]);
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0') {
            if (script)
                return usage_error("unexpected argument: %s (one script "
                                   "only)", arg);
            script = arg;
            continue;
        }
        /* --name value or --name=value */
        char name[32];
        const char *value = NULL;
        const char *eq = strchr(arg, '=');
        size_t namelen = eq ? (size_t)(eq - arg) : strlen(arg);
        if (namelen >= sizeof name)
            return usage_error("unknown option: %s", arg);
        memcpy(name, arg, namelen);
        name[namelen] = '\0';
        int known = strcmp(name, "--listen") == 0 ||
                    strcmp(name, "--max-conns") == 0 ||
                    strcmp(name, "--idle-timeout") == 0 ||
                    strcmp(name, "--drain-timeout") == 0 ||
                    strcmp(name, "--out-limit") == 0 ||
                    strcmp(name, "--log-level") == 0;
        if (!known)
            return usage_error("unknown option: %s", name);
        if (eq)
            value = eq + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        else
            return usage_error("%s needs a value", name);

        int rc = 0;
        if (strcmp(name, "--listen") == 0) {
            rc = add_listen(&cfg, value);
            if (rc)
                return rc;
        } else if (strcmp(name, "--max-conns") == 0) {
            rc = parse_count(value, &cfg.max_conns);
        } else if (strcmp(name, "--idle-timeout") == 0) {
            rc = parse_seconds(value, &cfg.idle_ms);
        } else if (strcmp(name, "--drain-timeout") == 0) {
            rc = parse_seconds(value, &cfg.drain_ms);
        } else if (strcmp(name, "--out-limit") == 0) {
            rc = parse_bytes(value, &cfg.out_limit);
        } else {
            log_level level;
            rc = log_parse_level(value, &level);
            if (rc == 0)
                log_set_level(level);
        }
        if (rc != 0) {
            fprintf(stderr, "ricochet: %s: bad value '%s' (see ricochet "
                    "--help)\n", name, value);
            return EXIT_USAGE;
        }
    }
    if (script == NULL)
        return usage_error("%s", "no script given: ricochet [options] "
                           "SCRIPT.lua");
    if (cfg.nlisten == 0 && add_listen(&cfg, DEFAULT_LISTEN) != 0)
        return EXIT_USAGE;

    char err[1024];
    policy *p = policy_load(script, err, sizeof err);
    if (p == NULL) {
        /* Keep the message on one line: an operator greps for it. */
        for (char *nl = err; (nl = strchr(nl, '\n')) != NULL;)
            *nl = ' ';
        fprintf(stderr, "ricochet: %s\n", err);
        return EXIT_SCRIPT;
    }
    if (check) {
        char hooks[128];
        policy_describe(p, hooks, sizeof hooks);
        printf("hooks: %s\n", hooks);
        policy_release(p);
        return EXIT_OK;
    }
    return server_run(&cfg, p);
}
