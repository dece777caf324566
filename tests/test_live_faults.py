"""Fault injection on the live data path: yfinance (faked) and the disk cache misbehave.

Timeline: the cache ends on Friday 2024-11-15 (every class's gate open: retest). At NOW,
Tuesday 02:00 UTC, Monday 11-18 (available 21:15 UTC, + 180 min allowance) is overdue, so the
data is stale unless a refresh brings 11-18. For every fault the bot must keep running (no
exception out of ``bot_loop_start`` / ``populate_*``), block entries while stale (default
policy), say why in one log line, leave the cache file intact, and recover once Yahoo answers
well again. ``base_entry`` is forced true so an entry depends on the gate / staleness alone.
"""

from __future__ import annotations

import errno
import logging
import os
import tempfile
import threading
import time

import numpy as np
import pandas as pd
import pytest
from livefakes import Live, closed_candles, dry_run_strategy, loop_strategy, seed_cache, utc

from russell_regime.data.cache import load_cache

NOW = utc("2024-11-19 02:00")
RETRY = NOW + pd.Timedelta(minutes=10)  # catch-up retry while behind the calendar
CACHED_UNTIL = "2024-11-15"
DAY = pd.Timestamp


class Bot:
    """RussellRiskOn in dry-run on a fake Yahoo, with the cache seeded up to CACHED_UNTIL."""

    def __init__(self, tmp_path, rut_daily, shared_data, monkeypatch, **section) -> None:
        from livefakes import FakeYahoo

        self.cache = seed_cache(tmp_path, rut_daily, CACHED_UNTIL)
        self.shared_data = shared_data
        self.yahoo = FakeYahoo(rut_daily, NOW)
        self.monkeypatch = monkeypatch
        self.section = section
        self.tmp_path = tmp_path
        self.strategy = None

    def start(self):
        self.strategy = dry_run_strategy(
            self.tmp_path, self.yahoo, self.monkeypatch, **self.section
        )
        self.monkeypatch.setattr(
            self.strategy, "base_entry", lambda df: pd.Series(True, index=df.index)
        )
        return self

    def loop(self, now: pd.Timestamp) -> None:
        loop_strategy(self.strategy, self.yahoo, now)

    def entry(self, now: pd.Timestamp) -> tuple[bool, str]:
        frame = closed_candles(self.shared_data, "BTC/USDT", now)
        last = self.strategy.analyze_ticker(frame, {"pair": "BTC/USDT"}).iloc[-1]
        entered = bool(last.get("enter_long") == 1)
        return entered, str(last["enter_tag"]) if entered else ""

    def newest(self) -> pd.Timestamp:
        return pd.Timestamp(self.strategy.regime.daily["session"].iloc[-1])

    def cached_newest(self) -> pd.Timestamp:
        return pd.Timestamp(load_cache(self.cache, "^RUT")["session"].iloc[-1])

    def leftovers(self) -> list[str]:
        return sorted(p.name for p in self.cache.parent.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def bot(tmp_path, rut_daily, shared_data, monkeypatch):
    return Bot(tmp_path, rut_daily, shared_data, monkeypatch)


def _nan_row(raw: pd.DataFrame, row: int = -1) -> pd.DataFrame:
    """NaN prices on the new session (-1: the whole answer is rejected) or a cached one."""
    raw = raw.copy()
    raw.loc[raw.index[row], ["Open", "High", "Low", "Close", "Adj Close"]] = np.nan
    return raw


YAHOO_FAULTS = {
    "raises": (ConnectionError("Connection reset by peer"), "ConnectionError"),
    "empty": (lambda raw: raw.iloc[0:0], "empty answer from Yahoo"),
    "nan_row": (_nan_row, "close is NaN"),
    "all_nan": (lambda raw: raw.assign(Close=np.nan), "no close price (all NaN)"),
    "duplicated": (lambda raw: pd.concat([raw, raw.iloc[-1:]]), "duplicate session"),
    "unsorted": (lambda raw: raw.iloc[::-1], "sessions not increasing"),
    "naive_tz": (lambda raw: raw.tz_localize(None), "naive"),
    "wrong_tz": (
        lambda raw: raw.set_axis(raw.index.tz_localize(None).tz_localize("UTC")),
        "not midnight America/New_York",
    ),
}


@pytest.mark.parametrize("fault", list(YAHOO_FAULTS))
def test_bad_yahoo_answer_blocks_entries_while_stale_and_recovers(bot, fault, caplog):
    bot.yahoo.fault, why = YAHOO_FAULTS[fault]
    before = bot.cache.read_bytes()
    bot.start()
    with caplog.at_level(logging.INFO, logger="russell_regime.adapter.live"):
        bot.loop(NOW)
    assert bot.strategy.live.state.stale and bot.newest() == DAY(CACHED_UNTIL)
    assert bot.entry(NOW) == (False, "")
    failed = [r.getMessage() for r in caplog.records if "refresh of ^RUT failed" in r.getMessage()]
    assert len(failed) == 1 and why in failed[0]
    assert any(m.startswith("Russell data stale") and why in m for m in bot.strategy.dp.sent)
    assert bot.cache.read_bytes() == before and bot.leftovers() == []

    bot.yahoo.fault = None
    bot.loop(RETRY)
    assert not bot.strategy.live.state.stale and bot.newest() == DAY("2024-11-18")
    assert bot.entry(RETRY) == (True, "r2k_retest")
    assert bot.cached_newest() == DAY("2024-11-18")
    assert any(m.startswith("Russell data fresh again") for m in bot.strategy.dp.sent)


def test_in_progress_bar_is_never_used_whatever_yahoo_returns(bot, rut_daily):
    during = utc("2024-11-18 18:00")  # 13:00 New York: Monday's bar is in progress (+30%)
    bot.start().loop(during)
    assert bot.newest() == DAY(CACHED_UNTIL)
    assert bot.cached_newest() == DAY(CACHED_UNTIL)
    assert not bot.strategy.live.state.stale
    frame = closed_candles(bot.shared_data, "BTC/USDT", during)
    last = bot.strategy.analyze_ticker(frame, {"pair": "BTC/USDT"}).iloc[-1]
    assert last["r2k_session"] == DAY(CACHED_UNTIL)
    assert last["r2k_close"] == pytest.approx(2303.84, abs=0.01)  # Friday's real close

    bot.loop(utc("2024-11-18 21:15"))  # close (21:00 UTC) + 15 min: final, and real
    assert bot.newest() == DAY("2024-11-18")
    real = rut_daily[rut_daily["session"] == DAY("2024-11-18")].iloc[0]
    assert bot.strategy.regime.daily.iloc[-1]["close"] == real["close"]


def test_alignment_alone_also_hides_an_unfinished_bar(bot):
    """Second layer: even if an in-progress row got into the daily frame, no candle that
    closes before its close + lag sees it."""
    during = utc("2024-11-18 18:00")
    bot.start().loop(during)
    daily = bot.strategy.regime.daily
    spiked = daily.iloc[-1:].assign(session=DAY("2024-11-18"), close=3000.0, high=3000.0)
    bot.strategy.regime.set_daily(pd.concat([daily, spiked], ignore_index=True))
    frame = closed_candles(bot.shared_data, "BTC/USDT", during)
    out = bot.strategy.analyze_ticker(frame, {"pair": "BTC/USDT"})
    assert (out["r2k_session"] <= DAY(CACHED_UNTIL)).all()
    assert out["r2k_close"].max() < 3000.0


def test_revised_past_session_is_merged_and_used(bot):
    def revise(raw: pd.DataFrame) -> pd.DataFrame:
        raw = raw.copy()
        day = raw.index[raw.index.tz_localize(None) == DAY("2024-11-14")][0]
        raw.loc[day, ["Close", "Adj Close"]] = 2340.0  # was 2336.94
        return raw

    bot.yahoo.fault = revise
    bot.start().loop(NOW)
    for frame in (bot.strategy.regime.daily, load_cache(bot.cache, "^RUT")):
        row = frame[frame["session"] == DAY("2024-11-14")].iloc[0]
        assert row["close"] == 2340.0
    assert bot.newest() == DAY("2024-11-18") and not bot.strategy.live.state.stale


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[: len(b) // 2], id="truncated"),
        pytest.param(lambda b: bytes(reversed(b)), id="corrupted"),
    ],
)
def test_broken_cache_file_is_rebuilt_by_a_full_refresh(bot, damage, caplog):
    bot.cache.write_bytes(damage(bot.cache.read_bytes()))
    bot.yahoo.fault = ConnectionError("offline")
    with caplog.at_level(logging.INFO, logger="russell_regime.adapter.live"):
        bot.start()
        bot.loop(NOW)
    assert any("unreadable" in r.getMessage() and "refetching" in r.getMessage()
               for r in caplog.records)
    assert not bot.strategy.regime.loaded and bot.strategy.live.entry_override() == "block"
    assert bot.entry(NOW) == (False, "")

    bot.yahoo.fault = None
    bot.loop(RETRY)
    assert "period" in bot.yahoo.calls[-1] and "start" not in bot.yahoo.calls[-1]
    assert bot.cached_newest() == DAY("2024-11-18")
    assert len(load_cache(bot.cache, "^RUT")) == len(bot.strategy.regime.daily) > 9000
    assert bot.entry(RETRY) == (True, "r2k_retest")


def _disk_full(monkeypatch):
    def fsync(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)


def _read_only(monkeypatch):
    def mkstemp(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


@pytest.mark.parametrize(
    ("fail", "why"),
    [(_disk_full, "No space left on device"), (_read_only, "Read-only file system")],
    ids=["disk_full", "read_only"],
)
def test_failed_cache_write_keeps_the_data_in_memory_and_retries(bot, fail, why, caplog):
    before = bot.cache.read_bytes()
    bot.start()
    with pytest.MonkeyPatch.context() as patch, caplog.at_level(logging.INFO):
        fail(patch)
        bot.loop(NOW)
    assert bot.newest() == DAY("2024-11-18") and not bot.strategy.live.state.stale
    assert bot.entry(NOW) == (True, "r2k_retest")  # the data is good, only not persisted
    assert any("cannot write cache file" in r.getMessage() and why in r.getMessage()
               for r in caplog.records)
    assert bot.cache.read_bytes() == before and bot.leftovers() == []

    bot.loop(NOW + pd.Timedelta(minutes=60))  # next regular refresh: nothing new, still written
    assert bot.cached_newest() == DAY("2024-11-18")


def test_unexpected_error_in_the_loop_is_logged_once_and_never_raised(bot, caplog):
    bot.start()

    def broken(frame):
        raise RuntimeError("boom")

    bot.monkeypatch.setattr(bot.strategy.regime, "set_daily", broken)
    with caplog.at_level(logging.ERROR, logger="russell_regime.adapter.live"):
        for minute in range(0, 30, 5):
            bot.loop(NOW + pd.Timedelta(minutes=minute))
    errors = [r for r in caplog.records if "live refresh error" in r.getMessage()]
    assert len(errors) == 1 and "boom" in errors[0].getMessage()
    assert len(bot.yahoo.calls) <= 3  # failed installs still count as attempts: no refetch storm
    assert bot.strategy.live.entry_override() == "block"
    assert bot.entry(NOW) == (False, "")


# --- a hanging yfinance ------------------------------------------------------------------------


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def hung(tmp_path, rut_daily):
    seed_cache(tmp_path, rut_daily, CACHED_UNTIL)
    clock = FakeMonotonic()
    live = Live(tmp_path, rut_daily, NOW, clock=clock, abandon_after=30,
                fetch_timeout_seconds=0.5)
    live.live.start()
    live.yahoo.hang = hang = threading.Event()
    yield live, clock
    hang.set()


def test_hanging_fetch_never_blocks_the_loop_and_is_logged_once(hung, caplog):
    live, clock = hung
    worst = 0.0
    with caplog.at_level(logging.INFO, logger="russell_regime.adapter.live"):
        for step in range(50):  # 10 s on the fetch clock, 50 loops
            clock.t += 0.2
            started = time.perf_counter()
            live.loop(NOW + pd.Timedelta(seconds=5 * step))
            worst = max(worst, time.perf_counter() - started)
    assert worst < 0.25, f"a loop took {worst:.3f} s while yfinance hung"
    deadline = time.monotonic() + 5  # the worker thread picks the fetch up asynchronously
    while not live.yahoo.calls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(live.yahoo.calls) == 1 and live.live.busy  # no second fetch while one hangs
    overdue = [r for r in caplog.records if "still running" in r.getMessage()]
    assert len(overdue) == 1 and "timeout 0.5 s" in overdue[0].getMessage()
    assert live.newest() == DAY(CACHED_UNTIL) and live.live.entry_override() == "block"

    live.yahoo.hang.set()  # Yahoo answers after all
    assert live.live.wait(5)
    assert live.loop(NOW + pd.Timedelta(minutes=5)) is True
    assert live.newest() == DAY("2024-11-18") and live.live.entry_override() is None


def test_fetch_hanging_past_abandon_after_is_dropped_and_refreshing_resumes(hung, caplog):
    live, clock = hung
    first_hang = live.yahoo.hang
    with caplog.at_level(logging.INFO, logger="russell_regime.adapter.live"):
        live.loop(NOW)
        clock.t += 31
        live.loop(NOW + pd.Timedelta(seconds=5))
    assert not live.live.busy
    assert any("abandoned" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    assert "abandoned" in live.live.last_error

    live.yahoo.hang = None
    live.settle(RETRY)  # a new fetch in a new thread
    assert len(live.yahoo.calls) == 2 and live.newest() == DAY("2024-11-18")
    cached = load_cache(live.live.cache.path("^RUT"), "^RUT")

    live.yahoo.fault = lambda raw: raw.assign(Volume=1.0)  # what the hung call answers late
    first_hang.set()
    time.sleep(0.2)
    live.loop(RETRY + pd.Timedelta(minutes=1))
    assert load_cache(live.live.cache.path("^RUT"), "^RUT").equals(cached)  # not written
    assert (live.provider.daily["volume"] != 1.0).all()  # not installed


# --- a hanging cache write, rejected revisions, bad rows of cached sessions ----------------------


def test_hung_cache_write_is_abandoned_and_refreshing_resumes(tmp_path, rut_daily, caplog):
    """A write stuck on the disk is abandoned like a hung fetch; the next refresh, which cannot
    get the cache lock the stuck writer holds, keeps its data in memory and says why."""
    cache = seed_cache(tmp_path, rut_daily, CACHED_UNTIL)
    clock = FakeMonotonic()
    live = Live(tmp_path, rut_daily, NOW, clock=clock, abandon_after=30)
    live.live.lock_timeout = 0.3
    live.live.start()
    stuck, release = threading.Event(), threading.Event()
    real_to_feather = pd.DataFrame.to_feather

    def hanging_to_feather(frame, *args, **kwargs):
        stuck.set()
        release.wait()
        return real_to_feather(frame, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch, caplog.at_level(logging.INFO):
        patch.setattr(pd.DataFrame, "to_feather", hanging_to_feather)
        live.loop(NOW)
        assert stuck.wait(10), "the refresh never reached its cache write"
        clock.t += 31
        started = time.perf_counter()
        live.loop(NOW + pd.Timedelta(seconds=5))
        assert time.perf_counter() - started < 0.25
        assert not live.live.busy, "a refresh hung in its cache write was never abandoned"
        assert "cache write hung" in live.live.last_error

        live.settle(RETRY)  # a new refresh in a new thread; the stuck writer holds the lock
        assert live.newest() == DAY("2024-11-18") and live.live.entry_override() is None
        locked = [r.getMessage() for r in caplog.records if "^RUT.feather.lock" in r.getMessage()]
        assert locked and "used from memory" in locked[0]
        release.set()  # the disk recovers: the abandoned write completes (a correct merge)
    deadline = time.monotonic() + 10
    while load_cache(cache, "^RUT")["session"].iloc[-1] != DAY("2024-11-18"):
        assert time.monotonic() < deadline, "the released write never completed"
        time.sleep(0.05)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def _revise_close(raw: pd.DataFrame, factor: float, row: int = -3) -> pd.DataFrame:
    raw = raw.copy()
    day = raw.index[row]
    close = raw.loc[day, "Close"] * factor
    raw.loc[day, ["Close", "Adj Close"]] = close
    raw.loc[day, "High"] = max(raw.loc[day, "High"], close)
    raw.loc[day, "Low"] = min(raw.loc[day, "Low"], close)
    return raw


def test_implausible_revision_is_rejected_logged_and_the_data_kept(tmp_path, rut_daily, caplog):
    cache = seed_cache(tmp_path, rut_daily, CACHED_UNTIL)
    before = cache.read_bytes()
    live = Live(tmp_path, rut_daily, NOW)
    live.live.start()
    live.yahoo.fault = lambda raw: _revise_close(raw, 1.20)  # 2024-11-14 "revised" by +20 %
    with caplog.at_level(logging.INFO, logger="russell_regime.adapter.live"):
        live.settle(NOW)
    failed = [r.getMessage() for r in caplog.records if "refresh of ^RUT failed" in r.getMessage()]
    assert len(failed) == 1 and "RevisionRejected" in failed[0] and "2024-11-14" in failed[0]
    assert live.newest() == DAY(CACHED_UNTIL)  # nothing merged, not even the new session
    assert live.live.state.stale and live.live.entry_override() == "block"
    assert cache.read_bytes() == before


def test_bad_row_of_a_cached_session_keeps_the_cached_value_and_is_logged_once(
    tmp_path, rut_daily, caplog
):
    cache = seed_cache(tmp_path, rut_daily, CACHED_UNTIL)
    live = Live(tmp_path, rut_daily, NOW)
    live.live.start()
    live.yahoo.fault = lambda raw: _nan_row(raw, row=-3)  # Yahoo keeps answering NaN for 11-14
    with caplog.at_level(logging.INFO, logger="russell_regime.adapter.live"):
        live.settle(NOW)
        live.settle(NOW + pd.Timedelta(hours=2))  # the next regular refresh: same bad row
    kept = [r.getMessage() for r in caplog.records if "invalid rows" in r.getMessage()]
    assert len(kept) == 1 and "2024-11-14" in kept[0] and "cached values are kept" in kept[0]
    assert len(live.yahoo.calls) == 2
    assert live.newest() == DAY("2024-11-18") and live.live.entry_override() is None
    real = rut_daily.set_index("session").loc[DAY("2024-11-14"), "close"]
    for frame in (live.provider.daily, load_cache(cache, "^RUT")):
        assert frame.set_index("session").loc[DAY("2024-11-14"), "close"] == real


def test_cache_corrupted_while_running_is_replaced_by_the_next_refresh(
    tmp_path, rut_daily, caplog
):
    cache = seed_cache(tmp_path, rut_daily, CACHED_UNTIL)
    live = Live(tmp_path, rut_daily, NOW)
    live.live.start()
    cache.write_bytes(b"\x00garbage" * 10)  # damaged behind the bot's back
    with caplog.at_level(logging.INFO, logger="russell_regime.adapter.live"):
        live.settle(NOW)
        live.settle(NOW + pd.Timedelta(hours=2))
    replaced = [r.getMessage() for r in caplog.records if "replaced with" in r.getMessage()]
    assert len(replaced) == 1 and "unreadable" in replaced[0]
    assert live.newest() == DAY("2024-11-18") and live.live.last_error is None
    pd.testing.assert_frame_equal(load_cache(cache, "^RUT"), live.provider.daily)
