"""The fast paths of core.align give exactly what the plain definitions give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from russell_regime.core.align import gather, gather_categorical, session_positions


def _brute(dates: pd.DatetimeIndex, step: pd.Timedelta, avail: pd.DatetimeIndex) -> np.ndarray:
    closes = dates.as_unit("ns").asi8 + step.value
    return np.searchsorted(avail.as_unit("ns").asi8, closes, side="left") - 1


@pytest.mark.parametrize("order", ["sorted", "shuffled", "with_ties"])
def test_session_positions_equal_one_search_per_candle(order):
    rng = np.random.default_rng(7)
    avail = pd.DatetimeIndex(
        np.unique(rng.integers(0, 10**6, 500)) * 10**9, tz="UTC"
    ) + pd.Timedelta("20h")
    dates = pd.DatetimeIndex(np.sort(rng.integers(-10**5, 11 * 10**5, 3000)) * 10**9, tz="UTC")
    if order == "shuffled":
        dates = dates[rng.permutation(len(dates))]
    elif order == "with_ties":  # candle closes exactly at available_at, repeated dates
        dates = (avail[::3] - pd.Timedelta("1h")).append(avail[::5]).sort_values().repeat(2)
    step = pd.Timedelta("1h")
    got = session_positions(dates, step, avail)
    np.testing.assert_array_equal(got, _brute(dates, step, avail))
    assert got.dtype == np.int64


def test_session_positions_with_no_sessions_or_one_candle():
    empty = pd.DatetimeIndex([], dtype="datetime64[ns, UTC]")
    dates = pd.date_range("2024-01-01", periods=5, freq="h", tz="UTC")
    assert session_positions(dates, pd.Timedelta("1h"), empty).tolist() == [-1] * 5
    avail = pd.DatetimeIndex(["2024-01-01 00:30"], tz="UTC")
    assert session_positions(dates[:1], pd.Timedelta("1h"), avail).tolist() == [0]


@pytest.mark.parametrize("fill", ["", "none", np.nan])
def test_gather_categorical_equals_gather(fill):
    values = np.array(["ath", "", "retest", "ath", "breakout"], dtype=object)
    positions = np.array([-1, 0, 4, 3, 1, 2, -1, 2])
    cat = gather_categorical(values, positions, fill=fill)
    expected = gather(values, positions, fill=fill)
    assert isinstance(cat, pd.Categorical)
    assert pd.Series(cat).astype(object).equals(pd.Series(expected, dtype=object))
    assert cat.codes.dtype == np.int8


def test_gather_categorical_from_no_sessions_is_all_fill():
    cat = gather_categorical(np.array([], dtype=object), np.array([-1, -1]))
    assert list(cat) == ["", ""]


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_positions_from_available_at_inverts_the_audit_column(order):
    from russell_regime.core.align import audit_columns, positions_from_available_at

    sessions = pd.Series(pd.date_range("2024-01-01", periods=40, freq="B"))
    avail = pd.DatetimeIndex(sessions + pd.Timedelta("20h15min")).tz_localize("UTC")
    dates = pd.date_range("2023-12-30", "2024-03-05", freq="h", tz="UTC")
    if order == "shuffled":
        dates = dates[np.random.default_rng(3).permutation(len(dates))]
    positions = session_positions(dates, pd.Timedelta("1h"), avail)
    seen = audit_columns(positions, sessions, avail)["r2k_available_at"]
    assert (positions == -1).any() and (positions >= 0).any()
    np.testing.assert_array_equal(positions_from_available_at(seen, avail), positions)
    # a value that is no available_at of the daily frame (e.g. other data installed) -> -1
    shifted = positions_from_available_at(seen + pd.Timedelta("1min"), avail)
    assert (shifted == -1).all()
    empty = pd.DatetimeIndex([], dtype="datetime64[ns, UTC]")
    assert (positions_from_available_at(seen, empty) == -1).all()


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("order", ["increasing", "shuffled", "ties"])
def test_count_sorted_equals_searchsorted(side, order):
    from russell_regime.core.align import count_sorted

    rng = np.random.default_rng(11)
    values = np.unique(rng.integers(0, 1000, 200))
    at = np.sort(rng.integers(-50, 1050, 5000))
    if order == "shuffled":
        at = rng.permutation(at)
    elif order == "ties":  # every value itself, repeated, plus its neighbours
        at = np.sort(np.concatenate([values, values, values - 1, values + 1]))
    got = count_sorted(values, at, side)
    np.testing.assert_array_equal(got, np.searchsorted(values, at, side=side))
    assert got.dtype == np.int64
