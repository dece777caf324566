"""The one-pass alignment the mixin's ``advise_indicators`` uses (``RegimeProvider.candle_columns``,
``align.count_runs`` / ``repeat_runs``, the run-based ``stale_mask``) gives exactly what the
separate ``positions`` / ``audit`` / ``stale`` steps give, in every candle order and unit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from russell_regime.adapter.provider import RegimeProvider
from russell_regime.core.align import count_runs, count_sorted, repeat_runs
from russell_regime.core.calendar import Availability
from russell_regime.core.refresh import NO_SESSION, stale_mask
from russell_regime.settings import settings_from_config


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("order", ["increasing", "ties", "empty"])
def test_count_runs_repeat_equals_count_sorted(side, order):
    rng = np.random.default_rng(7)
    values = np.sort(rng.choice(10_000, size=300, replace=False)).astype(np.int64)
    at = {"increasing": np.arange(-50, 10_050, 7, dtype=np.int64),
          "ties": np.repeat(values[::3], 4),
          "empty": np.array([], dtype=np.int64)}[order]
    lengths = count_runs(values, at, side)
    assert lengths is not None and lengths.sum() == at.size
    expected = count_sorted(values, at, side)
    np.testing.assert_array_equal(repeat_runs(np.arange(1, values.size + 1), lengths, 0),
                                  expected)
    gathered = np.where(expected > 0, values[np.maximum(expected - 1, 0)], NO_SESSION)
    np.testing.assert_array_equal(repeat_runs(values, lengths, NO_SESSION), gathered)


def test_count_runs_refuses_unsorted_instants():
    assert count_runs(np.array([1, 5]), np.array([3, 2, 9])) is None


@pytest.mark.parametrize("order", ["increasing", "shuffled"])
def test_stale_mask_run_path_equals_the_per_instant_rule(order):
    calendar = Availability(lag_minutes=15).times_ns()
    rng = np.random.default_rng(11)
    at = pd.date_range("2019-12-20", "2020-02-10", freq="17min", tz="UTC").asi8
    if order == "shuffled":
        at = at[rng.permutation(at.size)]
    newest = calendar[np.searchsorted(calendar, at, "left") - 1 - rng.integers(0, 3, at.size)]
    newest[rng.random(at.size) < 0.05] = NO_SESSION
    grace = pd.Timedelta(minutes=180).value
    i = np.searchsorted(calendar, at - grace, side="right") - 1
    expected = np.where(i >= 0, calendar[np.maximum(i, 0)], NO_SESSION)
    want = (newest == NO_SESSION) | (newest < expected)
    assert want.any() and not want.all()
    np.testing.assert_array_equal(stale_mask(at, newest, calendar, 180), want)


def _dates(order: str, unit: str, freq: str = "h") -> pd.Series:
    dates = pd.date_range("2021-03-20", "2021-05-10", freq=freq, tz="UTC").as_unit(unit)
    if order == "shuffled":
        dates = dates[np.random.default_rng(5).permutation(len(dates))]
    return pd.Series(dates)


@pytest.mark.parametrize("order", ["increasing", "shuffled"])
@pytest.mark.parametrize("unit", ["ms", "ns"])
@pytest.mark.parametrize("data", ["loaded", "none"])
@pytest.mark.parametrize("timeframe,grace", [("1h", 180), ("15m", 0), ("15m", 45)])
def test_candle_columns_equal_positions_audit_and_stale(rut_daily, order, unit, data,
                                                        timeframe, grace):
    # 15m candles with grace 0 / 45 close exactly when a session (+ grace) becomes available
    provider = RegimeProvider(settings_from_config(
        {"russell_regime": {"stale_grace_minutes": grace}}))
    if data == "loaded":  # data ends 2021-04-30: the last candles see stale data
        provider.set_daily(rut_daily[rut_daily["session"].between("2021-03-24", "2021-04-30")])
    dates = _dates(order, unit, timeframe.replace("m", "min").replace("1h", "h"))
    positions, columns = provider.candle_columns(dates, timeframe)
    want_positions = provider.positions(dates, timeframe)
    np.testing.assert_array_equal(positions, want_positions)
    audit = provider.audit(want_positions)
    for column in audit.columns:
        got = pd.Series(columns[column])
        if column == "r2k_session":  # the frame's compact form: an ordered Categorical
            assert isinstance(got.dtype, pd.CategoricalDtype) and got.cat.ordered
            got = got.astype(audit[column].dtype)
        assert got.dtype == audit[column].dtype, column
        pd.testing.assert_series_equal(got, audit[column], check_names=False)
    stale = provider.stale(want_positions, dates, timeframe)
    np.testing.assert_array_equal(columns["stale"], stale)
    if data == "loaded":
        assert (positions == -1).any() and (positions >= 0).any()
        assert stale.any() and not stale.all()


def test_candle_columns_refuse_naive_dates(rut_daily):
    provider = RegimeProvider(settings_from_config({}))
    provider.set_daily(rut_daily)
    naive = pd.Series(pd.date_range("2021-03-20", periods=3, freq="h"))
    with pytest.raises(ValueError, match="timezone-aware"):
        provider.candle_columns(naive, "1h")


def test_memoised_gate_tags_equal_the_gate_frames_tags(rut_daily):
    from russell_regime.core.gate import GateParams

    provider = RegimeProvider(settings_from_config({}))
    provider.set_daily(rut_daily)
    params = GateParams()
    tags = provider.gate_tags(params)
    assert provider.gate_tags(params) is tags
    assert list(np.asarray(tags, dtype=object)) == list(provider.gate(params)["gate_tag"])


@pytest.mark.parametrize("order", ["increasing", "shuffled"])
def test_seen_runs_repeat_to_the_positions(order):
    from russell_regime.core.align import audit_columns, seen_runs, session_positions

    sessions = pd.Series(pd.date_range("2024-01-01", periods=40, freq="B"))
    avail = pd.DatetimeIndex(sessions + pd.Timedelta("20h15min")).tz_localize("UTC")
    dates = pd.date_range("2023-12-30", "2024-03-05", freq="h", tz="UTC")
    if order == "shuffled":
        dates = dates[np.random.default_rng(3).permutation(len(dates))]
    positions = session_positions(dates, pd.Timedelta("1h"), avail)
    seen = audit_columns(positions, sessions, avail)["r2k_available_at"]
    rows, lengths = seen_runs(seen, avail.as_unit("ns").asi8)
    np.testing.assert_array_equal(np.repeat(rows, lengths), positions)
    if order == "increasing":  # one entry per run of candles seeing the same session
        assert rows.size == np.unique(positions).size
    empty = pd.DatetimeIndex([], dtype="datetime64[ns, UTC]")
    assert (np.repeat(*seen_runs(seen, empty)) == -1).all()
    assert np.repeat(*seen_runs(seen[:0], avail)).size == 0


def test_added_columns_replace_existing_ones_and_keep_attrs():
    from russell_regime.adapter.mixin import _with_columns

    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=3, tz="UTC"),
                          "close": [1.0, 2.0, 3.0]})
    frame.attrs["note"] = "kept"
    out = _with_columns(frame, {"r2k_gate": np.array([True, False, True])})
    assert list(out.columns) == ["date", "close", "r2k_gate"]
    assert out.attrs == {"note": "kept"} and out["r2k_gate"].dtype == bool
    again = _with_columns(out, {"r2k_gate": np.array([False, False, True])})  # re-analysed
    assert list(again.columns) == ["date", "close", "r2k_gate"]
    assert again["r2k_gate"].tolist() == [False, False, True]
