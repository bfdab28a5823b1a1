#!/usr/bin/env bash
# lint.sh -- luacheck over the shipped scripts and examples (and the
# editors' definition file), with the repository's .luacheckrc: any
# warning fails. Called by ctest as
#   bash lint.sh REPOSITORY_ROOT
# Without luacheck (Debian's lua-check) it skips (exit 77), except under
# CI (CI set), where .ci/run installs it and a skip would hide a failure.
set -euo pipefail
root=${1:?usage: lint.sh REPOSITORY_ROOT}
if ! command -v luacheck >/dev/null 2>&1; then
    if [ -n "${CI:-}" ]; then
        echo "FAIL: luacheck is not installed (.ci/run installs lua-check)"
        exit 1
    fi
    echo "SKIP: luacheck is not installed (Debian: lua-check)"
    exit 77
fi
cd "$root"
# --no-color: ctest's log is plain text; luacheck exits 1 on a warning,
# 2 on an error.
luacheck --no-color --config .luacheckrc scripts examples
