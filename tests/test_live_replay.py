"""Backtest and live agree: five weeks of real history replayed hour by hour through the live path.

Live side: a LiveRegime whose cache starts before the stretch, on a fake yfinance that answers
the real ^RUT rows up to the clock, including the in-progress bar with a +30% provisional close.
Every hour ``t`` the bot loop runs at ``t`` and, once a started fetch has finished, again at
``t + 5 s`` (the bot loops every 5 s); then the candle that closed at ``t`` is decided from the
data in hand. Backtest side: the full real frame aligned onto the same candles at once
(``provider.positions`` + gate gather), as ``populate_indicators`` does in backtesting.

The stretch holds the end of US daylight saving time (11-03), gate flips (10-31, 11-04, 11-14,
11-15), a high-basis ATH (11-25), Thanksgiving (11-28) and an early close (11-29). Each class
has different thresholds so that three distinct gates are compared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from livefakes import Live, seed_cache, utc

from russell_regime.adapter.provider import RegimeProvider
from russell_regime.core.align import gather
from russell_regime.core.calendar import Availability, session_close, xnys
from russell_regime.core.gate import PAIR_CLASSES, GateParams
from russell_regime.data.cache import load_cache
from russell_regime.settings import settings_from_config

START, END = utc("2024-10-28 00:00"), utc("2024-12-03 00:00")
CACHED_UNTIL = "2024-10-25"
PARAMS = {
    "btc": GateParams(),
    "eth": GateParams(mode="breakout", lookback=126, margin=0.005),
    "alt": GateParams(mode="ath", ath_fresh=20, max_drawdown=0.05, basis="high"),
}
HOUR = pd.Timedelta(hours=1)
COLUMNS = ("session", "close", *(f"open_{c}" for c in PAIR_CLASSES),
           *(f"tag_{c}" for c in PAIR_CLASSES))


def _decide(provider: RegimeProvider, candle_dates: pd.Series) -> dict[str, np.ndarray]:
    """What the strategy's populate_* gather for these 1h candles from ``provider``'s data."""
    positions = provider.positions(candle_dates, "1h")
    out = {
        "session": provider.audit(positions)["r2k_session"].to_numpy(),
        "close": gather(provider.daily["close"].to_numpy(), positions),
    }
    for cls in PAIR_CLASSES:
        gate = provider.gate(PARAMS[cls])
        out[f"open_{cls}"] = gather(gate["gate_open"].to_numpy(), positions)
        out[f"tag_{cls}"] = gather(gate["gate_tag"].to_numpy(), positions, fill="")
    return out


@pytest.fixture(scope="module")
def replay(rut_daily, tmp_path_factory):
    cache_dir = tmp_path_factory.mktemp("replay")
    path = seed_cache(cache_dir, rut_daily, CACHED_UNTIL)
    live = Live(cache_dir, rut_daily, START, params=PARAMS, refresh_interval_minutes=240)
    live.live.start()
    hours = pd.date_range(START, END, freq="h")
    rows: dict[str, list] = {c: [] for c in COLUMNS}
    cached_lengths = [len(load_cache(path, "^RUT"))]
    stale_hours, overrides = 0, set()
    for t in hours:
        live.loop(t)
        assert live.live.wait(10)
        if live.loop(t + pd.Timedelta(seconds=5)):
            cached_lengths.append(len(load_cache(path, "^RUT")))
        decided = _decide(live.provider, pd.Series([t - HOUR]))
        for column in COLUMNS:
            rows[column].append(decided[column][0])
        stale_hours += live.live.state.stale
        overrides.add(live.live.entry_override())
    return {
        "hours": hours,
        "live": {c: np.asarray(v) for c, v in rows.items()},
        "cached_lengths": cached_lengths,
        "final_cache": load_cache(path, "^RUT"),
        "calls": live.yahoo.calls,
        "stale_hours": stale_hours,
        "overrides": overrides,
    }


@pytest.fixture(scope="module")
def backtest(rut_daily, replay):
    provider = RegimeProvider(settings_from_config({}))
    provider.set_daily(rut_daily)
    return _decide(provider, pd.Series(replay["hours"] - HOUR))


@pytest.mark.parametrize("column", COLUMNS)
def test_live_decisions_equal_the_backtest_on_every_candle(replay, backtest, column):
    live, full = replay["live"][column], backtest[column]
    mismatch = np.flatnonzero(live != full)
    assert mismatch.size == 0, (
        f"{column} differs on {mismatch.size} candles, first closing at "
        f"{replay['hours'][mismatch[0]]}: live {live[mismatch[0]]!r} vs backtest "
        f"{full[mismatch[0]]!r}"
    )


def test_every_gate_opens_and_closes_in_the_stretch(replay):
    for cls in ("btc", "eth"):
        states = set(replay["live"][f"open_{cls}"].tolist())
        assert states == {True, False}, cls
    assert replay["live"]["open_alt"].any()  # the high-basis ATH of 11-25


def test_the_cache_grows_one_session_at_a_time(replay, rut_daily):
    steps = np.diff(replay["cached_lengths"])
    assert (steps == 1).all(), steps
    expected = rut_daily[rut_daily["session"] <= pd.Timestamp("2024-12-02")]
    assert replay["final_cache"].equals(expected.reset_index(drop=True))


def test_the_provisional_bar_was_served_but_never_used(replay):
    def in_progress(now: pd.Timestamp) -> bool:
        day = pd.Timestamp(now.tz_convert("America/New_York").date())
        if day not in xnys().sessions:
            return False
        opened = day.tz_localize("America/New_York") + pd.Timedelta(hours=9, minutes=30)
        return opened <= now < session_close(pd.DatetimeIndex([day]), "XNYS")[0]

    # Yahoo was asked (and served its provisional +30% bar) during US hours...
    assert sum(in_progress(call["now"]) for call in replay["calls"]) >= 10
    # ...yet no candle saw a session before its close + lag (and the closes equal the final
    # ones: test_live_decisions_equal_the_backtest_on_every_candle[close]).
    seen = Availability(lag_minutes=15).available_at(pd.DatetimeIndex(replay["live"]["session"]))
    assert (seen <= replay["hours"]).all()


def test_data_never_went_stale_and_entries_always_followed_the_gate(replay):
    assert replay["stale_hours"] == 0
    assert replay["overrides"] == {None}
