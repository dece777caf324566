"""merge_russell_regime: the docstring's worked example on the real ^RUT data, its gate equal
to the mixin's, and what it does not do (no staleness)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from freqtrade.enums import RunMode

from russell_regime import merge_russell_regime
from russell_regime.core.calendar import Availability
from russell_regime.core.gate import GateParams

EXAMPLE = [  # (timeframe, candle open UTC, session it sees) from the docstring
    ("1h", "2024-11-27 20:00", "2024-11-26"),
    ("1h", "2024-11-27 21:00", "2024-11-27"),
    ("1h", "2024-11-28 12:00", "2024-11-27"),
    ("1h", "2024-11-29 17:00", "2024-11-27"),
    ("1h", "2024-11-29 18:00", "2024-11-29"),
    ("4h", "2024-11-29 16:00", "2024-11-29"),
    ("1d", "2024-11-29 00:00", "2024-11-29"),
]


@pytest.mark.parametrize(("timeframe", "candle", "session"), EXAMPLE)
def test_worked_example_of_the_docstring(rut_csv, timeframe, candle, session):
    frame = pd.DataFrame({"date": pd.to_datetime([candle], utc=True), "close": [1.0]})
    out = merge_russell_regime(frame, pd.read_csv(rut_csv), timeframe)
    assert out["r2k_session"].iloc[0] == pd.Timestamp(session)
    step = {"1h": pd.Timedelta(hours=1), "4h": pd.Timedelta(hours=4), "1d": pd.Timedelta(days=1)}
    assert out["r2k_available_at"].iloc[0] < pd.Timestamp(candle, tz="UTC") + step[timeframe]
    assert "r2k_session" not in frame.columns  # the input is not modified


def test_docstring_lists_the_example():
    doc = merge_russell_regime.__doc__
    for timeframe, candle, session in EXAMPLE:
        assert f"{timeframe} candle  {candle}" in doc and session in doc
    assert "does NOT do" in doc and "RussellGateMixin" in doc


def test_gate_equals_the_mixins_and_no_session_means_closed(rut_csv, shared_data):
    from test_mixin import Minimal

    candles = pd.read_feather(shared_data / "binance" / "SOL_USDT-1h.feather")
    candles = candles[candles["date"] < "2022-01-01"].reset_index(drop=True)
    strategy = Minimal({"runmode": RunMode.BACKTEST,
                        "russell_regime": {"source": "file", "path": str(rut_csv)}})
    strategy.alt_mode.value = "breakout"
    try:
        mixin = strategy.ft_advise_signals(
            strategy.advise_indicators(candles.copy(), {"pair": "SOL/USDT"}), {"pair": "SOL/USDT"})
    finally:
        strategy.alt_mode.value = "any"
    out = merge_russell_regime(candles, pd.read_csv(rut_csv), "1h",
                               Availability("XNYS", 15), GateParams(mode="breakout"),
                               columns=("close", "drawdown"))
    np.testing.assert_array_equal(out["r2k_gate"], mixin["r2k_gate"])
    assert list(out["r2k_gate_tag"].astype(str)) == list(mixin["r2k_gate_tag"].astype(str))
    assert 0 < out["r2k_gate"].mean() < 1
    assert out["r2k_close"].notna().all() and (out["r2k_drawdown"] <= 0).all()

    dates = pd.to_datetime(["1987-09-01 00:00", "1987-09-11 20:00"], utc=True)
    early = pd.DataFrame({"date": dates})
    seen = merge_russell_regime(early, pd.read_csv(rut_csv), "1h")
    assert seen["r2k_session"].isna().tolist() == [True, False]
    assert not seen["r2k_gate"].iloc[0]


def test_no_staleness_after_the_data_ends(rut_csv):
    daily = pd.read_csv(rut_csv)
    daily = daily[daily["date"] <= "2021-03-31"]
    frame = pd.DataFrame({"date": pd.date_range("2021-03-31", "2021-06-01", freq="1h", tz="UTC")})
    out = merge_russell_regime(frame, daily, "1h")
    late = out["date"] > "2021-04-02"
    assert (out.loc[late, "r2k_session"] == pd.Timestamp("2021-03-31")).all()
    assert out.loc[late, "r2k_gate"].all()  # the last gate, frozen: no stale_policy here
