"""In-process timings through the public API, and the fixed per-process cost.

* Russell slice: ``BareGated`` (the mixin on callbacks that do nothing) minus ``BarePlain``
  (the same without the mixin), indicators + signals for 10 pairs of 1h candles 2017-2025, a
  fresh strategy instance per repetition (cold memos), best of N.
* Daily features + gate for one parameter set (never seen before, so computed).
* Whole analysis (indicators + signals) of RussellRiskOn gated / off and GatedSample gated /
  off / plain SampleStrategy, fresh instance per repetition, best of N.
* Memory of the analysed frames: all columns vs ``r2k_*`` (``memory_usage(deep=True)``).
* Fixed per-process cost (:func:`worker_startup`, a fresh process each): importing the
  strategy's Russell modules, then the calendar (``RegimeProvider`` construction + the first
  ``available_at``) - with the calendar table on disk, and without (``R2K_CALENDAR_CACHE=off``:
  exchange_calendars imported and the calendar built, as every process did before). These
  processes run with Python's bytecode cache (``PYTHONDONTWRITEBYTECODE`` unset; the first one
  writes it), as an installed bot does: compiling the package's ~45 modules from source costs
  ~0.15-0.2 s on its own.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

from .common import PAIRS, child_env, load_strategy, median, run_child, strategy_config

SLICE = ("BareGated", "BareGatedOff", "BarePlain")
ANALYSIS = ("RussellRiskOn", "RussellRiskOnOff")
SAMPLE = ("GatedSample", "GatedSampleOff", "PlainSample")


def _frames(data: Path) -> dict:
    from freqtrade.data.history import load_data

    return load_data(datadir=data / "binance", timeframe="1h",
                     pairs=[f"{p}/USDT" for p in PAIRS], data_format="feather")


def _analyse(strategy, frames: dict) -> tuple[float, dict]:
    """Seconds to analyse every pair (indicators + signals) on fresh copies; the frames."""
    copies = {pair: frame.copy() for pair, frame in frames.items()}
    out = {}
    start = time.perf_counter()
    for pair, frame in copies.items():
        meta = {"pair": pair}
        out[pair] = strategy.ft_advise_signals(strategy.advise_indicators(frame, meta), meta)
    return time.perf_counter() - start, out


def _memory(frames: dict) -> dict:
    total = r2k = 0
    for frame in frames.values():
        usage = frame.memory_usage(index=True, deep=True)
        total += int(usage.sum())
        r2k += int(usage[[c for c in usage.index if str(c).startswith("r2k_")]].sum())
    return {"all_mb": total / 2**20, "r2k_mb": r2k / 2**20, "share": r2k / total if total else 0}


def _best_of(names: tuple[str, ...], config: dict, frames: dict, rounds: int) -> dict:
    times: dict[str, list[float]] = {n: [] for n in names}
    for i in range(rounds):
        for name in (names if i % 2 == 0 else tuple(reversed(names))):
            strategy = load_strategy(config, name)  # fresh instance: cold memos
            times[name].append(_analyse(strategy, frames)[0])
    return {n: min(t) * 1000 for n, t in times.items()}


def worker_core(spec: dict) -> dict:
    data, tmp, repeat = Path(spec["data"]), Path(spec["tmp"]), int(spec["repeat"])
    strategy_dir = Path(spec["strategy_dir"])
    frames = _frames(data)
    out: dict[str, Any] = {"candles": sum(len(f) for f in frames.values()), "pairs": len(frames)}
    config = strategy_config(data, tmp / "bt", "backtest", "BareGated", strategy_dir)

    load_strategy(config, "BareGated")  # warm-up: imports, calendar table, freqtrade caches
    bare = _best_of(SLICE, config, frames, 3 * repeat)
    out["bare_ms"] = bare
    out["slice_gated_ms"] = bare["BareGated"] - bare["BarePlain"]
    out["slice_off_ms"] = bare["BareGatedOff"] - bare["BarePlain"]
    out["best_of"] = {"slice": 3 * repeat, "analysis": 2 * repeat}

    # daily features + gate for parameter sets never computed before (public provider)
    strategy = load_strategy(config, "BareGated")
    base = strategy.russell_gate_params("alt")
    per_set = []
    for k in range(6 * repeat):
        params = dataclasses.replace(base, lookback=100 + k, window=10 + k % 7)
        start = time.perf_counter()
        strategy.regime.gate(params)
        per_set.append(time.perf_counter() - start)
    out["features1_ms"] = min(per_set) * 1000
    out["sessions"] = len(strategy.regime.daily)

    names = ANALYSIS + (SAMPLE if spec.get("sample") else ())
    out["analysis_ms"] = _best_of(names, config, frames, 2 * repeat)

    memory: dict[str, dict] = {}
    for mode in ("backtest", "hyperopt"):
        cfg = strategy_config(data, tmp / mode, mode, "RussellRiskOn", strategy_dir)
        for name in ("RussellRiskOn", "GatedSample"):
            strategy = load_strategy(cfg, name)
            indicators = {p: strategy.advise_indicators(f.copy(), {"pair": p})
                          for p, f in frames.items()}
            memory[f"{name} {mode} indicators"] = _memory(indicators)
            signals = {p: strategy.ft_advise_signals(f, {"pair": p})
                       for p, f in indicators.items()}
            memory[f"{name} {mode} signals"] = _memory(signals)
    out["memory"] = memory
    columns = signals[next(iter(signals))]
    out["r2k_dtypes"] = {c: str(columns[c].dtype) for c in columns.columns
                         if str(c).startswith("r2k_")}
    return out


def worker_startup(spec: dict) -> dict:
    """Fresh process: what the Russell code adds to any freqtrade process's startup."""
    import gc
    import importlib

    import freqtrade.strategy  # noqa: F401  (every strategy pays these imports anyway)
    import numpy  # noqa: F401
    import pandas as pd
    import talib.abstract  # noqa: F401

    # a full collection first: the freqtrade imports above leave the collector due, and a
    # gen-2 pass over their objects (~100 ms) would otherwise land inside whatever is timed next
    gc.collect()
    start = time.perf_counter()
    importlib.import_module("RussellRiskOn")
    imported = time.perf_counter() - start
    xcals_after_import = "exchange_calendars" in sys.modules

    from russell_regime.adapter.provider import RegimeProvider
    from russell_regime.settings import settings_from_config

    section = {"source": "file", "path": spec["rut"]}
    start = time.perf_counter()
    settings = settings_from_config({"russell_regime": section})
    provider = RegimeProvider(settings)
    settings.availability.available_at(pd.DatetimeIndex(["2024-07-01", "2024-11-29"]))
    calendar = time.perf_counter() - start
    start = time.perf_counter()
    provider.load_offline()
    index = time.perf_counter() - start
    return {"import_ms": imported * 1000, "calendar_ms": calendar * 1000,
            "index_load_ms": index * 1000, "fixed_ms": (imported + calendar) * 1000,
            "xcals_after_import": xcals_after_import,
            "xcals_imported": "exchange_calendars" in sys.modules,
            "sessions": len(provider.daily)}


def section_core(data: Path, tmp: Path, cfg: dict, strategy_dir: Path, progress) -> dict:
    spec = {"kind": "core", "data": str(data), "tmp": str(tmp / "core"),
            "repeat": cfg["core_repeat"], "strategy_dir": str(strategy_dir),
            "sample": cfg["sample"]}
    res = run_child(spec, data, tmp / "core.log")[0]
    progress(f"core: Russell slice {res['slice_gated_ms']:.1f} ms (bare {res['bare_ms']})")
    rut = str(data / "index" / "RUT.csv")
    calendars = tmp / "calendar_tables"
    for label, setting in (("disk", str(calendars)), ("off", "off")):
        env = {**child_env(data), "R2K_CALENDAR_CACHE": setting}
        # as installed: bytecode cached (the first process writes it), not compiled per process
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if label == "disk":  # one process writes the table first
            run_child({"kind": "startup", "rut": rut}, data, tmp / "startup_prime.log", env)
        runs = [run_child({"kind": "startup", "rut": rut}, data,
                          tmp / f"startup_{label}_{i}.log", env)[0]
                for i in range(cfg["startup_repeat"])]
        res[f"startup_{label}"] = {k: median([r[k] for r in runs])
                                   for k in ("import_ms", "calendar_ms", "index_load_ms",
                                             "fixed_ms")}
        res[f"startup_{label}"]["xcals_imported"] = any(r["xcals_imported"] for r in runs)
        res[f"startup_{label}"]["xcals_after_import"] = any(
            r["xcals_after_import"] for r in runs)
        progress(f"fixed per-process cost, calendar table {label}: {res[f'startup_{label}']}")
    return res
