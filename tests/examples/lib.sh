# lib.sh -- sourced by the example tests: run ricochet on a free port, talk
# to it with a real client, stop it. Called by ctest as
#   bash TEST.sh RICOCHET_BINARY REPOSITORY_ROOT
# The readiness line ("listening on 127.0.0.1:PORT") is read from a fifo,
# so nothing waits on a sleep. Only the server this test started is
# signalled. A missing client skips the test (exit 77), except under CI,
# where .ci/run installs every client and a missing one is a failure.
set -euo pipefail

RICOCHET=$1
ROOT=$2
WORK=$(mktemp -d)
SERVER_PID=""
PORT=""

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

cleanup() {
    local rc=$?
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -f "$WORK/server.log" ]; then
        echo "---- server log (last 40 lines) ----" >&2
        tail -n 40 "$WORK/server.log" >&2
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT

need() { # tool...
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 && continue
        if [ -n "${CI:-}" ]; then
            fail "$tool is not installed (.ci/run installs it)"
        fi
        echo "SKIP: $tool is not installed (the Debian packages are in .ci/run)"
        exit 77
    done
}

start_server() { # ricochet arguments (the script and its own arguments)
    mkfifo "$WORK/ready"
    "$RICOCHET" --listen 127.0.0.1:0 "$@" >"$WORK/ready" 2>"$WORK/server.log" &
    SERVER_PID=$!
    exec 3<"$WORK/ready"
    local line=""
    read -r -t 10 -u 3 line || fail "no readiness line from ricochet"
    case $line in
    "listening on 127.0.0.1:"*) PORT=${line##*:} ;;
    *) fail "unexpected first line from ricochet: $line" ;;
    esac
}

# SIGTERM, a clean exit 0, and no error in the log.
stop_server() {
    kill -TERM "$SERVER_PID"
    local rc=0
    wait "$SERVER_PID" || rc=$?
    SERVER_PID=""
    [ "$rc" -eq 0 ] || fail "ricochet exited with $rc after SIGTERM"
    if grep -E '^[^ ]+ error ' "$WORK/server.log" >&2; then
        fail "the server logged errors"
    fi
}

# expect WANT COMMAND...: the command's output (trailing newlines dropped,
# as $(...) does) is exactly WANT.
expect() {
    local want=$1 got
    shift
    got=$("$@") || fail "$* exited with $?"
    [ "$got" = "$want" ] || fail "$*: expected [$want], got [$got]"
}
