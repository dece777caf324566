#!/usr/bin/env bash
# One entry point on a fresh machine: creates the venv on first use, then
#   bash run.sh backtest [--data DIR] [--timerange A-B]   the main job (see README)
#   bash run.sh test [pytest args]                         the test suite
#   bash run.sh <russell_regime command> ...               any other CLI command
# VENV selects the virtualenv folder (default .venv).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
VENV="${VENV:-.venv}"

if ! "$VENV/bin/python" -c "import freqtrade, talib, exchange_calendars, russell_regime, pytest" \
    >/dev/null 2>&1; then
  PYTHON="$(command -v python3.11 || command -v python3)"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e ".[test]"
fi

if [ "$#" -eq 0 ]; then
  set -- backtest
fi
command="$1"
shift
case "$command" in
  test) exec "$VENV/bin/python" -m pytest -q "$@" ;;
  *) exec "$VENV/bin/python" -m russell_regime "$command" "$@" ;;
esac
