"""The main job: a freqtrade backtest of RussellRiskOn, offline from a data folder or online.

``python -m russell_regime backtest --data ../shared/data`` (offline): candles from
``DATA/binance``, the index from ``DATA/index/RUT.csv``, markets from the shipped snapshot.

``python -m russell_regime backtest`` (online): downloads the index into the cache and the
candles with ``freqtrade download-data``, then backtests against the live exchange markets.

Everything after ``--`` goes to ``freqtrade backtesting`` unchanged.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import pandas as pd

from .errors import RegimeError

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_TIMERANGE = "20200101-20250630"


def freqtrade_args(
    configs: list[Path], timerange: str, userdir: Path, datadir: Path | None, extra: list[str]
) -> list[str]:
    """``freqtrade backtesting`` argv for RussellRiskOn (pure); later configs override."""
    argv = ["backtesting"]
    for config in configs:
        argv += ["--config", str(config)]
    argv += [
        "--strategy", "RussellRiskOn",
        "--strategy-path", str(REPO_ROOT / "user_data" / "strategies"),
        "--userdir", str(userdir), "--timerange", timerange,
    ]
    if datadir is not None:
        argv += ["--datadir", str(datadir)]
    return argv + extra


def add_backtest_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backtest",
        help="backtest RussellRiskOn (offline with --data, else downloads first)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "config.json")
    parser.add_argument("--data", type=Path, help="offline data folder with binance/ and index/")
    parser.add_argument("--timerange", default=DEFAULT_TIMERANGE)
    parser.add_argument("--userdir", type=Path, default=REPO_ROOT / "user_data")
    parser.add_argument("extra", nargs="*", help="extra freqtrade backtesting args (after --)")
    parser.set_defaults(func=run_backtest_job)


def run_backtest_job(args: argparse.Namespace) -> int:
    from .offline import run_freqtrade

    if args.data is not None:
        binance = args.data / "binance"
        index = args.data / "index" / "RUT.csv"
        for needed in (binance, index):
            if not needed.exists():
                raise RegimeError(f"offline data folder {args.data}: {needed} not found")
        with tempfile.TemporaryDirectory() as tmp:
            overlay = Path(tmp) / "offline.json"
            section = {"russell_regime": {"source": "file", "path": str(index.resolve())}}
            overlay.write_text(json.dumps(section))
            configs = [args.config, overlay]
            return run_freqtrade(
                freqtrade_args(configs, args.timerange, args.userdir, binance, args.extra)
            )
    return _online(args)


def _online(args: argparse.Namespace) -> int:
    from freqtrade.main import main as freqtrade_main

    from .config_file import read_config
    from .download import download
    from .live import default_source
    from .settings import settings_from_config

    config = read_config(args.config)
    settings = settings_from_config({**config, "user_data_dir": str(args.userdir)})
    download(
        settings.ticker, default_source(settings), settings.cache_dir,
        now=pd.Timestamp.now(tz="UTC"),
    )
    start = args.timerange.split("-")[0]
    code = _exit_code(
        freqtrade_main,
        ["download-data", "--config", str(args.config), "--userdir", str(args.userdir),
         "--timerange", f"{start}-", "--timeframes", "1h"],
    )
    if code:
        return code
    return _exit_code(
        freqtrade_main,
        freqtrade_args([args.config], args.timerange, args.userdir, None, args.extra),
    )


def _exit_code(entry, argv: list[str]) -> int:
    try:
        entry(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
