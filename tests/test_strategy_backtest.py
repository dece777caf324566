"""RussellRiskOn under real freqtrade Backtesting on the real shared data (offline markets)."""

from __future__ import annotations

from pathlib import Path

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest

from ftharness import backtest_config, run_backtest
from russell_regime.core.daily import validate_daily
from russell_regime.core.features import regime_features

pytestmark = [pytest.mark.shared_data, pytest.mark.freqtrade_run]

ALL_PAIRS = [
    "BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "ADA/USDT",
    "DOGE/USDT", "BNB/USDT", "LINK/USDT", "AVAX/USDT", "LTC/USDT",
]
MULTI_YEAR = "20200101-20230101"
ALL_OFF = {"btc_mode": "off", "eth_mode": "off", "alt_mode": "off"}


def _trade_keys(trades: pd.DataFrame) -> list[tuple]:
    cols = ["pair", "open_date", "close_date", "open_rate", "close_rate", "exit_reason"]
    return sorted(map(tuple, trades[cols].astype(str).to_numpy()))


class IndependentGate:
    """Recomputes a gate decision from scratch: XNYS closes straight from exchange_calendars,
    features on the daily frame truncated at the session (no alignment code, no memo)."""

    def __init__(self, rut: pd.DataFrame, lag_minutes: float = 15) -> None:
        self.rut = rut
        cal = xcals.get_calendar("XNYS", start="1987-01-01", end="2026-12-31")
        closes = cal.closes.reindex(pd.DatetimeIndex(rut["session"]))
        self.available = pd.DatetimeIndex(closes) + pd.Timedelta(minutes=lag_minutes)
        self.cache: dict[tuple, pd.Series] = {}

    def conditions(self, candle_close: pd.Timestamp, **p) -> dict[str, bool]:
        k = int(np.searchsorted(self.available, candle_close, side="left")) - 1
        assert k >= 0 and self.available[k] < candle_close
        key = (k, tuple(sorted(p.items())))
        if key not in self.cache:
            f = regime_features(
                self.rut.iloc[: k + 1], p["lookback"], p["margin"], p["tolerance"],
                p["window"], p["expiry"],
            ).iloc[-1]
            self.cache[key] = f
        f = self.cache[key]
        return {
            "ath": bool(
                f.sessions_since_ath <= p["ath_fresh"] and f.drawdown >= -p["max_drawdown"]
            ),
            "breakout": bool(f.breakout_active),
            "retest": bool(f.support),
        }


DEFAULTS = dict(
    ath_fresh=60, max_drawdown=0.10, lookback=252, margin=0.0, tolerance=0.02, window=20,
    expiry=60,
)


@pytest.fixture(scope="module")
def gated(shared_data: Path, tmp_path_factory):
    config = backtest_config(
        shared_data, tmp_path_factory.mktemp("gated"), MULTI_YEAR, pairs=ALL_PAIRS
    )
    return run_backtest(config)


@pytest.fixture(scope="module")
def ungated(shared_data: Path, tmp_path_factory):
    config = backtest_config(
        shared_data, tmp_path_factory.mktemp("off"), MULTI_YEAR, pairs=ALL_PAIRS, params=ALL_OFF
    )
    return run_backtest(config)


def test_gated_backtest_on_ten_pairs_trades(gated) -> None:
    trades, analysed, _ = gated
    assert len(trades) >= 20
    assert set(trades["pair"]) >= {"BTC/USDT", "ETH/USDT"}
    assert trades["pair"].nunique() >= 6


def test_every_gated_entry_had_its_class_gate_open(gated, rut_daily) -> None:
    trades, _, _ = gated
    oracle = IndependentGate(rut_daily)
    for trade in trades.itertuples():
        # freqtrade enters at the open of the candle after the signal candle, i.e. at the
        # signal candle's close.
        cond = oracle.conditions(pd.Timestamp(trade.open_date), **DEFAULTS)
        assert any(cond.values()), f"{trade.pair} entered {trade.open_date} with the gate closed"
        condition = trade.enter_tag.removeprefix("r2k_")
        assert cond[condition], f"{trade.pair} {trade.open_date}: tag {trade.enter_tag} not true"


def test_gate_blocks_some_base_signals(gated, ungated) -> None:
    gated_trades, _, _ = gated
    ungated_trades, _, _ = ungated
    assert len(gated_trades) < len(ungated_trades)


def test_all_modes_off_equals_the_base_signal_alone(shared_data, tmp_path, ungated) -> None:
    off_trades, _, _ = ungated
    config = backtest_config(
        shared_data, tmp_path, MULTI_YEAR, pairs=ALL_PAIRS, strategy="BaseSignalOnly"
    )
    base_trades, _, _ = run_backtest(config)
    assert len(off_trades) > 50
    assert _trade_keys(off_trades) == _trade_keys(base_trades)
    assert set(off_trades["enter_tag"]) == {"r2k_off"}


def test_exit_signals_are_never_changed_by_the_gate(gated, ungated) -> None:
    _, gated_frames, _ = gated
    _, ungated_frames, _ = ungated
    for pair, frame in gated_frames.items():
        exits_gated = frame["exit_long"].fillna(0).to_numpy()
        exits_off = ungated_frames[pair]["exit_long"].fillna(0).to_numpy()
        assert exits_gated.sum() > 0
        np.testing.assert_array_equal(exits_gated, exits_off, err_msg=pair)


def test_classes_are_gated_separately(shared_data, tmp_path, rut_daily) -> None:
    params = {"btc_mode": "off", "eth_mode": "ath", "alt_mode": "retest"}
    config = backtest_config(
        shared_data, tmp_path, MULTI_YEAR, pairs=["BTC/USDT", "ETH/USDT", "SOL/USDT", "ADA/USDT"],
        params=params,
    )
    trades, frames, _ = run_backtest(config)
    oracle = IndependentGate(rut_daily)
    by_class = {"BTC/USDT": "off", "ETH/USDT": "ath", "SOL/USDT": "retest", "ADA/USDT": "retest"}
    assert set(trades["pair"]) & {"BTC/USDT"}, "BTC (gate off) must trade"
    for trade in trades.itertuples():
        mode = by_class[trade.pair]
        assert trade.enter_tag == f"r2k_{mode}"
        if mode != "off":
            assert oracle.conditions(pd.Timestamp(trade.open_date), **DEFAULTS)[mode]
    # each pair's r2k_gate is its class's: ETH's ath gate is not SOL's retest gate
    eth, sol = (frames[p].set_index("date")["r2k_gate"] for p in ("ETH/USDT", "SOL/USDT"))
    both = eth.index.intersection(sol.index)
    assert (eth[both] != sol[both]).any()
    assert frames["BTC/USDT"]["r2k_gate"].all()


def test_index_never_risk_on_means_zero_entries(shared_data, tmp_path) -> None:
    cal = xcals.get_calendar("XNYS", start="2012-01-01", end="2023-12-29")
    sessions = cal.sessions
    close = 2000.0 * np.exp(-np.linspace(0, 1.5, len(sessions)))  # falls every session
    falling = pd.DataFrame(
        {"date": sessions.strftime("%Y-%m-%d"), "open": close * 1.001, "high": close * 1.002,
         "low": close * 0.998, "close": close, "volume": 1e9}
    )
    validate_daily(falling, "FALLING")
    path = tmp_path / "falling.csv"
    falling.to_csv(path, index=False)
    config = backtest_config(
        shared_data, tmp_path / "ud", MULTI_YEAR, pairs=ALL_PAIRS,
        regime={"path": str(path), "ticker": "FALLING"},
    )
    trades, frames, _ = run_backtest(config)
    strategy_frames = list(frames.values())
    assert len(trades) == 0
    assert sum(int(f["enter_long"].fillna(0).sum()) for f in strategy_frames) == 0
    # non-vacuous: the base signal fired plenty of times on the same candles
    assert sum(int(f["ema_fast"].gt(f["ema_slow"]).sum()) for f in strategy_frames) > 1000
    assert all(f["r2k_session"].notna().mean() > 0.99 for f in strategy_frames)


def test_dataframe_carries_audit_and_gate_columns(gated) -> None:
    _, frames, _ = gated
    frame = frames["BTC/USDT"]
    r2k = {c for c in frame.columns if c.startswith("r2k_")}
    assert r2k == {"r2k_session", "r2k_available_at", "r2k_stale", "r2k_gate", "r2k_gate_tag"}
    candle_close = frame["date"] + pd.Timedelta(hours=1)
    seen = frame["r2k_available_at"].notna()
    assert seen.mean() > 0.99
    assert (frame.loc[seen, "r2k_available_at"] <= candle_close[seen]).all()


def test_exit_on_risk_off_exits_when_the_class_gate_closes(shared_data, tmp_path) -> None:
    config = backtest_config(
        shared_data, tmp_path, "20210101-20220101", pairs=["BTC/USDT", "ETH/USDT", "SOL/USDT"],
        regime={"exit_on_risk_off": True},
    )
    trades, frames, _ = run_backtest(config)
    for pair, frame in frames.items():
        gate = frame["r2k_gate"]  # the pair's class gate (no stale candles in 2021)
        closes = gate.shift(1, fill_value=False).astype(bool) & ~gate.astype(bool)
        assert closes.sum() > 0, pair
        tagged = frame["exit_tag"].eq("r2k_risk_off")
        assert tagged.tolist() == closes.tolist(), pair
        assert frame.loc[closes, "exit_long"].eq(1).all()
    assert (trades["exit_reason"] == "r2k_risk_off").any()


# --- index data ending before the candles: the live staleness rule per candle ---------------

TRUNCATED_AT = "2021-03-31"  # the default gate is open (ath) on that session
STALE_FROM = pd.Timestamp("2021-04-01 23:15", tz="UTC")  # 04-01 available 20:15 + 180 min


@pytest.fixture(scope="module")
def truncated_csv(rut_daily, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("truncated") / "rut_to_2021-03.csv"
    rows = rut_daily[rut_daily["session"] <= TRUNCATED_AT]
    rows.assign(session=rows["session"].dt.strftime("%Y-%m-%d")).rename(
        columns={"session": "date"}
    ).to_csv(path, index=False)
    return path


def _truncated_run(shared_data, tmp_path, truncated_csv, policy: str):
    config = backtest_config(
        shared_data, tmp_path / policy, "20210101-20210901",
        pairs=["BTC/USDT", "ETH/USDT", "SOL/USDT"],
        regime={"path": str(truncated_csv), "stale_policy": policy},
    )
    return run_backtest(config)


def _entries(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = [f.loc[f["enter_long"].eq(1), ["date", "enter_tag"]] for f in frames.values()]
    out = pd.concat(rows)
    return out.assign(close=out["date"] + pd.Timedelta(hours=1))


def test_backtest_blocks_entries_after_the_index_data_ends(
    shared_data, tmp_path, truncated_csv, caplog
) -> None:
    with caplog.at_level("WARNING"):
        trades, frames, strategy_bt = _truncated_run(
            shared_data, tmp_path, truncated_csv, "block_entries"
        )
    entries = _entries(frames)
    assert (entries["close"] < STALE_FROM).sum() > 0  # entries while the data is fresh
    assert (entries["close"] >= STALE_FROM).sum() == 0  # none once the data is stale
    assert (pd.to_datetime(trades["open_date"]) < STALE_FROM + pd.Timedelta(hours=1)).all()
    for frame in frames.values():
        close = frame["date"] + pd.Timedelta(hours=1)
        assert frame["r2k_stale"].tolist() == (close >= STALE_FROM).tolist()
    ends = [r for r in caplog.records if "data ends at session 2021-03-31" in r.getMessage()]
    assert len(ends) == 1, [r.getMessage() for r in caplog.records]
    assert "stale_policy block_entries" in ends[0].getMessage()


def test_backtest_keeps_the_last_gate_after_the_data_ends_with_last_known(
    shared_data, tmp_path, truncated_csv
) -> None:
    _, frames, _ = _truncated_run(shared_data, tmp_path, truncated_csv, "last_known")
    late = _entries(frames).query("close >= @STALE_FROM")
    assert len(late) > 0
    assert set(late["enter_tag"]) == {"r2k_ath"}  # the gate of 2021-03-31, frozen


def test_backtest_ignores_the_gate_after_the_data_ends_with_ignore_gate(
    shared_data, tmp_path, truncated_csv
) -> None:
    _, frames, _ = _truncated_run(shared_data, tmp_path, truncated_csv, "ignore_gate")
    entries = _entries(frames)
    late = entries[entries["close"] >= STALE_FROM]
    assert len(late) > 0 and set(late["enter_tag"]) == {"r2k_stale_ignored"}
    assert "r2k_stale_ignored" not in set(entries.loc[entries["close"] < STALE_FROM, "enter_tag"])


def test_russell_report_counts_candles_gate_signals_and_blocks(gated) -> None:
    _, frames, backtesting = gated
    report = backtesting.strategylist[0].russell_report
    assert set(report) == set(ALL_PAIRS)
    assert report["BTC/USDT"]["pair_class"] == "btc" and report["SOL/USDT"]["pair_class"] == "alt"
    strategy = backtesting.strategylist[0]
    for pair, frame in frames.items():
        row = report[pair]
        signals = strategy.base_entry(frame).to_numpy()
        gate = frame["r2k_gate"].to_numpy(dtype=bool)
        assert row["candles"] == len(frame)
        assert row["signals"] == int(signals.sum()) > 0
        assert row["gate_open"] == int(gate.sum())
        assert row["blocked"] == int((signals & ~gate).sum())
        assert row["signals"] - row["blocked"] == int(frame["enter_long"].eq(1).sum())
        assert row["stale"] == 0
    assert sum(r["blocked"] for r in report.values()) > 0


def test_gate_tag_categories_do_not_depend_on_the_frame_under_ignore_gate(
    shared_data, tmp_path, truncated_csv
) -> None:
    """freqtrade's lookahead-analysis compares a full and a cut frame: pandas refuses to compare
    categoricals whose categories differ, so a cut before the data ends must keep them."""
    _, frames, backtesting = _truncated_run(shared_data, tmp_path, truncated_csv, "ignore_gate")
    strategy = backtesting.strategylist[0]
    pair, frame = next(iter(frames.items()))
    fresh = frame[frame["date"] + pd.Timedelta(hours=1) < STALE_FROM]
    assert 0 < len(fresh) < len(frame)
    cut = strategy.advise_entry(fresh.drop(columns=["enter_long", "enter_tag"]), {"pair": pair})
    full = strategy.advise_entry(frame.drop(columns=["enter_long", "enter_tag"]), {"pair": pair})
    assert list(cut["r2k_gate_tag"].cat.categories) == list(full["r2k_gate_tag"].cat.categories)
    full.loc[cut.index].compare(cut)  # what lookahead-analysis does; raised TypeError before
