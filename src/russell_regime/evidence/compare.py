"""Gated vs ungated comparison tables (pure): metrics of backtest runs plus BTC buy-and-hold,
the gated run's label and parameter note, the timerange parser.

Inputs are :class:`~.backtest.BacktestRun` values and candle frames already loaded; nothing
here runs freqtrade or touches files.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .metrics import buy_and_hold_equity, equity_from_trades, exposure, performance

GATED_DEFAULTS = "gated (defaults)"
GATED_OWN = "gated (own parameters)"
UNGATED = "ungated (all *_mode=off)"
BUY_AND_HOLD = "BTC buy-and-hold"
COMPARE_COLUMNS = ("run", "trades", "total_return", "cagr", "max_drawdown", "sharpe", "sortino",
                   "calmar", "exposure", "avg_trade", "win_rate", "ft_profit_total",
                   "ft_max_drawdown")


def parse_timerange(text: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``YYYYMMDD-YYYYMMDD`` -> (start, end) UTC midnights; both ends are required."""
    try:
        a, b = text.split("-")
        start, end = pd.Timestamp(a, tz="UTC"), pd.Timestamp(b, tz="UTC")
    except ValueError as exc:
        raise ConfigError(f"--timerange must be YYYYMMDD-YYYYMMDD, got {text!r}") from exc
    if end <= start:
        raise ConfigError(f"--timerange end must follow its start, got {text!r}")
    return start, end


def evaluate_runs(runs, candles, start_balance: float, fee: float):
    """(metrics table, equity curves) for backtest runs plus BTC buy-and-hold."""
    from .backtest import daily_marks

    rows, curves = [], {}
    first = next(iter(runs.values()))
    marks = daily_marks(candles, first.start, first.end)
    for name, run in runs.items():
        curve = equity_from_trades(run.trades, marks, run.start_balance)
        share = exposure(run.trades["open_date"], run.trades["close_date"], run.start, run.end) \
            if len(run.trades) else 0.0
        row = {"run": name, **performance(curve, len(run.trades), share)}
        profit = run.trades["profit_ratio"] if len(run.trades) else pd.Series(dtype=float)
        row["avg_trade"] = float(profit.mean()) if len(profit) else np.nan
        row["win_rate"] = float((profit > 0).mean()) if len(profit) else np.nan
        row["ft_profit_total"] = run.ft_stats.get("profit_total", np.nan)
        row["ft_max_drawdown"] = -abs(run.ft_stats.get("max_drawdown_account", np.nan))
        rows.append(row)
        curves[name] = curve
    if "BTC/USDT" in candles:
        btc = candles["BTC/USDT"]
        dates = pd.DatetimeIndex(btc["date"])
        entry = float(btc["open"].to_numpy()[np.searchsorted(dates, first.start)])
        curve = buy_and_hold_equity(marks["BTC/USDT"], entry, start_balance, fee)
        row = {"run": BUY_AND_HOLD, **performance(curve, 1, 1.0)}
        row |= {"avg_trade": row["total_return"], "win_rate": float(row["total_return"] > 0),
                "ft_profit_total": np.nan, "ft_max_drawdown": np.nan}
        rows.append(row)
        curves[BUY_AND_HOLD] = curve
    return pd.DataFrame(rows), curves


def gated_label(gate: Mapping[str, object]) -> str:
    """The gated run's name: "gated (defaults)" when every russell parameter in effect is the
    spec's default, else "gated (own parameters)" (pure)."""
    from .backtest import gated_params

    return GATED_DEFAULTS if dict(gate) == gated_params() else GATED_OWN


def gate_note(gate: Mapping[str, object]) -> str:
    """One line naming the gated run's russell parameters that differ from the defaults."""
    from .backtest import gated_params

    changed = {k: v for k, v in gate.items() if gated_params().get(k) != v}
    if not changed:
        return "gate parameters: the defaults"
    return "gate parameters other than the defaults: " + ", ".join(
        f"{k}={v}" for k, v in changed.items()
    )
