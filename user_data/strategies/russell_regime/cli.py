"""Command line: ``python -m russell_regime <command> ...`` (also the ``russell-regime`` script).

Each command is added by one ``_add_<name>(subparsers)`` function that sets ``func``
(``func(args) -> int``). Errors derived from RegimeError print one line to stderr and exit
with code 2; argparse usage errors exit with 2 as usual.

Options left out on the command line come from the ``"russell_regime"`` section of the
freqtrade config given with ``--config`` (read like freqtrade: comments allowed,
``FREQTRADE__RUSSELL_REGIME__*`` env overrides), then from the built-in defaults.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .backtest_job import add_backtest_command
from .cache import DEFAULT_CACHE_DIR
from .config_file import read_config
from .errors import ConfigError, RegimeError
from .evidence.commands import add_evidence_commands
from .live import add_status_command

CONFIG_SECTION = "russell_regime"
DOWNLOAD_DEFAULTS: Mapping[str, str | None] = {
    "ticker": "^RUT",
    "source": "yahoo",
    "path": None,
    "cache_dir": str(DEFAULT_CACHE_DIR),
}


# --- pure core -------------------------------------------------------------------------------


def resolve_options(
    cli: Mapping[str, Any], section: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """For each key of ``defaults``: the CLI value if given (not None), else the config
    section's, else the default. Config values must be strings (ConfigError otherwise)."""
    resolved: dict[str, Any] = {}
    for key, default in defaults.items():
        if cli.get(key) is not None:
            resolved[key] = cli[key]
        elif section.get(key) is not None:
            value = section[key]
            if not isinstance(value, str) or not value:
                raise ConfigError(
                    f"{CONFIG_SECTION}.{key} must be a non-empty string, got {value!r}"
                )
            resolved[key] = value
        else:
            resolved[key] = default
    return resolved


def config_section(config: Any, path: Path) -> Mapping[str, Any]:
    """The ``russell_regime`` section of a parsed config ({} when absent)."""
    if not isinstance(config, dict):
        raise ConfigError(f"config {path} must hold a JSON object")
    section = config.get(CONFIG_SECTION, {})
    if not isinstance(section, dict):
        raise ConfigError(f"config {path}: '{CONFIG_SECTION}' must be an object, got {section!r}")
    return section


# --- I/O edges -------------------------------------------------------------------------------


def read_config_section(path: Path | None) -> Mapping[str, Any]:
    """The ``russell_regime`` section of the config at ``path`` with env-var overrides."""
    return config_section(read_config(path), Path(path) if path else Path("<environment>"))


def _add_download(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "download",
        help="fetch daily bars into the cache",
        description="Fetch daily bars from a source and merge them into the disk cache.",
    )
    parser.add_argument("--ticker", help=f"ticker (default {DOWNLOAD_DEFAULTS['ticker']})")
    parser.add_argument(
        "--source", metavar="{yahoo,file}", help=f"source (default {DOWNLOAD_DEFAULTS['source']})"
    )
    parser.add_argument("--path", help="data file for --source file (.csv/.feather/.parquet)")
    parser.add_argument(
        "--cache-dir", dest="cache_dir", help=f"cache directory (default {DEFAULT_CACHE_DIR})"
    )
    parser.add_argument(
        "--config", type=Path, help="freqtrade config with a russell_regime section"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress display")
    parser.set_defaults(func=_run_download)


def _run_download(args: argparse.Namespace) -> int:
    from .download import download
    from .sources import make_source

    opts = resolve_options(vars(args), read_config_section(args.config), DOWNLOAD_DEFAULTS)
    source = make_source(opts["source"], opts["ticker"], opts["path"])
    download(
        opts["ticker"],
        source,
        Path(opts["cache_dir"]),
        now=pd.Timestamp.now(tz="UTC"),
        progress=not args.no_progress,
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
