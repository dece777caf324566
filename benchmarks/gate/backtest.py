"""``freqtrade backtesting`` (offline markets), each run a fresh process.

RussellRiskOn gated vs every gate off (the <= 1.05 target) and, in the full run, GatedSample
gated / off / plain SampleStrategy. Alternating order, median wall and CPU time (user + sys
from ``os.wait4``) of ``--reps`` runs; phases timed by hooks on freqtrade (indicators, signals,
loop); trades and profit from freqtrade's own statistics; peak RSS is the worker's VmHWM.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .common import Timer, common_argv, median, profiled, run_child

GROUPS = {
    "russell": ("RussellRiskOn", "RussellRiskOnOff"),
    "sample": ("GatedSample", "GatedSampleOff", "PlainSample"),
}


def worker_backtest(spec: dict) -> dict:
    from freqtrade.optimize.backtesting import Backtesting
    from freqtrade.strategy.interface import IStrategy

    from russell_regime.adapter.offline import run_freqtrade

    timer = Timer()
    seen: dict[str, Any] = {}

    def after_indicators(args, result) -> None:
        strategy = args[0]
        seen["modes"] = {f"{c}_mode": getattr(strategy, f"{c}_mode").value
                         for c in ("btc", "eth", "alt") if hasattr(strategy, f"{c}_mode")}

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

    profile = profiled(spec.get("profile"))
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


def backtest_argv(data: Path, user_dir: Path, strategy_dir: Path, strategy: str,
                  timerange: str) -> list[str]:
    return ["backtesting", *common_argv(data, user_dir, strategy_dir), "--strategy", strategy,
            "--timerange", timerange, "--export", "none", "--cache", "none"]


def section_backtest(data: Path, tmp: Path, cfg: dict, strategy_dir: Path, progress) -> dict:
    names = [*GROUPS["russell"], *(GROUPS["sample"] if cfg["sample"] else ())]
    runs: dict[str, list[dict]] = {n: [] for n in names}
    for rep in range(cfg["reps"]):
        for name in (names if rep % 2 == 0 else list(reversed(names))):
            user_dir = tmp / f"bt_{name}_{rep}"
            spec = {"kind": "backtest", "strategy_dir": str(strategy_dir),
                    "argv": backtest_argv(data, user_dir, strategy_dir, name,
                                          cfg["bt_timerange"])}
            result, wall, rss = run_child(spec, data, tmp / f"bt_{name}_{rep}.log")
            result.update(wall=wall, rss_mb=rss)
            runs[name].append(result)
            progress(f"backtest {name} rep {rep + 1}/{cfg['reps']}: {wall:.1f} s, "
                     f"{result.get('trades')} trades, {rss:.0f} MB")
    out: dict[str, Any] = {}
    for name, items in runs.items():
        out[name] = {
            "wall": median([r["wall"] for r in items]),
            "walls": [r["wall"] for r in items],
            "rss_mb": median([r["rss_mb"] for r in items]),
            "cpu": median([r["cpu_s"] for r in items]),
            "trades": items[0].get("trades"),
            "profit_abs": items[0].get("profit_abs"),
            "profit_pct": items[0].get("profit_pct"),
            "modes": items[0].get("modes"),
            "phases": {k: median([r["phases"].get(k, 0.0) for r in items])
                       for k in items[0]["phases"]},
        }
    return out
