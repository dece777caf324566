"""Per-series publication time: the VIX index closes 15 minutes after the NYSE (16:15 New York,
13:15 on early-close days), so its bar is usable 15 minutes later than the Russell's."""

from __future__ import annotations

import pandas as pd
import pytest

from russell_regime.core.calendar import Availability

UTC = "UTC"
VIX = Availability("XNYS", 15, close_offset_minutes=15)
RUT = Availability("XNYS", 15)


@pytest.mark.parametrize(
    ("session", "rut", "vix"),
    [
        ("2024-07-01", "2024-07-01 20:15", "2024-07-01 20:30"),  # EDT
        ("2024-12-02", "2024-12-02 21:15", "2024-12-02 21:30"),  # EST
        ("2024-11-29", "2024-11-29 18:15", "2024-11-29 18:30"),  # early close 13:00 / 13:15
    ],
)
def test_vix_is_available_a_close_offset_later(session, rut, vix) -> None:
    day = pd.DatetimeIndex([session])
    assert RUT.available_at(day)[0] == pd.Timestamp(rut, tz=UTC)
    assert VIX.available_at(day)[0] == pd.Timestamp(vix, tz=UTC)
    assert VIX.session_close(day)[0] == pd.Timestamp(vix, tz=UTC) - pd.Timedelta(minutes=15)


def test_offset_moves_latest_session_next_available_and_times() -> None:
    between = pd.Timestamp("2024-07-01 20:20", tz=UTC)  # RUT published, VIX not yet
    assert RUT.latest_available_session(between) == pd.Timestamp("2024-07-01")
    assert VIX.latest_available_session(between) == pd.Timestamp("2024-06-28")
    assert not VIX.is_available(pd.Timestamp("2024-07-01"), between)
    assert VIX.next_available(between) == pd.Timestamp("2024-07-01 20:30", tz=UTC)
    assert (VIX.times_ns() - RUT.times_ns() == pd.Timedelta(minutes=15).value).all()


def test_default_offset_is_zero_and_old_calls_work() -> None:
    assert Availability() == Availability("XNYS", 15, 0)
    assert Availability(lag_minutes=30).close_offset_minutes == 0.0
    assert hash(VIX) != hash(RUT) and VIX != RUT


@pytest.mark.parametrize("offset", [-1, float("nan"), True, 1441])
def test_bad_offset_is_named(offset) -> None:
    with pytest.raises(ValueError, match="close offset"):
        Availability("XNYS", 15, close_offset_minutes=offset)
