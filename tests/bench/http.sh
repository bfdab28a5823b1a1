#!/usr/bin/env bash
# http.sh -- examples/http.lua against nginx, keep-alive HTTP/1.1 driven by
# wrk: requests per second and the server's CPU per request, each server
# on one CPU and wrk on the other, the servers alternating run by run.
# nginx (Debian's nginx-light) runs one process, no master, answering
# GET / with the same 20-byte body as http.lua; without nginx the column
# is left out. Fails when a run returns an error or a status other than
# 200, never on speed. Talks only to 127.0.0.1; every wait is bounded and
# every server is stopped by its PID.
#
#   tests/bench/http.sh --build BUILD_DIR [--reps N] [--secs D] [--conns C]
set -euo pipefail

usage() {
    cat <<'EOF'
usage: http.sh --build DIR [options]

  --build DIR        a CMake build directory holding ricochet
  --ricochet PATH    the ricochet binary (overrides --build)
  --reps N           runs of each server, the median is reported (3)
  --secs D           seconds of each wrk run (5)
  --conns C          wrk's connections, one thread (50)
  --server-cpu N     CPU for the server (0)
  --client-cpu N     CPU for wrk (1)
  --smoke            one 1 s run each: checks the set-up, not the speed
  --help             this text
EOF
}

die() { echo "http.sh: $*" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
root=$(cd "$here/../.." && pwd)
ricochet="" reps=3 secs=5 conns=50 server_cpu=0 client_cpu=1
while [ $# -gt 0 ]; do
    case $1 in
    --build) [ $# -ge 2 ] || die "--build needs a value"
        ricochet="$2/ricochet"; shift ;;
    --ricochet) [ $# -ge 2 ] || die "--ricochet needs a value"
        ricochet=$2; shift ;;
    --reps|--secs|--conns|--server-cpu|--client-cpu)
        [ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge 0 ] ||
            die "$1 needs a number"
        name=${1#--}; name=${name//-/_}
        printf -v "$name" '%s' "$2"; shift ;;
    --smoke) reps=1 secs=1 conns=8 ;;
    --help|-h) usage; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
    esac
    shift
done
[ -n "$ricochet" ] || die "--build or --ricochet is required"
[ -x "$ricochet" ] || die "no ricochet at $ricochet"
[ "$reps" -ge 1 ] && [ "$secs" -ge 1 ] && [ "$conns" -ge 1 ] ||
    die "--reps, --secs and --conns must be at least 1"
command -v wrk >/dev/null || die "wrk is needed (apt-get install wrk)"
nginx=$(command -v nginx || true)
[ -n "$nginx" ] || [ ! -x /usr/sbin/nginx ] || nginx=/usr/sbin/nginx

bench_work http

# Start a server; sets pid and port.
start_ricochet() {
    start_ricochet_on "$server_cpu" "$ricochet" "$work" --log-level warn \
        "$root/examples/http.lua"
}

start_nginx() {
    # nginx cannot print its port: the next free one
    port=$(free_port 18080)
    mkdir -p "$work/nginx"
    cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$port;
        location = / {
            default_type text/plain;
            return 200 "hello from ricochet\n";
        }
    }
}
EOF
    taskset -c "$server_cpu" "$nginx" -p "$work/nginx" \
        -c "$work/nginx/nginx.conf" -e "$work/nginx.log" \
        >>"$work/nginx.log" 2>&1 &
    pid=$!
    wait_accepting "$port" "$pid"
}

# One wrk run against the server just started: "RPS CPU_US_PER_REQ".
measure() {
    local before after out rps reqs ticks hz
    hz=$(getconf CLK_TCK)
    before=$(cpu_ticks "$pid")
    out=$(taskset -c "$client_cpu" timeout $((secs + 30)) wrk -t1 \
        -c"$conns" -d"${secs}s" "http://127.0.0.1:$port/")
    after=$(cpu_ticks "$pid")
    if grep -qE "Non-2xx|Socket errors" <<<"$out"; then
        echo "$out" >&2
        die "wrk counted errors"
    fi
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
    reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
    [ -n "$rps" ] && [ -n "$reqs" ] && [ "$reqs" -gt 0 ] ||
        { echo "$out" >&2; die "no result from wrk"; }
    ticks=$((after - before))
    awk -v r="$rps" -v t="$ticks" -v hz="$hz" -v n="$reqs" \
        'BEGIN { printf "%.0f %.2f\n", r, t * 1e6 / hz / n }'
}

# The response must be http.lua's, from both servers alike.
check_body() {
    local got
    got=$(timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port;
        printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3;
        cat <&3" | tail -c 20)
    [ "$got" = "hello from ricochet" ] ||
        die "GET / on $1 answered '$got'"
}

servers=(ricochet)
if [ -n "$nginx" ]; then
    servers+=(nginx)
else
    echo "http.sh: no nginx found: its column is left out" >&2
fi
for rep in $(seq "$reps"); do
    for s in "${servers[@]}"; do
        "start_$s"
        check_body "$s"
        result=$(measure)
        stop_bg_server
        echo "$s $result" >>"$work/results"
        echo "[$s $rep/$reps] req/s=${result% *} srv CPU us/req=${result#* }"
    done
done

echo
echo "wrk -t1 -c$conns, ${secs} s a run, $reps run(s) each, medians:"
printf '%-10s %12s %16s\n' server "req/s" "srv CPU us/req"
declare -A rps cpu
for s in "${servers[@]}"; do
    rps[$s]=$(awk -v s="$s" '$1 == s { print $2 }' "$work/results" |
        median_stdin)
    cpu[$s]=$(awk -v s="$s" '$1 == s { print $3 }' "$work/results" |
        median_stdin)
    printf '%-10s %12s %16s\n' "$s" "${rps[$s]}" "${cpu[$s]}"
done
if [ -n "$nginx" ]; then
    awk -v a="${rps[ricochet]}" -v b="${rps[nginx]}" \
        -v c="${cpu[ricochet]}" -v d="${cpu[nginx]}" 'BEGIN {
        printf "ricochet/nginx: req/s %.2f, CPU per request %.2f\n",
               a / b, c / d }'
fi
