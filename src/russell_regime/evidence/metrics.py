"""Performance metrics of a daily equity curve and a trade list (pure).

Conventions (explicit, because every tool differs):

* the equity curve is marked to market once a day at 00:00 UTC; its first point is the
  starting balance at the start of the timerange;
* daily returns ``r_d = E_d / E_{d-1} - 1``; crypto trades every day, so annualisation uses
  365 periods a year; the risk-free rate is 0;
* ``total_return = E_last / E_first - 1``; ``cagr = (E_last / E_first) ** (365.25 / days) - 1``
  with ``days`` the calendar span of the curve;
* ``max_drawdown = min(E / running_max(E)) - 1`` (<= 0, on the daily curve);
* ``sharpe = mean(r) / std(r, ddof=1) * sqrt(365)``;
  ``sortino = mean(r) / sqrt(mean(min(r, 0)^2)) * sqrt(365)`` (downside deviation over all
  days, target 0); ``calmar = cagr / |max_drawdown|``; NaN where a denominator is 0;
* ``exposure`` = share of ``[start, end)`` covered by at least one open trade (union of the
  trades' ``[open_date, close_date)`` intervals).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

PERIODS_PER_YEAR = 365


def daily_returns(equity: pd.Series) -> pd.Series:
    """``E_d / E_{d-1} - 1`` (one value fewer than the curve)."""
    e = equity.astype("float64")
    return (e / e.shift(1) - 1.0).iloc[1:]


def total_return(equity: pd.Series) -> float:
    return float(equity.iloc[-1] / equity.iloc[0] - 1.0)


def cagr(equity: pd.Series) -> float:
    """Compound annual growth over the curve's calendar span (NaN for a zero span)."""
    days = (equity.index[-1] - equity.index[0]) / pd.Timedelta(days=1)
    if days <= 0:
        return np.nan
    growth = equity.iloc[-1] / equity.iloc[0]
    return float(growth ** (365.25 / days) - 1.0) if growth > 0 else -1.0


def max_drawdown(equity: pd.Series) -> float:
    """Largest peak-to-trough fall as a fraction (<= 0)."""
    e = equity.to_numpy(dtype="float64")
    return float(np.min(e / np.maximum.accumulate(e)) - 1.0)


def sharpe(returns: pd.Series, periods: int = PERIODS_PER_YEAR) -> float:
    r = returns.to_numpy(dtype="float64")
    sd = r.std(ddof=1) if r.size > 1 else 0.0
    return float(r.mean() / sd * np.sqrt(periods)) if sd > 0 else np.nan


def sortino(returns: pd.Series, periods: int = PERIODS_PER_YEAR) -> float:
    r = returns.to_numpy(dtype="float64")
    downside = np.sqrt(np.mean(np.minimum(r, 0.0) ** 2)) if r.size else 0.0
    return float(r.mean() / downside * np.sqrt(periods)) if downside > 0 else np.nan


def calmar(equity: pd.Series) -> float:
    mdd = max_drawdown(equity)
    return float(cagr(equity) / abs(mdd)) if mdd < 0 else np.nan


def exposure(
    opens: pd.Series, closes: pd.Series, start: pd.Timestamp, end: pd.Timestamp
) -> float:
    """Share of ``[start, end)`` with at least one trade open (trades clipped to the window)."""
    span = (end - start) / pd.Timedelta(seconds=1)
    if span <= 0:
        return np.nan
    o = np.clip(_ns(opens), _ns([start])[0], _ns([end])[0])
    c = np.clip(_ns(closes), _ns([start])[0], _ns([end])[0])
    order = np.argsort(o, kind="stable")
    covered, cur_start, cur_end = 0, None, None
    for a, b in zip(o[order], c[order], strict=True):
        if cur_end is None or a > cur_end:
            if cur_end is not None:
                covered += cur_end - cur_start
            cur_start, cur_end = a, b
        else:
            cur_end = max(cur_end, b)
    if cur_end is not None:
        covered += cur_end - cur_start
    return float(covered / 1e9 / span)


def _ns(times) -> np.ndarray:
    """Nanoseconds since the epoch, whatever the resolution of the input."""
    return pd.DatetimeIndex(times).as_unit("ns").asi8


def equity_from_trades(
    trades: pd.DataFrame, marks: pd.DataFrame, start_balance: float
) -> pd.Series:
    """Daily mark-to-market equity: balance + realised profit of trades closed by ``d`` +
    unrealised profit of trades open at ``d``.

    ``marks``: index = the curve's instants (UTC), one column per pair = the last price known
    at that instant. ``trades`` columns: pair, open_date, close_date, amount, open_rate,
    fee_open, fee_close, profit_abs. Unrealised = ``amount * mark * (1 - fee_close) -
    amount * open_rate * (1 + fee_open)`` (freqtrade's own profit formula on spot).
    """
    index = pd.DatetimeIndex(marks.index)
    equity = np.full(len(index), float(start_balance))
    t = _ns(index)
    for trade in trades.itertuples(index=False):
        opened, closed = _ns([trade.open_date, trade.close_date])
        equity += np.where(t >= closed, float(trade.profit_abs), 0.0)
        live = (t >= opened) & (t < closed)
        if live.any():
            mark = marks[trade.pair].to_numpy(dtype="float64")[live]
            cost = trade.amount * trade.open_rate * (1.0 + trade.fee_open)
            equity[live] += trade.amount * mark * (1.0 - trade.fee_close) - cost
    return pd.Series(equity, index=index, name="equity")


def buy_and_hold_equity(
    marks: pd.Series, entry_price: float, start_balance: float, fee: float = 0.0
) -> pd.Series:
    """Equity of ``start_balance`` spent at ``entry_price`` (minus ``fee``) and held."""
    amount = start_balance * (1.0 - fee) / entry_price
    out = marks.astype("float64") * amount
    out.iloc[0] = start_balance
    return out.rename("equity")


def performance(
    equity: pd.Series,
    trades: int,
    exposure_share: float,
) -> Mapping[str, float]:
    """Every metric of the module doc for one equity curve."""
    r = daily_returns(equity)
    return {
        "trades": int(trades),
        "total_return": total_return(equity),
        "cagr": cagr(equity),
        "max_drawdown": max_drawdown(equity),
        "sharpe": sharpe(r),
        "sortino": sortino(r),
        "calmar": calmar(equity),
        "exposure": exposure_share,
        "final_equity": float(equity.iloc[-1]),
    }


def chain_curves(curves: list[pd.Series], start_balance: float) -> pd.Series:
    """Concatenate consecutive equity curves by compounding their daily returns (walk-forward
    out-of-sample curve). Each curve starts at its own balance; overlapping instants are not
    double counted (a later curve's first point is its starting point)."""
    parts = [daily_returns(c) for c in curves if len(c) > 1]
    if not parts:
        return pd.Series(dtype="float64")
    r = pd.concat(parts)
    r = r[~r.index.duplicated(keep="first")].sort_index()
    first = curves[0].index[0]
    equity = start_balance * (1.0 + r).cumprod()
    return pd.concat([pd.Series([start_balance], index=[first]), equity]).rename("equity")


def chained_summary(
    per_window: pd.DataFrame, curves: Mapping[str, list[pd.Series]], start_balance: float
) -> pd.DataFrame:
    """Walk-forward totals, one row per run: :func:`performance` of the chained curve
    (:func:`chain_curves`), trades summed, exposure weighted by window length, ``avg_trade``
    and ``win_rate`` weighted by trades. ``per_window`` has ``run, trades, exposure`` (and
    optionally ``avg_trade, win_rate``) with one row per run and window, in window order."""
    rows = []
    for name, parts in curves.items():
        mine = per_window[per_window["run"] == name]
        trades = mine["trades"].to_numpy(dtype="float64")
        spans = [(c.index[-1] - c.index[0]).total_seconds() for c in parts]
        expo = float(np.average(mine["exposure"].to_numpy(dtype="float64"), weights=spans))
        row = {"run": name, **performance(chain_curves(parts, start_balance), int(trades.sum()),
                                          expo)}
        for col in ("avg_trade", "win_rate"):
            if col in mine.columns:
                vals = mine[col].to_numpy(dtype="float64")
                ok = np.isfinite(vals) & (trades > 0)
                row[col] = float(np.average(vals[ok], weights=trades[ok])) if ok.any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
