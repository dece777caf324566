"""Performance metrics on known equity curves and trade lists; walk-forward windows."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from russell_regime.evidence.backtest import curve_index, timerange, walk_forward_windows
from russell_regime.evidence.metrics import (
    buy_and_hold_equity,
    cagr,
    calmar,
    chain_curves,
    chained_summary,
    daily_returns,
    equity_from_trades,
    exposure,
    max_drawdown,
    performance,
    sharpe,
    sortino,
    total_return,
)

DAY = pd.Timedelta(days=1)


def _curve(values, start="2024-01-01") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="D", tz="UTC"),
                     dtype=float)


def test_metrics_on_a_known_curve():
    eq = _curve([100, 110, 99, 121])
    r = [0.1, -0.1, 121 / 99 - 1]
    assert daily_returns(eq).tolist() == pytest.approx(r)
    assert total_return(eq) == pytest.approx(0.21)
    assert max_drawdown(eq) == pytest.approx(-0.1)
    assert cagr(eq) == pytest.approx(1.21 ** (365.25 / 3) - 1)
    expected_sharpe = statistics.mean(r) / statistics.stdev(r) * math.sqrt(365)
    assert sharpe(daily_returns(eq)) == pytest.approx(expected_sharpe)
    downside = math.sqrt((0.1**2) / 3)
    expected_sortino = statistics.mean(r) / downside * math.sqrt(365)
    assert sortino(daily_returns(eq)) == pytest.approx(expected_sortino)
    assert calmar(eq) == pytest.approx(cagr(eq) / 0.1)


def test_metrics_edge_cases():
    flat = _curve([100, 100, 100])
    assert max_drawdown(flat) == 0.0
    assert np.isnan(sharpe(daily_returns(flat)))
    assert np.isnan(sortino(daily_returns(flat)))
    assert np.isnan(calmar(flat))
    up = _curve([100, 101, 103])
    assert np.isnan(sortino(daily_returns(up)))  # no down day
    assert max_drawdown(_curve([100, 50, 200, 100])) == pytest.approx(-0.5)


def test_exposure_is_the_union_of_open_intervals():
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    opens = pd.Series([t0, t0 + DAY, t0 + 5 * DAY, t0 - 3 * DAY])
    closes = pd.Series([t0 + 2 * DAY, t0 + 3 * DAY, t0 + 6 * DAY, t0 - 2 * DAY])
    # [0,2) u [1,3) u [5,6) = 4 days of 10; the last trade lies before the window
    assert exposure(opens, closes, t0, t0 + 10 * DAY) == pytest.approx(0.4)
    # millisecond-resolution inputs (freqtrade's) give the same answer
    ms = exposure(pd.Series(pd.DatetimeIndex(opens).as_unit("ms")),
                  pd.Series(pd.DatetimeIndex(closes).as_unit("ms")), t0, t0 + 10 * DAY)
    assert ms == pytest.approx(0.4)
    assert exposure(pd.Series([], dtype="datetime64[ns, UTC]"),
                    pd.Series([], dtype="datetime64[ns, UTC]"), t0, t0 + DAY) == 0.0


def test_equity_from_trades_marks_open_positions_to_market():
    index = pd.date_range("2024-01-01", periods=5, freq="D", tz="UTC")
    marks = pd.DataFrame({"X/USDT": [100.0, 100.0, 110.0, 120.0, 130.0]}, index=index)
    trades = pd.DataFrame({
        "pair": ["X/USDT"], "open_date": [index[1]], "close_date": [index[3]],
        "amount": [2.0], "open_rate": [100.0], "fee_open": [0.0], "fee_close": [0.0],
        "profit_abs": [40.0],
    })
    eq = equity_from_trades(trades, marks, 1000.0)
    assert eq.tolist() == pytest.approx([1000, 1000, 1020, 1040, 1040])
    fees = trades.assign(fee_open=0.001, fee_close=0.001)
    eq = equity_from_trades(fees, marks, 1000.0)
    assert eq.iloc[2] == pytest.approx(1000 + 2 * 110 * 0.999 - 2 * 100 * 1.001)


def test_buy_and_hold_and_performance_row():
    marks = _curve([50.0, 60.0, 45.0, 75.0])
    eq = buy_and_hold_equity(marks, 50.0, 1000.0, fee=0.0)
    assert eq.tolist() == pytest.approx([1000, 1200, 900, 1500])
    row = performance(eq, trades=1, exposure_share=1.0)
    assert row["total_return"] == pytest.approx(0.5)
    assert row["max_drawdown"] == pytest.approx(-0.25)
    assert row["trades"] == 1 and row["final_equity"] == pytest.approx(1500)


def test_chain_curves_compounds_windows():
    a = _curve([100, 110], "2024-01-01")
    b = _curve([500, 450, 495], "2024-01-02")  # starts where a ends, own balance
    chained = chain_curves([a, b], 1000.0)
    assert chained.tolist() == pytest.approx([1000, 1100, 990, 1089])


def test_walk_forward_windows_roll_by_the_test_length():
    start, end = pd.Timestamp("2018-01-01", tz="UTC"), pd.Timestamp("2020-03-15", tz="UTC")
    wins = walk_forward_windows(start, end, 12, 6)
    assert [(a.strftime("%Y-%m"), b.strftime("%Y-%m"), c.strftime("%Y-%m-%d"))
            for a, b, c in wins] == [
        ("2018-01", "2019-01", "2019-07-01"),
        ("2018-07", "2019-07", "2020-01-01"),
        ("2019-01", "2020-01", "2020-03-15"),
    ]
    assert walk_forward_windows(start, start + pd.DateOffset(months=12), 12, 6) == []
    with pytest.raises(ValueError):
        walk_forward_windows(start, end, 0, 6)


def test_curve_index_is_daily_with_both_ends():
    idx = curve_index(pd.Timestamp("2024-01-01 05:00", tz="UTC"),
                      pd.Timestamp("2024-01-03 00:00", tz="UTC"))
    assert [t.strftime("%d %H") for t in idx] == ["01 05", "02 00", "03 00"]


@pytest.mark.parametrize("candle,last", [("1h", "2019-06-30 23:00"), ("4h", "2019-06-30 20:00"),
                                         ("1d", "2019-06-30")])
def test_timerange_stops_at_the_last_candle_inside_the_window(candle, last):
    """In a form every supported freqtrade parses (epoch seconds unless both ends are
    midnights), read back by the installed freqtrade."""
    from freqtrade.configuration import TimeRange

    start, end = pd.Timestamp("2019-01-01", tz="UTC"), pd.Timestamp("2019-07-01", tz="UTC")
    text = timerange(start, end, candle)
    parsed = TimeRange.parse_timerange(text)
    assert (parsed.startts, parsed.stopts) == (int(start.timestamp()),
                                               int(pd.Timestamp(last, tz="UTC").timestamp()))
    stop = int(pd.Timestamp(last, tz="UTC").timestamp())
    assert text == ("20190101-20190630" if candle == "1d" else f"1546300800-{stop}")


def test_chained_summary_weights_windows():
    a = _curve([100, 110], "2024-01-01")
    b = _curve([100, 90, 99], "2024-01-02")
    per_window = pd.DataFrame({
        "run": ["x", "x"], "trades": [1, 3], "exposure": [1.0, 0.25],
        "avg_trade": [0.10, -0.02], "win_rate": [1.0, 0.0],
    })
    row = chained_summary(per_window, {"x": [a, b]}, 1000.0).iloc[0]
    assert row["trades"] == 4
    assert row["total_return"] == pytest.approx(1.1 * 0.9 * 1.1 - 1)
    assert row["exposure"] == pytest.approx((1.0 * 1 + 0.25 * 2) / 3)  # by window length
    assert row["avg_trade"] == pytest.approx((0.10 * 1 - 0.02 * 3) / 4)  # by trades
    assert row["win_rate"] == pytest.approx(0.25)
