#!/usr/bin/env bash
# smoke.sh -- the benchmark's CI check: every mode once, with tiny counts,
# against the reference server and ricochet (echo.lua and upper.lua), then
# ricochet in proxy mode in front of the reference (proxy.sh --smoke).
# Fails on any error, never on speed. Arguments as for run.sh, e.g.
#   tests/bench/smoke.sh --build BUILD_DIR
# (proxy.sh gets only the binaries' options: --build, --ricochet, --bench,
# --refecho.)
here=$(dirname "$0")
"$here/run.sh" --smoke "$@" || exit
proxy_args=()
while [ $# -gt 0 ]; do
    case $1 in
    --build|--ricochet|--bench|--refecho)
        [ $# -ge 2 ] && proxy_args+=("$1" "$2") && shift ;;
    esac
    shift
done
exec "$here/proxy.sh" --smoke "${proxy_args[@]}"
