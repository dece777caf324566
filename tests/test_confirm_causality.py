"""Causality of a confirmation (the VIX), through the adapter's own path (Confirmation: series
provider, joint sessions, the VIX's publication time, alignment, memoised rule).

The VIX index closes at 16:15 New York, 15 minutes after the Russell 2000: with the 15 min lag
its session is usable at 16:30 New York (^RUT at 16:15). The real VIX daily frame is cut at
many instants -- just before / after the VIX's close, its close + lag, the index's close + lag,
DST switches, early closes (VIX 13:15), random -- keeping every session whose DATE is <= the
cut's New York date (the bar in progress included, as yfinance returns it intraday; a variant
makes that bar a provisional spike). On every candle that closed by the cut, the VIX session
seen and the rule's verdict must equal those computed on the full data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from russell_regime.adapter.confirm import Confirmation
from russell_regime.core.calendar import Availability
from russell_regime.core.confirmations import VixParams
from russell_regime.core.daily import validate_daily
from russell_regime.settings import settings_from_config

NY = "America/New_York"
PARAMS = (VixParams("level", 20.0), VixParams("ma", window=10), VixParams("ma", window=50))
TIMEFRAMES = ("5m", "15m", "1h", "4h")


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture(scope="module")
def vix_csv(shared_data):
    return shared_data / "index" / "VIX.csv"


@pytest.fixture(scope="module")
def vix_daily(vix_csv) -> pd.DataFrame:
    return validate_daily(pd.read_csv(vix_csv), "^VIX")


def _confirmation(vix_csv) -> Confirmation:
    settings = settings_from_config({"russell_regime": {"confirmations": {
        "vix": {"source": "file", "path": str(vix_csv)}}}})
    return Confirmation(settings, settings.confirmations["vix"])


@pytest.fixture(scope="module")
def full(vix_csv):
    confirmation = _confirmation(vix_csv)
    confirmation.load_offline()
    return confirmation


def _vix_close(day: str) -> pd.Timestamp:
    """The VIX's own close (16:15 New York; 13:15 on early closes) in UTC."""
    return Availability(lag_minutes=0, close_offset_minutes=15).available_at(
        pd.DatetimeIndex([day]))[0]


def _cuts() -> list[pd.Timestamp]:
    minute = pd.Timedelta(minutes=1)
    days = ["2024-07-01", "2024-12-02", "2024-03-08", "2024-03-11", "2024-11-01", "2024-11-04",
            "2020-03-09", "2020-03-16", "2024-11-29", "2019-12-24"]
    cuts = []
    for day in days:
        vix_close = _vix_close(day)
        index_available = vix_close  # ^RUT: 16:00 + 15 min lag = the VIX's own close
        vix_available = vix_close + 15 * minute
        cuts += [vix_close - minute, vix_close, vix_close + minute, index_available + 5 * minute,
                 vix_available - minute, vix_available, vix_available + minute]
    rng = np.random.default_rng(20210101)
    lo, hi = _utc("2018-01-01").value // 60_000_000_000, _utc("2025-06-25").value // 60_000_000_000
    cuts += [pd.Timestamp(int(m) * 60_000_000_000, tz="UTC") for m in rng.integers(lo, hi, 25)]
    return cuts


CUTS = _cuts()


def _truncate(daily: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    return daily[daily["session"] <= pd.Timestamp(cut.tz_convert(NY).date())].reset_index(
        drop=True)


def _spiked(daily: pd.DataFrame) -> pd.DataFrame:
    """The last bar as an intraday provisional one that flips the level rule: VIX 80 where
    the real close is below 20, VIX 5 where it is not."""
    daily = daily.copy()
    last = daily.index[-1]
    close = 80.0 if daily.loc[last, "close"] < 20.0 else 5.0
    daily.loc[last, "close"] = close
    daily.loc[last, "high"] = max(daily.loc[last, "high"], close)
    daily.loc[last, "low"] = min(daily.loc[last, "low"], close)
    return daily


def _candles(cut: pd.Timestamp, timeframe: str) -> pd.Series:
    step = pd.Timedelta(timeframe.replace("m", "min"))
    start = (cut - pd.Timedelta(days=4)).floor("4h")
    return pd.Series(pd.date_range(start, cut + pd.Timedelta(days=1), freq=step))


def _assert_causal(truncated: Confirmation, full: Confirmation, cut: pd.Timestamp) -> int:
    checked = 0
    for timeframe in TIMEFRAMES:
        dates = _candles(cut, timeframe)
        closes = pd.DatetimeIndex(dates) + pd.Timedelta(timeframe.replace("m", "min"))
        done = np.asarray(closes <= cut)
        pos_t = truncated.positions(dates, timeframe)[done]
        pos_f = full.positions(dates, timeframe)[done]
        np.testing.assert_array_equal(truncated.sessions[pos_t], full.sessions[pos_f],
                                      err_msg=f"{timeframe} at {cut}")
        assert (truncated.available_at[pos_t] < closes[done]).all()
        for params in PARAMS:
            np.testing.assert_array_equal(
                truncated.seen_open(pos_t, params), full.seen_open(pos_f, params),
                err_msg=f"{params} {timeframe} at {cut}")
        checked += int(done.sum())
    return checked


@pytest.mark.parametrize("cut", CUTS, ids=[f"{c:%Y-%m-%dT%H:%M}" for c in CUTS])
def test_cut_vix_gives_the_same_confirmation_on_closed_candles(vix_csv, vix_daily, full, cut):
    frame = _truncate(vix_daily, cut)
    truncated = _confirmation(vix_csv)
    truncated.series["^VIX"].set_daily(frame)
    assert _assert_causal(truncated, full, cut) > 0
    last_at = Availability(lag_minutes=15, close_offset_minutes=15).available_at(
        frame["session"].iloc[-1:])[0]
    if last_at > cut:  # the bar of the cut's date is in progress: make it a provisional spike
        spiked = _confirmation(vix_csv)
        spiked.series["^VIX"].set_daily(_spiked(frame))
        last = len(frame) - 1
        assert spiked.open(PARAMS[0])[last] != full.open(PARAMS[0])[last]  # it matters
        assert _assert_causal(spiked, full, cut) > 0


def test_the_cuts_include_vix_sessions_in_progress_and_published(vix_daily):
    avail = Availability(lag_minutes=15, close_offset_minutes=15)
    flags = [bool(avail.available_at(_truncate(vix_daily, c)["session"].iloc[-1:])[0] > c)
             for c in CUTS]
    assert any(flags) and not all(flags)


def test_a_candle_closing_at_the_index_publication_does_not_see_that_days_vix(full, rut_csv):
    """2024-07-01 (EDT): ^RUT closes 16:00 NY = 20:00 UTC, usable 20:15; the VIX closes
    16:15 NY, usable 16:30 NY = 20:30 UTC. A candle closing at 20:25 sees Monday's ^RUT but
    Friday's VIX; the one closing at 20:30 still Friday's (strictly before); 20:35 Monday's."""
    from russell_regime.adapter.provider import RegimeProvider

    index = RegimeProvider(settings_from_config(
        {"russell_regime": {"source": "file", "path": str(rut_csv)}}))
    index.load_offline()
    dates = pd.Series(pd.to_datetime(["2024-07-01 20:00", "2024-07-01 20:15", "2024-07-01 20:20",
                                      "2024-07-01 20:25", "2024-07-01 20:30"], utc=True))
    # 5m candles closing 20:05, 20:20, 20:25, 20:30, 20:35
    index_seen = index.daily["session"].to_numpy()[index.positions(dates, "5m")]
    vix_seen = full.sessions[full.positions(dates, "5m")]
    monday, friday = np.datetime64("2024-07-01"), np.datetime64("2024-06-28")
    assert list(index_seen) == [friday, monday, monday, monday, monday]
    assert list(vix_seen) == [friday, friday, friday, friday, monday]
    vix_at = full.available_at[full.sessions.get_loc(pd.Timestamp("2024-07-01"))]
    assert vix_at == _utc("2024-07-01 20:30")  # 16:15 New York close + 15 min lag
    # an early close (2024-11-29: 13:00 NY, VIX 13:15) with lag: usable 13:30 NY = 18:30 UTC
    assert full.available_at[full.sessions.get_loc(pd.Timestamp("2024-11-29"))] == _utc(
        "2024-11-29 18:30")
