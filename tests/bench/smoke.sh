#!/usr/bin/env bash
# smoke.sh -- the benchmark's CI check: every mode once, with tiny counts,
# against the reference server and ricochet (echo.lua and upper.lua), then
# ricochet in proxy mode in front of the reference (proxy.sh --smoke),
# then examples/http.lua and nginx under wrk (http.sh --smoke), then
# examples/resp.lua and redis-server under redis-benchmark (resp.sh
# --smoke). Fails on any error, never on speed. Arguments as for run.sh,
# e.g.
#   tests/bench/smoke.sh --build BUILD_DIR
# (proxy.sh gets only the binaries' options: --build, --ricochet, --bench,
# --refecho; http.sh and resp.sh --build and --ricochet.)
here=$(dirname "$0")
"$here/run.sh" --smoke "$@" || exit
proxy_args=()
http_args=()
while [ $# -gt 0 ]; do
    case $1 in
    --build|--ricochet|--bench|--refecho)
        [ $# -ge 2 ] && proxy_args+=("$1" "$2") || break
        case $1 in --build|--ricochet) http_args+=("$1" "$2") ;; esac
        shift ;;
    esac
    shift
done
"$here/proxy.sh" --smoke "${proxy_args[@]}" || exit
"$here/http.sh" --smoke "${http_args[@]}" || exit
exec "$here/resp.sh" --smoke "${http_args[@]}"
