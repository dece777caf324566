"""Dry-run bot on a fake Yahoo whose answers carry dates that are not exchange sessions.

The bot (RussellRiskOn in dry-run, ``bot_start`` + ``bot_loop_start`` + ``analyze_ticker``)
must reject a whole answer mostly off the calendar, keep its data, and let the stale policy
decide: no entry under ``block_entries``; one isolated stray row is dropped and named instead.
"""

from __future__ import annotations

import logging

import pandas as pd
from livefakes import utc
from test_live_faults import Bot

from russell_regime.data.cache import load_cache

CACHED_UNTIL = "2024-11-15"  # Friday
DURING = utc("2024-11-19 18:00")  # Tuesday 13:00 New York: Tuesday's bar is in progress
DAY = pd.Timestamp


def one_day_early(raw: pd.DataFrame) -> pd.DataFrame:
    """Every bar labelled with the previous calendar day: Tuesday's in-progress bar poses as
    Monday's final session, Monday's as Sunday's."""
    local = raw.index.tz_localize(None) - pd.Timedelta(days=1)  # New York dates, DST-proof
    return raw.set_axis(local.tz_localize(raw.index.tz))


def test_answer_dated_one_day_early_is_rejected_and_no_entry_is_allowed(
    tmp_path, rut_daily, shared_data, monkeypatch, caplog
):
    bot = Bot(tmp_path, rut_daily, shared_data, monkeypatch)
    bot.yahoo.fault = one_day_early
    before = bot.cache.read_bytes()
    bot.start()
    with caplog.at_level(logging.INFO, logger="russell_regime.adapter.live"):
        bot.loop(DURING)
    failed = [r.getMessage() for r in caplog.records if "refresh of ^RUT failed" in r.getMessage()]
    assert len(failed) == 1
    assert "2024-11-03: not a XNYS session (Sunday" in failed[0]  # first of the refetch window
    assert bot.newest() == DAY(CACHED_UNTIL)  # the in-progress bar never got in
    assert bot.cache.read_bytes() == before  # nothing merged, nothing rewritten
    assert bot.strategy.live.state.stale  # Monday's session is missing beyond the grace
    assert bot.entry(DURING) == (False, "")  # block_entries

    bot.yahoo.fault = None  # Yahoo fixed: Monday's real session arrives, entries resume
    bot.loop(DURING + pd.Timedelta(minutes=10))
    assert bot.newest() == DAY("2024-11-18")
    assert not bot.strategy.live.state.stale
    real = rut_daily.loc[rut_daily["session"] == DAY("2024-11-18"), "close"].iloc[0]
    assert bot.strategy.regime.daily["close"].iloc[-1] == real


def test_one_weekend_row_in_an_answer_is_dropped_and_named_once_not_keeping_the_data_stale(
    tmp_path, rut_daily, shared_data, monkeypatch, caplog
):
    """Stray-row policy: one bad upstream row (a Saturday) is dropped and named in one
    warning; the refresh goes through, so the data is fresh and entries follow the gate."""
    def saturday(raw: pd.DataFrame) -> pd.DataFrame:
        day = pd.DatetimeIndex([pd.Timestamp("2024-11-16", tz=raw.index.tz)])
        extra = raw.iloc[-1:].set_axis(day)
        return pd.concat([raw, extra]).sort_index()

    bot = Bot(tmp_path, rut_daily, shared_data, monkeypatch)
    bot.yahoo.fault = saturday
    bot.start()
    with caplog.at_level(logging.INFO):
        bot.loop(utc("2024-11-19 02:00"))
        bot.loop(utc("2024-11-19 04:00"))  # a second refresh: same stray row, no new warning
    failed = [r.getMessage() for r in caplog.records if "refresh of ^RUT failed" in r.getMessage()]
    assert failed == []
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert dropped == ["Russell ^RUT: dropped 1 row dated on a non-session of XNYS: "
                       "2024-11-16 (Sat)"]
    assert bot.newest() == DAY("2024-11-18")
    assert bot.strategy.regime.dropped == (DAY("2024-11-16"),)
    assert not bot.strategy.live.state.stale
    assert DAY("2024-11-16") not in set(load_cache(bot.cache, "^RUT")["session"])


def test_persistent_bad_row_of_a_cached_session_keeps_it_and_says_so_once(
    tmp_path, rut_daily, shared_data, monkeypatch, caplog
):
    def broken_thursday(raw: pd.DataFrame) -> pd.DataFrame:
        raw = raw.copy()
        day = raw.index[raw.index.tz_localize(None) == DAY("2024-11-14")][0]
        raw.loc[day, ["High", "Low"]] = [1.0, 5000.0]  # high < low, every time Yahoo answers
        return raw

    bot = Bot(tmp_path, rut_daily, shared_data, monkeypatch)
    bot.yahoo.fault = broken_thursday
    bot.start()
    with caplog.at_level(logging.INFO, logger="russell_regime.adapter.live"):
        bot.loop(utc("2024-11-19 02:00"))  # brings Monday 11-18
        bot.loop(utc("2024-11-20 02:00"))  # and Tuesday 11-19; Thursday is still broken
    assert bot.newest() == DAY("2024-11-19") and not bot.strategy.live.state.stale
    real = rut_daily[rut_daily["session"] == DAY("2024-11-14")].reset_index(drop=True)
    for frame in (bot.strategy.regime.daily, load_cache(bot.cache, "^RUT")):
        kept = frame[frame["session"] == DAY("2024-11-14")].reset_index(drop=True)
        pd.testing.assert_frame_equal(kept, real)
    said = [r.getMessage() for r in caplog.records if "2024-11-14" in r.getMessage()]
    assert len(said) == 1 and "cached values are kept" in said[0]
    assert bot.entry(utc("2024-11-20 02:00"))[0]  # the gate works on the good data
