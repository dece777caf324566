"""Columns named ``r2k_*`` are the gate's: a strategy that writes the gate's own columns gets one
warning per column, and the gate applied (and shown in the frame) stays the mixin's (freqtrade's
own Backtesting, real ^RUT and Binance data).

``ReservedNames`` (tests/strategies) is ``OwnHooks`` (long on every candle, never exits) plus
``r2k_stale`` / ``r2k_session`` written in populate_indicators and ``r2k_gate = True`` /
``r2k_gate_tag = "mine"`` in populate_entry_trend.
"""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from test_sample_strategy import IndependentGate

from ftharness import backtest_config, run_backtest

pytestmark = pytest.mark.compat  # hooks freqtrade internals: run on the oldest and newest

# 2024-11-01 .. 11-04 the default gate is closed; it opens for the candle closing 11-04 22:00.
TIMERANGE = "20241101-20241115"
MIXIN_LOGGER = "russell_regime.adapter.mixin"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _run(shared_data, user_dir, strategy: str):
    config = backtest_config(shared_data, user_dir, TIMERANGE, strategy=strategy,
                             pairs=["BTC/USDT"])
    records = Records()  # after freqtrade set its logging up
    logger = logging.getLogger(MIXIN_LOGGER)
    logger.addHandler(records)
    try:
        trades, frames, backtesting = run_backtest(config)
    finally:
        logger.removeHandler(records)
    return trades, frames["BTC/USDT"], [m for m in records.messages if "reserved" in m]


@pytest.fixture(scope="module")
def reserved(shared_data, tmp_path_factory):
    return _run(shared_data, tmp_path_factory.mktemp("reserved"), "ReservedNames")


@pytest.fixture(scope="module")
def clean(shared_data, tmp_path_factory):
    return _run(shared_data, tmp_path_factory.mktemp("clean"), "OwnHooks")


def test_one_warning_per_reserved_column_naming_it(reserved, clean) -> None:
    _, _, warnings = reserved
    # the backtest and the harness's second analysis: still one warning per column
    named = sorted(w.split("column ")[1].split(":")[0] for w in warnings)
    assert named == ["'r2k_gate'", "'r2k_gate_tag'", "'r2k_session'", "'r2k_stale'"]
    assert all("ReservedNames" in w and "reserved for the Russell gate" in w for w in warnings)
    assert clean[2] == []  # a strategy that leaves the gate's columns alone: no warning


def test_the_gate_applied_and_shown_is_the_mixins(reserved, clean, rut_daily) -> None:
    trades, frame, _ = reserved
    clean_trades, clean_frame, _ = clean
    oracle = IndependentGate(rut_daily)
    expected = [oracle.is_open(d + pd.Timedelta(hours=1)) for d in frame["date"]]
    assert frame["r2k_gate"].tolist() == expected  # restored, not the strategy's True
    assert 0 < sum(expected) < len(expected)
    assert frame["enter_long"].eq(1).tolist() == expected  # gated by the real gate
    assert frame["r2k_stale"].dtype == bool and not frame["r2k_stale"].any()
    assert frame["r2k_session"].equals(clean_frame["r2k_session"])
    pd.testing.assert_series_equal(frame["r2k_gate_tag"], clean_frame["r2k_gate_tag"])
    assert (frame["r2k_mine"] == 2.0).all()
    assert trades[["pair", "open_date"]].equals(clean_trades[["pair", "open_date"]])
    assert str(trades["open_date"].iloc[0]) == "2024-11-04 22:00:00+00:00"
