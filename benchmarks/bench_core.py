"""Timing of the functional core on the real data: features, available_at, alignment.

Usage::

    python benchmarks/bench_core.py [--data DIR] [--repeat N] [--lookbacks 60:756]

``--data`` defaults to $R2K_SHARED_DATA, else ``../shared/data`` relative to the repo root.
Prints medians over ``--repeat`` runs; numbers only, no pass/fail.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "user_data" / "strategies"))

from russell_regime.core.align import gather, session_positions  # noqa: E402
from russell_regime.core.calendar import Availability  # noqa: E402
from russell_regime.core.daily import validate_daily  # noqa: E402
from russell_regime.core.features import regime_features  # noqa: E402

PAIRS = ("BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "BNB", "LINK", "AVAX", "LTC")
GATHERED = (
    "ath", "new_ath", "sessions_since_ath", "drawdown", "resistance", "breakout",
    "broken_level", "breakout_active", "support_level", "support",
)


def _default_data() -> Path:
    return Path(os.environ.get("R2K_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def _lookbacks(text: str) -> range:
    lo, hi = (int(x) for x in text.split(":"))
    return range(lo, hi + 1)


def _median_ms(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=_default_data())
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--lookbacks", type=_lookbacks, default=_lookbacks("60:756"))
    args = parser.parse_args(argv)

    data = args.data.resolve()
    daily = validate_daily(pd.read_csv(data / "index" / "RUT.csv"), "^RUT")
    candles = {
        pair: pd.read_feather(data / "binance" / f"{pair}_USDT-1h.feather")["date"]
        for pair in PAIRS
    }
    n_candles = sum(len(d) for d in candles.values())
    lookbacks = args.lookbacks

    def all_lookbacks() -> None:
        for lookback in lookbacks:
            regime_features(daily, lookback)

    features = regime_features(daily, 252)
    columns = {col: features[col].to_numpy() for col in GATHERED}
    avail = Availability().available_at(daily["session"])

    def positions_only() -> None:
        for dates in candles.values():
            session_positions(dates, pd.Timedelta(hours=1), avail)

    def align_all() -> None:
        for dates in candles.values():
            pos = session_positions(dates, pd.Timedelta(hours=1), avail)
            for values in columns.values():
                gather(values, pos)

    features_ms = _median_ms(all_lookbacks, args.repeat)
    avail_ms = _median_ms(lambda: Availability().available_at(daily["session"]), args.repeat)
    positions_ms = _median_ms(positions_only, args.repeat)
    align_ms = _median_ms(align_all, args.repeat)

    print(f"data: {data}")
    print(
        f"RUT sessions: {len(daily)}  |  1h candles: {n_candles} over {len(PAIRS)} pairs  |  "
        f"lookbacks: {lookbacks.start}..{lookbacks.stop - 1} ({len(lookbacks)})  |  "
        f"repeat: {args.repeat} (median)"
    )
    rows = [
        (f"regime_features, all {len(lookbacks)} lookbacks", features_ms),
        ("regime_features, per lookback", features_ms / len(lookbacks)),
        ("available_at (all sessions, once)", avail_ms),
        (f"session_positions, {len(PAIRS)} pairs", positions_ms),
        (f"positions + gather {len(GATHERED)} columns, {len(PAIRS)} pairs", align_ms),
        ("  per pair", align_ms / len(PAIRS)),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'step':<{width}}  {'ms':>10}")
    print(f"{'-' * width}  {'-' * 10}")
    for name, ms in rows:
        print(f"{name:<{width}}  {ms:>10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
