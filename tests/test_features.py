"""Regime feature definitions (russell_regime.features), on hand-made and real frames.

The hand-made frames follow the definitions in the features module docstring; the real-data
facts (2018 high, Q4 2020 breakouts, 2021/2024 ATHs) come from the project specification.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from russell_regime.core.daily import validate_daily
from russell_regime.core.features import (
    ath_features,
    breakout_features,
    regime_features,
    resistance,
    sessions_since,
    support_features,
)

NAN = np.nan


def make_daily(closes, lows=None, highs=None) -> pd.DataFrame:
    """A validated daily frame: open = close, high/low 0.1% around it unless given."""
    closes = np.asarray(closes, dtype="float64")
    lows = closes * 0.999 if lows is None else np.asarray(lows, dtype="float64")
    highs = closes * 1.001 if highs is None else np.asarray(highs, dtype="float64")
    frame = pd.DataFrame(
        {
            "session": pd.bdate_range("2024-01-01", periods=len(closes)),
            "open": closes,
            "high": highs,
            "low": lows,
            "close": closes,
        }
    )
    return validate_daily(frame, "^HAND")


def lows_with(closes, touches: dict[int, float]) -> np.ndarray:
    """Default lows (0.1% under the close) with explicit lows at some sessions."""
    lows = np.asarray(closes, dtype="float64") * 0.999
    for i, low in touches.items():
        lows[i] = low
    return lows


def episode(closes, lows=None, lookback=3, window=20, tolerance=0.02, expiry=60, margin=0.0):
    daily = make_daily(closes, lows=lows)
    return regime_features(
        daily, lookback, margin=margin, tolerance=tolerance, window=window, expiry=expiry
    )


def nan_list(values) -> list:
    return [None if v != v else v for v in np.asarray(values, dtype="float64").tolist()]


# --- sessions_since ----------------------------------------------------------------------


def test_sessions_since_counts_from_last_true_and_is_nan_before_first():
    flags = np.array([False, True, False, False, True, False])
    assert nan_list(sessions_since(flags)) == [None, 0, 1, 2, 0, 1]


# --- ATH ---------------------------------------------------------------------------------


def test_new_ath_is_strict_a_tie_is_not_new():
    ath = ath_features(make_daily([10, 12, 12, 13, 13]))
    assert ath["new_ath"].tolist() == [False, True, False, True, False]


def test_first_session_is_not_a_new_ath():
    assert ath_features(make_daily([10]))["new_ath"].tolist() == [False]
    assert ath_features(make_daily([10, 9]))["new_ath"].tolist() == [False, False]


def test_ath_is_running_max():
    ath = ath_features(make_daily([10, 12, 11, 13, 9]))
    assert ath["ath"].tolist() == [10, 12, 12, 13, 13]


def test_sessions_since_ath_resets_on_a_tie_with_the_ath():
    # sessions_since_ath_t = t - max{s <= t : b_s = ath_s}: a tie touches the ATH again.
    ath = ath_features(make_daily([10, 12, 11, 11, 12, 13, 9]))
    assert ath["sessions_since_ath"].tolist() == [0, 0, 1, 2, 0, 0, 1]


def test_drawdown_from_close_ath():
    ath = ath_features(make_daily([100, 80, 120, 90]))
    np.testing.assert_allclose(ath["drawdown"], [0.0, -0.2, 0.0, -0.25])


def test_high_basis_uses_highs_for_ath_and_close_for_drawdown():
    closes = [100, 100, 100]
    highs = [110, 105, 120]
    daily = make_daily(closes, highs=highs)
    ath = ath_features(daily, basis="high")
    assert ath["ath"].tolist() == [110, 110, 120]
    assert ath["new_ath"].tolist() == [False, False, True]
    assert ath["sessions_since_ath"].tolist() == [0, 1, 0]
    np.testing.assert_allclose(ath["drawdown"], [100 / 110 - 1, 100 / 110 - 1, 100 / 120 - 1])
    assert ath_features(daily, basis="close")["new_ath"].tolist() == [False, False, False]


# --- resistance / breakout ---------------------------------------------------------------


def test_resistance_excludes_current_session_and_is_nan_before_n_earlier():
    daily = make_daily([1, 5, 3, 2, 4])
    assert nan_list(resistance(daily, 2)) == [None, None, 5, 5, 3]
    assert nan_list(resistance(daily, 4)) == [None, None, None, None, 5]
    assert nan_list(resistance(daily, 5)) == [None] * 5


def test_resistance_of_a_rising_series_is_below_the_close():
    daily = make_daily([1, 2, 3, 4])
    assert nan_list(resistance(daily, 1)) == [None, 1, 2, 3]


def test_resistance_high_basis_uses_highs():
    daily = make_daily([10, 10, 10, 10], highs=[11, 15, 12, 10.5])
    assert nan_list(resistance(daily, 2, basis="high")) == [None, None, 15, 15]


def test_breakout_is_strict_a_close_equal_to_resistance_is_not():
    brk = breakout_features(make_daily([100, 100, 100, 100]), 3)
    assert brk["breakout"].tolist() == [False, False, False, False]


def test_breakout_just_above_margin():
    brk = breakout_features(make_daily([100, 100, 100, 101.5]), 3, margin=0.01)
    assert brk["breakout"].tolist() == [False, False, False, True]


def test_breakout_just_below_margin():
    brk = breakout_features(make_daily([100, 100, 100, 100.5]), 3, margin=0.01)
    assert brk["breakout"].tolist() == [False, False, False, False]
    # ...but it is one without a margin
    assert breakout_features(make_daily([100, 100, 100, 100.5]), 3)["breakout"].iloc[-1]


def test_no_breakout_before_resistance_exists():
    brk = breakout_features(make_daily([100, 200, 300, 400]), 3)
    assert brk["breakout"].tolist() == [False, False, False, True]


def test_breakout_compares_the_close_with_a_high_basis_resistance():
    highs = [101, 101, 101, 102]
    daily = make_daily([100, 100, 100, 100.5], highs=highs)
    assert not breakout_features(daily, 3, basis="high")["breakout"].iloc[-1]  # only the high
    daily = make_daily([100, 100, 100, 101.5], highs=[101, 101, 101, 102])
    brk = breakout_features(daily, 3, basis="high")
    assert brk["breakout"].iloc[-1]
    assert brk["resistance"].iloc[-1] == 101


def test_broken_level_is_remembered_and_updated_by_the_next_breakout():
    brk = breakout_features(make_daily([100, 100, 100, 105, 104, 104, 110]), 3)
    assert brk["breakout"].tolist() == [False, False, False, True, False, False, True]
    assert nan_list(brk["broken_level"]) == [None, None, None, 100, 100, 100, 105]
    assert nan_list(brk["sessions_since_breakout"]) == [None, None, None, 0, 1, 2, 0]


def test_breakout_active_expires():
    closes = [100, 100, 100, 105] + [104] * 10
    brk = breakout_features(make_daily(closes), 3, expiry=5)
    active = brk["breakout_active"].tolist()
    assert active[:3] == [False] * 3
    assert active[3:8] == [True] * 5  # 0..4 sessions after the breakout
    assert active[9:] == [False] * 5  # 6+ sessions after it


def test_breakout_active_fails_when_close_drops_below_broken_level_tolerance():
    closes = [100, 100, 100, 105, 97.9, 98.1]  # level 100, tolerance 2% -> floor 98
    brk = breakout_features(make_daily(closes), 3, tolerance=0.02, expiry=60)
    assert brk["breakout_active"].tolist() == [False, False, False, True, False, True]


# --- support / retest episodes -----------------------------------------------------------
# Base pattern (lookback 3): 100, 100, 100, then 105 breaks out over resistance 100
# -> episode level 100, floor 98, touch 102 (tolerance 2%). Closes at 104 afterwards are
# neither breakouts (resistance >= 104) nor touches (low 103.9).

BASE = [100, 100, 100, 105]


def test_retest_confirms_when_low_within_tolerance_and_close_holds():
    closes = BASE + [104, 103, 104, 104]
    feats = episode(closes, lows_with(closes, {5: 101.5}))
    assert feats["retest"].tolist() == [False] * 5 + [True, False, False]
    assert feats["support"].tolist() == [False] * 5 + [True, True, True]
    assert nan_list(feats["support_level"]) == [None] * 3 + [100] * 5


def test_low_just_outside_tolerance_is_not_a_retest():
    closes = BASE + [104, 103, 104, 104]
    feats = episode(closes, lows_with(closes, {5: 102.5}))
    assert not feats["retest"].any()
    assert not feats["support"].any()
    assert nan_list(feats["support_level"]) == [None] * 3 + [100] * 5  # episode still live


def test_breakout_session_itself_is_not_a_retest():
    closes = BASE + [104]
    feats = episode(closes, lows_with(closes, {3: 99.0}))
    assert not feats["retest"].any()


def test_no_retest_when_close_below_level():
    closes = BASE + [104, 99.5, 103, 104]  # 99.5: under the level but above the floor
    feats = episode(closes, lows_with(closes, {5: 99.0, 6: 101.5}))
    assert not feats["retest"].iloc[5]
    assert not feats["support"].iloc[5]
    assert feats["support_level"].iloc[5] == 100  # the episode survives
    assert feats["retest"].iloc[6]  # and a later touch confirms it


def test_support_ends_when_close_below_level_times_one_minus_tolerance():
    closes = BASE + [104, 103, 97.9, 103, 104]
    feats = episode(closes, lows_with(closes, {5: 101.5, 7: 101.5}))
    assert feats["support"].tolist()[4:7] == [False, True, False]
    assert np.isnan(feats["support_level"].iloc[6])
    # the episode is over: a later touch is no retest and support stays off
    assert not feats["retest"].iloc[7]
    assert not feats["support"].iloc[7:].any()


def test_support_survives_a_close_just_above_the_floor():
    closes = BASE + [104, 103, 98.1, 104]
    feats = episode(closes, lows_with(closes, {5: 101.5}))
    assert feats["support"].tolist()[5:] == [True, True, True]


def test_support_expires_expiry_sessions_after_latest_retest():
    closes = BASE + [104, 103] + [104] * 10  # retest at 5
    feats = episode(closes, lows_with(closes, {5: 101.5}), expiry=5)
    support = feats["support"].tolist()
    assert support[5:10] == [True] * 5  # 0..4 sessions after the retest
    assert support[11:] == [False] * 5  # 6+ sessions after it
    assert feats["support_level"].iloc[11:].isna().all()


def test_a_later_retest_restarts_the_expiry():
    closes = BASE + [104, 103, 104, 104, 103] + [104] * 8  # retests at 5 and 8
    feats = episode(closes, lows_with(closes, {5: 101.5, 8: 101.5}), expiry=5)
    assert feats["retest"].iloc[[5, 8]].all()
    assert feats["support"].iloc[12]  # 7 after the first retest, 4 after the latest
    assert not feats["support"].iloc[14:].any()
    single = episode(closes, lows_with(closes, {5: 101.5}), expiry=5)
    assert not single["support"].iloc[12]


def test_retest_within_window_sessions_of_the_breakout():
    closes = BASE + [104, 104, 103, 104]  # touch 3 sessions after the breakout
    feats = episode(closes, lows_with(closes, {6: 101.5}), window=3)
    assert feats["retest"].iloc[6]
    assert feats["support"].iloc[6:].all()


def test_no_retest_after_window_sessions_and_episode_ends():
    closes = BASE + [104, 104, 104, 103, 104]  # touch 4 sessions after the breakout
    feats = episode(closes, lows_with(closes, {7: 101.5}), window=3)
    assert not feats["retest"].any()
    assert not feats["support"].any()
    assert nan_list(feats["support_level"]) == [None] * 3 + [100] * 4 + [None] * 2


def test_episode_level_stays_at_first_breakout_resistance():
    # 105 breaks 100 (level 100); 110 breaks 105 (a later breakout); 104 touches 101.5:
    # a retest against level 100, which a level moved to 105 would reject (104 < 105).
    closes = BASE + [110, 104, 108]
    feats = episode(closes, lows_with(closes, {5: 101.5}))
    assert feats["breakout"].tolist()[3:5] == [True, True]
    assert nan_list(feats["broken_level"])[3:] == [100, 105, 105, 105]
    assert nan_list(feats["support_level"])[3:] == [100, 100, 100, 100]
    assert feats["retest"].iloc[5]


def test_later_breakout_extends_the_retest_window():
    # breakouts at 3 and 5; the touch at 8 is 5 sessions after the first one (window 3)
    # but 3 after the last one, so it is a retest of the still-live episode.
    closes = BASE + [104, 106, 104, 104, 104, 104]
    feats = episode(closes, lows_with(closes, {8: 101.5}), window=3)
    assert feats["breakout"].iloc[[3, 5]].all()
    assert feats["retest"].iloc[8]
    assert feats["support_level"].iloc[8] == 100
    without = BASE + [104, 104, 104, 104, 104, 104]
    alone = episode(without, lows_with(without, {8: 101.5}), window=3)
    assert not alone["retest"].iloc[8]


def test_new_episode_after_the_previous_ended_takes_the_new_resistance():
    closes = BASE + [97, 96, 96, 99]  # 97 < floor 98 ends it; 99 breaks out over 97
    feats = episode(closes)
    assert feats["breakout"].iloc[7]
    assert np.isnan(feats["support_level"].iloc[4:7]).all()
    assert feats["support_level"].iloc[7] == 97


def test_support_features_without_any_breakout_is_empty():
    daily = make_daily([100, 99, 98, 97])
    sup = support_features(daily, np.full(4, np.nan), np.zeros(4, dtype=bool))
    assert not sup["support"].any() and not sup["retest"].any()
    assert sup["support_level"].isna().all()


def test_regime_features_columns_and_alignment():
    daily = make_daily([100, 100, 100, 105, 104])
    daily.index = pd.RangeIndex(10, 15)
    feats = regime_features(daily, 3)
    assert list(feats.index) == list(daily.index)
    assert set(feats.columns) == {
        "ath", "new_ath", "sessions_since_ath", "drawdown",
        "resistance", "breakout", "broken_level", "sessions_since_breakout", "breakout_active",
        "support_level", "retest", "support",
    }


# --- invalid thresholds ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name", "value"),
    [
        ({"margin": -0.01}, "margin", -0.01),
        ({"margin": 1.0}, "margin", 1.0),
        ({"tolerance": -0.1}, "tolerance", -0.1),
        ({"tolerance": 1.5}, "tolerance", 1.5),
        ({"expiry": 0}, "expiry", 0),
        ({"expiry": 2.5}, "expiry", 2.5),
        ({"window": 0}, "window", 0),
        ({"window": -3}, "window", -3),
        ({"lookback": 0}, "lookback", 0),
        ({"lookback": 2.5}, "lookback", 2.5),
        ({"basis": "open"}, "basis", "open"),
    ],
)
def test_invalid_threshold_raises_value_error_naming_the_value(kwargs, name, value):
    params = {"lookback": 3, **kwargs}
    daily = make_daily([100, 100, 100, 105])
    with pytest.raises(ValueError, match=rf"{name}.*{re.escape(repr(value))}"):
        regime_features(daily, **params)


def test_invalid_support_window_in_support_features():
    daily = make_daily([100, 100])
    with pytest.raises(ValueError, match=r"window.*-1"):
        support_features(daily, np.full(2, np.nan), np.zeros(2, dtype=bool), window=-1)


# --- real data (spec facts, close basis unless stated) ------------------------------------


def _at(daily: pd.DataFrame, day: str) -> int:
    matches = np.flatnonzero(daily["session"].to_numpy() == np.datetime64(day))
    assert matches.size == 1, day
    return int(matches[0])


def test_real_2018_closing_high(rut_daily):
    ath = ath_features(rut_daily)
    year = rut_daily["session"].dt.year == 2018
    top = rut_daily.loc[year, "close"].idxmax()
    assert rut_daily.loc[top, "session"] == pd.Timestamp("2018-08-31")
    assert rut_daily.loc[top, "close"] == pytest.approx(1740.75, abs=0.005)
    assert ath["new_ath"].iloc[_at(rut_daily, "2018-08-31")]


def test_real_first_new_ath_after_2018_is_2020_11_13(rut_daily):
    ath = ath_features(rut_daily)
    after = (rut_daily["session"] > "2018-08-31") & ath["new_ath"]
    first = int(np.flatnonzero(after.to_numpy())[0])
    assert rut_daily["session"].iloc[first] == pd.Timestamp("2020-11-13")
    assert rut_daily["close"].iloc[first] == pytest.approx(1744.04, abs=0.005)
    assert ath["ath"].iloc[first - 1] == pytest.approx(1740.75, abs=0.005)


@pytest.mark.parametrize(
    ("lookback", "day", "level"),
    [(756, "2020-11-13", 1740.75), (252, "2020-11-10", None)],
)
def test_real_first_breakout_in_q4_2020(rut_daily, lookback, day, level):
    brk = breakout_features(rut_daily, lookback)
    q4 = (rut_daily["session"] >= "2020-10-01") & brk["breakout"]
    first = int(np.flatnonzero(q4.to_numpy())[0])
    assert rut_daily["session"].iloc[first] == pd.Timestamp(day)
    if level is not None:
        assert brk["resistance"].iloc[first] == pytest.approx(level, abs=0.005)


def test_real_2021_11_08_is_an_ath(rut_daily):
    i = _at(rut_daily, "2021-11-08")
    assert rut_daily["close"].iloc[i] == pytest.approx(2442.74, abs=0.005)
    ath = ath_features(rut_daily)
    assert ath["new_ath"].iloc[i]
    assert ath["drawdown"].iloc[i] == 0.0


def test_real_2024_11_25_is_an_ath_on_high_basis_only(rut_daily):
    i = _at(rut_daily, "2024-11-25")
    assert rut_daily["close"].iloc[i] == pytest.approx(2442.03, abs=0.005)
    assert rut_daily["high"].iloc[i] == pytest.approx(2466.49, abs=0.005)
    assert ath_features(rut_daily, basis="high")["new_ath"].iloc[i]
    close_basis = ath_features(rut_daily, basis="close")
    assert not close_basis["new_ath"].iloc[i]
    assert close_basis["ath"].iloc[i] == pytest.approx(2442.74, abs=0.005)  # 2021-11-08


# --- no feature peeks at later sessions ----------------------------------------------------

PARAM_SETS = [
    {"lookback": 252},
    {"lookback": 756},
    {"lookback": 60, "margin": 0.01, "tolerance": 0.03, "window": 10, "expiry": 30,
     "basis": "high"},
]


def _assert_prefix_invariant(daily: pd.DataFrame, params: dict, positions) -> int:
    full = regime_features(daily, **params)
    for t in positions:
        truncated = regime_features(daily.iloc[: t + 1], **params)
        pd.testing.assert_series_equal(
            truncated.iloc[-1], full.iloc[t], check_names=False, obj=f"session {t}"
        )
    return len(positions)


@pytest.mark.parametrize("params", PARAM_SETS)
def test_features_at_t_use_only_sessions_up_to_t_synthetic(params):
    rng = np.random.default_rng(7)
    closes = 100 * np.exp(np.cumsum(rng.normal(0.001, 0.015, 1200)))
    lows = closes * (1 - rng.uniform(0, 0.03, closes.size))
    highs = closes * (1 + rng.uniform(0, 0.03, closes.size))
    daily = make_daily(closes, lows=lows, highs=highs)
    full = regime_features(daily, **params)
    assert full["breakout"].any() and full["retest"].any()  # the episode logic is exercised
    positions = sorted(set(rng.integers(0, len(daily), 120).tolist()) | {0, len(daily) - 1})
    _assert_prefix_invariant(daily, params, positions)


@pytest.mark.parametrize("params", PARAM_SETS)
def test_features_at_t_use_only_sessions_up_to_t_real(rut_daily, params):
    rng = np.random.default_rng(20240601)
    full = regime_features(rut_daily, **params)
    eventful = np.flatnonzero((full["breakout"] | full["retest"]).to_numpy())
    around = {int(i + k) for i in rng.choice(eventful, 15, replace=False) for k in (-1, 0, 1, 5)}
    positions = sorted(
        {p for p in around if 0 <= p < len(rut_daily)}
        | set(rng.integers(0, len(rut_daily), 60).tolist())
    )
    assert _assert_prefix_invariant(rut_daily, params, positions) > 60
