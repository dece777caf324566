"""End-to-end causality: what a candle sees never depends on data published after it closed.

For many cut instants, the real RUT daily frame is truncated to the sessions whose DATE is
<= the cut's New York date. That deliberately includes the session still in progress at the
cut, as yfinance would return it intraday (worst case). Features computed on that frame and
aligned onto real BTC candles must equal, on every candle that closed by the cut, those
computed on the full data set. A second variant replaces the in-progress bar by a provisional
one (a different intraday close) so that any candle which saw it would differ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from russell_regime.adapter.provider import timeframe_step
from russell_regime.core.align import gather, session_positions
from russell_regime.core.calendar import Availability, xnys
from russell_regime.core.features import regime_features

NY = "America/New_York"
PARAM_SETS = {
    "lb252": {"lookback": 252},
    "lb756": {"lookback": 756},
    "lb126-high": {"lookback": 126, "margin": 0.005, "window": 10, "expiry": 30, "basis": "high"},
}
FILE_TIMEFRAMES = ("1h", "4h", "1d")
WINDOW = pd.Timedelta(days=30)
LAG = 15


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def _close_plus_lag(day: str, lag: float = LAG) -> pd.Timestamp:
    return Availability(lag_minutes=lag).available_at(pd.DatetimeIndex([pd.Timestamp(day)]))[0]


def _adversarial_cuts() -> list[tuple[pd.Timestamp, bool | None]]:
    """(cut, whether the session of the cut's NY date is still unpublished at the cut)."""
    minute = pd.Timedelta(minutes=1)
    cuts: list[tuple[pd.Timestamp, bool | None]] = []
    # regular EDT / EST days, DST switch days (both sides), early closes (13:00 NY)
    days = [
        "2024-07-01", "2024-12-02",
        "2024-03-08", "2024-03-11", "2024-11-01", "2024-11-04", "2020-03-06", "2020-03-09",
        "2024-11-29", "2019-12-24",
    ]
    for day in days:
        close = _close_plus_lag(day, 0)
        avail = _close_plus_lag(day)
        cuts += [
            (close - minute, True),
            (close + minute, True),  # closed, but inside the publication lag
            (avail - minute, True),
            (avail, False),
            (avail + minute, False),
        ]
    # an EST-style 21:16 UTC on an EDT day; an EDT-style 20:16 UTC on an EST day
    cuts += [(_utc("2024-03-11 21:16"), False), (_utc("2024-11-04 20:16"), True)]
    # the early-close days at regular-close hours
    cuts += [(_utc("2024-11-29 20:00"), False), (_utc("2019-12-24 21:16"), False)]
    # morning of a session (NY date already the session's), weekend, holiday
    cuts += [(_utc("2024-07-01 14:00"), True), (_utc("2024-03-09 12:00"), False),
             (_utc("2024-07-04 22:00"), False)]
    return cuts


def _random_cuts(count: int = 30) -> list[tuple[pd.Timestamp, bool | None]]:
    rng = np.random.default_rng(20180101)
    minute = 60_000_000_000
    lo, hi = _utc("2018-01-01").value // minute, _utc("2025-06-25").value // minute
    return [(pd.Timestamp(int(m) * minute, tz="UTC"), None) for m in rng.integers(lo, hi, count)]


def _random_in_progress_cuts(count: int = 20) -> list[tuple[pd.Timestamp, bool | None]]:
    """Random instants between NY midnight and close + lag of random XNYS sessions."""
    rng = np.random.default_rng(20250101)
    sessions = xnys().sessions_in_range("2018-01-02", "2025-06-25")
    days = pd.DatetimeIndex(sessions[rng.integers(0, len(sessions), count)])
    midnight = days.tz_localize(NY).tz_convert("UTC")
    avail = Availability(lag_minutes=LAG).available_at(days)
    spans = ((avail - midnight) // pd.Timedelta(minutes=1)).to_numpy()
    offsets = pd.to_timedelta(rng.integers(0, spans), unit="min")
    return [(cut, True) for cut in midnight + offsets]


CUTS = _adversarial_cuts() + _random_cuts(40) + _random_in_progress_cuts()
CUT_IDS = [f"{cut:%Y-%m-%dT%H:%M}" for cut, _ in CUTS]


@pytest.fixture(scope="module")
def btc(shared_data) -> dict[str, pd.Series]:
    return {
        tf: pd.read_feather(shared_data / "binance" / f"BTC_USDT-{tf}.feather")["date"]
        for tf in FILE_TIMEFRAMES
    }


@pytest.fixture(scope="module")
def full(rut_daily):
    avail = Availability(lag_minutes=LAG).available_at(rut_daily["session"])
    feats = {name: regime_features(rut_daily, **p) for name, p in PARAM_SETS.items()}
    return rut_daily["session"].to_numpy(), avail, feats


def _candle_dates(btc: dict[str, pd.Series], cut: pd.Timestamp) -> dict[str, pd.Series]:
    """Real BTC candles from 30 days before the cut (and a little after), plus synthetic 5m."""
    out = {}
    for tf, dates in btc.items():
        out[tf] = dates[(dates >= cut - WINDOW) & (dates <= cut + pd.Timedelta(days=2))]
    start = (cut - pd.Timedelta(days=3)).floor("5min")
    out["5m"] = pd.Series(pd.date_range(start, cut + pd.Timedelta(days=1), freq="5min"))
    return out


def _truncate(rut_daily: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    ny_date = pd.Timestamp(cut.tz_convert(NY).date())
    return rut_daily[rut_daily["session"] <= ny_date]


def _provisional(daily: pd.DataFrame) -> pd.DataFrame:
    """Replace the last bar by an intraday-like one: a +30% spike (a new ATH and breakout)."""
    daily = daily.copy()
    last = daily.index[-1]
    spike = daily.loc[last, "open"] * 1.3
    daily.loc[last, ["close", "high"]] = spike
    daily.loc[last, "low"] = min(daily.loc[last, "low"], daily.loc[last, "open"])
    return daily


def _assert_causal(truncated, full, btc, cut) -> int:
    """Compare truncated vs full on every candle closed by ``cut``; return candles checked."""
    full_sessions, full_avail, full_feats = full
    avail = Availability(lag_minutes=LAG).available_at(truncated["session"])
    trunc_feats = {name: regime_features(truncated, **p) for name, p in PARAM_SETS.items()}
    checked = 0
    for tf, dates in _candle_dates(btc, cut).items():
        closes = pd.DatetimeIndex(dates) + timeframe_step(tf)
        done = np.asarray(closes <= cut)
        assert done.sum() > 0, f"no {tf} candle closed by {cut}"
        pos_t = session_positions(dates, timeframe_step(tf), avail)[done]
        pos_f = session_positions(dates, timeframe_step(tf), full_avail)[done]
        assert (pos_t >= 0).all()
        sessions_t = truncated["session"].to_numpy()[pos_t]
        sessions_f = full_sessions[pos_f]
        np.testing.assert_array_equal(sessions_t, sessions_f, err_msg=f"r2k_session {tf} {cut}")
        assert (avail[pos_t] <= closes[done]).all()
        for name, feats in full_feats.items():
            for col in feats.columns:
                np.testing.assert_array_equal(
                    gather(trunc_feats[name][col].to_numpy(), pos_t),
                    gather(feats[col].to_numpy(), pos_f),
                    err_msg=f"{col} ({name}, {tf}) at cut {cut}",
                )
        checked += int(done.sum())
    return checked


@pytest.mark.parametrize(("cut", "expect_in_progress"), CUTS, ids=CUT_IDS)
def test_truncated_real_data_gives_the_same_features_on_closed_candles(
    rut_daily, full, btc, cut, expect_in_progress
):
    truncated = _truncate(rut_daily, cut)
    assert len(truncated) < len(rut_daily)  # the full data knows the future of the cut
    last_at = Availability(lag_minutes=LAG).available_at(truncated["session"].iloc[-1:])[0]
    in_progress = bool(last_at > cut)
    if expect_in_progress is not None:
        assert in_progress == expect_in_progress
    assert _assert_causal(truncated, full, btc, cut) > 0


IN_PROGRESS = [(cut, name) for (cut, flag), name in zip(CUTS, CUT_IDS, strict=True) if flag]


@pytest.mark.parametrize("cut", [c for c, _ in IN_PROGRESS], ids=[n for _, n in IN_PROGRESS])
def test_provisional_in_progress_bar_is_never_seen_by_closed_candles(rut_daily, full, btc, cut):
    truncated = _truncate(rut_daily, cut)
    assert (
        Availability(lag_minutes=LAG).available_at(truncated["session"].iloc[-1:])[0] > cut
    )  # still in progress
    truncated = _provisional(truncated)
    # the provisional bar really changes the features of that session
    _, _, full_feats = full
    last = len(truncated) - 1
    for name, params in PARAM_SETS.items():
        row = regime_features(truncated, **params).iloc[last]
        assert not row.equals(full_feats[name].iloc[last]), name
    assert _assert_causal(truncated, full, btc, cut) > 0


def test_random_cuts_include_in_progress_and_published_sessions(rut_daily):
    flags = []
    for cut, _ in _random_cuts(40):
        truncated = _truncate(rut_daily, cut)
        flags.append(
            bool(
                Availability(lag_minutes=LAG).available_at(truncated["session"].iloc[-1:])[0] > cut
            )
        )
    assert any(flags) and not all(flags)


# --- why: merging on calendar dates leaks ----------------------------------------------------


def _btc_4h_around(btc, first: str, last: str) -> pd.DataFrame:
    dates = btc["4h"]
    return pd.DataFrame({"date": dates[(dates >= _utc(first)) & (dates < _utc(last))]})


def test_naive_calendar_date_merge_leaks_the_early_close_session(rut_daily, btc):
    """Row D joined to every candle dated on D (UTC) leaks: on 2024-11-29 (close 13:00 NY =
    18:00 UTC) the 00:00..12:00 4h candles close before the bar exists."""
    candles = _btc_4h_around(btc, "2024-11-29", "2024-11-30")
    closes = pd.DatetimeIndex(candles["date"]) + pd.Timedelta(hours=4)
    daily = rut_daily[["session", "close"]].assign(
        date=rut_daily["session"].dt.tz_localize("UTC").astype(candles["date"].dtype)
    )
    naive = pd.merge_asof(candles, daily, on="date", direction="backward")
    avail = Availability(lag_minutes=LAG).available_at(naive["session"])
    leaked = np.asarray(avail > closes)
    assert (naive["session"] == pd.Timestamp("2024-11-29")).all()
    assert leaked.sum() == 4  # the 00:00, 04:00, 08:00 and 12:00 candles
    # the available_at alignment gives those candles the previous session (11-27; 11-28 holiday)
    pos = session_positions(
        candles["date"],
        timeframe_step("4h"),
        Availability(lag_minutes=LAG).available_at(rut_daily["session"]),
    )
    seen = rut_daily["session"].to_numpy()[pos]
    assert (seen[leaked] == np.datetime64("2024-11-27")).all()
    assert (Availability(lag_minutes=LAG).available_at(pd.DatetimeIndex(seen)) <= closes).all()


def test_freqtrade_informative_merge_is_safe_but_later_than_available_at(rut_daily, btc):
    """merge_informative_pair with a '1d' informative shifts row D to D+1 00:00 UTC: no leak,
    but on the early close the 16:00 4h candle (closing 20:00 > 18:15) could already see D."""
    from freqtrade.strategy import merge_informative_pair

    candles = _btc_4h_around(btc, "2024-11-27", "2024-12-03")
    informative = rut_daily.assign(
        date=rut_daily["session"].dt.tz_localize("UTC").astype(candles["date"].dtype)
    ).drop(columns="session")
    merged = merge_informative_pair(candles, informative, "4h", "1d", ffill=True)
    inf_session = merged["date_1d"].dt.tz_localize(None)
    closes = pd.DatetimeIndex(candles["date"]) + pd.Timedelta(hours=4)
    assert (
        Availability(lag_minutes=LAG).available_at(pd.DatetimeIndex(inf_session)) <= closes
    ).all()  # no leak

    pos = session_positions(
        candles["date"],
        timeframe_step("4h"),
        Availability(lag_minutes=LAG).available_at(rut_daily["session"]),
    )
    ours = rut_daily["session"].to_numpy()[pos]
    i = int(np.flatnonzero((candles["date"] == _utc("2024-11-29 16:00")).to_numpy())[0])
    assert ours[i] == np.datetime64("2024-11-29")
    assert inf_session.iloc[i] == pd.Timestamp("2024-11-27")
