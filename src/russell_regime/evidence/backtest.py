"""freqtrade in-process: backtests and hyperopt of a gated strategy on local data, offline.

Imperative edge. The strategy (default RussellRiskOn) is any strategy using
``RussellGateMixin``, loaded by freqtrade's resolver from ``strategy_path`` and checked by
class (:func:`russell_regime.adapter.gated.require_gated`) before anything runs. Markets come
from the shipped snapshot (:mod:`..adapter.offline`), candles from ``<data>/binance``
(feather), the index from ``<data>/index/RUT.csv`` (``source: file``). Every run gets its own
``user_data_dir`` (a temp or output folder): nothing is written next to the strategy (hyperopt
runs with ``disableparamexport``).

Parameters: a run's ``params`` (e.g. every ``*_mode`` = ``off``) are set on the strategy
*after* freqtrade loaded its parameters (defaults, then ``<Strategy>.json``), so they always
win; parameters not named keep the strategy's own values, which each run records
(:attr:`BacktestRun.gate`). freqtrade errors (strategy not found, ...) become one
:class:`~russell_regime.errors.ConfigError` line.

:func:`walk_forward_windows` is pure.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..adapter.gated import require_gated
from ..adapter.offline import default_snapshot, load_markets_snapshot, offline_markets
from ..adapter.provider import timeframe_step
from ..config_file import default_config_path
from ..core.gate import PAIR_CLASSES, GateParams
from ..data.candles import candle_file
from ..errors import ConfigError
from ..shipped import EXAMPLE_STRATEGY, example_strategies

STRATEGY = EXAMPLE_STRATEGY
GATE_OFF: Mapping[str, str] = {f"{cls}_mode": "off" for cls in PAIR_CLASSES}


def gated_params(params: GateParams | None = None) -> dict[str, object]:
    """``{btc_mode: ..., eth_lookback: ..., ...}`` for every class: the values of one
    GateParams, or (None) the defaults of the mixin's parameter spec (``adapter.params``)."""
    from ..adapter.params import GATE_PARAMS

    return {
        f"{cls}_{spec.threshold}":
            spec.default if params is None else getattr(params, spec.threshold)
        for cls in PAIR_CLASSES for spec in GATE_PARAMS
    }


def ungated_params() -> dict[str, object]:
    """Default thresholds with every ``*_mode`` = ``off`` (the base signal alone)."""
    return {**gated_params(), **GATE_OFF}


def ft_config(
    data_dir: Path,
    user_dir: Path,
    timerange: str,
    pairs: Sequence[str] | None = None,
    hyperopt: Mapping[str, object] | None = None,
    strategy: str = STRATEGY,
    strategy_path: Path | None = None,
    regime: Mapping[str, object] | None = None,
    config_file: Path | None = None,
) -> dict:
    """freqtrade's own configuration from ``config_file`` (default
    :func:`~russell_regime.config_file.default_config_path`) for ``strategy`` (searched in
    ``strategy_path`` first, default the shipped example's folder), pointed at ``data_dir``;
    with ``hyperopt`` (extra hyperopt args) a HYPEROPT config, else a BACKTEST one.
    ``regime``: extra keys of the ``russell_regime`` section (e.g. ``confirmations``)."""
    from freqtrade.commands.optimize_commands import setup_optimize_configuration
    from freqtrade.enums import RunMode

    user_dir = Path(user_dir)
    for sub in ("data", "hyperopt_results", "backtest_results", "logs"):
        (user_dir / sub).mkdir(parents=True, exist_ok=True)
    args: dict[str, object] = {
        "config": [str(config_file or default_config_path())],
        "user_data_dir": str(user_dir),
        "datadir": str(Path(data_dir) / "binance"),
        "timerange": timerange,
        "strategy": strategy,
        "strategy_path": str(strategy_path or example_strategies()),
        "export": "none",
    }
    mode = RunMode.BACKTEST
    if hyperopt is not None:
        mode = RunMode.HYPEROPT
        args.update(hyperopt)
    with _quiet(), freqtrade_errors():
        config = setup_optimize_configuration(args, mode)
    section = {"source": "file", "path": str(Path(data_dir) / "index" / "RUT.csv")}
    config["russell_regime"] = {**config.get("russell_regime", {}), **section, **(regime or {})}
    if pairs:
        config["exchange"]["pair_whitelist"] = list(pairs)
    return config


@dataclass(frozen=True)
class BacktestRun:
    """One backtest: trades (freqtrade's result frame), window, balances, freqtrade's stats;
    ``gate`` the russell parameters in effect, ``param_file`` the strategy's ``<name>.json``
    when one exists (freqtrade loads it)."""

    trades: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    start_balance: float
    final_balance: float
    ft_stats: Mapping[str, float]
    strategy: str = STRATEGY
    gate: Mapping[str, object] = field(default_factory=dict)
    param_file: Path | None = None


@contextlib.contextmanager
def freqtrade_errors() -> Iterator[None]:
    """freqtrade's own errors (strategy not found, bad config, ...) as one ConfigError line."""
    from freqtrade.exceptions import FreqtradeException

    try:
        yield
    except FreqtradeException as exc:
        raise ConfigError(" ".join(str(exc).split()) or type(exc).__name__) from exc


def run_backtest(config: dict, params: Mapping[str, object] | None = None) -> BacktestRun:
    """Backtest ``config``'s strategy (it must use RussellGateMixin: ConfigError otherwise)
    with ``params`` set on it over its own loaded values (None: the strategy as loaded)."""
    from freqtrade.optimize.backtesting import Backtesting
    from freqtrade.optimize.optimize_reports import generate_backtest_stats

    with _quiet(), freqtrade_errors(), offline_markets(load_markets_snapshot(default_snapshot())):
        backtesting = Backtesting(config)
        try:
            strategy = backtesting.strategylist[0]
            require_gated(strategy)
            apply_after_load(strategy, params or {})
            data, timerange = backtesting.load_bt_data()
            min_date, max_date = backtesting.backtest_one_strategy(strategy, data, timerange)
            name = strategy.get_strategy_name()
            content = backtesting.all_bt_content[name]
            stats = generate_backtest_stats(data, backtesting.all_bt_content, min_date, max_date)
            gate = gate_values(strategy)
        finally:
            Backtesting.cleanup()
    strat = stats["strategy"][name]
    ft_stats = {
        k: float(strat[k])
        for k in ("profit_total", "max_drawdown_account", "sharpe", "sortino", "calmar", "cagr")
        if isinstance(strat.get(k), (int, float))
    }
    from freqtrade.exchange import timeframe_to_seconds

    timeframe = pd.Timedelta(seconds=timeframe_to_seconds(config["timeframe"]))
    return BacktestRun(
        trades=content["results"],
        start=pd.Timestamp(min_date),
        end=pd.Timestamp(max_date) + timeframe,
        start_balance=float(config["dry_run_wallet"]),
        final_balance=float(content["final_balance"]),
        ft_stats=ft_stats,
        strategy=name,
        gate=gate,
        param_file=strategy_param_file(strategy),
    )


def apply_params(strategy: object, params: Mapping[str, object]) -> None:
    """Set hyperopt parameter values (``{"btc_mode": "off", ...}``) on a loaded strategy."""
    for name, value in params.items():
        getattr(strategy, name).value = value


def apply_after_load(strategy: Any, params: Mapping[str, object]) -> None:
    """Set ``params`` now and again right after freqtrade (re)loads the strategy's parameters.

    Backtesting calls ``ft_bot_start`` -> ``ft_load_hyper_params`` only when the backtest
    starts; that applies ``<Strategy>.json`` and would overwrite values set before (a stray
    parameter file would turn the "every class off" run back on)."""
    apply_params(strategy, params)
    if not params:
        return
    load = strategy.ft_load_hyper_params

    def load_then_apply(hyperopt: bool = False) -> None:
        load(hyperopt)
        apply_params(strategy, params)

    strategy.ft_load_hyper_params = load_then_apply


def gate_values(strategy: Any) -> dict[str, object]:
    """The strategy's russell parameters in effect, ``{name: value}`` in the spec's order."""
    return {name: getattr(strategy, name).value for name in gated_params()
            if hasattr(getattr(strategy, name, None), "value")}


def strategy_param_file(strategy: Any) -> Path | None:
    """``<strategy file>.json`` when it exists: freqtrade loads its parameters."""
    source = getattr(strategy, "__file__", None)
    path = Path(source).with_suffix(".json") if source else None
    return path if path is not None and path.is_file() else None


def run_hyperopt(
    data_dir: Path,
    user_dir: Path,
    timerange: str,
    epochs: int,
    seed: int,
    pairs: Sequence[str] | None = None,
    loss: str = "SharpeHyperOptLoss",
    log: Path | None = None,
    strategy: str = STRATEGY,
    strategy_path: Path | None = None,
    config_file: Path | None = None,
    regime: Mapping[str, object] | None = None,
) -> HyperoptRun:
    """Hyperopt the ``russell`` space on ``timerange`` (one job, seeded): the best epoch's
    russell parameters (the gate's, and each configured confirmation's when ``regime`` has a
    ``confirmations`` section: they are in the space then), its loss and freqtrade's results
    file (``.fthypt``: every epoch, for :mod:`.trials`). freqtrade's console output goes to
    ``log``."""
    import optuna
    from freqtrade.optimize.backtesting import Backtesting
    from freqtrade.optimize.hyperopt import Hyperopt

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    config = ft_config(
        data_dir, user_dir, timerange, pairs,
        hyperopt={
            "epochs": int(epochs),
            "spaces": ["russell"],
            "hyperopt_loss": loss,
            "hyperopt_jobs": 1,
            "hyperopt_min_trades": 1,
            "hyperopt_random_state": int(seed),
            "disableparamexport": True,
            "print_all": False,
        },
        strategy=strategy, strategy_path=strategy_path, regime=regime, config_file=config_file,
    )
    sink = io.StringIO()
    with _quiet(), freqtrade_errors(), offline_markets(load_markets_snapshot(default_snapshot())):
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                hyperopt = Hyperopt(config)
                require_gated(hyperopt.hyperopter.backtesting.strategy)
                hyperopt.start()
        finally:
            Backtesting.cleanup()
            if log is not None:
                Path(log).write_text(sink.getvalue(), encoding="utf-8")
    from ..adapter.params import confirmation_parameter_names

    results = Path(hyperopt.results_file)
    results = results if results.is_file() else None
    best = hyperopt.current_best_epoch
    if not best:
        return HyperoptRun({}, float("nan"), results)
    names = set(gated_params()).union(
        *(confirmation_parameter_names(k) for k in dict((regime or {}).get("confirmations") or {}))
    )
    chosen = {k: v for k, v in best["params_dict"].items() if k in names}
    return HyperoptRun(chosen, float(best["loss"]), results)


@dataclass(frozen=True)
class HyperoptRun:
    """One hyperopt: the best epoch's russell ``params`` and ``loss``, and freqtrade's
    ``results_file`` (``.fthypt``, every epoch; None when freqtrade wrote none)."""

    params: dict[str, object]
    loss: float
    results_file: Path | None


def daily_marks(
    candles: Mapping[str, pd.DataFrame], start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Last close known at each instant of :func:`curve_index` per pair (1h candles: the close
    of the candle opening at ``d - 1h``, or earlier across gaps); NaN before the first."""
    index = curve_index(start, end)
    out = {}
    for pair, frame in candles.items():
        dates = pd.DatetimeIndex(frame["date"]).tz_convert("UTC")
        step = dates.to_series().diff().min() if len(dates) > 1 else pd.Timedelta(hours=1)
        closes = pd.Series(frame["close"].to_numpy(dtype="float64"), index=dates + step)
        out[pair] = closes.reindex(closes.index.union(index)).ffill().reindex(index)
    return pd.DataFrame(out, index=index)


def curve_index(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """``start``, every 00:00 UTC strictly between, and ``end``."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    mids = pd.date_range(start.ceil("D"), end.floor("D"), freq="D", tz="UTC")
    return pd.DatetimeIndex([start, *[m for m in mids if start < m < end], end])


def walk_forward_windows(
    start: pd.Timestamp, end: pd.Timestamp, train_months: int, test_months: int
) -> list[tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]]:
    """``(train_start, test_start, test_end)`` rolling by ``test_months``; the last test window
    is cut at ``end``; a window whose test would be empty is dropped. Pure."""
    if train_months < 1 or test_months < 1:
        raise ValueError("train and test windows must be at least one month")
    out = []
    train_start = pd.Timestamp(start)
    while True:
        test_start = train_start + pd.DateOffset(months=train_months)
        if test_start >= end:
            break
        test_end = min(test_start + pd.DateOffset(months=test_months), pd.Timestamp(end))
        out.append((train_start, test_start, test_end))
        train_start = train_start + pd.DateOffset(months=test_months)
    return out


def timerange(start: pd.Timestamp, end: pd.Timestamp, candle: str = "1h") -> str:
    """freqtrade's timerange covering the candles that open in ``[start, end)``.

    freqtrade keeps candles with ``date <= stop``, so the stop is the last candle's open
    (``end - candle``): consecutive windows then share no candle. ``YYYYMMDD-YYYYMMDD`` when
    both ends are midnights, else both in epoch seconds: the forms every supported freqtrade
    parses (``YYYYMMDDTHHMM`` only from 2026.8 on, and no release before it mixes forms). Pure.
    """
    first, stop = pd.Timestamp(start), pd.Timestamp(end) - timeframe_step(candle)
    if first == first.normalize() and stop == stop.normalize():
        return f"{first:%Y%m%d}-{stop:%Y%m%d}"
    return f"{_epoch_seconds(first)}-{_epoch_seconds(stop)}"


def _epoch_seconds(at: pd.Timestamp) -> int:
    at = at.tz_localize("UTC") if at.tzinfo is None else at
    return int(at.timestamp())


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """freqtrade's INFO logs off while it runs (warnings still show), and freqtrade's
    configuration must not reconfigure this process's logging (its ``setup_logging``)."""
    from freqtrade.configuration import configuration

    ft = logging.getLogger("freqtrade")
    level = ft.level
    original = configuration.setup_logging
    configuration.setup_logging = lambda config: None
    ft.setLevel(logging.WARNING)
    try:
        yield
    finally:
        configuration.setup_logging = original
        ft.setLevel(level)


def load_candles(data_dir: Path, pairs: Sequence[str], timeframe: str = "1h") -> dict:
    """``{pair: frame}`` of the feather candles in ``<data_dir>/binance`` (as stored)."""
    out = {}
    for pair in pairs:
        out[pair] = pd.read_feather(candle_file(Path(data_dir) / "binance", pair, timeframe))
    return out
