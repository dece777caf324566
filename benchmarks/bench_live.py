"""Cost of the live tick ``RussellGateMixin.russell_loop(now)`` (what freqtrade's ``analyze``
runs once per bot loop, right after ``bot_loop_start``) in dry-run on RussellRiskOn: idle,
starting / installing a refresh, and while yfinance hangs.

Usage::

    python benchmarks/bench_live.py [--data DIR] [--idle-calls N] [--hang SECONDS] [--load N]

Runs the real strategy (runmode dry_run) on a temporary cache seeded with the real ^RUT rows;
``yfinance.Ticker`` is replaced by a fake that answers those rows as of the simulated clock
(never the network) or blocks for ``--hang`` seconds. ``--load N`` runs N busy-looping
processes meanwhile (a loaded machine). For the worst calls it prints wall time and the CPU
time the bot thread spent in them: wall far above CPU means the thread was waiting to be
scheduled (other processes / the GIL), not working. Prints numbers only, no pass/fail.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd
import yfinance
from freqtrade.enums import RunMode

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "user_data" / "strategies"))

from russell_regime.core.daily import validate_daily  # noqa: E402
from russell_regime.data.cache import cache_file, write_cache  # noqa: E402
from RussellRiskOn import RussellRiskOn  # noqa: E402

NOW = pd.Timestamp("2024-11-19 02:00", tz="UTC")  # Monday 11-18 is due; the cache ends 11-15


class FakeYahoo:
    """``yfinance.Ticker`` stand-in: the real rows up to ``now``'s New York date."""

    def __init__(self, daily: pd.DataFrame) -> None:
        self.daily = daily
        self.now = NOW
        self.hang = threading.Event()
        self.hang.set()

    def __call__(self, symbol: str) -> FakeYahoo:
        return self

    def history(self, **kwargs) -> pd.DataFrame:
        self.hang.wait()
        day = pd.Timestamp(self.now.tz_convert("America/New_York").date())
        rows = self.daily[self.daily["session"] <= day]  # the source drops unfinished bars
        if "start" in kwargs:
            rows = rows[rows["session"] >= pd.Timestamp(kwargs["start"])]
        index = pd.DatetimeIndex(rows["session"]).tz_localize("America/New_York")
        return pd.DataFrame(
            {c.capitalize(): rows[c].to_numpy() for c in ("open", "high", "low", "close")}
            | {"Volume": rows["volume"].to_numpy()},
            index=index,
        )


class _Messages:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_msg(self, message: str, *, always_send: bool = False) -> None:
        self.sent.append(message)


def _stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[int(len(ordered) * 0.99)]
    return (
        f"median {statistics.median(ordered) * 1e6:8.2f} us   p99 {p99 * 1e6:8.2f} us   "
        f"max {ordered[-1] * 1e3:8.3f} ms   ({len(ordered)} calls)"
    )


def _timed(strategy: RussellRiskOn, now: pd.Timestamp, cpu: list | None = None) -> float:
    when = now.to_pydatetime()
    cpu_start = time.thread_time()
    start = time.perf_counter()
    strategy.russell_loop(when)
    wall = time.perf_counter() - start
    if cpu is not None:
        cpu.append(time.thread_time() - cpu_start)
    return wall


def _worst(samples: list[float], cpu: list[float], count: int = 3) -> str:
    order = sorted(range(len(samples)), key=samples.__getitem__, reverse=True)[:count]
    return ", ".join(
        f"#{i}: {samples[i] * 1e3:.3f} ms wall / {cpu[i] * 1e3:.3f} ms CPU" for i in order
    )


def _busy() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("R2K_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--idle-calls", type=int, default=200_000)
    parser.add_argument("--hang", type=float, default=3.0, help="seconds yfinance hangs")
    parser.add_argument("--load", type=int, default=0, help="busy processes running meanwhile")
    args = parser.parse_args()
    hogs = [multiprocessing.Process(target=_busy, daemon=True) for _ in range(args.load)]
    for hog in hogs:
        hog.start()
    print(f"cores: {os.cpu_count()}; busy processes: {args.load}; "
          f"load average: {os.getloadavg()[0]:.2f}")
    try:
        _run(args)
    finally:
        for hog in hogs:
            hog.terminate()


def _run(args: argparse.Namespace) -> None:

    daily = validate_daily(pd.read_csv(args.data / "index" / "RUT.csv"), "^RUT")
    yahoo = FakeYahoo(daily)
    yfinance.Ticker = yahoo  # the only network edge of the live path
    with tempfile.TemporaryDirectory() as tmp:
        write_cache(cache_file(Path(tmp), "^RUT"), daily[daily["session"] <= "2024-11-15"], "^RUT")
        config = {
            "runmode": RunMode.DRY_RUN,
            "russell_regime": {"cache_dir": tmp, "fetch_timeout_seconds": 1.0},
        }
        strategy = RussellRiskOn(config)
        strategy.dp = _Messages()  # no bot around: count the notifications
        t0 = time.perf_counter()
        strategy.ft_bot_start()
        print(f"bot_start (load cache, {len(strategy.regime.daily)} sessions): "
              f"{(time.perf_counter() - t0) * 1e3:.1f} ms")

        start_fetch = _timed(strategy, NOW)
        strategy.live.wait(30)
        install = _timed(strategy, NOW + pd.Timedelta(seconds=5))
        print(f"first loop (3 class gates, calendar caches, hands over a refresh): "
              f"{start_fetch * 1e3:8.3f} ms")
        print(f"loop that installs a new session (+gates):     {install * 1e3:8.3f} ms")

        # Idle: fresh data, no refresh due for the next hour; freqtrade's clock advances.
        base = NOW + pd.Timedelta(seconds=10)
        whens = [(base + timedelta(milliseconds=10 * i)).to_pydatetime()
                 for i in range(args.idle_calls)]
        samples = []
        for when in whens:
            started = time.perf_counter()
            strategy.russell_loop(when)
            samples.append(time.perf_counter() - started)
        assert not strategy.live.busy, "a refresh started during the idle run"
        print(f"idle (no refresh due):  {_stats(samples)}")

        # Hang: the next regular refresh blocks in yfinance for --hang seconds.
        yahoo.hang.clear()
        hang_at = NOW + pd.Timedelta(minutes=61)
        cpu: list[float] = []
        samples = [_timed(strategy, hang_at, cpu)]
        assert strategy.live.busy
        deadline = time.perf_counter() + args.hang
        step = 0
        while time.perf_counter() < deadline:
            step += 1
            samples.append(_timed(strategy, hang_at + pd.Timedelta(milliseconds=step), cpu))
            time.sleep(0.001)
        worst = max(samples)
        print(f"while yfinance hangs {args.hang:g} s (timeout 1 s): {_stats(samples)}")
        print(f"worst live tick while hung: {worst * 1e3:.3f} ms wall, "
              f"{cpu[samples.index(worst)] * 1e3:.3f} ms CPU; worst CPU of any call "
              f"{max(cpu) * 1e3:.3f} ms; threads alive: {threading.active_count()}; "
              f"fetches in flight: {int(strategy.live.busy)}")
        print(f"worst calls (#0 hands over the fetch): {_worst(samples, cpu)}")
        yahoo.hang.set()
        strategy.live.wait(30)
        after = _timed(strategy, hang_at + pd.Timedelta(seconds=args.hang + 1))
        print(f"loop that installs the late answer: {after * 1e3:.3f} ms; "
              f"stale: {strategy.live.state.stale}; notifications sent: {len(strategy.dp.sent)}")


if __name__ == "__main__":
    main()
