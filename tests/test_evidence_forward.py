"""Forward returns, max gain and max drawdown on hand-made price grids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from russell_regime.evidence.forward import (
    NO_DATA,
    OK,
    PAST_END,
    forward_metrics,
    forward_paths,
    next_valid,
    price_grid,
    summarize,
)

NAN = np.nan


def test_single_asset_known_values():
    prices = np.array([[10.0, 11.0, 9.0, 12.0, 8.0, 15.0]])
    fw = forward_metrics(prices, np.array([0, 2]), [2, 4, 5], max_delay=0)
    # start 0: h2 path 1, 1.1, 0.9
    assert fw.ret[0, 0] == pytest.approx(-0.1)
    assert fw.gain[0, 0] == pytest.approx(0.1)
    assert fw.dd[0, 0] == pytest.approx(0.9 / 1.1 - 1)
    # h4 path 1, 1.1, .9, 1.2, .8 ; h5 adds 1.5
    assert fw.ret[0, 1] == pytest.approx(-0.2)
    assert fw.gain[0, 1] == pytest.approx(0.2)
    assert fw.dd[0, 1] == pytest.approx(0.8 / 1.2 - 1)
    assert fw.ret[0, 2] == pytest.approx(0.5)
    assert fw.gain[0, 2] == pytest.approx(0.5)
    assert fw.dd[0, 2] == pytest.approx(0.8 / 1.2 - 1)
    assert fw.status[0].tolist() == [OK, OK, OK]
    # start 2 (price 9): h2 -> 8/9 - 1; h4, h5 run past the end
    assert fw.ret[1, 0] == pytest.approx(8 / 9 - 1)
    assert fw.gain[1, 0] == pytest.approx(12 / 9 - 1)
    assert fw.dd[1, 0] == pytest.approx(8 / 12 - 1)
    assert fw.status[1].tolist() == [OK, PAST_END, PAST_END]
    assert np.isnan(fw.ret[1, 1])


def test_gain_is_never_negative_and_drawdown_never_positive():
    rng = np.random.default_rng(0)
    prices = np.exp(np.cumsum(rng.normal(0, 0.02, 500)))[None, :]
    fw = forward_metrics(prices, np.arange(0, 400, 7), [5, 50, 99])
    ok = fw.status == OK
    assert (fw.gain[ok] >= 0).all() and (fw.dd[ok] <= 0).all()
    assert (fw.gain[ok] >= fw.ret[ok] - 1e-12).all()


def test_entry_and_exit_take_the_next_candle_within_max_delay():
    prices = np.array([[NAN, NAN, 10.0, 11.0, NAN, NAN, 14.0, 15.0]])
    # start slot 1: entry = open at slot 2 (delay 1), exit at 1+3=4 -> next candle at 6 (delay 2)
    fw = forward_metrics(prices, np.array([1]), [3], max_delay=2)
    assert fw.status[0, 0] == OK
    assert fw.ret[0, 0] == pytest.approx(14 / 10 - 1)
    assert fw.gain[0, 0] == pytest.approx(0.4)
    strict = forward_metrics(prices, np.array([1]), [3], max_delay=1)
    assert strict.status[0, 0] == NO_DATA  # exit candle 2 slots late
    before = forward_metrics(prices, np.array([-3, 0]), [1], max_delay=1)
    assert before.status[:, 0].tolist() == [NO_DATA, NO_DATA]
    after = forward_metrics(prices, np.array([8, 50]), [1])
    assert after.status[:, 0].tolist() == [PAST_END, PAST_END]


def test_basket_is_equal_weight_buy_and_hold():
    prices = np.array([
        [10.0, 20.0, 10.0],
        [100.0, 50.0, 150.0],
        [NAN, NAN, 5.0],  # not listed at the entry: left out
    ])
    fw = forward_metrics(prices, np.array([0]), [1, 2], max_delay=0)
    # paths: a 1, 2, 1 ; b 1, .5, 1.5 -> mean 1, 1.25, 1.25
    assert fw.ret[0].tolist() == pytest.approx([0.25, 0.25])
    assert fw.gain[0].tolist() == pytest.approx([0.25, 0.25])
    assert fw.dd[0].tolist() == pytest.approx([0.0, 0.0])
    single = forward_metrics(prices[:1], np.array([0]), [2], max_delay=0)
    assert single.dd[0, 0] == pytest.approx(-0.5)


def test_next_valid_and_paths():
    prices = np.array([[NAN, 2.0, NAN, 4.0, NAN]])
    assert next_valid(prices).tolist() == [[1, 1, 3, 3, 5]]
    paths = forward_paths(np.array([[10.0, 12.0, 9.0, 11.0]]), np.array([0, 2]), 3, stride=1,
                          max_delay=0)
    assert paths[0].tolist() == pytest.approx([1.0, 1.2, 0.9, 1.1])
    assert paths[1, :2].tolist() == pytest.approx([1.0, 11 / 9])
    assert np.isnan(paths[1, 2:]).all()


def test_price_grid_places_candles_and_maps_times_to_slots():
    hour = pd.Timedelta(hours=1)
    a = pd.DataFrame({"date": pd.date_range("2024-01-01 00:00", periods=3, freq="h", tz="UTC"),
                      "open": [1.0, 2.0, 3.0]})
    b = pd.DataFrame({"date": pd.DatetimeIndex(["2024-01-01 02:00", "2024-01-01 04:00"],
                                               tz="UTC"), "open": [5.0, 6.0]})
    grid = price_grid({"A": a, "B": b}, hour)
    assert grid.size == 5 and grid.names == ("A", "B")
    np.testing.assert_array_equal(grid.prices[0], [1, 2, 3, NAN, NAN])
    np.testing.assert_array_equal(grid.prices[1], [NAN, NAN, 5, NAN, 6])
    times = pd.DatetimeIndex(["2024-01-01 01:00", "2024-01-01 01:15", "2023-12-31 23:00"],
                             tz="UTC")
    assert grid.slots(times).tolist() == [1, 2, -1]
    assert grid.select(["B"]).prices.shape == (1, 5)


def test_summarize():
    s = summarize(np.array([0.1, -0.2, 0.3, np.nan]))
    assert s["n"] == 3
    assert s["mean"] == pytest.approx(0.2 / 3)
    assert s["median"] == pytest.approx(0.1)
    assert s["hit"] == pytest.approx(2 / 3)
    assert summarize(np.array([np.nan]))["n"] == 0
