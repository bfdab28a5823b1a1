# lib.sh -- sourced by the real-server tests: ricochet in proxy mode in
# front of a real server (redis-server, nginx) that the test starts
# itself, on 127.0.0.1, on a free port, with its own configuration in the
# test's temporary directory. Called by ctest as
#   bash TEST.sh RICOCHET_BINARY REPOSITORY_ROOT
# Builds on tests/examples/lib.sh (start_server, stop_server, expect, need,
# fail). Readiness is a log line read from a fifo (redis-server) or a port
# that accepts (nginx, which prints none), each with a bound. Only the
# processes this test started are signalled. A missing tool skips the
# test (exit 77), except under CI.
. "$(dirname "${BASH_SOURCE[0]}")/../examples/lib.sh"

REDIS_PID=""
REDIS_PORT=""
REDIS_DRAIN_PID=""
NGINX_PID=""
NGINX_PORT=""
SLICER_PID=""
SLICER_PORT=""

cleanup_real() {
    local rc=$? pid
    set +e
    for pid in "$SLICER_PID" "$REDIS_PID" "$NGINX_PID"; do
        [ -n "$pid" ] || continue
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$REDIS_DRAIN_PID" ]; then
        wait "$REDIS_DRAIN_PID" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
        for log in redis.log nginx.log slicer.log; do
            [ -f "$WORK/$log" ] || continue
            echo "---- $log (last 20 lines) ----" >&2
            tail -n 20 "$WORK/$log" >&2
        done
    fi
    (exit "$rc")
    cleanup
}
trap cleanup_real EXIT

# A random port outside the ephemeral range; the caller retries another
# when the server cannot bind it.
random_port() {
    echo $((20000 + RANDOM % 12000))
}

# Start redis-server on a free port: sets REDIS_PID and REDIS_PORT. No
# persistence, no protected mode; its log (stdout) goes through a fifo
# until "Ready to accept connections", then to redis.log.
start_redis() {
    local attempt port line fifo
    for ((attempt = 0; attempt < 5; attempt++)); do
        port=$(random_port)
        fifo="$WORK/redis.fifo.$attempt"
        mkfifo "$fifo"
        redis-server --bind 127.0.0.1 --port "$port" --save "" \
            --appendonly no --dir "$WORK" --logfile "" --daemonize no \
            --protected-mode no >"$fifo" 2>&1 &
        REDIS_PID=$!
        exec 4<"$fifo"
        while read -r -t 10 -u 4 line; do
            echo "$line" >>"$WORK/redis.log"
            case $line in
            *"Ready to accept connections"*)
                REDIS_PORT=$port
                cat <&4 >>"$WORK/redis.log" &
                REDIS_DRAIN_PID=$!
                exec 4<&-
                return 0 ;;
            esac
        done
        # EOF (it exited: the port was taken) or no line within the bound
        kill -TERM "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
        REDIS_PID=""
        exec 4<&-
    done
    fail "redis-server did not start (see redis.log)"
}

# Wait until 127.0.0.1:PORT accepts a connection while PID lives: at most
# 200 tries, 50 ms apart (10 s).
wait_port() { # port pid
    local i
    for ((i = 0; i < 200; i++)); do
        kill -0 "$2" 2>/dev/null || return 1
        if (exec 5<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# Start nginx in the foreground (one process, no daemon, no master) on a
# free port, serving the directory $1: sets NGINX_PID and NGINX_PORT.
start_nginx() { # document root
    local attempt port
    mkdir -p "$WORK/nginx"
    for ((attempt = 0; attempt < 5; attempt++)); do
        port=$(random_port)
        cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    default_type application/octet-stream;
    keepalive_timeout 30s;
    server {
        listen 127.0.0.1:$port;
        root $1;
    }
}
EOF
        nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" \
            -e "$WORK/nginx.log" >>"$WORK/nginx.log" 2>&1 &
        NGINX_PID=$!
        if wait_port "$port" "$NGINX_PID"; then
            NGINX_PORT=$port
            return 0
        fi
        kill -TERM "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
        NGINX_PID=""
    done
    fail "nginx did not start (see nginx.log)"
}

# The nginx binary is in /usr/sbin, which a user's PATH may lack.
[ -x /usr/sbin/nginx ] && PATH="$PATH:/usr/sbin"

# Start (another) ricochet: start_server's fifo is made anew.
start_proxy() { # ricochet arguments
    exec 3<&-
    rm -f "$WORK/ready"
    start_server "$@"
}

# FILE of SIZE bytes, every byte value in turn (0, 1, ..., 255, 0, ...).
make_pattern() { # file size
    local i
    for ((i = 0; i < 256; i++)); do printf "\\$(printf '%03o' "$i")"; done \
        >"$1.block"
    for ((i = 256; i < $2; i *= 2)); do  # doubled: log2(size) copies
        cat "$1.block" "$1.block" >"$1.twice"
        mv "$1.twice" "$1.block"
    done
    head -c "$2" "$1.block" >"$1"
    rm -f "$1.block"
}

# Open a connection to 127.0.0.1:PORT on descriptor 5 (a plain client
# whose every write and read the test controls).
open_conn() { # port
    exec 5<>"/dev/tcp/127.0.0.1/$1" || fail "cannot connect to port $1"
}
close_conn() { exec 5<&- 5>&-; }

# roundtrip REQUEST LINES: send REQUEST (printf %b escapes) on descriptor
# 5 and read LINES reply lines (at most 10 s each); sets REPLY_TEXT (the
# lines, CRs kept, each ended by LF) and RTT_US (from before the write to
# after the last line, in microseconds, as the client saw it).
roundtrip() {
    local t0 t1 line i
    REPLY_TEXT=""
    t0=$EPOCHREALTIME
    printf '%b' "$1" >&5
    for ((i = 0; i < $2; i++)); do
        IFS= read -r -t 10 -u 5 line || fail "no reply line to [$1]"
        REPLY_TEXT+="$line"$'\n'
    done
    t1=$EPOCHREALTIME
    t0=${t0//[.,]/} t1=${t1//[.,]/}
    RTT_US=$((10#$t1 - 10#$t0))
}

# Read what descriptor 5 still gets until EOF (at most 10 s) into FILE.
read_to_eof() { # file
    timeout 10 cat <&5 >"$1" || fail "no EOF within 10 s (exit $?)"
}

# A second ricochet between a proxy and the upstream UPSTREAM_PORT,
# writing what it relays to its client in slices of SIZE bytes, GAP_MS
# apart (tests/real/slice.lua), so that its client reads the upstream's
# replies in pieces cut everywhere: sets SLICER_PID and SLICER_PORT.
start_slicer() { # upstream_port size gap_ms
    local line
    mkfifo "$WORK/slicer.ready"
    "$RICOCHET" --listen 127.0.0.1:0 --upstream "127.0.0.1:$1" \
        "$ROOT/tests/real/slice.lua" -- size="$2" gap="$3" \
        >"$WORK/slicer.ready" 2>"$WORK/slicer.log" &
    SLICER_PID=$!
    exec 6<"$WORK/slicer.ready"
    read -r -t 10 -u 6 line || fail "no readiness line from the slicer"
    exec 6<&-
    case $line in
    "listening on 127.0.0.1:"*) SLICER_PORT=${line##*:} ;;
    *) fail "unexpected first line from the slicer: $line" ;;
    esac
}

# resp ARG...: the RESP request a client such as redis-cli sends for a
# command, an array of bulk strings (lengths in bytes: LC_ALL=C).
resp() {
    local a LC_ALL=C
    printf '*%d\r\n' "$#"
    for a in "$@"; do printf '$%d\r\n%s\r\n' "${#a}" "$a"; done
}
