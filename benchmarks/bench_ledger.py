"""Cost of the decision ledger: what recording adds to a dry-run bot loop of 50 pairs (the bot
thread's time: building the rows and queueing them), and the writer thread's throughput into
SQLite (WAL).

Usage::

    python benchmarks/bench_ledger.py [--data DIR] [--pairs N] [--loops N] [--rows N]

Runs the real strategy RussellRiskOn (runmode dry_run, a temporary cache seeded with the real
^RUT rows, ``yfinance.Ticker`` replaced by bench_live's fake: never the network) twice, with
``ledger.enabled`` true and false. Each simulated bot loop hands every pair a new last candle
(500-candle 1h frames of the real Binance pairs, reused under more pair names up to
``--pairs``) to the mixin's ``advise_entry``, as freqtrade does once per new candle, so every
call records one row. Printed:

* the bot thread's time inside the recording call (``_russell_record_decision``, wrapped by a
  timer; the writer thread runs meanwhile and competes for the GIL), per loop of ``--pairs``;
* ``advise_entry`` for all pairs per loop, ledger on vs off (the difference is the same cost,
  but in the noise of the strategy's own signal code);
* the writer: ``--rows`` decision rows queued at once into a new file (rows/s, first write and
  the same rows again, as after a restart), and one loop's rows (``--pairs``) queued and
  flushed (ms per batch: one transaction and its commit).

Prints numbers only, no pass/fail.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yfinance
from freqtrade.enums import RunMode

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "user_data" / "strategies"))
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from bench_live import NOW, FakeYahoo, _Messages  # noqa: E402

from russell_regime.core.daily import validate_daily  # noqa: E402
from russell_regime.data.cache import cache_file, write_cache  # noqa: E402
from russell_regime.data.ledger import Decision, Ledger  # noqa: E402
from RussellRiskOn import RussellRiskOn  # noqa: E402

CANDLES = 500  # RussellRiskOn.startup_candle_count: the frame a bot analyses


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:7.3f} ms"


def _summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(len(ordered) * 0.9)]
    return (f"median {_ms(statistics.median(ordered))}   p90 {_ms(p90)}   "
            f"max {_ms(ordered[-1])}   ({len(ordered)} loops)")


def _pair_frames(data: Path, pairs: int, loops: int) -> dict[str, pd.DataFrame]:
    """``pairs`` 1h frames of ``CANDLES + loops`` candles ending at the last candle before
    ``NOW`` (real pairs first, then the same data under numbered names)."""
    files = sorted((data / "binance").glob("*_USDT-1h.feather"))
    real = {}
    end = NOW - pd.Timedelta(hours=1)
    for file in files:
        frame = pd.read_feather(file)
        frame = frame[frame["date"] <= end].tail(CANDLES + loops).reset_index(drop=True)
        frame["date"] = frame["date"].astype("datetime64[ns, UTC]")
        real[file.name.split("-")[0].replace("_", "/")] = frame
    names = list(real)
    out = {}
    for i in range(pairs):
        base = names[i % len(names)]
        name = base if i < len(names) else f"{base.split('/')[0]}{i}/USDT"
        out[name] = real[base]
    return out


def _strategy(tmp: Path, daily: pd.DataFrame, enabled: bool) -> RussellRiskOn:
    cache = tmp / ("cache-on" if enabled else "cache-off")
    write_cache(cache_file(cache, "^RUT"), daily[daily["session"] <= "2024-11-15"], "^RUT")
    config = {
        "runmode": RunMode.DRY_RUN,
        "russell_regime": {
            "cache_dir": str(cache), "fetch_timeout_seconds": 1.0,
            "ledger": {"enabled": enabled, "path": str(tmp / "bot.sqlite")},
        },
    }
    strategy = RussellRiskOn(config)
    strategy.dp = _Messages()
    strategy.ft_bot_start()
    strategy.russell_loop(NOW.to_pydatetime())  # installs 2024-11-18 (fake Yahoo)
    strategy.live.wait(30)
    strategy.russell_loop((NOW + pd.Timedelta(seconds=5)).to_pydatetime())
    assert (strategy.russell_ledger is not None) == enabled
    return strategy


def _bot(args: argparse.Namespace, daily: pd.DataFrame, tmp: Path) -> None:
    frames = _pair_frames(args.data, args.pairs, args.loops)
    on, off = _strategy(tmp, daily, True), _strategy(tmp, daily, False)
    record = on._russell_record_decision
    inside: list[float] = []  # wall per call
    inside_cpu: list[float] = []  # bot-thread CPU per call

    def timed_record(*a, **kw):
        cpu, start = time.thread_time(), time.perf_counter()
        record(*a, **kw)
        inside.append(time.perf_counter() - start)
        inside_cpu.append(time.thread_time() - cpu)

    on._russell_record_decision = timed_record
    analysed = {s: {p: s.advise_indicators(f.copy(), {"pair": p}) for p, f in frames.items()}
                for s in (on, off)}
    per_loop: dict[str, list[float]] = {"on": [], "off": []}
    record_loop, record_loop_cpu = [], []
    for loop in range(args.loops + 1):  # loop 0 warms up
        for name, strategy in (("on", on), ("off", off)) if loop % 2 else (("off", off),
                                                                           ("on", on)):
            views = {p: f.iloc[loop:loop + CANDLES].copy() for p, f in analysed[strategy].items()}
            inside.clear()
            inside_cpu.clear()
            start = time.perf_counter()
            for pair, frame in views.items():
                strategy.advise_entry(frame, {"pair": pair})
            if loop:
                per_loop[name].append(time.perf_counter() - start)
            if name == "on" and loop:
                assert len(inside) == len(frames)
                record_loop.append(sum(inside))
                record_loop_cpu.append(sum(inside_cpu))
    assert on.russell_ledger.flush(30)
    with on.russell_ledger._lock:
        written, dropped = on.russell_ledger.written, on.russell_ledger.dropped
    print(f"pairs: {len(frames)} x {CANDLES} candles (1h), loops: {args.loops}, "
          f"rows written: {written}, dropped: {dropped}")
    print(f"recording (bot thread), per loop of {len(frames)} pairs:")
    print(f"  wall  {_summary(record_loop)}")
    print(f"  CPU   {_summary(record_loop_cpu)}")
    print(f"  per row: median {statistics.median(record_loop) / len(frames) * 1e6:.1f} us wall")
    print(f"advise_entry for {len(frames)} pairs, per loop:")
    print(f"  ledger on   {_summary(per_loop['on'])}")
    print(f"  ledger off  {_summary(per_loop['off'])}")
    print(f"  difference of medians: "
          f"{_ms(statistics.median(per_loop['on']) - statistics.median(per_loop['off']))}")
    on.russell_ledger.close()


def _rows(count: int) -> list[Decision]:
    start = pd.Timestamp("2020-01-01", tz="UTC")
    return [Decision(
        strategy="RussellRiskOn", pair=f"P{i % 50}/USDT", timeframe="1h",
        candle_close=(start + pd.Timedelta(hours=i // 50)).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        decided_at="2024-11-19T02:00:05+00:00", session="2024-11-18",
        available_at="2024-11-18T21:15:00+00:00", close_seen=2300.5, gate=1, stale=0,
        tag="retest", params='{"expiry": 20, "mode": "any"}', confirmations="{}",
        entry="allowed", pair_class="alt",
    ) for i in range(count)]


def _writer(args: argparse.Namespace, tmp: Path) -> None:
    rows = _rows(args.rows)
    ledger = Ledger(tmp / "throughput.sqlite", max_queue=args.rows + 1)
    for label in ("new rows", "same rows again (kept, as after a restart)"):
        start = time.perf_counter()
        for row in rows:
            ledger.record_decision(row)
        queued = time.perf_counter() - start
        assert ledger.flush(120)
        total = time.perf_counter() - start
        print(f"writer, {len(rows)} rows, {label}: {len(rows) / total:10,.0f} rows/s "
              f"({total:.2f} s; queueing them took {queued * 1e3:.1f} ms)")
    batch = rows[: args.pairs]
    samples = []
    small = Ledger(tmp / "batches.sqlite")
    for i in range(200):
        moved = [Decision(**{**r.__dict__, "strategy": f"S{i}"}) for r in batch]
        start = time.perf_counter()
        for row in moved:
            small.record_decision(row)
        assert small.flush(30)
        samples.append(time.perf_counter() - start)
    print(f"writer, one loop's {len(batch)} rows queued and flushed (one transaction): "
          f"median {_ms(statistics.median(samples))}, max {_ms(max(samples))} (200 batches)")
    print(f"rows dropped: {ledger.dropped + small.dropped}")
    ledger.close()
    small.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("R2K_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--loops", type=int, default=100)
    parser.add_argument("--rows", type=int, default=50_000, help="rows for the writer run")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; load average: {os.getloadavg()[0]:.2f}; "
          f"date: {pd.Timestamp.now(tz='UTC'):%Y-%m-%d}")
    daily = validate_daily(pd.read_csv(args.data / "index" / "RUT.csv"), "^RUT")
    yfinance.Ticker = FakeYahoo(daily)  # the only network edge of the live path
    with tempfile.TemporaryDirectory() as tmp:
        _bot(args, daily, Path(tmp))
        _writer(args, Path(tmp))


if __name__ == "__main__":
    main()
