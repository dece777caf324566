"""Paths, benchmark strategies, the fresh-subprocess runner and small helpers."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = REPO_ROOT / "user_data" / "strategies"
CONFIG = REPO_ROOT / "config.json"
ENTRY = REPO_ROOT / "benchmarks" / "bench_gate.py"
if str(STRATEGIES) not in sys.path:
    sys.path.insert(0, str(STRATEGIES))

PAIRS = ("BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "BNB", "LINK", "AVAX", "LTC")
ALL_OFF = {f"{cls}_mode": "off" for cls in ("btc", "eth", "alt")}

FULL = {
    "bt_timerange": "20180101-20250630",
    "ho_timerange": "20230101-20240101",
    "reps": 3,
    "core_repeat": 5,
    "startup_repeat": 5,
    "live_calls": 20000,
    "j2": True,
    "sample": True,
    "profile": True,
    "profile_epochs": 10,
    "epochs": 30,
}
QUICK = {
    "bt_timerange": "20240101-20250630",
    "ho_timerange": "20240101-20240701",
    "reps": 1,
    "core_repeat": 2,
    "startup_repeat": 3,
    "live_calls": 3000,
    "j2": False,
    "sample": False,
    "profile": False,
    "profile_epochs": 5,
    "epochs": 8,
}

# name -> module source. The repo's strategies folder is on sys.path (PYTHONPATH).
STRATEGY_FILES = {
    "RussellRiskOnOff": '''"""RussellRiskOn, every class gate off (freqtrade's russell_params)."""
from RussellRiskOn import RussellRiskOn


class RussellRiskOnOff(RussellRiskOn):
    russell_params = {all_off!r}
''',
    "GatedSample": '''"""freqtrade's SampleStrategy, unmodified, gated (the one-line change)."""
from freqtrade.templates.sample_strategy import SampleStrategy

from russell_regime import RussellGateMixin


class GatedSample(RussellGateMixin, SampleStrategy):
    pass
''',
    "GatedSampleOff": '''"""GatedSample with every class gate off."""
from GatedSample import GatedSample


class GatedSampleOff(GatedSample):
    russell_params = {all_off!r}
''',
    "PlainSample": '''"""freqtrade's SampleStrategy with no Russell code at all."""
from freqtrade.templates.sample_strategy import SampleStrategy


class PlainSample(SampleStrategy):
    pass
''',
    "BarePlain": '''"""Callbacks that do nothing: freqtrade's own per-analysis overhead."""
from freqtrade.strategy import IStrategy


class BarePlain(IStrategy):
    timeframe = "1h"
    minimal_roi = {{"0": 1.0}}
    stoploss = -0.5

    def populate_indicators(self, dataframe, metadata):
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        return dataframe
''',
    "BareGated": '''"""BarePlain with the mixin: its analysis is the Russell slice alone."""
from BarePlain import BarePlain

from russell_regime import RussellGateMixin


class BareGated(RussellGateMixin, BarePlain):
    pass
''',
    "BareGatedOff": '''"""BareGated with every class gate off."""
from BareGated import BareGated


class BareGatedOff(BareGated):
    russell_params = {all_off!r}
''',
}


def write_strategies(folder: Path) -> Path:
    """Write the benchmark strategies (module docstring of the package) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in STRATEGY_FILES.items():
        (folder / f"{name}.py").write_text(source.format(all_off=ALL_OFF))
    link = folder / "RussellRiskOn.py"  # the repo's strategy itself, so one folder has them all
    if not link.exists():
        link.symlink_to(STRATEGIES / "RussellRiskOn.py")
    return folder


def default_data() -> Path:
    return Path(os.environ.get("R2K_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def child_env(data: Path, strategy_dir: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["FREQTRADE__RUSSELL_REGIME__SOURCE"] = "file"
    env["FREQTRADE__RUSSELL_REGIME__PATH"] = str(data / "index" / "RUT.csv")
    paths = [str(STRATEGIES), *([str(strategy_dir)] if strategy_dir else [])]
    env["PYTHONPATH"] = os.pathsep.join([*paths, *filter(None, [env.get("PYTHONPATH")])])
    return env


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ratio(a: float | None, b: float | None) -> float:
    return a / b if a is not None and b else float("nan")


def loadavg() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


def vmhwm_mb() -> float:
    """Peak RSS of this process image (VmHWM; unlike ru_maxrss it is not inherited at exec)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def log(text: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {text}", flush=True)


def run_child(spec: dict, data: Path, log_path: Path, env: dict | None = None
              ) -> tuple[dict, float, float]:
    """Run ``bench_gate.py --worker`` for ``spec`` in a fresh process.

    Returns (the worker's JSON result, wall seconds, peak RSS in MB of that process alone: the
    worker's own VmHWM). CPU time (user + sys, ``os.wait4``) goes in ``result["cpu_s"]``.
    """
    out = log_path.with_suffix(".json")
    cmd = [sys.executable, str(ENTRY), "--worker", json.dumps(spec), "--worker-out", str(out)]
    start = time.perf_counter()
    strategy_dir = Path(spec["strategy_dir"]) if spec.get("strategy_dir") else None
    with log_path.open("w") as fh:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=fh, stderr=fh,
                                env=env or child_env(data, strategy_dir))
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0 or not out.is_file():
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"worker {spec['kind']} failed (rc {code}); log {log_path}:\n{tail}")
    result = json.loads(out.read_text())
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    return result, wall, result.get("vmhwm_mb", usage.ru_maxrss / 1024.0)


class Timer:
    """Accumulates wall time of wrapped callables, by name."""

    def __init__(self) -> None:
        self.total: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, owner: type, attr: str, name: str, after: Callable | None = None) -> None:
        original = getattr(owner, attr)

        def wrapped(*args, **kwargs):
            start = time.perf_counter()
            try:
                result = original(*args, **kwargs)
            finally:
                self.total[name] = self.total.get(name, 0.0) + time.perf_counter() - start
                self.calls[name] = self.calls.get(name, 0) + 1
            if after is not None:
                after(args, result)
            return result

        setattr(owner, attr, wrapped)


def strategy_config(data: Path, user_dir: Path, runmode_name: str, strategy: str,
                    strategy_dir: Path) -> dict:
    """A freqtrade config (the repo's config.json, file index source) for ``strategy``."""
    import logging

    from freqtrade.configuration import Configuration
    from freqtrade.enums import RunMode

    runmode = RunMode(runmode_name)
    user_dir.mkdir(parents=True, exist_ok=True)
    args = {
        "config": [str(CONFIG)],
        "user_data_dir": str(user_dir),
        "datadir": str(data / "binance"),
        "strategy": strategy,
        "strategy_path": str(strategy_dir),
    }
    config = Configuration(args, runmode).get_config()
    config["runmode"] = runmode
    config["dry_run"] = True
    if runmode == RunMode.HYPEROPT:
        config.setdefault("spaces", ["russell"])
    for name in ("freqtrade", "russell_regime"):  # Configuration re-enables INFO logging
        logging.getLogger(name).setLevel(logging.WARNING)
    section = {"source": "file", "path": str(data / "index" / "RUT.csv")}
    config["russell_regime"] = {**config.get("russell_regime", {}), **section}
    return config


def load_strategy(config: dict, name: str):
    """A fresh strategy instance built by freqtrade's StrategyResolver (cold memos)."""
    from freqtrade.data.dataprovider import DataProvider
    from freqtrade.resolvers.strategy_resolver import StrategyResolver

    strategy = StrategyResolver.load_strategy({**config, "strategy": name})
    strategy.dp = DataProvider(config, None)
    strategy.ft_bot_start()
    return strategy


def common_argv(data: Path, user_dir: Path, strategy_dir: Path) -> list[str]:
    user_dir.mkdir(parents=True, exist_ok=True)
    return [
        "--config", str(CONFIG),
        "--userdir", str(user_dir),
        "--datadir", str(data / "binance"),
        "--strategy-path", str(strategy_dir),
        "--no-color",
    ]


def profiled(profile_path: str | None):
    if not profile_path:
        return None
    import cProfile

    return cProfile.Profile()
