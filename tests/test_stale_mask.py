"""``refresh.stale_mask``: the one staleness rule, vectorised (backtest) and scalar (live)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from russell_regime.adapter.provider import RegimeProvider, timeframe_step
from russell_regime.core.calendar import Availability, xnys
from russell_regime.core.refresh import NO_SESSION, stale_mask, staleness
from russell_regime.settings import settings_from_config

LAG, GRACE = 15, 180
CAL = Availability(lag_minutes=LAG).times_ns()


def _ns(text: str) -> int:
    return pd.Timestamp(text, tz="UTC").value


def _avail_ns(session: str) -> int:
    return (
        Availability(lag_minutes=LAG)
        .available_at(pd.DatetimeIndex([pd.Timestamp(session)]))[0]
        .value
    )


def _mask(at: list[str], newest: list[str | None], grace: float = GRACE) -> list[bool]:
    newest_ns = [NO_SESSION if s is None else _avail_ns(s) for s in newest]
    return stale_mask(np.array([_ns(t) for t in at]), np.array(newest_ns), CAL, grace).tolist()


def test_fresh_until_the_next_session_is_available_plus_grace():
    # 2024-11-18 (Mon) is available 21:15 UTC; with 180 min grace data ending Fri 11-15 is
    # fresh until Tue 00:15 and stale from then on.
    at = ["2024-11-18 12:00", "2024-11-19 00:14", "2024-11-19 00:15", "2024-11-20 12:00"]
    assert _mask(at, ["2024-11-15"] * 4) == [False, False, True, True]


def test_weekends_and_holidays_never_make_data_stale():
    # Fri 2024-11-29 (early close) is in hand: fresh over the weekend until Mon 12-02 + grace.
    at = ["2024-11-30 12:00", "2024-12-01 23:00", "2024-12-03 00:14"]
    assert _mask(at, ["2024-11-29"] * 3) == [False, False, False]
    # Thanksgiving 11-28 is no session: data ending 11-27 is fresh on 11-28.
    assert _mask(["2024-11-28 23:59"], ["2024-11-27"]) == [False]


def test_no_data_is_stale_and_grace_zero_is_the_bare_calendar():
    assert _mask(["2024-11-18 12:00"], [None]) == [True]
    assert _mask(["2024-11-18 21:14", "2024-11-18 21:15"], ["2024-11-15"] * 2, grace=0) == [
        False,
        True,
    ]


def test_vectorised_rule_equals_the_live_verdict_at_random_instants():
    rng = np.random.default_rng(7)
    sessions = xnys().sessions
    sessions = sessions[(sessions >= "2019-01-01") & (sessions <= "2025-06-30")]
    at = pd.to_datetime(rng.integers(_ns("2019-02-01"), _ns("2025-07-01"), 400), utc=True)
    lags = rng.integers(0, 8, 400)  # newest session in hand: 0..7 sessions behind
    newest = []
    for t, behind in zip(at, lags, strict=True):
        k = (
            int(
                np.searchsorted(
                    Availability(lag_minutes=LAG).available_at(sessions), t, side="right"
                )
            )
            - 1
        )
        newest.append(sessions[max(k - behind, 0)])
    vector = stale_mask(
        at.as_unit("ns").asi8,
        Availability(lag_minutes=LAG).available_at(pd.DatetimeIndex(newest)).asi8,
        CAL,
        GRACE,
    )
    scalar = [
        staleness(t, s, Availability(lag_minutes=LAG), GRACE).stale
        for t, s in zip(at, newest, strict=True)
    ]
    assert vector.tolist() == scalar
    assert 20 < vector.sum() < 380  # both verdicts occur


@pytest.mark.parametrize("timeframe", ["15m", "1h", "1d"])
def test_provider_marks_every_candle_after_the_data_end_plus_grace(rut_daily, timeframe):
    provider = RegimeProvider(settings_from_config({}))
    provider.set_daily(rut_daily[rut_daily["session"] <= "2021-03-31"])
    step = timeframe_step(timeframe)
    dates = pd.Series(pd.date_range("2021-03-25", "2021-04-10", freq=step, tz="UTC"))
    positions = provider.positions(dates, timeframe)
    stale = provider.stale(positions, dates, timeframe)
    closes = dates + step
    assert stale.tolist() == (closes >= pd.Timestamp("2021-04-01 23:15", tz="UTC")).tolist()


def test_provider_without_data_is_stale_everywhere():
    provider = RegimeProvider(settings_from_config({}))
    dates = pd.Series(pd.date_range("2021-03-25", periods=5, freq="h", tz="UTC"))
    assert provider.stale(provider.positions(dates, "1h"), dates, "1h").all()


def test_full_history_on_real_btc_candles_is_never_stale(shared_data, rut_daily):
    candles = pd.read_feather(shared_data / "binance" / "BTC_USDT-1h.feather")
    candles = candles[candles["date"] < "2025-06-30 20:00"]
    provider = RegimeProvider(settings_from_config({}))
    provider.set_daily(rut_daily)
    positions = provider.positions(candles["date"], "1h")
    assert not provider.stale(positions, candles["date"], "1h").any()


def test_staleness_follows_the_configured_exchange_calendar():
    # XLON: 2024-08-26 is a UK bank holiday (NYSE open); 2024-07-04 a US holiday (LSE open).
    lse = Availability("XLON", LAG).times_ns()
    assert not staleness(
        utc_ts("2024-08-26 23:30"), pd.Timestamp("2024-08-23"), Availability("XLON", LAG), GRACE
    ).stale
    assert staleness(
        utc_ts("2024-08-26 23:30"), pd.Timestamp("2024-08-23"), Availability(lag_minutes=LAG), GRACE
    ).stale
    assert staleness(
        utc_ts("2024-07-04 23:00"), pd.Timestamp("2024-07-03"), Availability("XLON", LAG), GRACE
    ).stale
    assert not staleness(
        utc_ts("2024-07-04 23:00"), pd.Timestamp("2024-07-03"), Availability(lag_minutes=LAG), GRACE
    ).stale
    # the vectorised rule on the same calendar: 07-04 available 15:45 UTC (+180 min: 18:45)
    newest = (
        Availability("XLON", LAG).available_at(pd.DatetimeIndex([pd.Timestamp("2024-07-03")])).asi8
    )
    at = np.array([_ns("2024-07-04 18:44"), _ns("2024-07-04 18:45")])
    assert stale_mask(at, np.repeat(newest, 2), lse, GRACE).tolist() == [False, True]


def utc_ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")
