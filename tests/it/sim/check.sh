#!/bin/sh
# check.sh RICOCHET TRANSCRIPT EXPECTED SCRIPT [OPTION...]
#
# Runs "RICOCHET --simulate TRANSCRIPT SCRIPT [OPTION...]" and compares its
# stdout, byte for byte, with EXPECTED; the run must exit 0. On a
# difference, prints a unified diff (expected first) and the run's stderr.
# Registered by tests/it/CMakeLists.txt as one ctest test per transcript.
set -u
if [ $# -lt 4 ]; then
    echo "usage: $0 RICOCHET TRANSCRIPT EXPECTED SCRIPT [OPTION...]" >&2
    exit 2
fi
bin=$1
transcript=$2
expected=$3
script=$4
shift 4

out=$(mktemp "${TMPDIR:-/tmp}/ricochet-sim.XXXXXX") || exit 1
err=$(mktemp "${TMPDIR:-/tmp}/ricochet-sim.XXXXXX") || {
    rm -f "$out"
    exit 1
}
trap 'rm -f "$out" "$err"' EXIT

"$bin" --simulate "$transcript" "$script" "$@" >"$out" 2>"$err"
rc=$?
status=0
if [ "$rc" -ne 0 ]; then
    echo "ricochet --simulate exited $rc (expected 0)"
    status=1
fi
if ! cmp -s "$expected" "$out"; then
    echo "stdout differs from $expected:"
    diff -u "$expected" "$out"
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "---- stderr ----"
    cat "$err"
fi
exit "$status"
