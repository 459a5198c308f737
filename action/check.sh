#!/usr/bin/env bash
# What the GitHub Action (action.yml at the repository root) runs: install paramcalc into a virtual
# environment of its own, then `paramcalc check --format github` on the paths given, so that every
# failing spec gets an annotation on its expect: line. The exit code is paramcalc check's: 0 every
# figure holds, 1 one differs, 2 a spec cannot be read. The action's inputs arrive as:
#   PARAMCALC_PATHS    spec files, folders or zoo:NAMEs, separated by spaces (default: .)
#   PARAMCALC_ARGS     more options for paramcalc check, e.g. --strict (default: none)
#   PARAMCALC_PACKAGE  what to pip install (default: this copy of paramcalc, the version `uses:` pins);
#                      `none` runs the paramcalc already on PATH
#   PARAMCALC_PYTHON   the Python to make the environment with (default: python3)
# tests/test_action.py runs it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
paths=${PARAMCALC_PATHS:-.}
args=${PARAMCALC_ARGS:-}
package=${PARAMCALC_PACKAGE:-$here}
python=${PARAMCALC_PYTHON:-python3}

if [ "$package" = none ]; then
    paramcalc=paramcalc
else
    venv="${RUNNER_TEMP:-$(mktemp -d)}/paramcalc-venv"
    "$python" -m venv "$venv"
    # --no-compile: Python compiles what paramcalc imports when it runs; compiling sympy's thousands of
    # modules (imported only for free input dimensions) up front would take most of the install's time.
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile "$package"
    paramcalc="$venv/bin/paramcalc"
fi
"$paramcalc" --version
# Paths and options are split on spaces (and globs expand), as they would on a command line.
# shellcheck disable=SC2086
exec "$paramcalc" check --format github $args $paths
