"""What the Russell gate costs in analysis, backtesting, hyperopt and the live loop, measured
through the public API (``RussellGateMixin`` strategies) on the real data.

Usage::

    python benchmarks/bench_gate.py [--data DIR] [--quick] [--sections core,backtest,...]
                                    [--epochs N] [--reps N] [--no-profile] [--out FILE]
    python benchmarks/bench_gate.py --render RESULTS.json [--out FILE]

``--data`` defaults to $R2K_SHARED_DATA, else ``../shared/data`` next to the repo (it needs
``binance/{BASE}_USDT-1h.feather`` and ``index/RUT.csv``; only read). Everything freqtrade
writes goes to a temporary dir. Every measurement runs in a fresh subprocess of this script
(``--worker``); the sections live in ``benchmarks/gate/`` (their docstrings say what is
measured and how). ``--quick`` (< 2 min) uses shorter ranges, one repetition, fewer epochs, no
SampleStrategy backtests, no -j 2 run and no profiling. Numbers only, no pass/fail exit code;
the tables (with the issue-9 targets) are printed and written to ``--out`` (default
``benchmarks/results.md``, ``benchmarks/results_quick.md`` with --quick) plus a ``.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gate.common import (  # noqa: E402
    FULL,
    PAIRS,
    QUICK,
    REPO_ROOT,
    default_data,
    loadavg,
    log,
    vmhwm_mb,
    write_strategies,
)
from gate.render import render  # noqa: E402

SECTIONS = ("core", "backtest", "hyperopt", "live", "profile")


def _worker(spec: dict, out: Path) -> int:
    from gate import backtest, core, hyperopt, live

    worker = {"backtest": backtest.worker_backtest, "hyperopt": hyperopt.worker_hyperopt,
              "live": live.worker_live, "startup": core.worker_startup,
              "core": core.worker_core}[spec["kind"]]
    result = worker(spec)
    result["vmhwm_mb"] = vmhwm_mb()
    out.write_text(json.dumps(result, default=str))
    return 0 if result.get("rc", 0) == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument("--epochs", type=int, default=None, help="hyperopt epochs (30; quick 8)")
    parser.add_argument("--reps", type=int, default=None, help="backtests per variant (3; quick 1)")
    parser.add_argument("--quick", action="store_true", help="< 2 minute version")
    parser.add_argument("--profile", dest="profile", action="store_true", default=None)
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--keep-tmp", action="store_true", help="keep logs and profiles")
    parser.add_argument("--render", type=Path, metavar="RESULTS_JSON",
                        help="only re-render the tables of a saved results .json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        return _worker(json.loads(args.worker), args.worker_out)
    if args.render:
        report = render(json.loads(args.render.read_text()))
        print(report)
        (args.out or args.render.with_suffix(".md")).write_text(report)
        return 0

    cfg: dict[str, Any] = {**FULL, **(QUICK if args.quick else {})}
    for key in ("epochs", "reps", "profile"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    sections = [s for s in args.sections.split(",") if s and (s != "profile" or cfg["profile"])]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        print(f"error: unknown section(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    out_path = args.out or (REPO_ROOT / "benchmarks" /
                            ("results_quick.md" if args.quick else "results.md"))
    data = args.data.resolve()
    missing = [p for p in [data / "index" / "RUT.csv",
                           *(data / "binance" / f"{b}_USDT-1h.feather" for b in PAIRS)]
               if not p.is_file()]
    if missing:
        print(f"error: data not found: {', '.join(map(str, missing))} (use --data DIR)",
              file=sys.stderr)
        return 2

    from gate.backtest import section_backtest
    from gate.core import section_core
    from gate.hyperopt import section_hyperopt
    from gate.live import section_live
    from gate.profile import section_profile

    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="bench_gate_"))
    strategy_dir = write_strategies(tmp / "strategies")
    res: dict[str, Any] = {
        "load_start": loadavg(), "cfg": cfg, "quick": args.quick,
        "command": "python benchmarks/bench_gate.py " + " ".join(
            sys.argv[1:] if argv is None else argv),
        "host": f"{platform.node() or 'host'} ({os.cpu_count()} CPUs, "
                f"{platform.processor() or platform.machine()}, Python "
                f"{platform.python_version()})",
    }
    log(f"bench_gate ({'quick' if args.quick else 'full'}): data {data}, temp {tmp}, "
        f"load {res['load_start']}, sections {','.join(sections)}")
    try:
        if "core" in sections:
            res["core"] = section_core(data, tmp, cfg, strategy_dir, log)
        if "backtest" in sections:
            res["backtest"] = section_backtest(data, tmp, cfg, strategy_dir, log)
        if "hyperopt" in sections:
            res["hyperopt"] = section_hyperopt(data, tmp, cfg, strategy_dir, log)
        if "live" in sections:
            res["live"] = section_live(data, tmp, cfg, strategy_dir)
            log(f"live: {json.dumps(res['live'])}")
        if "profile" in sections:
            res["profile"] = section_profile(data, tmp, cfg, strategy_dir, log)
    finally:
        if args.keep_tmp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.perf_counter() - started
    res.update(elapsed_s=elapsed, load_end=loadavg(),
               finished=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    report = render(res)
    print()
    print(report)
    out_path.write_text(report)
    out_path.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))
    log(f"wrote {out_path} (and {out_path.with_suffix('.json').name}) in {elapsed / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
