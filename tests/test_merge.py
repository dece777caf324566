"""Merge rules (russell_regime.merge.merge_update): sessions, bad rows, volume, plausibility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from russell_regime.core.calendar import xnys
from russell_regime.core.merge import MergeResult, RevisionLimits, merge_update
from russell_regime.errors import DataValidationError, RevisionRejected, SourceError

T = "^RUT"


def daily(start: str, n: int, close: float = 100.0, step: float = 1.0) -> pd.DataFrame:
    """``n`` consecutive XNYS sessions from ``start`` with closes close, close+step, ..."""
    sessions = xnys().sessions[xnys().sessions >= pd.Timestamp(start)][:n]
    closes = close + step * np.arange(n, dtype="float64")
    return pd.DataFrame(
        {
            "session": pd.DatetimeIndex(sessions).as_unit("ns"),
            "open": closes,
            "high": closes + 1.0,
            "low": closes - 1.0,
            "close": closes,
            "volume": 1000.0 + np.arange(n, dtype="float64"),
        }
    )


def days(frame: pd.DataFrame) -> list[str]:
    return [f"{s:%Y-%m-%d}" for s in frame["session"]]


def test_new_sessions_are_appended_and_counted():
    cached = daily("2024-06-03", 20)
    fresh = daily("2024-06-03", 25).tail(10)  # 5 overlapping (identical), 5 new
    result = merge_update(cached, fresh, T, "XNYS")
    assert isinstance(result, MergeResult)
    assert (result.added, result.revised, result.kept_cached) == (5, 0, ())
    assert len(result.frame) == 25
    assert result.changed


def test_identical_answer_changes_nothing():
    cached = daily("2024-06-03", 20)
    result = merge_update(cached, cached.tail(10), T, "XNYS")
    assert (result.added, result.revised, result.changed) == (0, 0, False)
    pd.testing.assert_frame_equal(result.frame, cached)


def test_empty_cache_takes_a_valid_answer():
    fresh = daily("2024-06-03", 5)
    result = merge_update(None, fresh, T, "XNYS")
    assert (result.added, result.revised) == (5, 0)
    pd.testing.assert_frame_equal(result.frame, fresh)


def test_small_revision_is_merged_and_counted():
    cached = daily("2024-06-03", 20)
    fresh = cached.tail(5).copy()
    fresh.loc[fresh.index[-1], ["close", "high"]] = [119.5, 120.5]  # 119 -> 119.5
    result = merge_update(cached, fresh, T, "XNYS")
    assert (result.added, result.revised) == (0, 1)
    assert result.frame["close"].iloc[-1] == 119.5


def test_float_rounding_noise_is_not_a_revision():
    cached = daily("2024-06-03", 20)
    fresh = cached.copy()
    fresh[["open", "high", "low", "close"]] *= 1 + 1e-9
    assert merge_update(cached, fresh, T, "XNYS").revised == 0


# --- sessions -----------------------------------------------------------------------------------


def test_isolated_non_session_date_in_the_answer_is_dropped_and_named():
    cached = daily("2024-06-03", 20)
    fresh = daily("2024-07-02", 3, close=120.0)
    fresh.loc[fresh.index[-1], "session"] = pd.Timestamp("2024-07-04")  # Independence Day
    fresh = fresh.iloc[[0, 2]]
    result = merge_update(cached, fresh, T, "XNYS")
    assert result.dropped == (pd.Timestamp("2024-07-04"),)
    assert result.added == 1 and pd.Timestamp("2024-07-04") not in set(result.frame["session"])


def test_adjacent_non_session_dates_in_the_answer_reject_it_naming_the_first():
    cached = daily("2024-06-03", 20)
    fresh = daily("2024-07-02", 5, close=120.0)
    fresh["session"] = pd.to_datetime(["2024-07-03", "2024-07-04", "2024-07-05", "2024-07-06",
                                       "2024-07-08"])  # a holiday then a Saturday: refused
    fresh = fresh.drop(index=fresh.index[2])
    with pytest.raises(DataValidationError, match="session 2024-07-04: not a XNYS session"):
        merge_update(cached, fresh, T, "XNYS")


def test_non_session_date_in_the_cache_is_rejected_too():
    cached = daily("2024-06-03", 5)
    cached.loc[cached.index[-1], "session"] = pd.Timestamp("2024-06-15")  # Saturday
    with pytest.raises(DataValidationError, match="2024-06-15: cached data: not a XNYS session"):
        merge_update(cached, daily("2024-06-17", 2), T, "XNYS")


def test_series_shifted_by_one_session_is_rejected_not_merged_as_revisions():
    # the sessions are all valid, but every value belongs to the previous session
    cached = daily("2023-01-03", 400)
    shifted = cached.copy()
    shifted[["open", "high", "low", "close", "volume"]] = cached[
        ["open", "high", "low", "close", "volume"]
    ].shift(-1).to_numpy()
    shifted = shifted.iloc[:-1]
    with pytest.raises(RevisionRejected, match="revise 399 of 399 cached sessions") as info:
        merge_update(cached, shifted, T, "XNYS")
    assert isinstance(info.value, SourceError)
    assert info.value.count == 399
    assert pd.Timestamp(info.value.session) == cached["session"].iloc[0]
    assert "2023-01-03 close 100 -> 101" in str(info.value)


def test_revision_count_limit_is_max_of_five_and_one_percent():
    limits = RevisionLimits()
    assert limits.max_count(10) == 5
    assert limits.max_count(9000) == 90
    cached = daily("2024-01-02", 100)
    fresh = cached.copy()
    fresh.loc[:5, ["close"]] += 0.01  # 6 revisions of 100 overlapping: > max(5, 1)
    with pytest.raises(RevisionRejected, match=r"revise 6 of 100 .*\(limit 5\)"):
        merge_update(cached, fresh, T, "XNYS")
    fresh = cached.copy()
    fresh.loc[:4, ["close"]] += 0.01  # 5: accepted
    assert merge_update(cached, fresh, T, "XNYS").revised == 5


def test_close_revised_beyond_tolerance_is_rejected_naming_session_and_values():
    cached = daily("2024-06-03", 20)
    fresh = cached.tail(3).copy()
    fresh.loc[fresh.index[0], ["close", "high"]] = [130.0, 131.0]  # 117 -> 130 (+11 %)
    with pytest.raises(RevisionRejected, match=r"2024-06-27 from 117 to 130 \(\+11.1%, limit 5%\)"):
        merge_update(cached, fresh, T, "XNYS")


def test_rejected_merge_leaves_the_cached_frame_untouched():
    cached = daily("2024-06-03", 20)
    before = cached.copy()
    fresh = cached.copy()
    fresh["close"] *= 1.5
    fresh["high"] *= 1.5
    with pytest.raises(RevisionRejected):
        merge_update(cached, fresh, T, "XNYS")
    pd.testing.assert_frame_equal(cached, before)


# --- bad rows -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"), [("close", np.nan), ("high", 1.0), ("low", np.inf), ("volume", -3.0)]
)
def test_bad_fresh_row_of_a_cached_session_keeps_the_cached_row(column, value):
    cached = daily("2024-06-03", 20)
    fresh = daily("2024-06-03", 25).tail(10)  # 5 cached + 5 new
    bad_day = fresh["session"].iloc[2]
    fresh.loc[fresh.index[2], column] = value
    result = merge_update(cached, fresh, T, "XNYS")
    assert result.kept_cached == (bad_day,)
    assert (result.added, result.revised) == (5, 0)
    row = result.frame.set_index("session").loc[bad_day]
    pd.testing.assert_series_equal(row, cached.set_index("session").loc[bad_day])


def test_bad_fresh_row_of_a_new_session_rejects_the_answer_naming_it():
    cached = daily("2024-06-03", 20)
    fresh = daily("2024-06-03", 25).tail(10)
    fresh.loc[fresh.index[7], "close"] = np.inf
    with pytest.raises(DataValidationError, match="session 2024-07-05: price is not finite"):
        merge_update(cached, fresh, T, "XNYS")


def test_bad_row_with_an_empty_cache_is_an_error():
    fresh = daily("2024-06-03", 5)
    fresh.loc[1, "low"] = 1000.0
    with pytest.raises(DataValidationError, match="2024-06-04: low > min"):
        merge_update(None, fresh, T, "XNYS")


# --- volume -------------------------------------------------------------------------------------


def test_unknown_fresh_volume_keeps_the_cached_volume():
    cached = daily("2024-06-03", 20)
    fresh = daily("2024-06-03", 22).drop(columns=["volume"])  # a file without volume
    result = merge_update(cached, fresh, T, "XNYS")
    merged = result.frame.set_index("session")["volume"]
    assert merged.iloc[:20].tolist() == cached["volume"].tolist()
    assert merged.iloc[20:].isna().all()  # new sessions: unknown
    assert (result.added, result.revised) == (2, 0)


def test_known_fresh_volume_wins_and_counts_as_a_revision_never_rejected():
    cached = daily("2024-06-03", 50)
    fresh = cached.copy()
    fresh["volume"] *= 2  # 50 volume revisions: volume alone is never implausible
    result = merge_update(cached, fresh, T, "XNYS")
    assert result.revised == 50
    assert result.frame["volume"].tolist() == fresh["volume"].tolist()
