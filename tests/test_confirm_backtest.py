"""Confirmations under real freqtrade Backtesting (RussellRiskOn, shared data, source=file):
every entry is on a candle where the index gate AND an independently recomputed VIX rule (the
VIX CSV, XNYS closes from exchange_calendars + the VIX's 15 min later close + the lag) are
open; the confirmation only removes entries; mode off gives back the plain gated trades."""

from __future__ import annotations

from pathlib import Path

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest
from test_strategy_backtest import DEFAULTS, IndependentGate, _trade_keys

from ftharness import backtest_config, run_backtest
from russell_regime.core.daily import validate_daily

pytestmark = [pytest.mark.shared_data, pytest.mark.freqtrade_run]

PAIRS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
TIMERANGE = "20210101-20220101"
LEVEL = 22.0


def _vix_section(shared_data: Path, **extra) -> dict:
    vix = {"source": "file", "path": str(shared_data / "index" / "VIX.csv"), "rule": "level",
           "level": LEVEL, **extra}
    return {"confirmations": {"vix": vix}}


class IndependentVix:
    """The VIX rule from the CSV alone: the newest VIX session whose 16:15 New York close
    (XNYS close + 15 min) + 15 min lag is before the candle close; open when its close < level."""

    def __init__(self, vix_csv: Path) -> None:
        vix = pd.read_csv(vix_csv, parse_dates=["date"])
        cal = xcals.get_calendar("XNYS", start="1990-01-01", end="2026-12-31")
        closes = cal.closes.reindex(pd.DatetimeIndex(vix["date"]))
        assert closes.notna().all()
        self.available = pd.DatetimeIndex(closes) + pd.Timedelta(minutes=30)
        self.close = vix["close"].to_numpy()

    def open_at(self, candle_close: pd.Timestamp) -> bool:
        k = int(np.searchsorted(self.available, candle_close, side="left")) - 1
        return bool(self.close[k] < LEVEL)


@pytest.fixture(scope="module")
def plain(shared_data: Path, tmp_path_factory):
    config = backtest_config(shared_data, tmp_path_factory.mktemp("plain"), TIMERANGE,
                             pairs=PAIRS)
    return run_backtest(config)


@pytest.fixture(scope="module")
def with_vix(shared_data: Path, tmp_path_factory):
    config = backtest_config(shared_data, tmp_path_factory.mktemp("vix"), TIMERANGE,
                             regime=_vix_section(shared_data), pairs=PAIRS)
    return run_backtest(config)


def test_every_entry_had_the_index_gate_and_the_independent_vix_rule_open(
    with_vix, plain, shared_data, rut_daily
):
    trades, _, backtesting = with_vix
    assert backtesting.strategylist[0].vix_mode.value == "level"
    index = IndependentGate(rut_daily)
    vix = IndependentVix(shared_data / "index" / "VIX.csv")
    assert len(trades) >= 5
    for trade in trades.itertuples():
        at = pd.Timestamp(trade.open_date)  # the signal candle's close
        cond = index.conditions(at, **DEFAULTS)
        assert cond[trade.enter_tag.removeprefix("r2k_")], f"{trade.pair} {at}: index gate"
        assert vix.open_at(at), f"{trade.pair} entered {at} with VIX >= {LEVEL}"
    # the confirmation removed entries the plain gate took, when the VIX was high
    plain_trades = plain[0]
    assert len(trades) < len(plain_trades)
    assert any(not vix.open_at(pd.Timestamp(t.open_date)) for t in plain_trades.itertuples())


def test_gate_column_is_the_index_gate_and_the_vix_rule(with_vix, plain):
    _, analysed, backtesting = with_vix
    strategy = backtesting.strategylist[0]
    for pair, frame in analysed.items():
        index_gate = plain[1][pair]["r2k_gate"].to_numpy()
        audit = strategy.russell_confirmation_audit(frame, "vix")
        np.testing.assert_array_equal(frame["r2k_gate"].to_numpy(),
                                      index_gate & audit["r2k_vix"].to_numpy())
        assert 0 < audit["r2k_vix"].mean() < 1 and not audit["r2k_vix_stale"].any()
        # backtest frames keep the r2k_* memory budget: no per-confirmation columns
        assert not any(c.startswith("r2k_vix") for c in frame.columns)


def test_mode_off_gives_back_the_plain_gated_trades(shared_data, tmp_path, plain):
    config = backtest_config(shared_data, tmp_path, TIMERANGE, regime=_vix_section(shared_data),
                             pairs=PAIRS, params={"vix_mode": "off"})
    trades, _, _ = run_backtest(config)
    assert _trade_keys(trades) == _trade_keys(plain[0])


def test_vix_data_end_blocks_entries_under_block_entries(shared_data, tmp_path):
    """A required confirmation whose data ends is stale: block_entries blocks every entry
    after it, like the index's own data end."""
    vix = validate_daily(pd.read_csv(shared_data / "index" / "VIX.csv"), "^VIX")
    short = tmp_path / "VIX_short.csv"
    vix[vix["session"] <= pd.Timestamp("2021-06-30")].rename(columns={"session": "date"}).to_csv(
        short, index=False)
    section = {"confirmations": {"vix": {"source": "file", "path": str(short), "level": 40}}}
    config = backtest_config(shared_data, tmp_path / "ud", TIMERANGE, regime=section,
                             pairs=PAIRS)
    trades, analysed, backtesting = run_backtest(config)
    assert len(trades) > 0
    # the VIX of 06-30 is usable at 20:30 UTC; the grace is 180 min after 07-01's
    last_entry = pd.to_datetime(trades["open_date"]).max()
    assert last_entry <= pd.Timestamp("2021-07-02 00:30", tz="UTC")
    strategy = backtesting.strategylist[0]
    frame = analysed["BTC/USDT"]
    audit = strategy.russell_confirmation_audit(frame, "vix")
    late = (frame["date"] >= pd.Timestamp("2021-07-02", tz="UTC")).to_numpy()
    assert audit["r2k_vix_stale"].to_numpy()[late].all()
    assert not frame["r2k_gate"].to_numpy()[late].any()
    assert strategy.russell_report["BTC/USDT"]["stale"] >= late.sum()
