#!/usr/bin/env bash
# One entry point on a fresh machine: creates the venv on first use, then
#   bash run.sh backtest [--data DIR] [--timerange A-B]   the main job (see README)
#   bash run.sh test [pytest args]                         the test suite
#   bash run.sh <russell_regime command> ...               any other CLI command
# VENV selects the virtualenv folder (default .venv).
# Relative paths in the arguments (--data, --config, --userdir, ...) mean the caller's folder:
# R2K_CALLER_DIR carries it past the cd below.
set -euo pipefail
export R2K_CALLER_DIR="$PWD"
cd "$(dirname "${BASH_SOURCE[0]}")"
VENV="${VENV:-.venv}"

if ! "$VENV/bin/python" -c "import freqtrade, talib, exchange_calendars, arch, russell_regime, pytest" \
    >/dev/null 2>&1; then
  PYTHON="$(command -v python3.11 || command -v python3)"
  echo "run.sh: first use: creating the virtualenv $VENV with $PYTHON ..." >&2
  "$PYTHON" -m venv "$VENV"
  echo "run.sh: installing freqtrade, TA-Lib, pandas and the plugin into $VENV" \
    "(a few minutes, once) ..." >&2
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e ".[test,plot]"
  echo "run.sh: $VENV is ready." >&2
fi

if [ "$#" -eq 0 ]; then
  set -- backtest
fi
command="$1"
shift
case "$command" in
  test) unset R2K_CALLER_DIR  # the suite's own subprocesses resolve paths against their cwd
        exec "$VENV/bin/python" -m pytest -q "$@" ;;
  *) exec "$VENV/bin/python" -m russell_regime "$command" "$@" ;;
esac
