"""Cost of the evidence tools that must not need a backtest: the same-exposure random-gate
control, the overfitting statistics, the correlation command and the HTML report rendered from
a compare folder.

Usage::

    python benchmarks/bench_evidence.py [--data DIR] [--compare DIR] [--repeat N] [--out F]

* random-gate control: :func:`russell_regime.evidence.random_gate.gate_control` with 500
  same-exposure random gates on the ungated run's trades of ``--compare``'s
  ``compare_trades.csv`` (``docs/results/compare``: 1,789 trades, 10 pairs, 1h candles
  2018-01-01..2025-07-01), the real gate's masks built as ``compare`` builds them (the
  strategy's defaults on the shared data); one row (``gate``) and the four rows of ``compare``
  (``gate``, ``+vix``, ``+lead``, ``+value``);
* DSR and PBO (CSCV, S = 16: 12,870 splits) of a 365-day x 100-trial matrix;
* ``russell-regime correlation`` and ``russell-regime report --from`` as a user types them
  (fresh processes: imports included), on the shared data and ``--compare``.

Prints a markdown table (best and median of ``--repeat``) and writes it to ``--out`` (default
``benchmarks/results_evidence.md``). Numbers only, no pass/fail.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]


def _timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return samples


def control_inputs(data: Path, compare: Path):
    """(ControlInput factory, labels): the ungated trades of ``compare`` and the strategy's
    gate masks (defaults, with each confirmation of compare's default runs), built by the same
    functions ``compare`` calls."""
    from freqtrade.exchange import timeframe_to_seconds

    from russell_regime.core.gate import pair_class
    from russell_regime.evidence.backtest import ft_config, gated_params, timerange
    from russell_regime.evidence.cli_compare import (
        _confirmation_section,
        strategy_confirmation,
        strategy_masks,
    )
    from russell_regime.evidence.random_gate import ControlInput
    from russell_regime.settings import settings_from_config

    trades = pd.read_csv(compare / "compare_trades.csv", parse_dates=["open_date", "close_date"])
    trades = trades[trades["run"].str.startswith("ungated")].reset_index(drop=True)
    start, end = pd.Timestamp("2018-01-01", tz="UTC"), pd.Timestamp("2025-07-01", tz="UTC")
    from russell_regime.cli.main import build_parser

    args = build_parser().parse_args(["compare"])  # compare's defaults (--confirm vix lead value)
    section = _confirmation_section(args, data)
    work = Path(tempfile.mkdtemp(prefix="bench-evidence-"))
    config = ft_config(data, work, timerange(start, end), None,
                       regime={"confirmations": section})
    settings = settings_from_config(config)
    timeframe = pd.Timedelta(seconds=timeframe_to_seconds(config["timeframe"]))
    grid = pd.date_range(start, end - timeframe, freq=timeframe)
    classes = {p: pair_class(p) for p in config["exchange"]["pair_whitelist"]}
    gate = gated_params()
    variants = {"gate": ()} | {f"gate+{k}": (strategy_confirmation(settings, k),)
                               for k in section}
    masks = {label: strategy_masks(settings, gate, grid, timeframe, confs)
             for label, confs in variants.items()}
    return (lambda label: ControlInput(grid, masks[label], trades, classes, timeframe, 500, 7)), \
        list(variants), len(trades)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get(
        "R2K_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data"))
    parser.add_argument("--compare", type=Path, default=REPO_ROOT / "docs" / "results" / "compare")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks" /
                        "results_evidence.md")
    args = parser.parse_args(argv)
    from russell_regime.evidence.overfit import deflated_sharpe, pbo_cscv, sharpe
    from russell_regime.evidence.random_gate import gate_control

    rows: list[tuple[str, list[float]]] = []
    make, labels, n_trades = control_inputs(args.data.resolve(), args.compare.resolve())
    rows.append((f"random-gate control, 500 gates, 1 row (gate), {n_trades} trades, s",
                 _timed(lambda: gate_control(make("gate"), "gate"), args.repeat)))
    rows.append((f"random-gate control, 500 gates, {len(labels)} rows ({', '.join(labels)}), s",
                 _timed(lambda: [gate_control(make(lb), lb) for lb in labels], args.repeat)))
    rng = np.random.default_rng(7)
    matrix = rng.normal(0.0, 0.01, (365, 100))
    rows.append(("PBO by CSCV, 365 days x 100 trials, S = 16 (12,870 splits), s",
                 _timed(lambda: pbo_cscv(matrix, 16), args.repeat)))
    rows.append(("DSR, 365 days x 100 trials (the trials' Sharpes included), s",
                 _timed(lambda: deflated_sharpe(matrix[:, 0], [sharpe(matrix[:, j])
                                                               for j in range(100)]),
                        args.repeat)))
    with tempfile.TemporaryDirectory() as tmp:
        def command(*words: str) -> Callable[[], object]:
            def run() -> None:
                subprocess.run([sys.executable, "-m", "russell_regime", *words], cwd=tmp,
                               check=True, capture_output=True)
            return run

        rows.append(("`russell-regime correlation --data DIR` (a fresh process), s",
                     _timed(command("correlation", "--data", str(args.data), "--out", "corr"),
                            args.repeat)))
        rows.append(("`russell-regime report --from DIR` (a fresh process; no backtest), s",
                     _timed(command("report", "--from", str(args.compare.resolve()),
                                    "--data", str(args.data), "--out", "rep"), args.repeat)))
    head = (f"# Evidence tools benchmark\n\n`python benchmarks/bench_evidence.py --repeat "
            f"{args.repeat}` on {platform.node() or 'this machine'} ({os.cpu_count()} CPUs, "
            f"{platform.machine()}, Python {platform.python_version()}), "
            f"{pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M} UTC, load average at the end "
            f"{os.getloadavg()[0]:.2f}.\n\n")
    table = ["| measurement | best | median |", "|---|---:|---:|"]
    table += [f"| {name} | {min(s):.3f} | {statistics.median(s):.3f} |" for name, s in rows]
    text = head + "\n".join(table) + "\n"
    print(text)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
