/* bench_opt.c -- parsing and checking ricochet-bench's options. */
#include "bench_opt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_sys.h"

static const char *const mode_names[] = {
    "pingpong", "bulk", "lifecycle", "idle"
};

static void usage(FILE *out)
{
    fputs(
"usage: ricochet-bench --mode MODE --port PORT [options]\n"
"\n"
"Load generator for ricochet and the reference echo server. Talks only to\n"
"127.0.0.0/8 or ::1. Checks every byte that comes back, counts errors, and\n"
"ends with one line 'RESULT mode=... errors=N' on stdout. Exit status: 0,\n"
"1 if any error was counted, 2 on bad usage or set-up failure.\n"
"\n"
"modes:\n"
"  pingpong   --conns C connections each send --size S bytes, wait for the\n"
"             whole echo, repeat for --secs D  -> msgs/s, p50/p99 latency\n"
"  bulk       --conns C connections each stream --bytes N while reading the\n"
"             echo, then half-close and read to EOF  -> MB/s (1e6 B/s)\n"
"  lifecycle  --total T connections, --inflight K at a time: connect, send S\n"
"             bytes, half-close, read to EOF, close  -> conns/s, p50/p99\n"
"  idle       open --conns C connections (K being set up at a time), one\n"
"             echo of S bytes each, print 'READY ...' when all are\n"
"             established, hold them for --hold H seconds (0: until\n"
"             SIGINT/SIGTERM, or stdin EOF with --hold-stdin), then\n"
"             half-close all and read each to EOF\n"
"\n"
"options:\n"
"  --mode MODE        pingpong | bulk | lifecycle | idle\n"
"  --host ADDR        server address, 127.x.x.x or ::1 (127.0.0.1)\n"
"  --port PORT        server port (required)\n"
"  --expect KIND      echo | upper: what the server sends back (echo)\n"
"  --conns C          connections (pingpong 50, bulk 1, idle 1000)\n"
"  --size S           bytes per message or payload (64; idle 16)\n"
"  --secs D           pingpong duration in seconds (5)\n"
"  --bytes N          bulk bytes per connection, K/M/G suffixes (1G)\n"
"  --total T          lifecycle connections in all (20000)\n"
"  --inflight K       connections in set-up at once (lifecycle 32, idle 64)\n"
"  --hold H           idle hold in seconds, 0 = until a signal (0)\n"
"  --hold-stdin       idle: end the hold when stdin reaches EOF too\n"
"  --sources N        bind clients round-robin to 127.0.0.1..127.0.0.N (16)\n"
"  --timeout SECS     global deadline (pingpong D+60, idle H+600, else 600)\n"
"  --help             this text\n", out);
}

static uint64_t parse_size(const char *name, const char *s)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || s[0] == '-')
        bench_sys_fatal("%s: not a number: '%s'", name, s);
    switch (*end) {
    case 'k': case 'K': v <<= 10; end++; break;
    case 'm': case 'M': v <<= 20; end++; break;
    case 'g': case 'G': v <<= 30; end++; break;
    default: break;
    }
    if (*end != '\0')
        bench_sys_fatal("%s: not a number: '%s'", name, s);
    return v;
}

static long parse_long(const char *name, const char *s, long min, long max)
{
    uint64_t v = parse_size(name, s);

    if (v < (uint64_t)min || v > (uint64_t)max)
        bench_sys_fatal("%s: %s is out of range [%ld, %ld]", name, s, min, max);
    return (long)v;
}

static double parse_secs(const char *name, const char *s)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > 86400)
        bench_sys_fatal("%s: not a number of seconds in [0, 86400]: '%s'",
                        name, s);
    return v;
}

void bench_opt_parse(struct bench_opt *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "mode", required_argument, NULL, 'm' },
        { "host", required_argument, NULL, 'H' },
        { "port", required_argument, NULL, 'p' },
        { "expect", required_argument, NULL, 'e' },
        { "conns", required_argument, NULL, 'c' },
        { "size", required_argument, NULL, 's' },
        { "secs", required_argument, NULL, 'd' },
        { "bytes", required_argument, NULL, 'n' },
        { "total", required_argument, NULL, 't' },
        { "inflight", required_argument, NULL, 'k' },
        { "hold", required_argument, NULL, 'h' },
        { "hold-stdin", no_argument, NULL, 'i' },
        { "sources", required_argument, NULL, 'S' },
        { "timeout", required_argument, NULL, 'T' },
        { "help", no_argument, NULL, '?' + 256 },
        { NULL, 0, NULL, 0 }
    };
    const char *mode = NULL;
    int ch;

    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = -1;
    o->conns = -1;
    o->size = -1;
    o->secs = 5;
    o->bytes = 1u << 30;
    o->total = 20000;
    o->inflight = -1;
    o->sources = 16;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'm': mode = optarg; break;
        case 'H': o->host = optarg; break;
        case 'p': o->port = parse_long("--port", optarg, 1, 65535); break;
        case 'e':
            if (strcmp(optarg, "echo") == 0)
                o->expect = EXPECT_ECHO;
            else if (strcmp(optarg, "upper") == 0)
                o->expect = EXPECT_UPPER;
            else
                bench_sys_fatal("--expect: 'echo' or 'upper', not '%s'",
                                optarg);
            break;
        case 'c': o->conns = parse_long("--conns", optarg, 1, 1000000); break;
        case 's': o->size = parse_long("--size", optarg, 1, 1L << 30); break;
        case 'd': o->secs = parse_secs("--secs", optarg); break;
        case 'n': o->bytes = parse_size("--bytes", optarg); break;
        case 't': o->total = parse_long("--total", optarg, 1, 100000000);
            break;
        case 'k': o->inflight = parse_long("--inflight", optarg, 1, 100000);
            break;
        case 'h': o->hold = parse_secs("--hold", optarg); break;
        case 'i': o->hold_stdin = 1; break;
        case 'S': o->sources = parse_long("--sources", optarg, 1, 254);
            break;
        case 'T': o->timeout = parse_secs("--timeout", optarg); break;
        case '?' + 256: usage(stdout); exit(0);
        default: bench_sys_fatal("see --help");
        }
    }
    if (optind != argc)
        bench_sys_fatal("unexpected argument '%s' (see --help)", argv[optind]);
    if (mode == NULL)
        bench_sys_fatal("--mode is required (see --help)");
    if (strcmp(mode, "pingpong") == 0)
        o->mode = MODE_PINGPONG;
    else if (strcmp(mode, "bulk") == 0)
        o->mode = MODE_BULK;
    else if (strcmp(mode, "lifecycle") == 0)
        o->mode = MODE_LIFECYCLE;
    else if (strcmp(mode, "idle") == 0)
        o->mode = MODE_IDLE;
    else
        bench_sys_fatal("--mode: pingpong, bulk, lifecycle or idle, "
                        "not '%s'", mode);
    if (o->port < 0)
        bench_sys_fatal("--port is required (see --help)");
    if (o->conns < 0)
        o->conns = o->mode == MODE_PINGPONG ? 50
                 : o->mode == MODE_BULK ? 1 : 1000;
    if (o->size < 0)
        o->size = o->mode == MODE_IDLE ? 16 : 64;
    if (o->inflight < 0)
        o->inflight = o->mode == MODE_IDLE ? 64 : 32;
    if (o->mode == MODE_BULK && o->bytes == 0)
        bench_sys_fatal("--bytes must be at least 1");
    if (o->mode == MODE_PINGPONG && o->secs <= 0)
        bench_sys_fatal("--secs must be more than 0");
    if (o->timeout == 0)
        o->timeout = o->mode == MODE_PINGPONG ? o->secs + 60
                   : o->mode == MODE_IDLE ? o->hold + 600 : 600;
}

const char *bench_opt_mode_name(enum bench_mode mode)
{
    return mode_names[mode];
}

/* Refusing anything but loopback guards against aiming thousands of
 * connections elsewhere by mistake. */
void bench_opt_server_addr(const struct bench_opt *o,
                           struct sockaddr_storage *addr, socklen_t *len)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)addr;

    memset(addr, 0, sizeof *addr);
    if (inet_pton(AF_INET, o->host, &sin->sin_addr) == 1) {
        if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
            bench_sys_fatal("--host %s is not a loopback address", o->host);
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)o->port);
        *len = sizeof *sin;
    } else if (inet_pton(AF_INET6, o->host, &sin6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
            bench_sys_fatal("--host %s is not a loopback address", o->host);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)o->port);
        *len = sizeof *sin6;
    } else {
        bench_sys_fatal("--host: '%s' is not an IPv4 or IPv6 address", o->host);
    }
}
