"""The main job: a freqtrade backtest of a gated strategy, offline from a data folder or online.

``--strategy NAME`` (default RussellRiskOn) is any strategy built on ``RussellGateMixin``,
found by freqtrade's own resolver in ``--strategy-path`` (default: the folder of the example
strategy the package ships, which holds only RussellRiskOn.py) or the user data folder's
``strategies/``. Without ``--config`` the job reads ``config.json`` in the caller's folder, else
the shipped example config; without ``--userdir`` the config's ``user_data_dir``, else
``user_data`` in the caller's folder (freqtrade's rules). Once freqtrade has loaded
it, its class is checked (:func:`russell_regime.adapter.gated.require_gated`): a strategy
without the mixin is one error line and exit 2, before anything is backtested.

``python -m russell_regime backtest --data ../shared/data`` (offline): candles from
``DATA/binance``, the index from ``DATA/index/RUT.csv``, markets from the shipped snapshot
(``--snapshot FILE`` for another).

``python -m russell_regime backtest`` (online): downloads the index into the cache and the
candles with ``freqtrade download-data``, then backtests against the live exchange markets.
When the index download fails but the cache covers the timerange (its last session is at most
a few days before the timerange's end, or before today), the cache is used with a warning;
otherwise the job stops with one line saying to pass ``--data DIR``.

The backtest runs in-process with freqtrade's own objects (``freqtrade backtesting`` argv,
``setup_optimize_configuration``, ``Backtesting``), with ``--cache none`` so every run computes
its result; the job then prints a short summary (:mod:`russell_regime.cli.summary`). Every
failure exits non-zero with one ``russell_regime backtest: error: ...`` line last on stderr
(exit 2: bad input, config or data; 1: a file that cannot be used, or a crash). Relative
``--data``, ``--config``, ``--userdir`` and ``--strategy-path`` are taken from the caller's
directory (``R2K_CALLER_DIR``, set by run.sh).

Everything after ``--`` goes to ``freqtrade backtesting`` unchanged.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from ..arguments import existing_file, existing_folder, folder, freqtrade_timerange
from ..config_file import caller_path, default_config_path, default_userdir
from ..core.stalegate import stale_from
from ..errors import RegimeError, SourceError
from ..settings import RegimeSettings
from ..shipped import EXAMPLE_STRATEGY

DEFAULT_TIMERANGE = "20200101-20250630"
STRATEGY = EXAMPLE_STRATEGY
PROG = "russell_regime backtest"  # starts every error line of the job, freqtrade's included
CACHE_SLACK_DAYS = 5  # a long weekend plus a holiday between the last session and the end


def freqtrade_args(
    configs: list[Path], timerange: str, userdir: Path, datadir: Path | None, extra: list[str],
    strategy: str = STRATEGY, strategy_path: Path | None = None,
) -> list[str]:
    """``freqtrade backtesting`` argv for ``strategy`` (pure); later configs override;
    ``strategy_path`` None: freqtrade's own search (``<userdir>/strategies``)."""
    argv = ["backtesting"]
    for config in configs:
        argv += ["--config", str(config)]
    argv += [
        "--strategy", strategy,
        *(["--strategy-path", str(strategy_path)] if strategy_path is not None else []),
        "--userdir", str(userdir), "--timerange", timerange, "--cache", "none",
    ]
    if datadir is not None:
        argv += ["--datadir", str(datadir)]
    return argv + extra


def timerange_end(timerange: str, today: pd.Timestamp) -> pd.Timestamp:
    """The last day a ``YYYYMMDD-YYYYMMDD`` timerange covers (``today`` when open-ended)."""
    _, _, end = timerange.partition("-")
    if not end.strip():
        return today.normalize()
    try:
        return pd.Timestamp(end.strip()).normalize()
    except ValueError as exc:
        raise RegimeError(f"--timerange {timerange!r}: cannot read the end date {end!r}") from exc


def cache_covers(
    last_session: pd.Timestamp | None, end: pd.Timestamp, today: pd.Timestamp,
    slack_days: int = CACHE_SLACK_DAYS,
) -> bool:
    """True when a cache ending at ``last_session`` is fresh enough for a backtest ending at
    ``end``: at most ``slack_days`` before ``end``, or before ``today`` (pure)."""
    if last_session is None:
        return False
    horizon = min(end.normalize(), today.normalize()) - pd.Timedelta(days=slack_days)
    return last_session.tz_localize(None).normalize() >= horizon


def add_backtest_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backtest",
        help="backtest a gated strategy, default RussellRiskOn (offline with --data, else "
        "downloads first)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config", type=Path, default=None,
        help="freqtrade config (default: config.json here, else the shipped example config)",
    )
    parser.add_argument("--data", type=existing_folder,
                        help="offline data folder with binance/ and index/")
    parser.add_argument(
        "--timerange", type=freqtrade_timerange, default=DEFAULT_TIMERANGE,
        help="freqtrade timerange: YYYYMMDD-YYYYMMDD, YYYYMMDD- or -YYYYMMDD, not empty "
        f"(default {DEFAULT_TIMERANGE})",
    )
    parser.add_argument(
        "--userdir", type=folder, default=None,
        help="freqtrade user data folder (default: the config's user_data_dir, else user_data "
        "here)",
    )
    parser.add_argument(
        "--snapshot", type=existing_file, default=None,
        help="exchange markets snapshot for the offline run (default: the shipped Binance spot "
        "snapshot)",
    )
    parser.add_argument(
        "--strategy", default=STRATEGY,
        help=f"a strategy using RussellGateMixin (default {STRATEGY})",
    )
    parser.add_argument(
        "--strategy-path", type=existing_folder, default=None,
        help="folder freqtrade searches for --strategy first (default: the shipped example "
        "strategy's folder; then <userdir>/strategies)",
    )
    parser.add_argument("extra", nargs="*", help="extra freqtrade backtesting args (after --)")
    parser.set_defaults(func=run_backtest_job)


def run_backtest_job(args: argparse.Namespace) -> int:
    from ..adapter.offline import run_freqtrade

    resolve_paths(args)
    if args.data is not None:
        data = caller_path(args.data)
        binance = data / "binance"
        index = data / "index" / "RUT.csv"
        for needed in (binance, index):
            if not needed.exists():
                raise RegimeError(f"offline data folder {data}: {needed} not found")
        section = {"source": "file", "path": str(index)}
        job_settings(args.config, args.userdir, section)  # one clear line before freqtrade
        with tempfile.TemporaryDirectory() as tmp:
            overlay = Path(tmp) / "offline.json"
            overlay.write_text(json.dumps({"russell_regime": section}))
            argv = freqtrade_args(
                [args.config, overlay], args.timerange, args.userdir, binance, args.extra,
                args.strategy, args.strategy_path,
            )
            holder: dict[str, Any] = {}
            code = run_freqtrade(argv, args.snapshot, command=_backtest_into(holder), prog=PROG)
            return _finish(code, holder)
    return _online(args)


def resolve_paths(args: argparse.Namespace) -> None:
    """``--config``, ``--userdir``, ``--strategy-path`` and ``--snapshot`` made absolute
    against the caller's folder, defaults filled as the module docstring says."""
    from ..config_file import CONFIG_NAME
    from ..shipped import example_strategies

    if args.config is None:
        args.config = default_config_path()
        if not caller_path(Path(CONFIG_NAME)).is_file():
            print(f"note: no {CONFIG_NAME} here; using the shipped example config "
                  f"{args.config}", file=sys.stderr)
    else:
        args.config = caller_path(args.config)
    args.userdir = (default_userdir(args.config) if args.userdir is None
                    else caller_path(args.userdir))
    args.strategy_path = (example_strategies() if args.strategy_path is None
                          else caller_path(args.strategy_path))
    if args.snapshot is not None:
        args.snapshot = caller_path(args.snapshot)


def _online(args: argparse.Namespace) -> int:
    from ..adapter.ftrun import run_command

    _index_online(args)
    start = args.timerange.split("-")[0]
    code = run_command(
        ["download-data", "--config", str(args.config), "--userdir", str(args.userdir),
         "--timerange", f"{start}-", "--timeframes", "1h"], prog=PROG,
    )
    if code:
        raise RegimeError(
            f"candle download failed (freqtrade download-data exit {code}); pass --data DIR "
            "(a folder with binance/ and index/RUT.csv) to backtest offline, or go online"
        )
    holder: dict[str, Any] = {}
    argv = freqtrade_args(
        [args.config], args.timerange, args.userdir, None, args.extra, args.strategy,
        args.strategy_path,
    )
    return _finish(run_command(argv, _backtest_into(holder), PROG), holder)


def _index_online(args: argparse.Namespace) -> None:
    """Download the index into the cache; fall back to a cache that covers the timerange."""
    from ..data.cache import DailyCache
    from ..data.download import download
    from ..data.sources import source_for

    settings = job_settings(args.config, args.userdir, {})
    now = pd.Timestamp.now(tz="UTC")
    try:
        download(
            settings.ticker, source_for(settings), settings.cache_dir, now=now,
            availability=settings.availability,
        )
        return
    except SourceError as exc:
        failure = exc
    cached = DailyCache(settings.cache_dir).load(settings.ticker)
    last = None if cached is None or cached.empty else cached["session"].iloc[-1]
    today = now.tz_localize(None)
    if cache_covers(last, timerange_end(args.timerange, today), today):
        print(
            f"warning: index download failed ({failure}); using the cache, last session "
            f"{last:%Y-%m-%d}", file=sys.stderr,
        )
        return
    held = "no cache" if last is None else f"the cache ends {last:%Y-%m-%d}"
    raise RegimeError(
        f"index download failed ({failure}) and {held}; pass --data DIR (a folder with "
        "binance/ and index/RUT.csv) to backtest offline, or go online"
    )


def job_settings(config_path: Path, userdir: Path, overrides: dict[str, Any]) -> RegimeSettings:
    """The russell_regime settings the backtest will use, validated (ConfigError otherwise):
    the config read like freqtrade (env overrides), ``overrides`` on top of its section."""
    from ..config_file import read_config, with_section_overrides
    from ..settings import settings_from_config

    config = with_section_overrides(read_config(config_path), overrides, config_path)
    return settings_from_config({**config, "user_data_dir": str(userdir)})


def _backtest_into(holder: dict[str, Any]):
    """A freqtrade command running ``backtesting`` that keeps its ``Backtesting`` object and
    refuses, before backtesting, any loaded strategy that does not use RussellGateMixin."""

    def command(args: dict[str, Any]) -> None:
        from freqtrade.commands.optimize_commands import setup_optimize_configuration
        from freqtrade.enums import RunMode
        from freqtrade.optimize.backtesting import Backtesting

        from ..adapter.gated import require_gated

        config = setup_optimize_configuration(args, RunMode.BACKTEST)
        backtesting = Backtesting(config)  # freqtrade's resolver loads the strategies
        holder["backtesting"] = backtesting
        for strategy in backtesting.strategylist:
            require_gated(strategy)
        backtesting.start()

    return command


def _finish(code: int, holder: dict[str, Any]) -> int:
    """Print the summary after a successful backtest; pass failures through. The gate's
    counts cover the backtested candles only: freqtrade's startup candles before the timerange
    are cut as freqtrade cuts them (``trim_dataframe``)."""
    from freqtrade.data.converter import trim_dataframe

    from .summary import report_within, summary_lines

    if code:
        return code
    backtesting = holder["backtesting"]
    results = (backtesting.results or {}).get("strategy", {})

    def backtested(frame: pd.DataFrame) -> pd.DataFrame:
        return trim_dataframe(frame, backtesting.timerange,
                              startup_candles=backtesting.required_startup)

    lines = []
    for strategy in backtesting.strategylist:  # one, unless --strategy-list was passed
        name = strategy.get_strategy_name()
        result = dict(results.get(name, {}))
        result.setdefault("stake_currency", backtesting.config.get("stake_currency", ""))
        report = report_within(getattr(strategy, "russell_report", None) or {}, backtested)
        lines += summary_lines(index_info(strategy), report, result, strategy=name,
                               series=confirmation_info(strategy),
                               params_file=shown_path(params_file(strategy)))
    print("\n".join(lines))
    return 0


def params_file(strategy: Any) -> Path | None:
    """The ``<strategy file>.json`` freqtrade loaded the strategy's parameters from (as
    ``HyperStrategyMixin.load_params_from_file``: the strategy file with suffix ``.json``; it
    logs "Loading parameters from file ..."), None when it loaded none."""
    source = getattr(strategy, "__file__", "")
    if not source or not getattr(strategy, "_ft_params_from_file", None):
        return None
    path = Path(source).with_suffix(".json")
    return path if path.is_file() else None


def shown_path(path: Path | None) -> str | None:
    """``path`` relative to the caller's folder when inside it, else as it is."""
    if path is None:
        return None
    try:
        return str(path.resolve().relative_to(caller_path(Path("."))))
    except ValueError:
        return str(path)


def index_info(strategy: Any) -> dict[str, Any] | None:
    """What the summary says about the strategy's daily frame (None when it had none)."""
    regime = getattr(strategy, "regime", None)
    settings = getattr(strategy, "regime_settings", None)
    if regime is None or settings is None or not regime.loaded:
        return None
    if settings.source == "file" and settings.path is not None:
        source = f"file {settings.path}"
    else:
        source = f"cache {settings.cache_dir}"
    sessions = regime.daily["session"]
    return {
        "ticker": settings.ticker, "source": source, "sessions": len(sessions),
        "first": sessions.iloc[0], "last": sessions.iloc[-1],
        "dropped": tuple(getattr(regime, "dropped", ())),
        "stale_from": stale_from(sessions.iloc[-1], settings.availability,
                                 settings.stale_grace_minutes),
    }


def confirmation_info(strategy: Any) -> list[dict[str, Any]]:
    """Per series of each configured confirmation (active or not), what the summary says
    about it (as :func:`index_info`; ``ticker`` is ``"<ticker> (<key>, required|optional)"``)."""
    settings = getattr(strategy, "regime_settings", None)
    out: list[dict[str, Any]] = []
    for key, confirmation in (getattr(strategy, "russell_confirmations", None) or {}).items():
        conf = confirmation.conf
        role = "required" if conf.required else "optional"
        for (ticker, last, since), series in zip(confirmation.series_ends(),
                                                 confirmation.series.values(), strict=True):
            if last is None:  # no data
                continue
            daily = series.daily
            path = getattr(series, "path", None) or getattr(
                getattr(series, "settings", None), "path", None)
            out.append({
                "ticker": f"{ticker} ({key}, {role})",
                "source": f"file {path}" if path is not None else f"cache {settings.cache_dir}",
                "sessions": len(daily), "first": pd.Timestamp(daily["session"].iloc[0]),
                "last": last, "dropped": tuple(getattr(series, "dropped", ())),
                "stale_from": since,
            })
    return out
