#!/usr/bin/env bash
# smoke.sh -- the benchmark's CI check: every mode once, with tiny counts,
# against the reference server and ricochet (echo.lua and upper.lua).
# Fails on any error, never on speed. Arguments as for run.sh, e.g.
#   tests/bench/smoke.sh --build BUILD_DIR
exec "$(dirname "$0")/run.sh" --smoke "$@"
