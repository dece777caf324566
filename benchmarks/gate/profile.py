"""cProfile of the gated backtest and of ``--spaces russell`` epochs: what is attributable to
the russell_regime package (full run only)."""

from __future__ import annotations

from pathlib import Path

from .backtest import backtest_argv
from .common import run_child
from .hyperopt import hyperopt_argv


def section_profile(data: Path, tmp: Path, cfg: dict, strategy_dir: Path, progress) -> dict:
    prof_bt, prof_ho = tmp / "backtest_gated.prof", tmp / "hyperopt_russell.prof"
    argv = backtest_argv(data, tmp / "prof_bt", strategy_dir, "RussellRiskOn",
                         cfg["bt_timerange"])
    run_child({"kind": "backtest", "argv": argv, "profile": str(prof_bt),
               "strategy_dir": str(strategy_dir)}, data, tmp / "prof_bt.log")
    progress("profiled the gated backtest")
    argv = hyperopt_argv(data, tmp / "prof_ho", strategy_dir, "russell", cfg["profile_epochs"],
                         1, cfg["ho_timerange"])
    run_child({"kind": "hyperopt", "argv": argv, "profile": str(prof_ho),
               "strategy_dir": str(strategy_dir)}, data, tmp / "prof_ho.log")
    progress("profiled the --spaces russell hyperopt epochs")
    return {"backtest": russell_costs(prof_bt), "hyperopt": russell_costs(prof_ho)}


def russell_costs(path: Path, top: int = 12) -> dict:
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
                     else file[file.rindex("russell_regime"):])
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
