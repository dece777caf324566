"""Confirmation states at event entries and gate masks on candles (pure), incl. the VIX's
later publication time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from russell_regime.core.calendar import Availability
from russell_regime.core.gate import GateParams, daily_gate
from russell_regime.evidence.alignment import (
    ConfirmationSeries,
    candle_states,
    class_gate_masks,
    confirmed_events,
    open_at,
)
from russell_regime.evidence.backtest import gated_params

SESSIONS = pd.DatetimeIndex(["2021-11-04", "2021-11-05", "2021-11-08"], name="session")


def _vix(states) -> ConfirmationSeries:
    avail = Availability(lag_minutes=15, close_offset_minutes=15).available_at(SESSIONS)
    return ConfirmationSeries("vix", pd.Series(states, index=SESSIONS, name="vix"), avail)


def test_vix_of_the_same_session_is_seen_only_after_its_own_publication_time():
    vix = _vix([True, True, False])
    # 2021-11-08 (EST): NYSE close 21:00 UTC, the index usable at 21:15, the VIX at 21:30
    assert vix.available_at[-1] == pd.Timestamp("2021-11-08 21:30", tz="UTC")
    times = pd.DatetimeIndex(["2021-11-08 21:15", "2021-11-08 21:29", "2021-11-08 21:30",
                              "2021-11-08 22:00", "2021-11-04 20:00"], tz="UTC")
    # before 21:30 the strategy still sees Friday's (open) VIX; from 21:30 Monday's (closed);
    # before the first session: closed
    assert open_at(vix, times).tolist() == [True, True, False, False, False]


def test_confirmed_events_are_named_kind_plus_key_and_skip_placebos():
    events = pd.DataFrame({
        "kind": ["ath", "breakout_252", "random", "spx_ath"],
        "session": pd.to_datetime(["2021-11-05", "2021-11-08", "2021-11-05", "2021-11-05"]),
    })
    entry = pd.DatetimeIndex(["2021-11-05 21:00", "2021-11-08 22:00", "2021-11-05 21:00",
                              "2021-11-05 21:00"], tz="UTC")
    vix = _vix([True, True, False])
    out = confirmed_events(events, entry, [vix])
    # 2021-11-05 entry 21:00 UTC (EDT until Nov 7: VIX usable 20:30): open; 11-08: closed
    assert out["kind"].tolist() == ["ath+vix"]
    assert confirmed_events(events, entry, []).empty


def test_candle_states_use_the_strategys_rule_strict_before_the_candle_close():
    avail = pd.DatetimeIndex(["2024-01-02 21:15", "2024-01-03 21:15"], tz="UTC")
    grid = pd.date_range("2024-01-02 20:00", periods=4, freq="h", tz="UTC")
    # candles 20:00 (closes 21:00: none yet), 21:00 (closes 22:00: session 1), 22:00, 23:00
    got = candle_states(np.array([True, False]), avail, grid, pd.Timedelta(hours=1))
    assert got.tolist() == [False, True, True, True]


def test_class_gate_masks_follow_the_daily_gate_and_close_with_a_confirmation(rut_csv):
    from russell_regime.data.sources import read_daily_file

    daily = read_daily_file(rut_csv, "^RUT")
    availability = Availability()
    avail = availability.available_at(daily["session"])
    grid = pd.date_range("2021-10-01", "2021-12-31 23:00", freq="h", tz="UTC")
    step = pd.Timedelta(hours=1)
    masks = class_gate_masks(daily, avail, gated_params(), grid, step)
    expected = candle_states(daily_gate(daily, GateParams())["gate_open"].to_numpy(), avail,
                             grid, step)
    assert set(masks) == {"btc", "eth", "alt"}
    np.testing.assert_array_equal(masks["btc"], expected)
    assert 0 < expected.sum() < expected.size
    # a confirmation closed from 2021-11-15 on closes the gate from its availability on
    sessions = pd.DatetimeIndex(daily["session"])
    closed = pd.Series(sessions < pd.Timestamp("2021-11-15"), index=sessions)
    conf = ConfirmationSeries("vix", closed, avail)
    gated = class_gate_masks(daily, avail, gated_params(), grid, step, [conf])["alt"]
    late = grid >= pd.Timestamp("2021-11-15 22:00", tz="UTC")
    assert not gated[late].any()
    np.testing.assert_array_equal(gated[grid < pd.Timestamp("2021-11-15 21:00", tz="UTC")],
                                  expected[grid < pd.Timestamp("2021-11-15 21:00", tz="UTC")])
