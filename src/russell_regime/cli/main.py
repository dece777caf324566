"""Command line: ``python -m russell_regime <command> ...`` (also the ``russell-regime`` script).

Each command is added by one ``_add_<name>(subparsers)`` function that sets ``func``
(``func(args) -> int``). Every error is one line, last on stderr, in one form:
``russell_regime <command>: error: <message>`` (argparse's own form). Exit codes: 2 for bad
input (usage errors: every option is checked by argparse, naming the value and what is
allowed, :mod:`russell_regime.arguments`, before any work; unknown options, with a hint that
the main job passes freqtrade's own options after ``--``) and for errors derived from
RegimeError (config, data, download); 1 for OSErrors (a file or folder that cannot be used);
130 when interrupted. ``offline`` and the main job's freqtrade run keep that form
(:mod:`russell_regime.adapter.ftrun`).

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
from .ledger import add_ledger_command
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
    add_ledger_command(subparsers)
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
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # argparse's own line, but from the command's parser: it names the command
        hint = FREQTRADE_HINT if args.command == "backtest" else ""
        command_parser(parser, args.command).error(
            f"unrecognized arguments: {' '.join(unknown)}{hint}"
        )
    run_checks(args)  # options that must agree (a start before an end): exit 2
    prog = f"russell_regime {args.command}"
    try:
        return int(args.func(args))
    except RegimeError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file or folder the command needs: one line, no traceback
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: error: interrupted", file=sys.stderr)
        return 130


FREQTRADE_HINT = (
    " (freqtrade backtesting options go after --, e.g. "
    "russell_regime backtest --data DIR -- --timeframe 4h)"
)


def command_parser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    """The sub-parser of ``command`` (its ``prog`` is ``russell_regime <command>``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[command]
    return parser
