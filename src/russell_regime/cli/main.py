"""Command line: ``python -m russell_regime <command> ...`` (also the ``russell-regime`` script).

Each command is added by one ``_add_<name>(subparsers)`` function that sets ``func``
(``func(args) -> int``). Errors derived from RegimeError print one line to stderr and exit
with code 2, OSErrors (a file or folder that cannot be used) one line and code 1; argparse
usage errors exit with 2 as usual: every option is checked there, with one ``error:`` line
naming the value and what is allowed (:mod:`russell_regime.arguments`), before any work.

Options left out on the command line come from the ``"russell_regime"`` section of the
freqtrade config given with ``--config`` (read like freqtrade: comments allowed,
``FREQTRADE__RUSSELL_REGIME__*`` env overrides), then from the built-in defaults; the result
is validated by ``settings.settings_from_config``, the strategy's own path. Relative paths on
the command line are taken from the caller's directory (``config_file.caller_path``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..arguments import run_checks
from ..errors import RegimeError
from ..evidence.commands import add_evidence_commands
from .backtest import add_backtest_command
from .download import add_download_command
from .status import add_status_command


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="russell_regime", description="Russell 2000 regime filter tools."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_download_command(subparsers)
    add_backtest_command(subparsers)
    add_status_command(subparsers)
    add_evidence_commands(subparsers)
    subparsers.add_parser(
        "offline", add_help=False,
        help="run any freqtrade command offline, markets from a snapshot "
        "(russell-regime offline --help)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 on RegimeError, message on stderr).
    ``offline ...`` goes, unparsed, to :func:`russell_regime.adapter.offline.main`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "offline":
        from ..adapter.offline import main as offline_main

        return offline_main(argv[1:], prog="russell-regime offline")
    args = build_parser().parse_args(argv)
    run_checks(args)  # options that must agree (a start before an end): exit 2
    try:
        return int(args.func(args))
    except RegimeError as exc:
        print(f"russell_regime {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file or folder the command needs: one line, no traceback
        print(f"russell_regime {args.command}: error: {exc}", file=sys.stderr)
        return 1
