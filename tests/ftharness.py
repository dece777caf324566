"""Run real freqtrade Backtesting in-process on the shared data, markets from the snapshot."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from freqtrade.commands.optimize_commands import setup_optimize_configuration
from freqtrade.enums import RunMode
from freqtrade.optimize.backtesting import Backtesting

from russell_regime.adapter.offline import default_snapshot, load_markets_snapshot, offline_markets

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = REPO_ROOT / "config.json"
STRATEGIES = REPO_ROOT / "user_data" / "strategies"
TEST_STRATEGIES = REPO_ROOT / "tests" / "strategies"


def backtest_config(
    shared_data: Path,
    user_dir: Path,
    timerange: str,
    regime: dict | None = None,
    strategy: str = "RussellRiskOn",
    pairs: list[str] | None = None,
    params: dict | None = None,
) -> dict:
    """freqtrade's own backtest configuration from config.json, pointed at the shared data."""
    user_dir.mkdir(parents=True, exist_ok=True)
    args = {
        "config": [str(CONFIG)],
        "user_data_dir": str(user_dir),
        "datadir": str(shared_data / "binance"),
        "timerange": timerange,
        "strategy": strategy,
        "strategy_path": str(TEST_STRATEGIES if strategy != "RussellRiskOn" else STRATEGIES),
        "export": "none",
    }
    config = setup_optimize_configuration(args, RunMode.BACKTEST)
    section = {"source": "file", "path": str(shared_data / "index" / "RUT.csv")}
    config["russell_regime"] = {**config.get("russell_regime", {}), **section, **(regime or {})}
    if pairs:
        config["exchange"]["pair_whitelist"] = pairs
    if params:
        config["strategy_parameters"] = params  # see apply_params
    return config


def run_backtest(config: dict) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], Backtesting]:
    """(trades, analysed dataframes per pair with signals, the Backtesting object)."""
    with offline_markets(load_markets_snapshot(default_snapshot())):
        backtesting = Backtesting(config)
        try:
            strategy = backtesting.strategylist[0]
            apply_params(strategy, config.get("strategy_parameters") or {})
            data, timerange = backtesting.load_bt_data()
            backtesting.backtest_one_strategy(strategy, data, timerange)
            name = strategy.get_strategy_name()
            trades = backtesting.all_bt_content[name]["results"]
            analysed = {
                pair: strategy.ft_advise_signals(frame, {"pair": pair})
                for pair, frame in strategy.advise_all_indicators(data).items()
            }
        finally:
            Backtesting.cleanup()
    return trades, analysed, backtesting


def apply_params(strategy, params: dict) -> None:
    """Set hyperopt parameter values (``{"btc_mode": "off", ...}``) on a loaded strategy."""
    for name, value in params.items():
        getattr(strategy, name).value = value
