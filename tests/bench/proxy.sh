#!/usr/bin/env bash
# proxy.sh -- ricochet's proxy-mode benchmark: the reference echo
# (ricochet-refecho) as the upstream, and in front of it, in the same run,
# ricochet --upstream with scripts/proxy.lua (the relay in C), HAProxy
# `mode tcp` and socat (TCP-LISTEN,fork); ricochet-bench is the client.
# A "direct" column (the client straight to the upstream) shows what the
# extra hop costs.
#
# Every (proxy, mode, repetition) gets a fresh upstream and a fresh proxy.
# The proxy is pinned to one CPU, the client and the upstream to the
# other, the same for every proxy. The proxy's CPU time is utime + stime
# from /proc/PID/stat, plus cutime + cstime: the forked children socat
# has reaped (HAProxy and ricochet are one process and have none). The
# table gives medians over the repetitions and ricochet/HAProxy ratios.
#
#   tests/bench/proxy.sh --build BUILD_DIR            the full run
#   tests/bench/proxy.sh --build BUILD_DIR --smoke    tiny counts, ricochet
#                                                     only; fails on errors
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
scripts_dir="$here/../../scripts"
build="" ricochet="" bench="" refecho="" haproxy="" socat=""
proxies=""
modes="bulk,pingpong,lifecycle"
reps=3
preset=full
server_cpu=0
client_cpu=1
keep=""

# a few seconds a cell
pp_conns=50 pp_size=64 pp_secs=3
bulk_conns=1 bulk_bytes=512M
lc_total=5000 lc_inflight=32 lc_size=64

usage() {
    cat <<'EOF'
usage: tests/bench/proxy.sh (--build DIR | --ricochet P --bench P --refecho P)
                            [options]

The reference echo server as the upstream, and in front of it ricochet
(scripts/proxy.lua), HAProxy (mode tcp, nbthread 1) and socat
(TCP-LISTEN,fork), each measured with ricochet-bench in the modes bulk,
pingpong and lifecycle; "direct" is the client straight to the upstream.
The proxy runs on --server-cpu, the client and the upstream on
--client-cpu. Prints a table of medians: rates, and the proxy's CPU per
GiB, per message and per connection. Exit status: 0, or 1 if any run
counted an error or failed to start.

  --build DIR        a CMake build directory
  --ricochet PATH    the ricochet binary       (overrides --build)
  --bench PATH       ricochet-bench            (overrides --build)
  --refecho PATH     ricochet-refecho          (overrides --build)
  --haproxy PATH     haproxy (default: from PATH or /usr/sbin)
  --socat PATH       socat (default: from PATH)
  --proxies LIST     comma-separated subset of direct,ricochet,haproxy,socat
                     (default: all that are installed; --smoke: ricochet)
  --modes LIST       comma-separated subset of bulk,pingpong,lifecycle
  --reps N           repetitions, the median is reported (3)
  --smoke            every mode once with tiny counts (the CI check)
  --server-cpu N     CPU for the proxy (0)
  --client-cpu N     CPU for the client and the upstream (1)
  --keep DIR         keep the raw results and logs in DIR
  --pp-conns C --pp-size S --pp-secs D          pingpong (50, 64, 3)
  --bulk-conns C --bulk-bytes N                 bulk (1, 512M)
  --lc-total T --lc-inflight K --lc-size S      lifecycle (5000, 32, 64)
  --help             this text
EOF
}

die() { echo "proxy.sh: $*" >&2; exit 2; }

overrides=()
while [ $# -gt 0 ]; do
    case $1 in
    --smoke|-h|--help) ;;
    *) [ $# -ge 2 ] || die "$1 needs a value (see --help)" ;;
    esac
    case $1 in
    --build) build=$2; shift ;;
    --ricochet) ricochet=$2; shift ;;
    --bench) bench=$2; shift ;;
    --refecho) refecho=$2; shift ;;
    --haproxy) haproxy=$2; shift ;;
    --socat) socat=$2; shift ;;
    --proxies) proxies=$2; shift ;;
    --modes) modes=$2; shift ;;
    --reps) overrides+=("reps=$2"); shift ;;
    --smoke) preset=smoke ;;
    --server-cpu) server_cpu=$2; shift ;;
    --client-cpu) client_cpu=$2; shift ;;
    --keep) keep=$2; shift ;;
    --pp-conns) overrides+=("pp_conns=$2"); shift ;;
    --pp-size) overrides+=("pp_size=$2"); shift ;;
    --pp-secs) overrides+=("pp_secs=$2"); shift ;;
    --bulk-conns) overrides+=("bulk_conns=$2"); shift ;;
    --bulk-bytes) overrides+=("bulk_bytes=$2"); shift ;;
    --lc-total) overrides+=("lc_total=$2"); shift ;;
    --lc-inflight) overrides+=("lc_inflight=$2"); shift ;;
    --lc-size) overrides+=("lc_size=$2"); shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done
if [ "$preset" = smoke ]; then
    reps=1 pp_conns=4 pp_size=64 pp_secs=1
    bulk_conns=2 bulk_bytes=4M lc_total=200 lc_inflight=8 lc_size=64
fi
for kv in ${overrides[@]+"${overrides[@]}"}; do
    printf -v "${kv%%=*}" '%s' "${kv#*=}"
done

if [ -n "$build" ]; then
    [ -n "$ricochet" ] || ricochet="$build/ricochet"
    [ -n "$bench" ] || bench="$build/tests/bench/ricochet-bench"
    [ -n "$refecho" ] || refecho="$build/tests/bench/ricochet-refecho"
fi
[ -x "$bench" ] || die "not executable: '$bench' (--bench or --build)"
[ -x "$refecho" ] || die "not executable: '$refecho' (--refecho)"
[ -n "$haproxy" ] || haproxy=$(command -v haproxy 2>/dev/null) || haproxy=""
[ -n "$haproxy" ] || [ ! -x /usr/sbin/haproxy ] || haproxy=/usr/sbin/haproxy
[ -n "$socat" ] || socat=$(command -v socat 2>/dev/null) || socat=""
if [ -z "$proxies" ]; then
    if [ "$preset" = smoke ]; then
        proxies=ricochet
    else
        proxies=direct,ricochet
        [ -z "$haproxy" ] || proxies="$proxies,haproxy"
        [ -z "$socat" ] || proxies="$proxies,socat"
    fi
fi
for p in ${proxies//,/ }; do
    case $p in
    direct) ;;
    ricochet) [ -x "$ricochet" ] || die "not executable: '$ricochet'"
              [ -r "$scripts_dir/proxy.lua" ] || die "no proxy.lua" ;;
    haproxy) [ -n "$haproxy" ] && [ -x "$haproxy" ] || die "no haproxy" ;;
    socat) [ -n "$socat" ] && [ -x "$socat" ] || die "no socat" ;;
    *) die "unknown proxy '$p' (direct, ricochet, haproxy, socat)" ;;
    esac
done

pin_server=() pin_client=()
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    pin_server=(taskset -c "$server_cpu")
    pin_client=(taskset -c "$client_cpu")
else
    echo "proxy.sh: warning: no taskset or fewer than 2 CPUs: not pinning" >&2
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ -n "$keep" ]; then
    mkdir -p "$keep" || die "cannot create $keep"
    work=$keep
else
    work=$(mktemp -d) || die "mktemp failed"
fi
results="$work/results"
: > "$results"
clk_tck=$(getconf CLK_TCK)

UP_PID="" UP_PORT="" PROXY_PID="" PROXY_PORT=""
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    [ -z "$PROXY_PID" ] || kill -KILL "$PROXY_PID" 2>/dev/null
    [ -z "$UP_PID" ] || kill -KILL "$UP_PID" 2>/dev/null
    [ -n "$keep" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Busy ticks (user, nice, system, irq, softirq, steal) of the proxy's CPU
# (all CPUs when not pinned). Those the proxy did not use went to other
# processes: the run's noise, as in run.sh (which counts both CPUs; here
# the client and the upstream share the other one, so only the proxy's
# CPU says whether someone else competed with it).
cpu_busy_ticks() {
    awk -v a="cpu${pin_server[2]:-}" '
        (a == "cpu" && $1 == "cpu") || (a != "cpu" && $1 == a) {
            s += $2 + $3 + $4 + $7 + $8 + $9 }
        END { print s + 0 }' /proc/stat
}

# Wait (at most 10 s) until PID has no child left: socat's children are
# counted in its cutime/cstime only once it has reaped them.
wait_children() {
    local i
    for ((i = 0; i < 100; i++)); do
        # (a /proc file's size is 0: read it)
        [ -n "$(cat "/proc/$1/task/$1/children" 2>/dev/null)" ] || return 0
        sleep 0.1
    done
}

# The readiness line "listening on 127.0.0.1:PORT" of ricochet or refecho
# in FILE, while PID lives (at most 10 s). Prints the port.
ready_port() { # file pid
    local i port
    for ((i = 0; i < 100; i++)); do
        port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$1" |
               head -n 1)
        [ -z "$port" ] || { echo "$port"; return 0; }
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# A random port outside the ephemeral range, for HAProxy and socat, which
# cannot report a port 0 they were given; on a clash they exit and
# start_proxy tries another.
pick_port() {
    echo $((10000 + RANDOM % 20000))
}

# Poll PORT until it accepts (at most 10 s) while PID lives.
accepts() { # port pid
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$2" 2>/dev/null || return 1
        if (exec 3<> "/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

stop_pid() {
    local i
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

start_upstream() {
    : > "$work/up.out"
    ${pin_client[@]+"${pin_client[@]}"} "$refecho" --listen 127.0.0.1:0 \
        > "$work/up.out" 2>> "$work/upstream.log" &
    UP_PID=$!
    UP_PORT=$(ready_port "$work/up.out" "$UP_PID") || {
        echo "proxy.sh: the upstream did not start" >&2
        return 1
    }
}

# Start a proxy of KIND in front of the upstream; sets PROXY_PID and
# PROXY_PORT ("direct": the upstream itself, nothing started).
start_proxy() {
    local kind=$1 attempt log="$work/proxy-$1.log"
    case $kind in
    direct) PROXY_PID="" PROXY_PORT=$UP_PORT; return 0 ;;
    ricochet)
        : > "$work/proxy.out"
        ${pin_server[@]+"${pin_server[@]}"} "$ricochet" \
            --listen 127.0.0.1:0 --upstream "127.0.0.1:$UP_PORT" \
            --log-level warn --max-conns 10000 "$scripts_dir/proxy.lua" \
            > "$work/proxy.out" 2>> "$log" &
        PROXY_PID=$!
        PROXY_PORT=$(ready_port "$work/proxy.out" "$PROXY_PID") && return 0
        ;;
    haproxy|socat)
        for ((attempt = 0; attempt < 3; attempt++)); do
            PROXY_PORT=$(pick_port)
            if [ "$kind" = haproxy ]; then
                # One thread, like ricochet's one event loop; no splicing
                # (HAProxy's default), the same buffers for both.
                cat > "$work/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 20000
    no strict-limits
defaults
    mode tcp
    timeout connect 5s
    timeout client 10m
    timeout server 10m
frontend fe
    bind 127.0.0.1:$PROXY_PORT
    default_backend up
backend up
    server up 127.0.0.1:$UP_PORT
EOF
                ${pin_server[@]+"${pin_server[@]}"} "$haproxy" -db \
                    -f "$work/haproxy.cfg" >> "$log" 2>&1 &
            else
                ${pin_server[@]+"${pin_server[@]}"} "$socat" \
                    "TCP-LISTEN:$PROXY_PORT,bind=127.0.0.1,fork,reuseaddr,backlog=1024" \
                    "TCP:127.0.0.1:$UP_PORT" >> "$log" 2>&1 &
            fi
            PROXY_PID=$!
            accepts "$PROXY_PORT" "$PROXY_PID" && return 0
            stop_pid "$PROXY_PID"
            PROXY_PID=""
        done ;;
    esac
    echo "proxy.sh: $kind did not start; its log:" >&2
    tail -n 5 "$log" >&2
    return 1
}

field() {
    local kv
    for kv in $2; do
        case $kv in "$1="*) echo "${kv#*=}"; return ;; esac
    done
    echo "-"
}
record() { echo "$1 $2 $3 $4 $5" >> "$results"; }

failures=0 passes=0
run_one() { # kind mode rep
    local kind=$1 mode=$2 rep=$3 args t0 t1 b0 b1 w0 w1 cpu line rc pid
    case $mode in
    pingpong) args=(--conns "$pp_conns" --size "$pp_size" --secs "$pp_secs") ;;
    bulk) args=(--conns "$bulk_conns" --bytes "$bulk_bytes") ;;
    lifecycle) args=(--total "$lc_total" --inflight "$lc_inflight"
                     --size "$lc_size") ;;
    esac
    if ! start_upstream || ! start_proxy "$kind"; then
        failures=$((failures + 1))
        stop_pid "$PROXY_PID"; PROXY_PID=""
        stop_pid "$UP_PID"; UP_PID=""
        return
    fi
    # the proxy's CPU; direct: the upstream's, for reference
    pid=${PROXY_PID:-$UP_PID}
    t0=$(cpu_ticks "$pid" children)
    b0=$(cpu_busy_ticks)
    w0=$(date +%s%N)
    rc=0
    ${pin_client[@]+"${pin_client[@]}"} "$bench" --mode "$mode" \
        --port "$PROXY_PORT" "${args[@]}" > "$work/bench.out" \
        2> "$work/bench.err" || rc=$?
    wait_children "$pid"
    t1=$(cpu_ticks "$pid" children)
    b1=$(cpu_busy_ticks)
    w1=$(date +%s%N)
    stop_pid "$PROXY_PID"; PROXY_PID=""
    stop_pid "$UP_PID"; UP_PID=""
    line=$(grep '^RESULT' "$work/bench.out" | tail -n 1)
    printf '[%-8s %-9s %d/%d] %s\n' "$kind" "$mode" "$rep" "$reps" \
        "${line:-no RESULT line}"
    if [ "$rc" -ne 0 ] || [ -z "$line" ] \
       || [ "$(field errors "$line")" != 0 ]; then
        echo "proxy.sh: $kind $mode failed (exit $rc):" >&2
        head -n 5 "$work/bench.err" >&2
        failures=$((failures + 1))
        return
    fi
    passes=$((passes + 1))
    cpu=$(awk -v t=$((t1 - t0)) -v hz="$clk_tck" 'BEGIN { print t / hz }')
    # others on the proxy's CPU, in % of it (direct: nothing runs there)
    if [ "$kind" != direct ]; then
        record "$kind" "$mode" "$rep" noise \
            "$(awk -v busy=$((b1 - b0)) -v own=$((t1 - t0)) \
               -v hz="$clk_tck" -v ns=$((w1 - w0)) 'BEGIN {
                 o = busy - own; if (o < 0) o = 0
                 printf "%.0f", (ns > 0 ? 100 * o / hz / (ns / 1e9) : 0) }')"
    fi
    record "$kind" "$mode" "$rep" cpu_pct \
        "$(awk -v c="$cpu" -v s="$(field secs "$line")" \
           'BEGIN { printf "%.0f", (s > 0 ? 100 * c / s : 0) }')"
    case $mode in
    pingpong)
        record "$kind" "$mode" "$rep" rate "$(field msgs_per_s "$line")"
        record "$kind" "$mode" "$rep" p50 "$(field p50_us "$line")"
        record "$kind" "$mode" "$rep" cpu_per \
            "$(awk -v c="$cpu" -v n="$(field msgs "$line")" \
               'BEGIN { printf "%.3f", (n > 0 ? c * 1e6 / n : 0) }')" ;;
    bulk)
        record "$kind" "$mode" "$rep" rate "$(field mb_per_s "$line")"
        record "$kind" "$mode" "$rep" cpu_per \
            "$(awk -v c="$cpu" -v b="$(field bytes "$line")" \
               -v n="$bulk_conns" \
               'BEGIN { printf "%.3f", c / (b * n / 1073741824) }')" ;;
    lifecycle)
        record "$kind" "$mode" "$rep" rate "$(field conns_per_s "$line")"
        record "$kind" "$mode" "$rep" p50 "$(field p50_us "$line")"
        record "$kind" "$mode" "$rep" cpu_per \
            "$(awk -v c="$cpu" -v n="$(field conns_ok "$line")" \
               'BEGIN { printf "%.2f", (n > 0 ? c * 1e6 / n : 0) }')" ;;
    esac
}

median() { # kind mode key
    awk -v k="$1" -v m="$2" -v key="$3" \
        '$1 == k && $2 == m && $4 == key { print $5 }' "$results" \
    | sort -g \
    | awk '{ v[NR] = $1 }
           END { if (NR == 0) print "-";
                 else if (NR % 2) print v[(NR + 1) / 2];
                 else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "-" || b == "-" || b + 0 == 0) print "-";
        else printf "%.2f", a / b }'
}

echo "ricochet proxy benchmark: preset $preset, $reps repetition(s);" \
     "proxy on CPU ${pin_server[2]:-any}, client and upstream on CPU" \
     "${pin_client[2]:-any}"
echo "bulk ${bulk_conns}x${bulk_bytes}B; pingpong ${pp_conns}x${pp_size}B" \
     "${pp_secs}s; lifecycle ${lc_total}x${lc_size}B, ${lc_inflight} in flight"
for ((rep = 1; rep <= reps; rep++)); do
    for mode in ${modes//,/ }; do
        for kind in ${proxies//,/ }; do
            run_one "$kind" "$mode" "$rep"
        done
    done
done

echo
has() { case ",$proxies," in *,"$1",*) return 0 ;; esac; return 1; }
printf '%-10s %-17s' mode metric
for kind in direct ricochet haproxy socat; do
    has "$kind" && printf ' %10s' "$kind"
done
has ricochet && has haproxy && printf ' %9s' ric/hap
echo
row() { # mode label key
    local kind
    printf '%-10s %-17s' "$1" "$2"
    for kind in direct ricochet haproxy socat; do
        has "$kind" && printf ' %10s' "$(median "$kind" "$1" "$3")"
    done
    if has ricochet && has haproxy; then
        if [ "$3" = noise ]; then
            printf ' %9s' -
        else
            printf ' %9s' "$(ratio "$(median ricochet "$1" "$3")" \
                             "$(median haproxy "$1" "$3")")"
        fi
    fi
    echo
}
for mode in ${modes//,/ }; do
    case $mode in
    bulk)
        row bulk "MB/s" rate
        row bulk "CPU s/GiB" cpu_per
        row bulk "CPU %" cpu_pct
        row bulk "noise %" noise ;;
    pingpong)
        row pingpong "msgs/s" rate
        row pingpong "p50 us" p50
        row pingpong "CPU us/msg" cpu_per
        row pingpong "CPU %" cpu_pct
        row pingpong "noise %" noise ;;
    lifecycle)
        row lifecycle "conns/s" rate
        row lifecycle "p50 us" p50
        row lifecycle "CPU us/conn" cpu_per
        row lifecycle "CPU %" cpu_pct
        row lifecycle "noise %" noise ;;
    esac
done
echo "(CPU: the proxy's; in the direct column, the upstream's own."
echo " noise: other processes on the proxy's CPU, in % of it)"

# The issue's target: ricochet at least HAProxy on each rate, at no more
# CPU. Within 3 % is a tie, as far as one run on a shared machine can say.
if [ "$preset" != smoke ] && has ricochet && has haproxy; then
    echo
    echo "ricochet vs HAProxy (target: at least its rate, at no more CPU):"
    for mode in ${modes//,/ }; do
        for key in rate cpu_per; do
            q=$(ratio "$(median ricochet "$mode" "$key")" \
                      "$(median haproxy "$mode" "$key")")
            verdict=$(awk -v q="$q" -v key="$key" 'BEGIN {
                if (q == "-") { print "no data"; exit }
                if (q > 0.97 && q < 1.03) { print "tie (within 3 %)"; exit }
                good = (key == "rate") ? (q > 1) : (q < 1)
                print good ? "met" : "NOT MET" }')
            printf '  %-10s %-8s %6s  %s\n' "$mode" \
                "$([ "$key" = rate ] && echo rate || echo CPU)" "$q" \
                "$verdict"
        done
    done
fi
echo
echo "proxy bench: $passes passed, $failures failed"
[ -z "$keep" ] || echo "raw results and logs: $keep"
exit $((failures > 0))
