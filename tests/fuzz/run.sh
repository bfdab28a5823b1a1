#!/usr/bin/env bash
# run.sh -- fuzz each libFuzzer target of tests/fuzz for SECONDS (default
# 20), one after the other, and fail on any crash, sanitizer report,
# difference from its reference, leak or hang. Builds the targets first
# (clang, -DRICOCHET_FUZZ=ON) when the build directory has none.
#
#   tests/fuzz/run.sh                   20 s each, about 90 s in all
#   tests/fuzz/run.sh 3600              an hour each
#   tests/fuzz/run.sh 600 frame addr    ten minutes each for two targets
#
# New inputs go to BUILD/fuzz/corpus/TARGET (kept between runs, so a long
# run resumes where the last one stopped); the seed corpus in the
# repository is read, never written. A failing input is saved as
# BUILD/fuzz/artifacts/TARGET/crash-* (or timeout-*, leak-*, oom-*), and
# the run's output is in BUILD/fuzz/TARGET.log. Replay one input with
#   BUILD/tests/fuzz/fuzz_TARGET FILE
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/build/fuzz"
keep_stderr=0
seconds=20
targets=()
all_targets=(frame addr pattern simulate)

usage() {
    cat <<'EOF'
usage: tests/fuzz/run.sh [--build DIR] [--keep-stderr] [SECONDS [TARGET...]]

Fuzzes each target (frame, addr, pattern, simulate; default all) for
SECONDS seconds (default 20) and exits 1 if any found a failure.

  --build DIR      the clang build with -DRICOCHET_FUZZ=ON (default
                   build/fuzz; configured and built when it has no targets)
  --keep-stderr    show what the simulate target's transcripts and scripts
                   log (hidden by default: libFuzzer's own report and the
                   sanitizers' stay visible either way)
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$2; shift 2 ;;
    --build=*) build=${1#--build=}; shift ;;
    --keep-stderr) keep_stderr=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) break ;;
    esac
done
if [ $# -gt 0 ]; then
    seconds=$1
    shift
fi
case "$seconds" in
''|*[!0-9]*|0) echo "run.sh: SECONDS must be a whole number above 0," \
                    "not '$seconds'" >&2; exit 2 ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
    case " ${all_targets[*]} " in
    *" $t "*) ;;
    *) echo "run.sh: unknown target '$t' (${all_targets[*]})" >&2; exit 2 ;;
    esac
done

missing=0
for t in "${targets[@]}"; do
    [ -x "$build/tests/fuzz/fuzz_$t" ] || missing=1
done
if [ "$missing" -eq 1 ]; then
    echo "== building the fuzz targets in $build"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
          -DCMAKE_C_COMPILER=clang -DRICOCHET_FUZZ=ON >/dev/null || exit 1
    cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" \
          --target fuzz || exit 1
fi

# Per target: the longest input, and extra options.
options_for() {
    case "$1" in
    frame) echo "-max_len=4096" ;;
    addr) echo "-max_len=256" ;;
    pattern) echo "-max_len=512 -dict=$here/pattern.dict" ;;
    simulate)
        echo "-max_len=4096 -dict=$here/simulate.dict"
        [ "$keep_stderr" -eq 1 ] || echo "-close_fd_mask=2"
        ;;
    esac
}

failed=()
printf '%-10s %8s %10s %10s %6s  %s\n' target seconds runs exec/s new result
for t in "${targets[@]}"; do
    work="$build/fuzz/corpus/$t"
    artifacts="$build/fuzz/artifacts/$t"
    log="$build/fuzz/$t.log"
    mkdir -p "$work" "$artifacts"
    # -timeout: one input that runs this long is a hang, so a failure
    # shellcheck disable=SC2046
    "$build/tests/fuzz/fuzz_$t" $(options_for "$t") \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$work" "$here/corpus/$t" \
        >"$log" 2>&1
    rc=$?
    stat_of() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
    runs=$(stat_of number_of_executed_units)
    rate=$(stat_of average_exec_per_sec)
    new=$(stat_of new_units_added)
    result=ok
    if [ "$rc" -ne 0 ]; then
        result="FAILED (exit $rc; see $log)"
        failed+=("$t")
    fi
    printf '%-10s %8s %10s %10s %6s  %s\n' "$t" "$seconds" "${runs:-?}" \
        "${rate:-?}" "${new:-?}" "$result"
    if [ "$rc" -ne 0 ]; then
        echo "--- the end of $log:"
        tail -n 40 "$log"
        echo "---"
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found failures in: ${failed[*]}" >&2
    exit 1
fi
echo "fuzzing: no failure in ${#targets[@]} targets, ${seconds} s each"
