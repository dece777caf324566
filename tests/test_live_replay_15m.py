"""Backtest/live parity at the availability boundary: 15m candles, lag 15 min.

A session closing at 20:00 UTC is available at 20:15, exactly when the 20:00 candle closes.
Live, freqtrade analyses that candle in the first loop after 20:15, right after
``bot_loop_start``, which only *starts* the refresh (it never waits); the new session lands a
few seconds later and is first used by the 20:15 candle. The replay runs that order: loop at
``t``, decide the candle that closed at ``t`` from the data in hand, then let the fetch land
(loop at ``t + 5 s``). The backtest (``available_at < close``, see ``align``) must agree on
every candle.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from livefakes import Live, seed_cache, utc

from russell_regime.adapter.provider import RegimeProvider
from russell_regime.core.align import gather
from russell_regime.core.gate import GateParams
from russell_regime.settings import settings_from_config

START, END = utc("2024-11-11 00:00"), utc("2024-11-19 00:00")  # incl. gate flips 11-14/15
CACHED_UNTIL = "2024-11-08"
QUARTER = pd.Timedelta(minutes=15)


def _decide(provider: RegimeProvider, opens: pd.Series) -> dict[str, np.ndarray]:
    positions = provider.positions(opens, "15m")
    gate = provider.gate(GateParams())
    return {
        "session": provider.audit(positions)["r2k_session"].to_numpy(),
        "open": gather(gate["gate_open"].to_numpy(), positions),
    }


@pytest.fixture(scope="module")
def replay(rut_daily, tmp_path_factory):
    cache_dir = tmp_path_factory.mktemp("replay15")
    seed_cache(cache_dir, rut_daily, CACHED_UNTIL)
    live = Live(cache_dir, rut_daily, START, refresh_interval_minutes=240)
    live.live.start()
    closes = pd.date_range(START, END, freq="15min")
    sessions, opens = [], []
    for t in closes:
        live.loop(t)  # bot_loop_start: may start a refresh, never waits
        decided = _decide(live.provider, pd.Series([t - QUARTER]))  # then the candle analysis
        sessions.append(decided["session"][0])
        opens.append(decided["open"][0])
        assert live.live.wait(10)
        live.loop(t + pd.Timedelta(seconds=5))  # the next loop installs the landed fetch
    return {"closes": closes, "session": np.asarray(sessions), "open": np.asarray(opens)}


@pytest.fixture(scope="module")
def backtest(rut_daily, replay):
    provider = RegimeProvider(settings_from_config({}))
    provider.set_daily(rut_daily)
    return _decide(provider, pd.Series(replay["closes"] - QUARTER))


@pytest.mark.parametrize("column", ["session", "open"])
def test_live_and_backtest_agree_on_every_15m_candle(replay, backtest, column):
    mismatch = np.flatnonzero(replay[column] != backtest[column])
    assert mismatch.size == 0, (
        f"{column} differs on {mismatch.size} candles, first closing at "
        f"{replay['closes'][mismatch[0]]}: live {replay[column][mismatch[0]]!r} vs backtest "
        f"{backtest[column][mismatch[0]]!r}"
    )


def test_the_stretch_has_candles_closing_exactly_at_available_at(rut_daily, replay):
    """The boundary is exercised: at those candles a `<=` rule would show the new session."""
    provider = RegimeProvider(settings_from_config({}))
    provider.set_daily(rut_daily)
    boundary = replay["closes"].isin(provider.available_at)
    assert boundary.sum() == 6  # 11-11 .. 11-18: six sessions, each available at a quarter
    inclusive = np.searchsorted(provider.available_at, replay["closes"], side="right") - 1
    sessions = rut_daily["session"].to_numpy()
    assert (sessions[inclusive[boundary]] != replay["session"][boundary]).all()
    assert (replay["session"][boundary] < sessions[inclusive[boundary]]).all()
