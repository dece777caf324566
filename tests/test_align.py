"""Alignment of daily sessions onto candles (russell_regime.align)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from russell_regime.adapter.provider import timeframe_step
from russell_regime.core.align import (
    AVAILABLE_AT_COLUMN,
    SESSION_COLUMN,
    audit_columns,
    gather,
    session_positions,
)
from russell_regime.core.calendar import Availability, xnys

# June/July 2024: 2024-06-19 Juneteenth and 2024-07-04 are holidays, 2024-07-03 closes early.
SESSIONS = pd.DatetimeIndex(xnys().sessions_in_range("2024-06-03", "2024-07-31"))


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def _seen(candle_dates, timeframe: str, lag: float = 15) -> list[pd.Timestamp | None]:
    pos = session_positions(
        pd.DatetimeIndex(candle_dates),
        timeframe_step(timeframe),
        Availability(lag_minutes=lag).available_at(SESSIONS),
    )
    return [SESSIONS[p] if p >= 0 else None for p in pos]


def _reference_positions(candle_dates, timeframe: str, avail: pd.DatetimeIndex) -> np.ndarray:
    """Brute force: the last daily row whose available_at < the candle's close, or -1."""
    closes = pd.DatetimeIndex(candle_dates) + pd.Timedelta(timeframe_step(timeframe))
    out = []
    for close in closes:
        ok = [i for i, a in enumerate(avail) if a < close]
        out.append(ok[-1] if ok else -1)
    return np.array(out, dtype=np.int64)


# --- timeframe_delta ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timeframe", "expected"),
    [
        ("1m", pd.Timedelta(minutes=1)),
        ("5m", pd.Timedelta(minutes=5)),
        ("15m", pd.Timedelta(minutes=15)),
        ("1h", pd.Timedelta(hours=1)),
        ("4h", pd.Timedelta(hours=4)),
        ("12h", pd.Timedelta(hours=12)),
        ("1d", pd.Timedelta(days=1)),
        ("3d", pd.Timedelta(days=3)),
        ("1w", pd.Timedelta(days=7)),
        ("1M", pd.Timedelta(days=30)),  # freqtrade's (ccxt's) month
    ],
)
def test_timeframe_step_converts_with_freqtrade(timeframe, expected):
    assert timeframe_step(timeframe) == expected


@pytest.mark.parametrize("bad", ["", "m", "0m", "0h", "1.5h", "-1h", "h1", "1hh", None, 60])
def test_timeframe_step_rejects(bad):
    with pytest.raises(ValueError, match="unsupported timeframe"):
        timeframe_step(bad)


@pytest.mark.parametrize("step", [pd.Timedelta(0), pd.Timedelta(hours=-1)])
def test_session_positions_rejects_a_non_positive_timeframe(step):
    with pytest.raises(ValueError, match="positive duration"):
        session_positions(
            pd.DatetimeIndex([_utc("2024-07-01")]), step, Availability().available_at(SESSIONS)
        )


# --- docstring examples and the strict < boundary -----------------------------------------


def test_docstring_examples():
    assert _seen([_utc("2024-07-01 19:00")], "1h") == [pd.Timestamp("2024-06-28")]
    assert _seen([_utc("2024-07-01 20:00")], "1h") == [pd.Timestamp("2024-07-01")]
    assert _seen([_utc("2024-07-01 00:00")], "1d") == [pd.Timestamp("2024-07-01")]
    assert _seen([_utc("2024-07-01 20:00")], "15m") == [pd.Timestamp("2024-06-28")]
    assert _seen([_utc("2024-07-01 20:15")], "15m") == [pd.Timestamp("2024-07-01")]


def test_candle_closing_exactly_at_available_at_does_not_see_the_session():
    # Live analyses that candle in the loop whose bot_loop_start only starts the refresh.
    # lag 0: the 19:00 1h candle closes at 20:00 == the close == available_at
    assert _seen([_utc("2024-07-01 19:00")], "1h", lag=0) == [pd.Timestamp("2024-06-28")]
    assert _seen([_utc("2024-07-01 20:00")], "1h", lag=0) == [pd.Timestamp("2024-07-01")]
    # lag 60: available 21:00; the 20:00 candle closes exactly then, the 21:00 one after
    assert _seen([_utc("2024-07-01 20:00")], "1h", lag=60) == [pd.Timestamp("2024-06-28")]
    assert _seen([_utc("2024-07-01 21:00")], "1h", lag=60) == [pd.Timestamp("2024-07-01")]


def test_candle_closing_one_millisecond_early_or_late():
    ms = pd.Timedelta(milliseconds=1)
    start = _utc("2024-07-01 19:00")  # closes 20:00, == available_at with lag 0
    assert _seen([start - ms], "1h", lag=0) == [pd.Timestamp("2024-06-28")]
    assert _seen([start], "1h", lag=0) == [pd.Timestamp("2024-06-28")]
    assert _seen([start + ms], "1h", lag=0) == [pd.Timestamp("2024-07-01")]


def test_lag_of_one_millisecond_hides_the_session_from_the_candle_closing_at_the_close():
    assert _seen([_utc("2024-07-01 19:00")], "1h", lag=1 / 60_000) == [pd.Timestamp("2024-06-28")]


def test_early_close_is_seen_by_the_4h_candle_closing_at_20_utc():
    # 2024-07-03 closes 13:00 NY = 17:00 UTC, available 17:15
    seen = _seen([_utc("2024-07-03 12:00"), _utc("2024-07-03 16:00")], "4h")
    assert seen == [pd.Timestamp("2024-07-02"), pd.Timestamp("2024-07-03")]


def test_holiday_and_weekend_candles_keep_the_previous_session():
    seen = _seen(pd.date_range(_utc("2024-07-04"), periods=4, freq="1D"), "1d")
    # 1d candles 07-04 (holiday), 07-05 (Fri), 07-06 (Sat), 07-07 (Sun)
    assert seen == [
        pd.Timestamp("2024-07-03"),
        pd.Timestamp("2024-07-05"),
        pd.Timestamp("2024-07-05"),
        pd.Timestamp("2024-07-05"),
    ]


def test_candle_dates_in_another_timezone_are_converted():
    ny = pd.DatetimeIndex([pd.Timestamp("2024-07-01 16:00", tz="America/New_York")])  # 20:00Z
    pos = session_positions(ny, timeframe_step("1h"), Availability().available_at(SESSIONS))
    assert SESSIONS[pos[0]] == pd.Timestamp("2024-07-01")


# --- before the first session ------------------------------------------------------------


def test_candles_before_first_session_get_minus_one():
    avail = Availability().available_at(SESSIONS)
    dates = pd.date_range(_utc("2024-06-02"), periods=3, freq="1D")  # Sun, Mon, Tue
    pos = session_positions(dates, timeframe_step("1d"), avail)
    assert pos.tolist() == [-1, 0, 1]  # Sun 06-02 closes Mon 00:00 < Mon 20:15
    assert pos.dtype == np.int64


def test_gather_fills_rows_without_a_session():
    pos = np.array([-1, 0, 2, -1])
    floats = np.array([1.5, 2.5, 3.5])
    np.testing.assert_array_equal(gather(floats, pos), [np.nan, 1.5, 3.5, np.nan])
    bools = np.array([True, False, True])
    out = gather(bools, pos)
    assert out.dtype == bool
    assert out.tolist() == [False, True, True, False]


def test_gather_integers_become_float_with_nan():
    out = gather(np.array([7, 8, 9], dtype=np.int64), np.array([-1, 2]))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [np.nan, 9.0])


def test_gather_custom_fill_and_series_input():
    out = gather(pd.Series([1.0, 2.0]), np.array([-1, 1]), fill=0.0)
    assert out.tolist() == [0.0, 2.0]
    assert gather(np.array([False, False]), np.array([-1, 0]), fill=True).tolist() == [True, False]


def test_gather_from_empty_daily_is_all_fill():
    out = gather(np.array([], dtype="float64"), np.array([-1, -1, -1]))
    assert out.shape == (3,) and np.isnan(out).all()


def test_audit_columns_nat_before_the_first_session():
    avail = Availability().available_at(SESSIONS)
    dates = pd.date_range(_utc("2024-06-02"), periods=3, freq="1D")
    pos = session_positions(dates, timeframe_step("1d"), avail)
    audit = audit_columns(pos, pd.Series(SESSIONS), avail)
    assert list(audit.columns) == [SESSION_COLUMN, AVAILABLE_AT_COLUMN]
    assert audit[SESSION_COLUMN].isna().tolist() == [True, False, False]
    assert audit[AVAILABLE_AT_COLUMN].isna().tolist() == [True, False, False]
    assert audit[SESSION_COLUMN].iloc[1] == pd.Timestamp("2024-06-03")
    assert audit[AVAILABLE_AT_COLUMN].iloc[2] == _utc("2024-06-04 20:15")
    assert str(audit[AVAILABLE_AT_COLUMN].dtype) == "datetime64[ns, UTC]"
    assert str(audit[SESSION_COLUMN].dtype) == "datetime64[ns]"


def test_audit_columns_with_no_sessions():
    empty = pd.DatetimeIndex([], dtype="datetime64[ns]")
    audit = audit_columns(np.array([-1, -1]), pd.Series(empty), Availability().available_at(empty))
    assert len(audit) == 2
    assert audit.isna().all().all()


# --- input errors ------------------------------------------------------------------------


def test_naive_candle_dates_rejected():
    with pytest.raises(ValueError, match="candle dates"):
        session_positions(
            pd.DatetimeIndex([pd.Timestamp("2024-07-01")]),
            timeframe_step("1h"),
            Availability().available_at(SESSIONS),
        )


def test_naive_available_at_rejected():
    naive = Availability().available_at(SESSIONS).tz_localize(None)
    with pytest.raises(ValueError, match="available_at"):
        session_positions(pd.DatetimeIndex([_utc("2024-07-01")]), timeframe_step("1h"), naive)


def test_non_increasing_available_at_rejected():
    avail = Availability().available_at(SESSIONS)
    swapped = avail[[1, 0, *range(2, len(avail))]]
    with pytest.raises(ValueError, match="strictly increasing"):
        session_positions(pd.DatetimeIndex([_utc("2024-07-01")]), timeframe_step("1h"), swapped)


# --- every timeframe against a brute-force reference ---------------------------------------


@pytest.mark.parametrize("timeframe", ["1m", "5m", "1h", "4h", "1d"])
def test_positions_match_brute_force_for_each_timeframe(timeframe):
    avail = Availability().available_at(SESSIONS)
    step = timeframe_step(timeframe)
    # a week containing a holiday and an early close, starting before the first candle sees it
    start, end = _utc("2024-07-01 18:00"), _utc("2024-07-09")
    if timeframe == "1m":  # keep the brute force small: the minutes around two closes
        dates = pd.date_range(_utc("2024-07-01 19:50"), _utc("2024-07-01 20:30"), freq=step).append(
            pd.date_range(_utc("2024-07-03 16:50"), _utc("2024-07-03 17:30"), freq=step)
        )
    else:
        dates = pd.date_range(start, end, freq=step, inclusive="left")
    pos = session_positions(pd.Series(dates), timeframe_step(timeframe), avail)
    np.testing.assert_array_equal(pos, _reference_positions(dates, timeframe, avail))
    assert len(set(pos.tolist())) >= 2  # the week really changes session


@pytest.mark.parametrize("timeframe", ["1h", "4h", "1d"])
def test_real_btc_candles_never_see_an_unpublished_session(shared_data, rut_daily, timeframe):
    candles = pd.read_feather(shared_data / "binance" / f"BTC_USDT-{timeframe}.feather")
    sessions = rut_daily["session"]
    avail = Availability().available_at(sessions)
    pos = session_positions(candles["date"], timeframe_step(timeframe), avail)
    audit = audit_columns(pos, sessions, avail)
    candle_close = pd.DatetimeIndex(candles["date"]) + timeframe_step(timeframe)
    seen = audit[AVAILABLE_AT_COLUMN].notna().to_numpy()
    assert seen.all()  # BTC starts in 2017, RUT in 1987
    assert (audit[AVAILABLE_AT_COLUMN].to_numpy() < candle_close.to_numpy()).all()
    # ...and it is the latest published one: the next session was not yet available
    nxt = np.minimum(pos + 1, len(avail) - 1)
    later = avail[nxt].to_numpy()
    last = pos == len(avail) - 1
    assert ((later >= candle_close.to_numpy()) | last).all()
    # the gathered column is the daily column at the audited session
    gathered = gather(rut_daily["close"].to_numpy(), pos)
    by_session = rut_daily.set_index("session")["close"].reindex(audit[SESSION_COLUMN])
    np.testing.assert_array_equal(gathered, by_session.to_numpy())
