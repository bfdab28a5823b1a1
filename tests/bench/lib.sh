# lib.sh -- what the bench scripts (run.sh, proxy.sh, http.sh, resp.sh)
# share; sourced, not run.
# shellcheck shell=bash

# CPU time of process $1 in clock ticks: utime + stime, and with a second
# argument "children" also cutime + cstime (what it has reaped of its
# children: socat forks one a connection). The command name in field 2
# may hold spaces, so fields are counted after its closing parenthesis.
# 0 when the process is gone.
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    stat=${stat##*) }
    local with_children=${2:-}
    # shellcheck disable=SC2086  # split into the numeric fields
    set -- $stat
    if [ "$with_children" = children ]; then
        echo $(( ${12} + ${13} + ${14} + ${15} ))
    else
        echo $(( ${12} + ${13} ))
    fi
}

# Busy ticks (user, nice, system, irq, softirq, steal) of the CPUs named
# by the arguments, e.g. "busy_ticks_of 0 1", from /proc/stat. What the
# server and the client did not use of them was used by someone else.
busy_ticks_of() {
    awk -v list=" $* " '
        $1 ~ /^cpu[0-9]+$/ && index(list, " " substr($1, 4) " ") {
            s += $2 + $3 + $4 + $7 + $8 + $9 }
        END { print s + 0 }' /proc/stat
}

# The functions below call die, which the sourcing script defines (its
# name in front of the message, exit 2).

# A port nothing listens on now, from a bounded probe of $1..$1+100 on
# 127.0.0.1 (for servers that cannot print the port they were given).
free_port() {
    local p
    for p in $(seq "$1" $(($1 + 100))); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    die "no free port in $1-$(($1 + 100))"
}

# Wait (at most 10 s) until 127.0.0.1:$1 accepts; dies as soon as the
# server, PID $2, has exited.
wait_accepting() {
    local _
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || die "the server exited at start"
        sleep 0.1
    done
    die "nothing accepts on 127.0.0.1:$1 after 10 s"
}

# Start ricochet in the background, pinned to CPU $1, listening on a port
# of its choosing: start_ricochet_on CPU BINARY WORKDIR ARGS... Its stderr
# goes to WORKDIR/ricochet.log. Sets pid and port (from the readiness line,
# read through a FIFO in WORKDIR with a 10 s bound).
start_ricochet_on() {
    local cpu=$1 binary=$2 dir=$3 line=""
    shift 3
    mkfifo "$dir/ready"
    taskset -c "$cpu" "$binary" --listen 127.0.0.1:0 "$@" >"$dir/ready" \
        2>"$dir/ricochet.log" &
    pid=$!
    read -r -t 10 line <"$dir/ready" ||
        die "ricochet printed no readiness line: $(cat "$dir/ricochet.log")"
    rm -f "$dir/ready"
    [[ $line =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]] ||
        die "ricochet's readiness line: '$line'"
    # shellcheck disable=SC2034  # the caller's
    port=${BASH_REMATCH[1]}
}

# The median of the numbers on stdin, one a line (of an even count,
# the lower middle one).
median_stdin() {
    sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# Stop the server whose PID is in pid, a child of this shell (SIGTERM,
# then reap it); clears pid.
stop_bg_server() {
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=""
}

# A fresh work folder in $work (ricochet-NAME.XXXXXX), removed at exit,
# after the server whose PID is in $pid, if any, is stopped; INT and TERM
# exit 130. For http.sh and resp.sh, which start one server at a time.
bench_work() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/ricochet-$1.XXXXXX")
    pid=""
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

# shellcheck disable=SC2317  # invoked by the trap
bench_cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
