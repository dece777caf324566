"""``freqtrade hyperopt --spaces russell`` vs ``--spaces buy`` on RussellRiskOn, same year.

-j 1 (twice in the full run, alternating) and -j 2. Seconds per epoch exclude startup: the
clock runs from the start of the first epoch batch to the end of the last (hooks on
freqtrade's ``Hyperopt.run_optimizer_parallel``), so data load, indicators and the data-pickle
dump are not counted (the per-epoch pickle load is). With -j 1 each epoch's evaluation
(``generate_optimizer``) is split into signal generation (``ft_advise_signals``, where the
gate runs), the backtest loop, and the rest (data pickle load + result statistics). The
russell space only computes the 2 EMAs in use while the buy space computes all 184 EMA
periods, and the two spaces trade differently; the gate's own cost is the signal-generation
difference ("gate overhead per epoch").
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from .common import common_argv, median, profiled, run_child


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
    profile = profiled(spec.get("profile"))

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



def hyperopt_argv(data: Path, user_dir: Path, strategy_dir: Path, space: str, epochs: int,
                  jobs: int, timerange: str) -> list[str]:
    return ["hyperopt", *common_argv(data, user_dir, strategy_dir), "--strategy", "RussellRiskOn",
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
        "pickle_error": result.get("pickle_error"),
    }
    if len(batches) > 1:  # excludes the first batch (worker spawn / first unpickle with -j > 1)
        stats["per_epoch_after_first_s"] = (last_end - first_end) / (n - batches[0][2])
    if jobs == 1:  # the epochs run in this process: its CPU time is theirs
        stats["cpu_per_epoch_s"] = sum(b[3] for b in batches) / n
    if result["epochs"]:
        ep = result["epochs"]
        stats["loop_mean_s"] = statistics.mean(e["backtest"] - e["signals"] for e in ep)
        stats["rest_mean_s"] = statistics.mean(e["eval"] - e["backtest"] for e in ep)
        stats["eval_median_s"] = median([e["eval"] for e in result["epochs"]])
        stats["eval_mean_s"] = statistics.mean(e["eval"] for e in result["epochs"])
        stats["signals_mean_ms"] = statistics.mean(e["signals"] for e in result["epochs"]) * 1000
    return stats


def section_hyperopt(data: Path, tmp: Path, cfg: dict, strategy_dir: Path, progress) -> dict:
    out: dict[str, Any] = {}
    plans = [(1, rep) for rep in range(2 if cfg["reps"] >= 3 else 1)]
    if cfg["j2"]:
        plans.append((2, 0))
    for jobs, rep in plans:
        spaces = ("russell", "buy") if rep % 2 == 0 else ("buy", "russell")
        for space in spaces:
            user_dir = tmp / f"ho_{space}_j{jobs}_{rep}"
            argv = hyperopt_argv(data, user_dir, strategy_dir, space, cfg["epochs"], jobs,
                                 cfg["ho_timerange"])
            spec = {"kind": "hyperopt", "argv": argv, "strategy_dir": str(strategy_dir)}
            try:
                result, wall, rss = run_child(spec, data,
                                              tmp / f"ho_{space}_j{jobs}_{rep}.log")
            except RuntimeError as exc:  # reported in the tables, the other sections still run
                last = str(exc).strip().splitlines()[-1]
                out.setdefault("errors", []).append(f"--spaces {space} -j {jobs}: {last}")
                progress(f"hyperopt --spaces {space} -j {jobs} FAILED: {last}")
                continue
            stats = _epoch_stats(result, jobs)
            stats.update(wall=wall, rss_mb=rss)
            out.setdefault(f"j{jobs}", {}).setdefault(space, []).append(stats)
            progress(f"hyperopt --spaces {space} -j {jobs} (run {rep + 1}): "
                     f"{stats['per_epoch_s']:.3f} s/epoch over {stats['epochs']} epochs, "
                     f"startup {stats['startup_s']:.1f} s, {stats['trades_mean']:.0f} trades/epoch")
    return out

