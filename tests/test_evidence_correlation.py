"""The pure correlation study (evidence.correlation) on cases with known answers: prices at
availability times (causal, early closes, weekends, gaps), the ALT basket, the rolling
correlation, the intervals, the cross-correlation and the verdict words."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from russell_regime.core.calendar import Availability
from russell_regime.evidence.correlation import (
    BASKET,
    INDEX,
    LAG_COLUMNS,
    PERIOD_COLUMNS,
    ROLLING_COLUMNS,
    bootstrap_corr,
    correlation_study,
    cross_correlation,
    fisher_ci,
    lag_table,
    min_count,
    period_table,
    price_at,
    rolling_corr,
    rolling_table,
    session_returns,
    verdict,
)

HOUR = pd.Timedelta(hours=1)


def _candles(start: str, end: str, drop: tuple[str, ...] = (), scale: float = 1.0
             ) -> pd.DataFrame:
    """Hourly candles whose close encodes the candle: close = scale * (1000 + hours since
    ``start`` of its OPEN time) + 0.5, so the candle used can be read back from the price."""
    dates = pd.date_range(start, end, freq="h", tz="UTC")
    dates = dates[~dates.isin(pd.DatetimeIndex(list(drop)).tz_localize("UTC"))] if drop \
        else dates
    hours = np.asarray((dates - pd.Timestamp(start, tz="UTC")) / HOUR, dtype="float64")
    close = scale * (1000.0 + hours) + 0.5
    return pd.DataFrame({"date": dates, "open": close - 0.25, "high": close + 1,
                         "low": close - 1, "close": close, "volume": 1.0})


def _open_time_of(price: float, start: str, scale: float = 1.0) -> pd.Timestamp:
    return pd.Timestamp(start, tz="UTC") + (round((price - 0.5) / scale) - 1000) * HOUR


# Thanksgiving week 2024 (EST): Wed 27 regular, Thu 28 closed, Fri 29 early close 13:00 New
# York, then the weekend, Mon Dec 2 regular; and July 2024 (EDT): Wed 3 early close, Thu 4
# closed, Fri 5, weekend, Mon 8.
SESSIONS = pd.DatetimeIndex(["2024-07-02", "2024-07-03", "2024-07-05", "2024-07-08",
                             "2024-11-26", "2024-11-27", "2024-11-29", "2024-12-02"])
CLOSES_UTC = ["2024-07-02 20:00", "2024-07-03 17:00", "2024-07-05 20:00", "2024-07-08 20:00",
              "2024-11-26 21:00", "2024-11-27 21:00", "2024-11-29 18:00", "2024-12-02 21:00"]
START = "2024-06-30 00:00"


def test_the_price_at_availability_is_the_candle_closing_at_the_nyse_close():
    avail = Availability().available_at(SESSIONS)  # close + 15 min, early closes included
    assert list(avail) == [pd.Timestamp(c, tz="UTC") + pd.Timedelta(minutes=15)
                           for c in CLOSES_UTC]
    prices = price_at(_candles(START, "2024-12-31 23:00"), avail)
    expected_close = pd.DatetimeIndex(CLOSES_UTC).tz_localize("UTC")
    assert (prices["price_time"] == expected_close).all()
    assert (prices["price_time"] <= avail).all()  # known at the instant: no look-ahead
    used_open = [_open_time_of(p, START) for p in prices["price"]]
    # the candle that opened an hour before the close; never the one open at available_at
    assert used_open == list(expected_close - HOUR)
    assert all(o + HOUR <= t for o, t in zip(used_open, avail, strict=True))


def test_a_candle_closing_exactly_at_the_instant_counts_and_a_later_one_never():
    avail = Availability(lag_minutes=0).available_at(SESSIONS[:2])  # the close itself
    prices = price_at(_candles(START, "2024-07-10 00:00"), avail)
    assert list(prices["price_time"]) == list(avail)
    one_minute_early = price_at(_candles(START, "2024-07-10 00:00"),
                                avail - pd.Timedelta(minutes=1))
    assert list(one_minute_early["price_time"]) == list(avail - HOUR)


def test_a_missing_candle_falls_back_within_max_stale_else_no_price():
    avail = Availability().available_at(SESSIONS[:4])
    # the candle closing at Fri 5 July 20:00 UTC (open 19:00) is missing: the one before
    one_gap = price_at(_candles(START, "2024-07-10 00:00", drop=("2024-07-05 19:00",)), avail)
    assert one_gap["price_time"].iloc[2] == pd.Timestamp("2024-07-05 19:00", tz="UTC")
    # three missing: the last close is 3h15 before available_at, more than 2 h: no price
    gap = ("2024-07-05 17:00", "2024-07-05 18:00", "2024-07-05 19:00")
    stale = price_at(_candles(START, "2024-07-10 00:00", drop=gap), avail)
    assert np.isnan(stale["price"].iloc[2]) and pd.isna(stale["price_time"].iloc[2])
    assert np.isfinite(stale["price"].drop(stale.index[2])).all()
    # before the first candle: no price
    early = price_at(_candles("2024-07-04 00:00", "2024-07-10 00:00"), avail)
    assert early["price"].isna().tolist() == [True, True, False, False]


def test_session_returns_cover_the_same_intervals_including_weekends_and_early_closes():
    avail = Availability().available_at(SESSIONS)
    daily = pd.DataFrame({"session": SESSIONS,
                          "close": [100.0, 101.0, 99.0, 102.0, 110.0, 111.0, 109.0, 112.0]})
    returns = session_returns(daily, avail, {"BTC": _candles(START, "2024-12-31 23:00")})
    assert list(returns["session"]) == list(SESSIONS[1:])
    assert list(returns["start"]) == list(avail[:-1])
    assert list(returns["available_at"]) == list(avail[1:])
    np.testing.assert_allclose(returns[INDEX], np.log(daily["close"].to_numpy()[1:]
                                                      / daily["close"].to_numpy()[:-1]))
    # Mon 2 Dec: from Fri 29 Nov's early close (18:00 UTC) over the weekend to 21:00 UTC Monday
    closes = pd.DatetimeIndex(CLOSES_UTC).tz_localize("UTC")
    hours = np.asarray((closes - HOUR - pd.Timestamp(START, tz="UTC")) / HOUR)
    price = 1000.0 + hours + 0.5
    np.testing.assert_allclose(returns["BTC"], np.log(price[1:] / price[:-1]))
    assert "ETH" not in returns and BASKET not in returns  # BTC is no alt


def test_the_alt_basket_is_the_equal_weight_basket_of_the_alts_priced_at_both_ends():
    avail = Availability().available_at(SESSIONS[:4])
    daily = pd.DataFrame({"session": SESSIONS[:4], "close": [1.0, 2.0, 3.0, 4.0]})
    candles = {"BTC": _candles(START, "2024-07-10 00:00"),
               "SOL": _candles(START, "2024-07-10 00:00", scale=2.0),
               "ADA": _candles("2024-07-04 00:00", "2024-07-10 00:00", scale=3.0)}
    r = session_returns(daily, avail, candles)
    # ADA starts on the 4th: the first interval holds SOL alone, the last two both alts
    assert np.isnan(r["ADA"].iloc[0]) and np.isnan(r["ADA"].iloc[1])
    np.testing.assert_allclose(r[BASKET].iloc[:2], r["SOL"].iloc[:2])
    simple = np.expm1(r[["SOL", "ADA"]].iloc[2].to_numpy())
    assert r[BASKET].iloc[2] == pytest.approx(math.log1p(simple.mean()))
    assert r[BASKET].iloc[2] != pytest.approx(r[["SOL", "ADA"]].iloc[2].mean())  # not logs


# --- rolling -----------------------------------------------------------------------------------


def test_rolling_correlation_equals_pandas_and_a_hand_computation():
    rng = np.random.default_rng(3)
    x = rng.normal(size=40)
    y = 0.5 * x + rng.normal(size=40)
    y[17] = np.nan  # one gap: windows holding it use the 9 other pairs (>= 90 % of 10)
    x[30], y[33] = np.nan, np.nan  # two gaps within 10 sessions: those windows are NaN
    got = rolling_corr(x, y, 10)
    assert min_count(10) == 9
    assert np.isnan(got[:9]).all()  # not full yet
    want = pd.Series(x).rolling(10, min_periods=9).corr(pd.Series(y)).to_numpy()
    np.testing.assert_allclose(got[9:], want[9:], rtol=1e-10, equal_nan=True)
    window = slice(10, 20)  # holds the gap at 17
    ok = np.isfinite(x[window]) & np.isfinite(y[window])
    by_hand = np.corrcoef(x[window][ok], y[window][ok])[0, 1]
    assert got[19] == pytest.approx(by_hand, rel=1e-12)
    assert np.isnan(got[33:40]).all() and np.isfinite(got[29])
    assert np.isfinite(got[9:30]).all()


def test_rolling_table_starts_at_each_assets_first_return():
    sessions = pd.bdate_range("2024-01-01", periods=30)
    rng = np.random.default_rng(0)
    eth = rng.normal(size=30)
    eth[:5] = np.nan
    returns = pd.DataFrame({"session": sessions, INDEX: rng.normal(size=30),
                            "BTC": rng.normal(size=30), "ETH": eth})
    table = rolling_table(returns, [10, 20])
    assert list(table.columns) == list(ROLLING_COLUMNS)
    counts = table.groupby(["asset", "window"]).size()
    assert counts[("BTC", 10)] == 30 and counts[("ETH", 10)] == 25 and counts[("ETH", 20)] == 25
    eth10 = table[(table["asset"] == "ETH") & (table["window"] == 10)]
    assert eth10["session"].iloc[0] == sessions[5]
    assert eth10["corr"].isna().tolist() == [True] * 9 + [False] * 16


# --- periods -------------------------------------------------------------------------------------


def test_fisher_interval_is_the_textbook_formula():
    lo, hi = fisher_ci(0.5, 103)
    half = 1.959963984540054 / 10
    assert (lo, hi) == (pytest.approx(math.tanh(math.atanh(0.5) - half)),
                        pytest.approx(math.tanh(math.atanh(0.5) + half)))
    assert all(np.isnan(fisher_ci(0.5, 3)))
    s_lo, s_hi = fisher_ci(0.5, 103, scale=1.06)
    assert s_lo < lo < hi < s_hi


def test_period_table_splits_by_session_date_with_seeded_intervals():
    sessions = pd.bdate_range("2019-01-01", "2023-12-29")
    rng = np.random.default_rng(11)
    x = rng.normal(size=sessions.size)
    before = np.asarray(sessions < pd.Timestamp("2020-01-01"))
    y = np.where(before, rng.normal(size=sessions.size),
                 x + 0.5 * rng.normal(size=sessions.size))
    returns = pd.DataFrame({"session": sessions, INDEX: x, "BTC": y})
    raw = period_table(returns, reps=300, seed=5)
    assert list(raw.columns) == list(PERIOD_COLUMNS)
    assert raw["period"].tolist() == ["before 2020", "2020-2021", "2022+", "all"]
    table = raw.set_index("period")
    assert table.loc["before 2020", "n"] == before.sum()
    assert table.loc["all", "n"] == sessions.size
    assert table.loc["2020-2021", "first_session"] == pd.Timestamp("2020-01-01")
    assert table.loc["2022+", "last_session"] == pd.Timestamp("2023-12-29")
    assert table.loc["2022+", "corr"] == pytest.approx(
        np.corrcoef(x[sessions >= "2022-01-01"], y[sessions >= "2022-01-01"])[0, 1])
    assert table.loc["before 2020", "fisher_low"] < 0 < table.loc["before 2020", "fisher_high"]
    for period in ("2020-2021", "2022+"):  # strong relation: well away from 0
        row = table.loc[period]
        assert 0.7 < row["fisher_low"] < row["corr"] < row["fisher_high"]
        assert row["boot_low"] < row["corr"] < row["boot_high"]
        assert row["spearman_low"] < row["spearman"] < row["spearman_high"]
    again = period_table(returns, reps=300, seed=5).set_index("period")
    assert again["boot_low"].equals(table["boot_low"])
    other = period_table(returns, reps=300, seed=6).set_index("period")
    assert not other["boot_low"].equals(table["boot_low"])
    assert period_table(returns, reps=0)["boot_low"].isna().all()


def test_bootstrap_correlation_is_seeded_and_centred():
    rng = np.random.default_rng(2)
    x = rng.normal(size=400)
    y = x + rng.normal(size=400)
    a = bootstrap_corr(x, y, 20, 500, np.random.default_rng(1))
    b = bootstrap_corr(x, y, 20, 500, np.random.default_rng(1))
    assert np.array_equal(a, b)
    assert abs(np.median(a) - np.corrcoef(x, y)[0, 1]) < 0.02


# --- lags and verdict ---------------------------------------------------------------------------


def _lagged(shift: int, seed: int = 4, n: int = 1500) -> pd.DataFrame:
    """R2K and BTC returns with BTC[t] = R2K[t - shift] + noise (shift > 0: the Russell leads)
    or R2K[t] = BTC[t + shift] + noise (shift < 0: BTC leads)."""
    rng = np.random.default_rng(seed)
    driver = rng.normal(size=n + 20)
    follower = np.roll(driver, abs(shift)) + rng.normal(size=n + 20)
    driver, follower = driver[20:], follower[20:]
    r2k, btc = (driver, follower) if shift > 0 else (follower, driver)
    return pd.DataFrame({"session": pd.bdate_range("2018-01-01", periods=n), INDEX: r2k,
                         "BTC": btc})


def test_a_russell_lead_of_three_sessions_is_found_at_lag_plus_three():
    table = lag_table(_lagged(3), 10)
    assert list(table.columns) == list(LAG_COLUMNS)
    assert table["lag"].tolist() == list(range(-10, 11))
    peak = table.loc[table["corr"].abs().idxmax()]
    assert peak["lag"] == 3 and peak["corr"] > 0.6
    assert table.loc[table["significant"], "lag"].tolist() == [3]
    line = verdict(table, "BTC")
    assert "the Russell leads BTC (lag +3:" in line
    assert "BTC leads" not in line
    assert "no same-session co-movement" in line  # lag 0 is inside the band


def test_a_crypto_lead_is_found_at_a_negative_lag():
    table = lag_table(_lagged(-2), 5)
    peak = table.loc[table["corr"].abs().idxmax()]
    assert peak["lag"] == -2
    line = verdict(table, "BTC")
    assert "BTC leads the Russell (lag -2:" in line and "the Russell leads" not in line


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_independent_series_flag_no_lag_after_bh(seed):
    rng = np.random.default_rng(seed)
    n = 1500
    returns = pd.DataFrame({"session": pd.bdate_range("2018-01-01", periods=n),
                            INDEX: rng.normal(size=n), "BTC": rng.normal(size=n)})
    table = lag_table(returns, 10)
    assert not table.loc[table["lag"] != 0, "significant"].any()
    others = table[table["lag"] != 0]
    assert others["p_bh"].min() > 0.05
    line = verdict(table, "BTC")
    assert "no lead or lag survives BH at q = 0.05 over 20 lags" in line
    # with iid pairs the robust band is the plain one, up to sampling error
    np.testing.assert_allclose(table["band_robust"], table["band"], rtol=0.15)


def test_same_session_relation_reads_moves_with_or_against():
    rng = np.random.default_rng(9)
    x = rng.normal(size=800)
    with_ = pd.DataFrame({INDEX: x, "BTC": x + rng.normal(size=800)})
    against = pd.DataFrame({INDEX: x, "BTC": -x + rng.normal(size=800)})
    assert verdict(lag_table(with_, 3), "BTC").startswith("BTC: moves with the Russell (lag 0: +0.")
    assert verdict(lag_table(against, 3), "BTC").startswith(
        "BTC: moves against the Russell (lag 0: -0.")
    assert verdict(lag_table(with_, 0), "BTC").endswith("no lag other than 0 tested")
    empty = pd.DataFrame({INDEX: x, "BTC": np.nan})
    assert verdict(lag_table(empty, 3), "BTC") == (
        "BTC: too few sessions with both returns to measure (n 0)")


def test_cross_correlation_sign_convention_and_pair_counts():
    x = np.array([1.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, -1.0, 0.0, 0.0])
    y = np.roll(x, 2)  # y[t] = x[t - 2]: corr(x[t], y[t + 2]) = 1
    table = cross_correlation(x, y, 3).set_index("lag")
    assert table.loc[2, "corr"] == pytest.approx(1.0)
    assert table.loc[2, "n"] == x.size - 2 and table.loc[-3, "n"] == x.size - 3
    assert table.loc[2, "band"] == pytest.approx(1.959963984540054 / math.sqrt(9))
    assert np.isnan(table.loc[0, "p_bh"])  # lag 0 is not in the family
    assert table.loc[2, "p_bonferroni"] == pytest.approx(min(1.0, table.loc[2, "p_robust"] * 6))


def test_the_robust_p_value_holds_its_level_under_shared_volatility_bursts():
    """Independent returns whose volatility jumps at the same time in both (a crash): the
    ±1.96/√n band rejects far too often, the robust one about 5 % of the time."""
    plain = robust = 0
    runs = 200
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        sigma = np.ones(500)
        sigma[100:130], sigma[300:310] = 6.0, 8.0
        row = cross_correlation(sigma * rng.normal(size=500), sigma * rng.normal(size=500),
                                1).set_index("lag").loc[1]
        plain += row["p"] < 0.05
        robust += row["p_robust"] < 0.05
    assert plain / runs > 0.25
    assert robust / runs < 0.09


def test_correlation_study_gathers_every_table_and_a_verdict_per_asset():
    returns = _lagged(3)
    returns["ETH"] = returns["BTC"] * 0.5 + 0.1 * returns[INDEX]
    result = correlation_study(returns, [20, 60], 4, reps=50)
    assert set(result.verdicts) == {"BTC", "ETH"}
    assert set(result.rolling["window"]) == {20, 60}
    assert len(result.lags) == 2 * 9 and len(result.periods) == 2 * 4
    assert result.verdicts["BTC"] == verdict(result.lags, "BTC")
