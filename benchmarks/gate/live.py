"""The live tick: ``RussellGateMixin.russell_loop(now)``, what freqtrade's ``analyze`` runs
once per bot loop in dry-run / live before analysing the pairs.

RussellRiskOn built by freqtrade's StrategyResolver with a dry_run config (file source, temp
cache dir), ``ft_bot_start`` (starts the LiveRegime), one refresh completed and installed, then
many ticks when no refresh is due (batches of 100, the ``datetime.now`` argument subtracted).
Gated and every gate off.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .common import ALL_OFF, load_strategy, median, run_child, strategy_config


def worker_live(spec: dict) -> dict:
    import logging

    logging.getLogger().setLevel(logging.WARNING)
    data, user_dir, calls = Path(spec["data"]), Path(spec["user_dir"]), int(spec["calls"])
    strategy_dir = Path(spec["strategy_dir"])
    out: dict[str, Any] = {}
    for variant, name in (("gated", "RussellRiskOn"), ("off", "RussellRiskOnOff")):
        config = strategy_config(data, user_dir / variant, "dry_run", name, strategy_dir)
        strategy = load_strategy(config, name)
        live = strategy.live
        entry: dict[str, Any] = {"live_object": type(live).__name__ if live else None,
                                 "modes": {k: getattr(strategy, k).value for k in ALL_OFF}}
        first = time.perf_counter()
        strategy.russell_loop(datetime.now(UTC))
        entry["first_call_ms"] = (time.perf_counter() - first) * 1000.0
        if live is not None and hasattr(live, "wait"):
            live.wait(60.0)  # let the first refresh finish ...
            install = time.perf_counter()
            strategy.russell_loop(datetime.now(UTC))  # ... and install it
            entry["install_call_ms"] = (time.perf_counter() - install) * 1000.0
            entry["loaded"] = bool(strategy.regime.loaded)
        batch, per_call, worst = 100, [], 0.0
        for _ in range(calls // batch):
            t = time.perf_counter()
            for _ in range(batch):
                strategy.russell_loop(datetime.now(UTC))
            elapsed = (time.perf_counter() - t) / batch
            per_call.append(elapsed)
            worst = max(worst, elapsed)
        t = time.perf_counter()
        for _ in range(calls):
            datetime.now(UTC)
        harness = (time.perf_counter() - t) / calls
        entry["per_call_us"] = (median(per_call) - harness) * 1e6
        entry["worst_batch_us"] = (worst - harness) * 1e6
        entry["busy_end"] = bool(getattr(live, "busy", False)) if live else False
        out[variant] = entry
    return out


def section_live(data: Path, tmp: Path, cfg: dict, strategy_dir: Path) -> dict:
    spec = {"kind": "live", "data": str(data), "user_dir": str(tmp / "live"),
            "calls": cfg["live_calls"], "strategy_dir": str(strategy_dir)}
    return run_child(spec, data, tmp / "live.log")[0]
