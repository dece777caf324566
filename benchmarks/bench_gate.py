"""What the Russell gate costs in backtesting, hyperopt and the live loop (real data, freqtrade).

Usage::

    python benchmarks/bench_gate.py [--data DIR] [--epochs 30] [--reps 3] [--quick]
                                    [--profile | --no-profile] [--out FILE]

``--data`` defaults to $R2K_SHARED_DATA, else ``../shared/data`` next to the repo (it needs
``binance/{BASE}_USDT-1h.feather`` and ``index/RUT.csv``; it is only read). Everything freqtrade
writes goes to a temporary user-data dir. The full run takes ~8-10 min on 2 cores; ``--quick``
(~1.5 min) uses shorter time ranges, fewer repetitions and epochs, no -j 2 run, no no-Russell
backtests and no profiling. ``--render RESULTS.json`` re-renders saved results.

Every number is measured in the same run against the same strategy with every gate off
(``btc_mode = eth_mode = alt_mode = "off"``, injected through freqtrade's own ``russell_params``
``<space>_params`` mechanism, so the strategy file and name stay the same). Where it helps, a
third baseline "no Russell code" is shown: a subclass with RussellRiskOn's base signal and no
Russell code in its callbacks (no index load, no alignment, no gate; it still imports the
modules). The all-off baseline still loads the index, aligns it and computes the features
(only the mode differs), so ``gated / off`` is the marginal cost of the gate *decision* plus its
effect on the number of trades, ``gated / no-Russell`` the cost of the whole Russell machinery.

Every measurement runs in a fresh subprocess of this script (``--worker``):

1. core     the Russell slice of the strategy (alignment + audit columns + daily features and
            gates with a cold memo + gathers + tags, mirroring RussellRiskOn's Russell lines)
            for 10 pairs of 1h candles 2017-2025; daily features + gate per parameter set; the
            strategy's whole analysis (indicators + signals) gated / off / no-Russell; best of N
            (in-process micro timings; the minimum is least disturbed by other processes).
            Plus, each in a fresh process: the import of the strategy's Russell modules and the
            first / second index load (the first builds the XNYS calendar).
2. backtest ``freqtrade backtesting`` (offline markets) of the 10 pairs over the full range,
            gated / off / no-Russell, alternating order, median wall and CPU time (user + sys
            from ``os.wait4``) of ``--reps`` runs; phases timed by hooks on freqtrade
            (indicators, signals, loop); trades and profit from freqtrade's own statistics.
            Peak RSS is the worker's VmHWM (``ru_maxrss`` of a child can include the parent's RSS
            at fork time on Linux, so it is kept only as ``wait4_maxrss_mb`` in the JSON).
3. hyperopt ``freqtrade hyperopt --spaces russell`` vs ``--spaces buy`` on the same year,
            -j 1 (twice, alternating) and -j 2. Seconds per epoch exclude startup: the clock
            runs from the start of the first epoch batch to the end of the last (hooks on
            freqtrade's ``Hyperopt.run_optimizer_parallel``), so data load, indicators and the
            data-pickle dump are not counted (the per-epoch pickle load is). With -j 1 each
            epoch's evaluation (``generate_optimizer``) is split into signal generation
            (``ft_advise_signals``, where the gate runs), the backtest loop, and the rest (data
            pickle load + result statistics). The russell space only computes the 2 EMAs in use
            while the buy space computes all 184 EMA periods, and the two spaces trade
            differently, so the per-epoch ratio mixes those effects; the gate's own cost is the
            signal-generation difference, reported as "gate overhead per epoch".
4. live     ``bot_loop_start`` per call when no refresh is due: the strategy built by
            freqtrade's StrategyResolver with a dry_run config (file source, temp cache dir),
            one refresh completed and installed, then many calls (batches of 100, the
            ``datetime.now`` argument subtracted); also per call in backtest mode (freqtrade
            calls it once per candle in backtesting and in every hyperopt epoch).
5. profile  (default in the full run) cProfile of the gated backtest and of 10 ``--spaces
            russell`` epochs; the functions attributable to the Russell gate.

Numbers only, no pass/fail exit code. The markdown tables are printed and written to
``--out`` (default ``benchmarks/results.md``; ``benchmarks/results_quick.md`` with --quick).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
STRATEGIES = REPO_ROOT / "user_data" / "strategies"
CONFIG = REPO_ROOT / "config.json"
if str(STRATEGIES) not in sys.path:
    sys.path.insert(0, str(STRATEGIES))

PAIRS = ("BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "BNB", "LINK", "AVAX", "LTC")
ALL_OFF = {"btc_mode": "off", "eth_mode": "off", "alt_mode": "off"}
BASELINE_NAME = "NoRussellBaseline"
VARIANTS = ("gated", "off", "base")
LABEL = {"gated": "gated (defaults)", "off": "all gates off", "base": "no Russell code"}

FULL = {
    "bt_timerange": "20180101-20250630",
    "ho_timerange": "20230101-20240101",
    "reps": 3,
    "core_repeat": 5,
    "live_calls": 20000,
    "j2": True,
    "base": True,
    "profile": True,
    "profile_epochs": 10,
}
QUICK = {
    "bt_timerange": "20230101-20250630",
    "ho_timerange": "20240101-20240701",
    "reps": 2,
    "core_repeat": 3,
    "live_calls": 5000,
    "j2": False,
    "base": False,
    "profile": False,
    "profile_epochs": 5,
    "epochs": 10,
}

# The baseline strategy file written to a temp strategy folder (see module doc). Its indicators
# and signals are RussellRiskOn's base signal; the script checks its trades equal all-off's.
BASELINE_SOURCE = '''\
"""Benchmark baseline: RussellRiskOn's base signal with no Russell code at all."""
import sys

sys.path.insert(0, {strategies!r})

import talib.abstract as ta  # noqa: E402
from pandas import DataFrame  # noqa: E402

from RussellRiskOn import RussellRiskOn  # noqa: E402


class {name}(RussellRiskOn):
    def bot_start(self, **kwargs) -> None:
        return None

    def bot_loop_start(self, current_time, **kwargs) -> None:
        return None

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        for period in {{*self.ema_fast.range, *self.ema_slow.range}}:
            dataframe[f"ema_{{period}}"] = ta.EMA(dataframe, timeperiod=period)
        dataframe["ema_fast"] = dataframe[f"ema_{{self.ema_fast.value}}"]
        dataframe["ema_slow"] = dataframe[f"ema_{{self.ema_slow.value}}"]
        dataframe["adx"] = ta.ADX(dataframe)
        dataframe["rsi"] = ta.RSI(dataframe)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[self.base_entry(dataframe), ["enter_long", "enter_tag"]] = (1, "r2k_off")
        return dataframe
'''


# --- helpers ----------------------------------------------------------------------------------


def _default_data() -> Path:
    return Path(os.environ.get("R2K_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def _env(data: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["FREQTRADE__RUSSELL_REGIME__SOURCE"] = "file"
    env["FREQTRADE__RUSSELL_REGIME__PATH"] = str(data / "index" / "RUT.csv")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(STRATEGIES), *filter(None, [env.get("PYTHONPATH")])]
    )
    return env


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


def _vmhwm_mb() -> float:
    """Peak RSS of this process image (VmHWM; unlike ru_maxrss it is not inherited at exec)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _log(text: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {text}", flush=True)


def run_child(spec: dict, data: Path, log: Path) -> tuple[dict, float, float]:
    """Run this script as a worker for ``spec`` in a fresh process.

    Returns (the worker's JSON result, wall seconds, peak RSS in MB of that process alone: the
    worker's own VmHWM; ``ru_maxrss`` from ``os.wait4`` is kept as ``wait4_maxrss_mb`` but on
    Linux it can include the parent's RSS at fork time).
    """
    out = log.with_suffix(".json")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec),
           "--worker-out", str(out)]
    start = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=_env(data), stdout=fh, stderr=fh)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or not out.is_file():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(
            f"worker {spec['kind']} failed (rc {proc.returncode}); log {log}:\n{tail}"
        )
    result = json.loads(out.read_text())
    result["wait4_maxrss_mb"] = usage.ru_maxrss / 1024.0
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    return result, wall, result.get("vmhwm_mb", usage.ru_maxrss / 1024.0)


# --- workers (run in a fresh subprocess) ------------------------------------------------------


class Timer:
    """Accumulates wall time of wrapped callables, by name."""

    def __init__(self) -> None:
        self.total: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, owner: type, attr: str, name: str, after: Callable | None = None) -> None:
        original = owner.__dict__[attr]
        func = original.__func__ if isinstance(original, staticmethod) else original

        def wrapped(*args, **kwargs):
            start = time.perf_counter()
            try:
                result = func(*args, **kwargs)
            finally:
                self.total[name] = self.total.get(name, 0.0) + time.perf_counter() - start
                self.calls[name] = self.calls.get(name, 0) + 1
            if after is not None:
                after(args, result)
            return result

        is_static = isinstance(original, staticmethod)
        setattr(owner, attr, staticmethod(wrapped) if is_static else wrapped)


def _inject_params(params: dict) -> None:
    """Make freqtrade apply ``params`` through ``<space>_params`` on the loaded strategy."""
    if not params:
        return
    from freqtrade.resolvers.strategy_resolver import StrategyResolver

    original = StrategyResolver.__dict__["load_strategy"].__func__

    def load_strategy(config=None):
        strategy = original(config)
        strategy.russell_params = {**getattr(strategy, "russell_params", {}), **params}
        return strategy

    StrategyResolver.load_strategy = staticmethod(load_strategy)


def _profiled(profile_path: str | None):
    if not profile_path:
        return None
    import cProfile

    return cProfile.Profile()


def worker_backtest(spec: dict) -> dict:
    from freqtrade.optimize.backtesting import Backtesting
    from freqtrade.strategy.interface import IStrategy

    from russell_regime.adapter.offline import run_freqtrade

    _inject_params(spec.get("params") or {})
    timer = Timer()
    seen: dict[str, Any] = {}

    def after_indicators(args, result) -> None:
        strategy = args[0]
        seen["modes"] = {
            name: getattr(strategy, name).value for name in ALL_OFF if hasattr(strategy, name)
        }
        r2k = total = 0
        for frame in result.values():
            usage = frame.memory_usage(index=True, deep=True)
            total += int(usage.sum())
            r2k += int(usage[[c for c in usage.index if str(c).startswith("r2k_")]].sum())
        seen["frame_mb"] = total / 2**20
        seen["r2k_mb"] = r2k / 2**20

    def after_start(args, result) -> None:
        results = args[0].results or {}
        for stats in (results.get("strategy") or {}).values():
            seen["trades"] = int(stats["total_trades"])
            seen["profit_abs"] = float(stats["profit_total_abs"])
            seen["profit_pct"] = float(stats["profit_total"]) * 100.0

    timer.wrap(Backtesting, "load_bt_data", "load_data")
    timer.wrap(IStrategy, "advise_all_indicators", "indicators", after_indicators)
    timer.wrap(IStrategy, "ft_advise_signals", "signals")
    timer.wrap(Backtesting, "backtest", "backtest")
    timer.wrap(Backtesting, "start", "start", after_start)

    profile = _profiled(spec.get("profile"))
    start = time.perf_counter()
    if profile is not None:
        profile.enable()
    rc = run_freqtrade(spec["argv"])
    if profile is not None:
        profile.disable()
        profile.dump_stats(spec["profile"])
    wall = time.perf_counter() - start
    phases = dict(timer.total)
    phases["loop"] = phases.get("backtest", 0.0) - phases.get("signals", 0.0)
    return {"rc": rc, "wall_in_process": wall, "phases": phases, **seen}


def worker_hyperopt(spec: dict) -> dict:
    from freqtrade.optimize.hyperopt.hyperopt import Hyperopt
    from freqtrade.optimize.hyperopt.hyperopt_optimizer import HyperOptimizer
    from freqtrade.strategy.interface import IStrategy

    from russell_regime.adapter.offline import run_freqtrade

    batches: list[tuple[float, float, int]] = []
    epochs: list[dict] = []
    trades: list[int] = []
    signal_time = [0.0]
    extra: dict[str, Any] = {}
    profile = _profiled(spec.get("profile"))

    original_parallel = Hyperopt.run_optimizer_parallel

    from freqtrade.optimize.backtesting import Backtesting

    backtest_time = [0.0]
    original_backtest = Backtesting.backtest

    def backtest(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return original_backtest(self, *args, **kwargs)
        finally:
            backtest_time[0] += time.perf_counter() - start

    Backtesting.backtest = backtest

    def run_optimizer_parallel(self, parallel, asked):
        if "pickle_mb" not in extra:
            import cloudpickle

            try:
                t = time.perf_counter()
                blob = cloudpickle.dumps(self.hyperopter.generate_optimizer_wrapped)
                extra["pickle_s"] = time.perf_counter() - t
                extra["pickle_mb"] = len(blob) / 2**20
                regime = getattr(self.hyperopter.backtesting.strategy, "regime", None)
                extra["regime_pickle_mb"] = (
                    len(cloudpickle.dumps(regime)) / 2**20 if regime is not None else 0.0
                )
            except Exception as exc:  # informative only
                extra["pickle_error"] = repr(exc)
        start, cpu = time.perf_counter(), time.process_time()
        result = original_parallel(self, parallel, asked)
        batches.append((start, time.perf_counter(), len(asked), time.process_time() - cpu))
        return result

    Hyperopt.run_optimizer_parallel = run_optimizer_parallel

    original_evaluate = Hyperopt.evaluate_result

    def evaluate_result(self, val, current, is_random):
        trades.append(int(val.get("results_metrics", {}).get("total_trades", 0)))
        return original_evaluate(self, val, current, is_random)

    Hyperopt.evaluate_result = evaluate_result

    original_signals = IStrategy.ft_advise_signals

    def ft_advise_signals(self, dataframe, metadata):
        start = time.perf_counter()
        try:
            return original_signals(self, dataframe, metadata)
        finally:
            signal_time[0] += time.perf_counter() - start

    IStrategy.ft_advise_signals = ft_advise_signals

    original_generate = HyperOptimizer.generate_optimizer

    def generate_optimizer(self, params_dict):
        signal_time[0] = backtest_time[0] = 0.0
        start = time.perf_counter()
        if profile is not None:
            profile.enable()
        try:
            return original_generate(self, params_dict)
        finally:
            if profile is not None:
                profile.disable()
            epochs.append({"eval": time.perf_counter() - start, "signals": signal_time[0],
                           "backtest": backtest_time[0]})

    HyperOptimizer.generate_optimizer = generate_optimizer

    start = time.perf_counter()
    rc = run_freqtrade(spec["argv"])
    wall = time.perf_counter() - start
    if profile is not None:
        profile.dump_stats(spec["profile"])
    return {"rc": rc, "wall_in_process": wall, "batches": batches, "epochs": epochs,
            "trades": trades, "t0": start, **extra}


def worker_startup(spec: dict) -> dict:
    """Fresh process: what the Russell code adds to a freqtrade process's startup."""
    import importlib

    import freqtrade.strategy  # noqa: F401  (every strategy pays these imports anyway)
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import talib.abstract  # noqa: F401

    start = time.perf_counter()
    importlib.import_module("RussellRiskOn")
    imported = time.perf_counter() - start

    from russell_regime.adapter.provider import RegimeProvider
    from russell_regime.settings import RegimeSettings

    provider = RegimeProvider(RegimeSettings(source="file", path=Path(spec["rut"])))
    start = time.perf_counter()
    provider.load_offline()
    cold = time.perf_counter() - start
    start = time.perf_counter()
    provider.load_offline()
    warm = time.perf_counter() - start
    return {"import_ms": imported * 1000, "load_cold_ms": cold * 1000, "load_warm_ms": warm * 1000,
            "sessions": len(provider.daily)}


def _strategy_config(data: Path, user_dir: Path, runmode_name: str, params_off: bool) -> dict:
    from freqtrade.configuration import Configuration
    from freqtrade.enums import RunMode

    runmode = RunMode(runmode_name)
    user_dir.mkdir(parents=True, exist_ok=True)
    args = {
        "config": [str(CONFIG)],
        "user_data_dir": str(user_dir),
        "datadir": str(data / "binance"),
        "strategy": "RussellRiskOn",
        "strategy_path": str(STRATEGIES),
    }
    config = Configuration(args, runmode).get_config()
    config["runmode"] = runmode
    config["dry_run"] = True
    import logging

    for name in ("freqtrade", "russell_regime"):  # Configuration re-enables INFO logging
        logging.getLogger(name).setLevel(logging.WARNING)
    section = {"source": "file", "path": str(data / "index" / "RUT.csv")}
    config["russell_regime"] = {**config.get("russell_regime", {}), **section}
    return config


def worker_live(spec: dict) -> dict:
    """bot_loop_start per call: dry_run (no refresh due) and backtest mode, gated and off."""
    import logging

    from freqtrade.data.dataprovider import DataProvider
    from freqtrade.resolvers.strategy_resolver import StrategyResolver

    logging.getLogger().setLevel(logging.WARNING)
    data, user_dir, calls = Path(spec["data"]), Path(spec["user_dir"]), int(spec["calls"])
    out: dict[str, Any] = {}
    for mode in ("dry_run", "backtest"):
        for variant in ("gated", "off"):
            config = _strategy_config(data, user_dir / f"{mode}_{variant}", mode, False)
            strategy = StrategyResolver.load_strategy(config)
            if variant == "off":
                strategy.russell_params = dict(ALL_OFF)
            strategy.dp = DataProvider(config, None)
            strategy.ft_bot_start()
            live = getattr(strategy, "live", None)
            entry: dict[str, Any] = {"live_object": type(live).__name__ if live else None}
            first = time.perf_counter()
            strategy.bot_loop_start(current_time=datetime.now(UTC))
            entry["first_call_ms"] = (time.perf_counter() - first) * 1000.0
            if live is not None and hasattr(live, "wait"):
                live.wait(60.0)  # let the first refresh finish ...
                install = time.perf_counter()
                strategy.bot_loop_start(current_time=datetime.now(UTC))  # ... and install it
                entry["install_call_ms"] = (time.perf_counter() - install) * 1000.0
                entry["loaded"] = bool(strategy.regime.loaded)
                entry["busy_after"] = bool(getattr(live, "busy", False))
            batch, per_call = 100, []
            worst = 0.0
            for _ in range(calls // batch):
                t = time.perf_counter()
                for _ in range(batch):
                    strategy.bot_loop_start(current_time=datetime.now(UTC))
                elapsed = time.perf_counter() - t
                per_call.append(elapsed / batch)
                worst = max(worst, elapsed / batch)
            # the datetime.now(UTC) argument alone, to subtract the harness cost
            t = time.perf_counter()
            for _ in range(calls):
                datetime.now(UTC)
            harness = (time.perf_counter() - t) / calls
            entry["per_call_us"] = (_median(per_call) - harness) * 1e6
            entry["worst_batch_us"] = (worst - harness) * 1e6
            entry["busy_end"] = bool(getattr(live, "busy", False)) if live else False
            out[f"{mode}_{variant}"] = entry
    return out


# --- orchestrator sections --------------------------------------------------------------------


def section_core(data: Path, tmp: Path, repeat: int) -> dict:
    """In-process timing of the Russell slice and of the whole strategy analysis."""
    import logging

    import numpy as np
    from freqtrade.data.dataprovider import DataProvider
    from freqtrade.data.history import load_data
    from freqtrade.resolvers.strategy_resolver import StrategyResolver

    from russell_regime.core.align import gather
    from russell_regime.core.gate import PAIR_CLASSES

    logging.getLogger("freqtrade").setLevel(logging.WARNING)
    config = _strategy_config(data, tmp, "backtest", False)
    frames = load_data(
        datadir=data / "binance", timeframe="1h", pairs=[f"{p}/USDT" for p in PAIRS],
        data_format="feather",
    )
    candles = sum(len(f) for f in frames.values())

    def make(variant: str):
        strategy = StrategyResolver.load_strategy(config)
        if variant == "off":
            strategy.russell_params = dict(ALL_OFF)
        strategy.dp = DataProvider(config, None)
        strategy.ft_bot_start()
        return strategy

    out: dict[str, Any] = {"candles": candles, "pairs": len(frames)}

    strategies = {v: make(v) for v in ("gated", "off")}
    base_entry = {}
    analysed = {}
    for pair, frame in frames.items():
        ind = strategies["gated"].advise_indicators(frame.copy(), {"pair": pair})
        base_entry[pair] = strategies["gated"].base_entry(ind).to_numpy()
        analysed[pair] = ind

    def russell_slice(strategy, frame, pair: str, entry: np.ndarray) -> None:
        # Mirrors the Russell lines of RussellRiskOn.populate_indicators / populate_entry_trend.
        regime = strategy.regime
        positions = regime.positions(frame["date"], strategy.timeframe)
        frame["r2k_pos"] = positions
        audit = regime.audit(positions)
        for column in audit.columns:
            frame[column] = audit[column].array
        daily = regime.gate(strategy.gate_params(strategy._class({"pair": pair})))
        frame["r2k_close"] = gather(regime.daily["close"].to_numpy(), positions)
        for feature in ("ath", "drawdown", "resistance", "support_level"):
            frame[f"r2k_{feature}"] = gather(daily[feature].to_numpy(), positions)
        for cls in PAIR_CLASSES:
            frame[f"r2k_gate_{cls}"] = gather(
                regime.gate(strategy.gate_params(cls))["gate_open"].to_numpy(), positions
            )
        gate_open = gather(daily["gate_open"].to_numpy(), positions)
        tag = gather(daily["gate_tag"].to_numpy(), positions, fill="")
        enter = entry & gate_open
        frame.loc[enter, "enter_long"] = 1
        frame.loc[enter, "enter_tag"] = np.char.add("r2k_", tag[enter].astype(str))

    slices: dict[str, list[float]] = {"gated": [], "off": []}
    features: dict[str, list[float]] = {"gated": [], "off": []}
    for i in range(3 * repeat):
        for variant in (("gated", "off") if i % 2 == 0 else ("off", "gated")):
            strategy = strategies[variant]
            fresh = {}
            for pair, frame in frames.items():
                fresh[pair] = frame[["date", "open", "high", "low", "close", "volume"]].copy()
                fresh[pair].loc[:, "enter_tag"] = ""  # as freqtrade's advise_entry does
            strategy.regime._memo.clear()
            # three distinct parameter sets, as a --spaces russell epoch asks for
            sets = [dataclasses.replace(strategy.gate_params(cls), lookback=250 + k)
                    for k, cls in enumerate(PAIR_CLASSES)]
            t = time.perf_counter()
            for params in sets:
                strategy.regime.gate(params)
            features[variant].append((time.perf_counter() - t) / len(sets))
            strategy.regime._memo.clear()  # cold memo: daily gates recomputed
            t = time.perf_counter()
            for pair, frame in fresh.items():
                russell_slice(strategy, frame, pair, base_entry[pair])
            slices[variant].append(time.perf_counter() - t)
    for variant in ("gated", "off"):
        out[f"slice_{variant}_ms"] = min(slices[variant]) * 1000
        out[f"features1_{variant}_ms"] = min(features[variant]) * 1000

    # the strategy's whole analysis: indicators + entry/exit signals, 10 pairs
    baseline_cls = _baseline_class(type(strategies["gated"]))
    strategies["base"] = baseline_cls(config)
    strategies["base"].dp = DataProvider(config, None)
    strategies["base"].ft_bot_start()
    analysis: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for i in range(2 * repeat):
        order = VARIANTS if i % 2 == 0 else tuple(reversed(VARIANTS))
        for variant in order:
            strategy = strategies[variant]
            strategy.regime._memo.clear()
            t = time.perf_counter()
            for pair, frame in frames.items():
                strategy.ft_advise_signals(
                    strategy.advise_indicators(frame.copy(), {"pair": pair}), {"pair": pair}
                )
            analysis[variant].append(time.perf_counter() - t)
    for variant in VARIANTS:
        out[f"analysis_{variant}_ms"] = min(analysis[variant]) * 1000
    out["best_of"] = {"slice": len(slices["gated"]), "analysis": len(analysis["gated"])}
    return out


def worker_core(spec: dict) -> dict:
    return section_core(Path(spec["data"]), Path(spec["tmp"]), int(spec["repeat"]))


def _baseline_class(parent: type) -> type:
    """The no-Russell baseline as a class (same code as BASELINE_SOURCE)."""
    namespace: dict[str, Any] = {}
    module = BASELINE_SOURCE.format(strategies=str(STRATEGIES), name=BASELINE_NAME)
    exec(compile(module, "<baseline>", "exec"), namespace)  # noqa: S102
    cls = namespace[BASELINE_NAME]
    return type(BASELINE_NAME, (parent,), {
        k: v for k, v in cls.__dict__.items()
        if k in ("bot_start", "bot_loop_start", "populate_indicators", "populate_entry_trend")
    })


def _common_argv(data: Path, user_dir: Path, strategy_path: Path) -> list[str]:
    user_dir.mkdir(parents=True, exist_ok=True)
    return [
        "--config", str(CONFIG),
        "--userdir", str(user_dir),
        "--datadir", str(data / "binance"),
        "--strategy-path", str(strategy_path),
        "--no-color",
    ]


def section_backtest(data: Path, tmp: Path, cfg: dict, progress) -> dict:
    base_dir = tmp / "baseline_strategy"
    base_dir.mkdir(parents=True, exist_ok=True)
    (base_dir / f"{BASELINE_NAME}.py").write_text(
        BASELINE_SOURCE.format(strategies=str(STRATEGIES), name=BASELINE_NAME)
    )
    variants = [v for v in VARIANTS if v != "base" or cfg["base"]]
    runs: dict[str, list[dict]] = {v: [] for v in variants}
    for rep in range(cfg["reps"]):
        order = variants if rep % 2 == 0 else list(reversed(variants))
        for variant in order:
            user_dir = tmp / f"bt_{variant}_{rep}"
            strategy, path = ("RussellRiskOn", STRATEGIES)
            if variant == "base":
                strategy, path = BASELINE_NAME, base_dir
            argv = ["backtesting", *_common_argv(data, user_dir, path), "--strategy", strategy,
                    "--timerange", cfg["bt_timerange"], "--export", "none",
                    "--cache", "none"]
            spec = {"kind": "backtest", "argv": argv,
                    "params": ALL_OFF if variant == "off" else {}}
            result, wall, rss = run_child(spec, data, tmp / f"bt_{variant}_{rep}.log")
            result.update(wall=wall, rss_mb=rss)
            runs[variant].append(result)
            progress(f"backtest {variant} rep {rep + 1}/{cfg['reps']}: {wall:.1f} s, "
                     f"{result.get('trades')} trades, {rss:.0f} MB")
    out: dict[str, Any] = {"runs": runs}
    for variant, items in runs.items():
        out[variant] = {
            "wall": _median([r["wall"] for r in items]),
            "walls": [r["wall"] for r in items],
            "rss_mb": _median([r["rss_mb"] for r in items]),
            "cpu": _median([r["cpu_s"] for r in items]),
            "trades": items[0].get("trades"),
            "profit_abs": items[0].get("profit_abs"),
            "profit_pct": items[0].get("profit_pct"),
            "modes": items[0].get("modes"),
            "frame_mb": items[0].get("frame_mb"),
            "r2k_mb": items[0].get("r2k_mb"),
            "phases": {k: _median([r["phases"].get(k, 0.0) for r in items])
                       for k in items[0]["phases"]},
        }
    return out


def _hyperopt_argv(data: Path, user_dir: Path, space: str, epochs: int, jobs: int,
                   timerange: str) -> list[str]:
    return ["hyperopt", *_common_argv(data, user_dir, STRATEGIES), "--strategy", "RussellRiskOn",
            "--timerange", timerange, "--spaces", space,
            "--hyperopt-loss", "SharpeHyperOptLoss", "-e", str(epochs), "-j", str(jobs),
            "--random-state", "42", "--disable-param-export"]


def _epoch_stats(result: dict, jobs: int) -> dict:
    batches = result["batches"]
    n = sum(b[2] for b in batches)
    first_start, first_end = batches[0][0], batches[0][1]
    last_end = batches[-1][1]
    stats = {
        "epochs": n,
        "startup_s": first_start - result["t0"],
        "per_epoch_s": (last_end - first_start) / n,
        "trades_mean": statistics.mean(result["trades"]) if result["trades"] else float("nan"),
        "pickle_mb": result.get("pickle_mb"),
        "regime_pickle_mb": result.get("regime_pickle_mb"),
        "pickle_s": result.get("pickle_s"),
    }
    if len(batches) > 1:  # excludes the first batch (worker spawn / first unpickle with -j > 1)
        stats["per_epoch_after_first_s"] = (last_end - first_end) / (n - batches[0][2])
    if jobs == 1:  # the epochs run in this process: its CPU time is theirs
        stats["cpu_per_epoch_s"] = sum(b[3] for b in batches) / n
    if result["epochs"]:
        ep = result["epochs"]
        stats["loop_mean_s"] = statistics.mean(e["backtest"] - e["signals"] for e in ep)
        stats["rest_mean_s"] = statistics.mean(e["eval"] - e["backtest"] for e in ep)
        stats["eval_median_s"] = _median([e["eval"] for e in result["epochs"]])
        stats["eval_mean_s"] = statistics.mean(e["eval"] for e in result["epochs"])
        stats["signals_mean_ms"] = statistics.mean(e["signals"] for e in result["epochs"]) * 1000
    return stats


def section_hyperopt(data: Path, tmp: Path, cfg: dict, progress) -> dict:
    out: dict[str, Any] = {}
    plans = [(1, rep) for rep in range(2 if cfg["reps"] >= 3 else 1)]
    if cfg["j2"]:
        plans.append((2, 0))
    for jobs, rep in plans:
        spaces = ("russell", "buy") if rep % 2 == 0 else ("buy", "russell")
        for space in spaces:
            user_dir = tmp / f"ho_{space}_j{jobs}_{rep}"
            argv = _hyperopt_argv(data, user_dir, space, cfg["epochs"], jobs, cfg["ho_timerange"])
            result, wall, rss = run_child({"kind": "hyperopt", "argv": argv}, data,
                                          tmp / f"ho_{space}_j{jobs}_{rep}.log")
            stats = _epoch_stats(result, jobs)
            stats.update(wall=wall, rss_mb=rss)
            out.setdefault(f"j{jobs}", {}).setdefault(space, []).append(stats)
            progress(f"hyperopt --spaces {space} -j {jobs} (run {rep + 1}): "
                     f"{stats['per_epoch_s']:.3f} s/epoch over {stats['epochs']} epochs, "
                     f"startup {stats['startup_s']:.1f} s, {stats['trades_mean']:.0f} trades/epoch")
    return out


def section_live(data: Path, tmp: Path, cfg: dict) -> dict:
    spec = {"kind": "live", "data": str(data), "user_dir": str(tmp / "live"),
            "calls": cfg["live_calls"]}
    result, _, _ = run_child(spec, data, tmp / "live.log")
    return result


def section_profile(data: Path, tmp: Path, cfg: dict, progress) -> dict:
    prof_bt, prof_ho = tmp / "backtest_gated.prof", tmp / "hyperopt_russell.prof"
    argv = ["backtesting", *_common_argv(data, tmp / "prof_bt", STRATEGIES),
            "--strategy", "RussellRiskOn", "--timerange", cfg["bt_timerange"],
            "--export", "none", "--cache", "none"]
    run_child({"kind": "backtest", "argv": argv, "profile": str(prof_bt)}, data,
              tmp / "prof_bt.log")
    progress("profiled the gated backtest")
    argv = _hyperopt_argv(data, tmp / "prof_ho", "russell", cfg["profile_epochs"], 1,
                          cfg["ho_timerange"])
    run_child({"kind": "hyperopt", "argv": argv, "profile": str(prof_ho)}, data,
              tmp / "prof_ho.log")
    progress("profiled the --spaces russell hyperopt epochs")
    return {"backtest": _russell_costs(prof_bt), "hyperopt": _russell_costs(prof_ho)}


def _russell_costs(path: Path, top: int = 12) -> dict:
    """Total profiled time and the Russell-attributable functions, by cumulative time.

    ``russell_pkg_s``: time inside the russell_regime package (imports included), counted
    once: the cumulative time of its functions that are called from outside the package.
    ``offline.py`` (the offline-markets runner that starts freqtrade) is not the gate and is
    left out. Strategy callbacks (RussellRiskOn.py) are listed but not summed: they also run
    the base signal.
    """
    import pstats

    def russell(file: str) -> bool:
        return "russell_regime" in file and not file.endswith("offline.py")

    stats = pstats.Stats(str(path))
    rows = []
    for (file, _, name), (_, calls, tottime, cumtime, _) in stats.stats.items():
        if russell(file) or file.endswith("RussellRiskOn.py"):
            short = ("RussellRiskOn.py" if file.endswith("RussellRiskOn.py")
                     else "russell_regime/" + Path(file).name)
            rows.append({"func": f"{short}:{name}", "calls": calls, "tottime": tottime,
                         "cumtime": cumtime})
    rows.sort(key=lambda r: -r["cumtime"])
    entry = imports = 0.0
    for (file, _, name), (_, _, _, cumtime, callers) in stats.stats.items():
        if russell(file) and not any(russell(c[0]) for c in callers):
            entry += cumtime
            if name == "<module>":
                imports += cumtime
    return {"total_s": stats.total_tt, "russell_pkg_s": entry, "imports_s": imports,
            "top": rows[:top]}


# --- report -----------------------------------------------------------------------------------


def _fmt(value: Any, spec: str = ".2f") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and value != value:
        return "n/a"
    return format(value, spec)


def _row(*cells: Any) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _r(a: float | None, b: float | None, bold: bool = False) -> str:
    text = _fmt(_ratio(a or 0.0, b or 0.0), ".3f")
    return f"**{text}**" if bold else text


def _render_core(core: dict, add: Callable[[str], None]) -> None:
    best = core.get("best_of", {})
    sg, so = core["slice_gated_ms"], core["slice_off_ms"]
    add(_row(f"Russell slice, 10 pairs x 1h 2017-2025 ({core['candles']:,} candles): alignment, "
             f"audit columns, daily gates (memo cold), gathers, tags; ms, best of "
             f"{best.get('slice')}", _fmt(sg, ".1f"), _fmt(so, ".1f"), _r(sg, so), "-", "0", "-"))
    fg, fo = core["features1_gated_ms"], core["features1_off_ms"]
    add(_row(f"daily features + gate for one parameter set ({core.get('sessions', 0):,} sessions; "
             "a --spaces russell epoch needs 3), ms", _fmt(fg), _fmt(fo), _r(fg, fo), "-", "0",
             "-"))
    add(_row("per process: import of the strategy's Russell modules, ms",
             _fmt(core["import_ms"], ".0f"), "same", "1", "-", "0", "-"))
    add(_row("per process: index load at bot_start (read, validate, available_at), first call "
             "(builds the XNYS calendar) / again, ms",
             f"{_fmt(core['load_cold_ms'], '.0f')} / {_fmt(core['load_warm_ms'], '.0f')}",
             "same", "1", "-", "0", "-"))
    ag, ao, ab = (core[f"analysis_{v}_ms"] for v in VARIANTS)
    add(_row(f"whole strategy analysis (indicators + signals), 10 pairs full history, ms, best of "
             f"{best.get('analysis')}", _fmt(ag, ".0f"), _fmt(ao, ".0f"), _r(ag, ao), "-",
             _fmt(ab, ".0f"), _r(ag, ab)))


def _render_backtest(bt: dict, cfg: dict, add: Callable[[str], None]) -> None:
    g, o, b = bt["gated"], bt["off"], bt.get("base")

    def base(value: Callable[[dict], str]) -> str:
        return value(b) if b else "-"

    def line(label: str, key: str, spec: str = ".2f", target: str = "", bold: bool = False):
        add(_row(label, _fmt(g[key], spec), _fmt(o[key], spec), _r(g[key], o[key], bold), target,
                 base(lambda x: _fmt(x[key], spec)), base(lambda x: _r(g[key], x[key]))))

    line(f"backtest wall, 10 pairs {cfg['bt_timerange']}, median of {len(g['walls'])} (s)",
         "wall", target="<= 1.05", bold=True)
    line("backtest CPU time (user + sys) of the process, median (s)", "cpu")
    add(_row("backtest runs, wall (s)", ", ".join(_fmt(w) for w in g["walls"]),
             ", ".join(_fmt(w) for w in o["walls"]), "", "",
             base(lambda x: ", ".join(_fmt(w) for w in x["walls"])), ""))
    for key, label in (("indicators", "populate_indicators, 10 pairs"),
                       ("signals", "entry/exit signals, 10 pairs"),
                       ("loop", "backtest loop (scales with trades)")):
        gp, op = g["phases"].get(key), o["phases"].get(key)
        add(_row(f"backtest phase: {label} (s)", _fmt(gp), _fmt(op), _r(gp, op), "",
                 base(lambda x, k=key: _fmt(x["phases"].get(k))),
                 base(lambda x, k=key, v=gp: _r(v, x["phases"].get(k)))))
    add(_row("backtest trades", g["trades"], o["trades"], "", "", base(lambda x: x["trades"]), ""))

    def profit(x: dict) -> str:
        return f"{_fmt(x['profit_abs'])} ({_fmt(x['profit_pct'])} %)"

    add(_row("backtest total profit, USDT (%)", profit(g), profit(o), "", "", base(profit), ""))
    line("backtest peak RSS of the process (VmHWM), median (MB)", "rss_mb", ".0f", bold=True)

    def frames(x: dict) -> str:
        return f"{_fmt(x['frame_mb'], '.0f')} / {_fmt(x['r2k_mb'], '.0f')}"

    add(_row("analysed dataframes in memory, all / r2k_* columns (MB)", frames(g), frames(o),
             "", "", base(frames), ""))


def _render_hyperopt(ho: dict, cfg: dict, add: Callable[[str], None]) -> None:
    add(f"## Hyperopt: `--spaces russell` vs `--spaces buy` ({cfg['ho_timerange']}, 10 pairs, "
        f"{cfg['epochs']} epochs, SharpeHyperOptLoss, --random-state 42)")
    add("")
    add(_row("measurement", "--spaces russell", "--spaces buy", "ratio", "target"))
    add("|---|---:|---:|---:|---:|")
    for jobs_key in sorted(ho):
        jobs = jobs_key[1:]
        runs = ho[jobs_key]["russell"], ho[jobs_key]["buy"]

        def med(key: str, runs=runs) -> tuple[float, float]:
            return tuple(_median([s.get(key, float("nan")) for s in rs]) for rs in runs)

        def line(label: str, key: str, spec: str = ".3f", target: str = "", bold: bool = False,
                 scale: float = 1.0) -> tuple[float, float]:
            r, b = (v * scale for v in med(key))
            add(_row(label, _fmt(r, spec), _fmt(b, spec), _r(r, b, bold), target))
            return r, b

        line(f"s/epoch, -j {jobs}, excl. startup (median of {len(runs[0])} runs)", "per_epoch_s",
             target="<= 1.10" if jobs == "1" else "", bold=True)
        if jobs == "1":
            line("CPU s/epoch, -j 1, excl. startup", "cpu_per_epoch_s")
            line("epoch evaluation (generate_optimizer), median (s)", "eval_median_s")
            rs, bs = line("of which signal generation, 10 pairs (the gate runs here), mean (ms)",
                          "signals_mean_ms", ".1f")
            line("of which backtest loop + trade handling (scales with trades), mean (s)",
                 "loop_mean_s")
            line("of which data pickle load + result statistics, mean (s)", "rest_mean_s")
            b_epoch = med("per_epoch_s")[1]
            share = 100 * (rs - bs) / 1000 / b_epoch
            add(_row("gate overhead per epoch = signal generation russell - buy, ms (% of a buy "
                     "epoch)", f"{_fmt(rs - bs, '.1f')} ({_fmt(share, '.1f')} %)", "0", "",
                     "<= 10 %"))
        else:
            line(f"s/epoch, -j {jobs}, excl. startup and the first batch",
                 "per_epoch_after_first_s")
        line(f"trades per epoch, mean, -j {jobs}", "trades_mean", ".0f")
        line(f"startup before the first epoch, -j {jobs} (s)", "startup_s", ".1f")
        line(f"peak RSS of the hyperopt main process, -j {jobs} (MB)", "rss_mb", ".0f")
    first = ho["j1"]["russell"][0]
    add("")
    add(f"Per-task pickle (what joblib ships to a worker per batch with -j > 1): "
        f"{_fmt(first.get('pickle_mb'))} MB, pickled in "
        f"{_fmt((first.get('pickle_s') or 0) * 1000, '.0f')} ms; of it the RegimeProvider "
        f"(daily frame + memoised gates) {_fmt(first.get('regime_pickle_mb'))} MB.")
    add("")


def render(res: dict) -> str:
    cfg, quick = res["cfg"], res.get("quick", False)
    lines: list[str] = []
    add = lines.append
    add(f"# Russell gate cost benchmark ({'QUICK' if quick else 'full'} run)")
    add("")
    add(f"`{res.get('command', 'python benchmarks/bench_gate.py')}` on {res.get('host')}, "
        f"{res.get('finished')}, total {res.get('elapsed_s', 0) / 60:.1f} min. Load average "
        f"(1/5 min) at start {res['load_start']}, end {res.get('load_end')} (other processes "
        "share the machine; CPU times are less sensitive to that).")
    add("")
    core, bt, live = res.get("core"), res.get("backtest"), res.get("live")
    if core or bt or live:
        add("## Gated (default params) vs every gate off (vs no Russell code)")
        add("")
        add(_row("measurement", "gated (defaults)", "all gates off", "ratio gated/off", "target",
                 "no Russell code", "ratio gated/no-Russell"))
        add("|---|---:|---:|---:|---:|---:|---:|")
    if core:
        _render_core(core, add)
    if bt:
        _render_backtest(bt, cfg, add)
    if live:
        for key, label in (("dry_run", "dry_run, no refresh due"),
                           ("backtest", "backtest mode (called once per candle)")):
            gl, ol = live.get(f"{key}_gated", {}), live.get(f"{key}_off", {})
            add(_row(f"bot_loop_start per call, {label} (us)", _fmt(gl.get("per_call_us")),
                     _fmt(ol.get("per_call_us")), _r(gl.get("per_call_us"), ol.get("per_call_us")),
                     "", "-", ""))
    add("")
    if bt:
        g, o = bt["gated"], bt["off"]
        add(f"**Issue-3 note:** backtest wall time for the 10 pairs ({cfg['bt_timerange']}, median "
            f"of {len(g['walls'])}) with every gate off {_fmt(o['wall'])} s vs the default gate "
            f"{_fmt(g['wall'])} s: ratio gated/off {_r(g['wall'], o['wall'])} (target <= 1.05); "
            f"trades {o['trades']} (off) vs {g['trades']} (gated); total profit "
            f"{_fmt(o['profit_abs'])} USDT ({_fmt(o['profit_pct'])} %) (off) vs "
            f"{_fmt(g['profit_abs'])} USDT ({_fmt(g['profit_pct'])} %) (gated).")
        add("")
        if bt.get("base"):
            b = bt["base"]
            add("Equal trades, all gates off vs no Russell code (the cost of the Russell "
                "machinery when the gate changes nothing: index load, alignment, features, "
                f"gathers, larger frames): wall {_fmt(o['wall'])} vs {_fmt(b['wall'])} s (ratio "
                f"{_r(o['wall'], b['wall'])}), CPU {_fmt(o['cpu'])} vs {_fmt(b['cpu'])} s (ratio "
                f"{_r(o['cpu'], b['cpu'])}). Both import the Russell modules (the baseline "
                "subclasses RussellRiskOn), so the per-process import cost in the first table "
                "comes on top.")
            add("")
        add(f"Modes actually applied: gated {g.get('modes')}, off {o.get('modes')}.")
        if bt.get("base"):
            same = (bt["base"]["trades"] == o["trades"]
                    and abs((bt["base"]["profit_abs"] or 0) - (o["profit_abs"] or 0)) < 1e-6)
            add("No-Russell baseline reproduces the all-off trades and profit: "
                f"{'yes' if same else 'NO - the baseline file drifted from the strategy'}.")
        add("")
    if res.get("hyperopt"):
        _render_hyperopt(res["hyperopt"], cfg, add)
    if live:
        gl = live.get("dry_run_gated", {})
        add("## Live loop: `bot_loop_start`")
        add("")
        add(f"Live object: {gl.get('live_object')}. First call {_fmt(gl.get('first_call_ms'))} ms "
            f"(starts the first refresh), the call that installs it "
            f"{_fmt(gl.get('install_call_ms'))} ms (data loaded: {gl.get('loaded')}); slowest "
            f"batch of 100 steady-state calls {_fmt(gl.get('worst_batch_us'))} us/call; a refresh "
            f"in flight at the end: {gl.get('busy_end')}. freqtrade calls bot_loop_start once per "
            "bot loop (process_throttle_secs = 5 s) and, in backtesting and hyperopt, once per "
            "candle.")
        add("")
    prof = res.get("profile")
    if prof:
        add("## Profile (cProfile): Russell-attributable cost")
        add("")
        for key, label in (("backtest", "gated backtest"),
                           ("hyperopt", f"{cfg['profile_epochs']} `--spaces russell` epochs")):
            p = prof[key]
            add(f"**{label}**: profiled total {p['total_s']:.2f} s; inside the russell_regime "
                f"package {p['russell_pkg_s']:.3f} s ({100 * p['russell_pkg_s'] / p['total_s']:.2f}"
                f" %), of which module imports {p['imports_s']:.3f} s. The strategy callbacks "
                "(RussellRiskOn.py) listed below include the base signal.")
            add("")
            add(_row("function", "calls", "tottime s", "cumtime s"))
            add("|---|---:|---:|---:|")
            for item in p["top"]:
                add(_row(item["func"], item["calls"], f"{item['tottime']:.3f}",
                         f"{item['cumtime']:.3f}"))
            add("")
    add("Method: see the module docstring of benchmarks/bench_gate.py. A ratio < 1 means the "
        "gated run is cheaper: the gate blocks entries, and the backtest loop and the result "
        "statistics scale with the number of trades.")
    return "\n".join(lines) + "\n"


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=_default_data())
    parser.add_argument("--epochs", type=int, default=None, help="hyperopt epochs (30; quick 10)")
    parser.add_argument("--reps", type=int, default=None, help="backtests per variant (3; quick 2)")
    parser.add_argument("--quick", action="store_true", help="~2 minute version")
    parser.add_argument("--profile", dest="profile", action="store_true", default=None)
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--sections", default="core,backtest,hyperopt,live,profile",
                        help="comma-separated subset of core,backtest,hyperopt,live,profile")
    parser.add_argument("--keep-tmp", action="store_true", help="keep logs and profiles")
    parser.add_argument("--render", type=Path, metavar="RESULTS_JSON",
                        help="only re-render the tables of a saved results .json to --out")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        spec = json.loads(args.worker)
        worker = {"backtest": worker_backtest, "hyperopt": worker_hyperopt,
                  "live": worker_live, "startup": worker_startup,
                  "core": worker_core}[spec["kind"]]
        result = worker(spec)
        result["vmhwm_mb"] = _vmhwm_mb()
        Path(args.worker_out).write_text(json.dumps(result, default=str))
        return 0 if result.get("rc", 0) == 0 else 1

    if args.render:
        res = json.loads(args.render.read_text())
        report = render(res)
        print(report)
        out = args.out or args.render.with_suffix(".md")
        out.write_text(report)
        return 0

    cfg = {**FULL, "epochs": 30}
    if args.quick:
        cfg.update(QUICK)
    if args.epochs is not None:
        cfg["epochs"] = args.epochs
    if args.reps is not None:
        cfg["reps"] = args.reps
    if args.profile is not None:
        cfg["profile"] = args.profile
    out_path = args.out or (REPO_ROOT / "benchmarks" /
                            ("results_quick.md" if args.quick else "results.md"))
    sections = set(args.sections.split(","))
    if not cfg["profile"]:
        sections.discard("profile")

    data = args.data.resolve()
    missing = [p for p in [data / "index" / "RUT.csv",
                           *(data / "binance" / f"{b}_USDT-1h.feather" for b in PAIRS)]
               if not p.is_file()]
    if missing:
        print(f"error: data not found: {', '.join(map(str, missing))} (use --data DIR)",
              file=sys.stderr)
        return 2

    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="bench_gate_"))
    res: dict[str, Any] = {
        "load_start": _load(), "cfg": cfg, "quick": args.quick,
        "command": "python benchmarks/bench_gate.py " + " ".join(sys.argv[1:] if argv is None
                                                                  else argv),
        "host": f"{platform.node() or 'host'} ({os.cpu_count()} CPUs, Python "
                f"{platform.python_version()})",
    }
    _log(f"bench_gate ({'quick' if args.quick else 'full'}): data {data}, temp {tmp}, "
         f"load {res['load_start']}")
    try:
        if "core" in sections:
            _log("core: index load, Russell slice, strategy analysis (in-process) ...")
            res["core"] = run_child({"kind": "core", "data": str(data), "tmp": str(tmp / "core"),
                                     "repeat": cfg["core_repeat"]}, data, tmp / "core.log")[0]
            startups = [run_child({"kind": "startup", "rut": str(data / "index" / "RUT.csv")},
                                  data, tmp / f"startup_{i}.log")[0]
                        for i in range(cfg["core_repeat"])]
            for key in ("import_ms", "load_cold_ms", "load_warm_ms", "sessions"):
                res["core"][key] = _median([s[key] for s in startups])
            _log(f"core: slice gated {res['core']['slice_gated_ms']:.1f} ms, off "
                 f"{res['core']['slice_off_ms']:.1f} ms")
        if "backtest" in sections:
            res["backtest"] = section_backtest(data, tmp, cfg, _log)
        if "hyperopt" in sections:
            res["hyperopt"] = section_hyperopt(data, tmp, cfg, _log)
        if "live" in sections:
            res["live"] = section_live(data, tmp, cfg)
            _log(f"live: {json.dumps(res['live'])}")
        if "profile" in sections:
            res["profile"] = section_profile(data, tmp, cfg, _log)
    finally:
        if args.keep_tmp:
            _log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.perf_counter() - started
    res.update(elapsed_s=elapsed, load_end=_load(),
               finished=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    report = render(res)
    print()
    print(report)
    out_path.write_text(report)
    out_path.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))
    _log(f"wrote {out_path} (and {out_path.with_suffix('.json').name}) in {elapsed / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
