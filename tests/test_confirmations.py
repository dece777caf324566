"""Confirmation rules (core.confirmations) on the real index/ETF data, with anchors computed
here by hand from the CSVs (csv module, plain Python), plus edge cases."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from russell_regime.core.confirmations import (
    FlowsParams,
    LeadParams,
    ValueParams,
    VixParams,
    flows_from_shares,
    flows_open,
    lead_open,
    net_flow,
    session_ratio,
    value_open,
    vix_open,
)
from russell_regime.core.daily import validate_daily

TICKERS = {"VIX": "^VIX", "RUT": "^RUT", "SPX": "^GSPC", "SPY": "SPY", "IWM": "IWM", "IWN": "IWN"}


@pytest.fixture(scope="module")
def frames(shared_data: Path) -> dict[str, pd.DataFrame]:
    return {
        name: validate_daily(pd.read_csv(shared_data / "index" / f"{name}.csv"), ticker, "XNYS")
        for name, ticker in TICKERS.items()
    }


@pytest.fixture(scope="module")
def closes(shared_data: Path) -> dict[str, dict[str, float]]:
    """date string -> close, read with the csv module (independent of the code under test)."""
    out = {}
    for name in TICKERS:
        with open(shared_data / "index" / f"{name}.csv", newline="") as handle:
            out[name] = {row["date"]: float(row["close"]) for row in csv.DictReader(handle)}
    return out


def _at(series: pd.Series, day: str):
    return series.loc[pd.Timestamp(day)]


def _window_before(dates: list[str], day: str, n: int) -> list[str]:
    i = dates.index(day)
    return dates[i - n + 1 : i + 1]


# -- vix ------------------------------------------------------------------------------------


def test_vix_level_anchors(frames) -> None:
    is_open = vix_open(frames["VIX"], VixParams(rule="level", level=20.0))
    assert is_open.name == "vix" and is_open.dtype == bool
    assert is_open.index.equals(pd.DatetimeIndex(frames["VIX"]["session"], name="session"))
    assert _at(is_open, "2024-07-01")  # close 12.22 < 20
    assert _at(is_open, "2021-11-08")  # close 17.22 < 20
    assert not _at(is_open, "2024-08-05")  # close 38.57 (the August 2024 spike)
    assert not _at(is_open, "2020-03-16")  # close 82.69


def test_vix_below_its_50_session_mean_anchors(frames, closes) -> None:
    vix = closes["VIX"]
    dates = sorted(vix)
    is_open = vix_open(frames["VIX"], VixParams(rule="ma", window=50))
    for day, expected in [("2024-07-01", True), ("2021-11-08", True), ("2024-08-05", False)]:
        mean = sum(vix[d] for d in _window_before(dates, day, 50)) / 50
        assert (vix[day] < mean) is expected, day  # the hand computation agrees with the anchor
        assert bool(_at(is_open, day)) is expected, day
    # 2024-07-01: close 12.22 below level 20 AND below its 50-session mean 13.38
    assert abs(sum(vix[d] for d in _window_before(dates, "2024-07-01", 50)) / 50 - 13.382) < 1e-3


def test_vix_ma_is_closed_until_a_full_window(frames) -> None:
    is_open = vix_open(frames["VIX"].iloc[:60].reset_index(drop=True), VixParams("ma", window=50))
    assert not is_open.iloc[:49].any()
    full = vix_open(frames["VIX"], VixParams("ma", window=50))
    assert (is_open.iloc[49:] == full.iloc[49:60]).all()


# -- lead -----------------------------------------------------------------------------------


def test_ratio_is_formed_per_session_from_both_csvs(frames, closes) -> None:
    ratio = session_ratio(frames["RUT"], frames["SPX"])
    assert _at(ratio, "2024-07-01") == pytest.approx(2030.0699462890625 / 5475.08984375)
    assert _at(ratio, "2024-07-01") == pytest.approx(0.370783, abs=1e-6)
    # inner join: SPX goes back to 1927, RUT starts 1987-09-10; the ratio has RUT's sessions
    assert ratio.index[0] == pd.Timestamp("1987-09-10")
    assert len(ratio) == len(set(closes["RUT"]) & set(closes["SPX"]))
    day = "2020-11-13"
    assert _at(ratio, day) == pytest.approx(closes["RUT"][day] / closes["SPX"][day])


def test_lead_at_a_50_session_high_anchors(frames, closes) -> None:
    rut, spx = closes["RUT"], closes["SPX"]
    both = sorted(set(rut) & set(spx))
    ratio = {d: rut[d] / spx[d] for d in both}
    is_open = lead_open(frames["RUT"], frames["SPX"], LeadParams(rule="high", window=50))
    for day in ("2021-01-06", "2021-02-09", "2021-03-12", "2021-01-08", "2024-08-05"):
        expected = ratio[day] >= max(ratio[d] for d in _window_before(both, day, 50))
        assert bool(_at(is_open, day)) is expected, day
    assert _at(is_open, "2021-01-06") and not _at(is_open, "2021-01-08")


def test_lead_above_its_moving_average_matches_hand_mean(frames, closes) -> None:
    spy, iwm = closes["SPY"], closes["IWM"]
    both = sorted(set(spy) & set(iwm))
    ratio = {d: iwm[d] / spy[d] for d in both}
    is_open = lead_open(frames["IWM"], frames["SPY"], LeadParams(rule="ma", window=20))
    seen = set()
    for day in ("2020-11-13", "2021-03-12", "2022-06-16", "2024-07-16", "2024-08-05"):
        expected = ratio[day] > sum(ratio[d] for d in _window_before(both, day, 20)) / 20
        assert bool(_at(is_open, day)) is expected, day
        seen.add(expected)
    assert seen == {True, False}  # the anchors cover both outcomes


def test_missing_session_in_one_series_is_absent_from_the_ratio(frames) -> None:
    spx = frames["SPX"]
    gap = pd.Timestamp("2021-01-07")
    holed = spx[spx["session"] != gap].reset_index(drop=True)
    full = lead_open(frames["RUT"], spx, LeadParams(rule="high", window=50))
    is_open = lead_open(frames["RUT"], holed, LeadParams(rule="high", window=50))
    assert gap in full.index and gap not in is_open.index
    assert len(is_open) == len(full) - 1
    # windows count ratio rows: the session after the hole looks back over 50 rows, one
    # session further than with the full data; before the hole nothing changes
    before = full.index < gap
    assert (is_open[is_open.index < gap] == full[before]).all()


def _pair(ratio: list[float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two daily frames whose close ratio is ``ratio`` (denominator constant 2)."""
    sessions = pd.bdate_range("2024-01-01", periods=len(ratio))
    top = pd.DataFrame({"session": sessions, "close": [2.0 * r for r in ratio]})
    return top, pd.DataFrame({"session": sessions, "close": 2.0})


def test_lead_high_window_includes_today_by_hand() -> None:
    top, bottom = _pair([5.0, 1.0, 2.0, 3.0, 3.0, 2.9])
    # window 3, open when r_t >= max(r_{t-2..t}): t=2 max(5,1,2)=5; t=3 max(1,2,3)=3 (tie
    # with itself); t=4 ties 3; t=5 2.9 < 3
    is_open = lead_open(top, bottom, LeadParams(rule="high", window=3))
    assert is_open.tolist() == [False, False, False, True, True, False]
    is_open = lead_open(top, bottom, LeadParams(rule="ma", window=3))
    # means over 3: -, -, 2.667, 2, 2.667, 2.967 -> 2 < 2.667, 3 > 2, 3 > 2.667, 2.9 < 2.967
    assert is_open.tolist() == [False, False, False, True, True, False]


# -- value ----------------------------------------------------------------------------------


def test_value_near_its_running_high_anchors(frames, closes) -> None:
    iwn = closes["IWN"]
    dates = sorted(iwn)
    is_open = value_open(frames["IWN"], None, ValueParams(rule="high", tolerance=0.02))
    for day in ("2021-11-01", "2021-11-08", "2021-11-16", "2021-11-17", "2021-11-30"):
        peak = max(iwn[d] for d in dates[: dates.index(day) + 1])
        assert bool(_at(is_open, day)) is (iwn[day] >= 0.98 * peak), day
    assert _at(is_open, "2021-11-16")  # 174.66 / 176.88 = 0.987
    assert not _at(is_open, "2021-11-17")  # 172.69 / 176.88 = 0.976
    assert is_open.index[0] == pd.Timestamp("2000-07-28")


def test_value_ratio_rules_against_iwm(frames, closes) -> None:
    iwn, iwm = closes["IWN"], closes["IWM"]
    both = sorted(set(iwn) & set(iwm))
    ratio = {d: iwn[d] / iwm[d] for d in both}
    change = value_open(frames["IWN"], frames["IWM"], ValueParams(rule="ratio_change", window=20))
    mean = value_open(frames["IWN"], frames["IWM"], ValueParams(rule="ratio_ma", window=20))
    outcomes = set()
    for day in ("2016-11-30", "2020-11-13", "2021-03-12", "2023-03-15", "2024-11-25"):
        i = both.index(day)
        up = ratio[day] > ratio[both[i - 20]]
        above = ratio[day] > sum(ratio[d] for d in both[i - 19 : i + 1]) / 20
        assert bool(_at(change, day)) is up, day
        assert bool(_at(mean, day)) is above, day
        outcomes |= {up, above}
    assert outcomes == {True, False}
    assert not change.iloc[:20].any() and not mean.iloc[:19].any()  # too short history


def test_value_ratio_change_compares_with_window_sessions_ago_by_hand() -> None:
    top, bottom = _pair([1.0, 3.0, 2.0, 2.5])
    # window 2: r_t > r_{t-2}: t=2 2 > 1; t=3 2.5 > 3 is False
    is_open = value_open(top, bottom, ValueParams(rule="ratio_change", window=2))
    assert is_open.tolist() == [False, False, True, False]


def test_value_ratio_rule_needs_the_core_series(frames) -> None:
    with pytest.raises(ValueError, match="needs the core series"):
        value_open(frames["IWN"], None, ValueParams(rule="ratio_ma"))


# -- causality: session t uses only rows <= t ---------------------------------------------


@pytest.mark.parametrize("cut", ["2020-11-13", "2021-03-12", "2024-08-05"])
def test_no_rule_looks_ahead(frames, cut) -> None:
    def upto(name):
        frame = frames[name]
        return frame[frame["session"] <= pd.Timestamp(cut)].reset_index(drop=True)

    rules = [
        lambda f: vix_open(f("VIX"), VixParams("ma", window=50)),
        lambda f: lead_open(f("RUT"), f("SPX"), LeadParams("high", window=50)),
        lambda f: lead_open(f("IWM"), f("SPY"), LeadParams("ma", window=50)),
        lambda f: value_open(f("IWN"), None, ValueParams("high")),
        lambda f: value_open(f("IWN"), f("IWM"), ValueParams("ratio_change", window=20)),
    ]
    for rule in rules:
        full, cut_off = rule(frames.__getitem__), rule(upto)
        assert (full.loc[cut_off.index] == cut_off).all()


# -- NaN, short history ---------------------------------------------------------------------


def test_nan_close_is_closed_and_closes_its_windows() -> None:
    sessions = pd.bdate_range("2024-01-01", periods=6)
    close = [10.0, 11.0, np.nan, 12.0, 13.0, 14.0]
    daily = pd.DataFrame({"session": sessions, "close": close})
    assert list(vix_open(daily, VixParams("level", level=20.0))) == [1, 1, 0, 1, 1, 1]
    # rule ma, window 2: open when close < mean of itself and the previous close
    calm = pd.DataFrame({"session": sessions, "close": [14.0, 13.0, np.nan, 12.0, 11.0, 10.0]})
    assert list(vix_open(calm, VixParams("ma", window=2))) == [0, 1, 0, 0, 1, 1]
    assert list(value_open(daily, None, ValueParams("high", tolerance=0.0))) == [1, 1, 0, 1, 1, 1]


def test_too_short_history_is_closed_everywhere(frames) -> None:
    short = frames["RUT"].iloc[:30].reset_index(drop=True)
    short_spx = frames["SPX"][frames["SPX"]["session"].isin(short["session"])]
    assert not lead_open(short, short_spx, LeadParams("ma", window=50)).any()
    assert not lead_open(short, short_spx, LeadParams("high", window=50)).any()
    assert len(lead_open(short, short_spx, LeadParams("ma", window=50))) == 30


# -- flows ----------------------------------------------------------------------------------


def _flows(values) -> pd.DataFrame:
    return pd.DataFrame(
        {"session": pd.bdate_range("2024-03-04", periods=len(values)), "flow": values}
    )


def test_flows_net_over_window_above_threshold() -> None:
    flows = _flows([5.0, -3.0, -3.0, 4.0, 1.0, -10.0])
    # nets over 3: -, -, -1, -2, 2, -5
    assert list(flows_open(flows, FlowsParams(window=3))) == [0, 0, 0, 0, 1, 0]
    assert list(flows_open(flows, FlowsParams(window=3, threshold=-1.5))) == [0, 0, 1, 0, 1, 0]
    assert list(net_flow(flows, 3).iloc[2:]) == [-1.0, -2.0, 2.0, -5.0]
    assert flows_open(flows, FlowsParams(window=1)).tolist() == [1, 0, 0, 1, 1, 0]


def test_flows_nan_in_the_window_is_closed() -> None:
    flows = _flows([5.0, np.nan, 3.0, 4.0, 1.0])
    assert list(flows_open(flows, FlowsParams(window=2))) == [0, 0, 0, 1, 1]


def test_flows_from_shares_outstanding_on_real_iwm_closes(frames, closes) -> None:
    iwm = frames["IWM"]
    iwm = iwm[(iwm["session"] >= "2024-07-01") & (iwm["session"] <= "2024-07-12")]
    iwm = iwm.reset_index(drop=True)
    shares = pd.DataFrame(
        {   # sparse reports, one on a Saturday, one before the frame starts
            "session": pd.to_datetime(["2024-06-20", "2024-07-03", "2024-07-06", "2024-07-10"]),
            "shares": [100.0, 110.0, 105.0, 120.0],
        }
    )
    flows = flows_from_shares(shares, iwm)
    got = dict(zip(flows["session"].dt.strftime("%Y-%m-%d"), flows["flow"], strict=True))
    c = closes["IWM"]
    assert np.isnan(got["2024-07-01"])  # no previous session in the frame
    assert got["2024-07-02"] == 0.0
    assert got["2024-07-03"] == pytest.approx(10 * c["2024-07-03"])
    assert got["2024-07-05"] == 0.0
    assert got["2024-07-08"] == pytest.approx(-5 * c["2024-07-08"])  # Saturday's report
    assert got["2024-07-10"] == pytest.approx(15 * c["2024-07-10"])
    assert len(flows) == 9  # 2024-07-04 is a holiday
    is_open = flows_open(flows, FlowsParams(window=3))
    assert not is_open.loc[pd.Timestamp("2024-07-03")]  # its window holds 07-01 (NaN)
    assert is_open.loc[pd.Timestamp("2024-07-05")] and not is_open.loc[pd.Timestamp("2024-07-09")]


def test_flows_before_the_first_shares_report_are_closed(frames) -> None:
    iwm = frames["IWM"].iloc[-10:].reset_index(drop=True)
    shares = pd.DataFrame({"session": [iwm["session"].iloc[5]], "shares": [1e6]})
    flows = flows_from_shares(shares, iwm)
    assert flows["flow"].iloc[:6].isna().all()
    assert not flows_open(flows, FlowsParams(window=2)).iloc[:7].any()


# -- parameters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: VixParams(rule="median"), "vix rule must be one of"),
        (lambda: VixParams(level=-1), "vix level must be > 0"),
        (lambda: VixParams(level=float("nan")), "vix level must be a finite number"),
        (lambda: VixParams(window=0), "window must be between 1 and"),
        (lambda: LeadParams(window=2.5), "window must be a whole number"),
        (lambda: LeadParams(window=True), "window must be a whole number"),
        (lambda: ValueParams(tolerance=1.0), r"value tolerance must be in \[0, 1\)"),
        (lambda: ValueParams(rule="low"), "value rule must be one of"),
        (lambda: FlowsParams(threshold=float("inf")), "flows threshold must be a finite"),
    ],
)
def test_bad_parameters_name_the_value(build, message) -> None:
    with pytest.raises(ValueError, match=message):
        build()
