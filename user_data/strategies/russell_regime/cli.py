"""Command line: ``python -m russell_regime <command> ...`` (also the ``russell-regime`` script).

Each command is added by one ``_add_<name>(subparsers)`` function that sets ``func``
(``func(args) -> int``). Errors derived from RegimeError print one line to stderr and exit
with code 2, OSErrors (a file or folder that cannot be used) one line and code 1; argparse
usage errors exit with 2 as usual.

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
from pathlib import Path

import pandas as pd

from .backtest_job import add_backtest_command
from .config_file import caller_path, read_config, with_section_overrides
from .errors import RegimeError
from .evidence.commands import add_evidence_commands
from .live import add_status_command

DOWNLOAD_KEYS = ("ticker", "source", "path", "cache_dir")


# --- I/O edges -------------------------------------------------------------------------------


def _add_download(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "download",
        help="fetch daily bars into the cache",
        description="Fetch daily bars from a source and merge them into the disk cache.",
    )
    parser.add_argument("--ticker", help="ticker (default: the config's, else ^RUT)")
    parser.add_argument(
        "--source", metavar="{yahoo,file}", help="source (default: the config's, else yahoo)"
    )
    parser.add_argument("--path", help="data file for --source file (.csv/.feather/.parquet)")
    parser.add_argument(
        "--cache-dir", dest="cache_dir",
        help="cache directory (default: the config's, else <user_data_dir>/data/russell)",
    )
    parser.add_argument(
        "--config", type=Path, help="freqtrade config with a russell_regime section"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress display")
    parser.set_defaults(func=_run_download)


def _run_download(args: argparse.Namespace) -> int:
    """Settings from the config section with the CLI flags on top, validated like the
    strategy's (publication lag, fetch timeout, cache_dir, user_data_dir all honoured)."""
    from .download import download
    from .live import default_source
    from .settings import settings_from_config

    config_path = caller_path(args.config) if args.config is not None else None
    cli = vars(args).copy()
    for key in ("path", "cache_dir"):
        if cli.get(key) is not None and str(cli[key]).strip():
            cli[key] = str(caller_path(Path(cli[key])))
    config = read_config(config_path)
    settings = settings_from_config(
        with_section_overrides(
            config,
            {key: cli[key] for key in DOWNLOAD_KEYS if cli.get(key) is not None},
            config_path or Path("<environment>"),
        )
    )
    download(
        settings.ticker,
        default_source(settings),
        settings.cache_dir,
        now=pd.Timestamp.now(tz="UTC"),
        progress=not args.no_progress,
        calendar=settings.calendar,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="russell_regime", description="Russell 2000 regime filter tools."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_download(subparsers)
    add_backtest_command(subparsers)
    add_status_command(subparsers)
    add_evidence_commands(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 on RegimeError, message on stderr)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except RegimeError as exc:
        print(f"russell_regime {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file or folder the command needs: one line, no traceback
        print(f"russell_regime {args.command}: error: {exc}", file=sys.stderr)
        return 1
