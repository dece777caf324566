"""RussellRiskOn rebuilt on RussellGateMixin trades exactly like the hand-wired version it
replaced (tests/strategies/RussellRiskOnLegacy.py, a verbatim copy), on the real data."""

from __future__ import annotations

import pandas as pd
import pytest

from ftharness import backtest_config, run_backtest

pytestmark = [pytest.mark.shared_data, pytest.mark.freqtrade_run]

PAIRS = [
    "BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "ADA/USDT",
    "DOGE/USDT", "BNB/USDT", "LINK/USDT", "AVAX/USDT", "LTC/USDT",
]
TIMERANGE = "20200101-20230101"
NON_DEFAULT = {
    "btc_mode": "breakout", "btc_expiry": 40, "btc_margin": 0.005,
    "eth_mode": "ath", "eth_ath_fresh": 30, "eth_max_drawdown": 0.05,
    "alt_mode": "retest", "alt_lookback": 126, "alt_tolerance": 0.01, "alt_window": 10,
    "ema_fast": 15, "rsi_max": 78,
}
COLUMNS = ["pair", "open_date", "close_date", "open_rate", "close_rate", "enter_tag",
           "exit_reason", "profit_abs", "profit_ratio"]


def _trades(shared_data, tmp_path, strategy: str, params: dict | None, regime: dict | None):
    config = backtest_config(shared_data, tmp_path / strategy, TIMERANGE, pairs=PAIRS,
                             strategy=strategy, params=params, regime=regime)
    trades, _, _ = run_backtest(config)
    return trades[COLUMNS].sort_values(["pair", "open_date"]).reset_index(drop=True)


@pytest.mark.parametrize(
    ("params", "regime"),
    [(None, None), (NON_DEFAULT, {"exit_on_risk_off": True})],
    ids=["defaults", "non-default-params-and-risk-off-exit"],
)
def test_mixin_strategy_trades_exactly_like_the_legacy_strategy(
    shared_data, tmp_path, params, regime
):
    legacy = _trades(shared_data, tmp_path, "RussellRiskOnLegacy", params, regime)
    new = _trades(shared_data, tmp_path, "RussellRiskOn", params, regime)
    assert len(legacy) > 50
    assert legacy["pair"].nunique() == len(PAIRS)
    if regime:
        assert (legacy["exit_reason"] == "r2k_risk_off").sum() > 0
    pd.testing.assert_frame_equal(new, legacy)
