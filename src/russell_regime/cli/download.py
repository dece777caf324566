"""``download``: fetch daily bars from the configured source into the disk cache
(:func:`russell_regime.data.download.download`, the one fetch-merge-write path)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..arguments import folder
from ..config_file import caller_path, command_config, with_section_overrides

DOWNLOAD_KEYS = ("ticker", "source", "path", "cache_dir")


def add_download_command(subparsers: argparse._SubParsersAction) -> None:
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
        "--cache-dir", dest="cache_dir", type=_folder_text,
        help="cache directory (default: the config's, else <user_data_dir>/data/russell)",
    )
    parser.add_argument(
        "--config", type=Path,
        help="freqtrade config with a russell_regime section (default: config.json here, if any)",
    )
    parser.add_argument(
        "--userdir", type=folder,
        help="freqtrade user data folder (default: the config's user_data_dir, else user_data)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress display")
    parser.set_defaults(func=_run_download)


def _folder_text(text: str) -> str:
    """:func:`russell_regime.arguments.folder`, kept as text (the settings check the rest)."""
    folder(text)
    return text


def _run_download(args: argparse.Namespace) -> int:
    """Settings from the config section with the CLI flags on top, validated like the
    strategy's (publication lag, fetch timeout, cache_dir, user_data_dir all honoured)."""
    from ..data.download import download
    from ..data.sources import source_for
    from ..settings import settings_from_config

    config_path, config = command_config(args.config, args.userdir)
    cli = vars(args).copy()
    for key in ("path", "cache_dir"):
        if cli.get(key) is not None and str(cli[key]).strip():
            cli[key] = str(caller_path(Path(cli[key])))
    settings = settings_from_config(
        with_section_overrides(
            config,
            {key: cli[key] for key in DOWNLOAD_KEYS if cli.get(key) is not None},
            config_path or Path("<environment>"),
        )
    )
    availability = _availability(settings)
    # the source drops sessions not yet available by the same time (close + offset + lag)
    settings = replace(settings, publication_lag_minutes=availability.close_offset_minutes
                       + availability.lag_minutes)
    download(
        settings.ticker,
        source_for(settings),
        settings.cache_dir,
        now=pd.Timestamp.now(tz="UTC"),
        progress=not args.no_progress,
        availability=availability,
    )
    return 0




def _availability(settings):
    """The ticker's publication time: a configured confirmation's (its close offset and lag)
    when the ticker is one of its series, else the section's with the ticker's known close
    offset (the VIX closes 15 min after XNYS)."""
    from ..core.calendar import Availability
    from ..settings import CLOSE_OFFSETS

    for conf in settings.confirmations.values():
        if settings.ticker in conf.tickers:
            return conf.availability
    return Availability(settings.calendar, settings.publication_lag_minutes,
                        CLOSE_OFFSETS.get(settings.ticker, 0.0))
