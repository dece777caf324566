"""The main job's closing summary (pure): index data used, gate per class, blocked entries, result.

Inputs are plain data gathered by the shell (:mod:`russell_regime.cli.backtest`):

* ``index``: ``{"ticker", "source", "sessions", "first", "last"[, "dropped", "stale_from"]}``
  describing the daily frame the strategy used (``first``/``last`` are session timestamps;
  ``dropped``: stray dates dropped by the stray-row policy; ``stale_from``: the instant
  the data became stale, None when never), or None when it had none;
* ``series``: the same for each confirmation series (``"ticker"`` names it, e.g.
  ``"^VIX (vix, required)"``), in order;
* ``strategy``: the strategy's name (freqtrade's), or None;
* ``params_file``: the ``<Strategy>.json`` freqtrade loaded the strategy's parameters from
  (a hyperopt export beside the strategy file), or None when it loaded none;
* ``report``: the strategy's ``russell_report`` — per pair ``{"pair_class", "candles",
  "gate_open", "signals", "blocked"[, "stale"]}`` (``signals`` are the strategy's own long
  entry signals before the gate, ``blocked`` those the gate removed, ``stale`` candles on
  stale data: the index's or a required confirmation's); empty when the strategy does not
  report. The mixin counts every candle it analysed, freqtrade's startup candles before the
  timerange included; :func:`report_within` recounts them over the backtested candles only
  (the shell does that first);
* ``result``: freqtrade's per-strategy backtest stats (``total_trades``, ``profit_total``
  as a fraction, ``profit_total_abs``, ``stake_currency``, ``backtest_start``,
  ``backtest_end``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from ..core.stalegate import stale_series_note

HEADER = "== russell_regime backtest summary =="
CLASS_ORDER = ("btc", "eth", "alt")
COUNTED = ("gate_open", "signals", "blocked", "stale")  # per-candle flags of the report


def report_within(
    report: Mapping[str, Mapping[str, Any]],
    keep: Callable[[pd.DataFrame], pd.DataFrame],
) -> dict[str, dict[str, Any]]:
    """``report`` counted over the candles ``keep`` leaves of each pair's ``per_candle`` frame
    (``date`` in UTC and the :data:`COUNTED` flags; the main job passes freqtrade's own trim of
    the startup period and the timerange's end); ``per_candle`` is dropped, a pair without it
    is kept as it is."""
    out: dict[str, dict[str, Any]] = {}
    for pair, stats in report.items():
        per = stats.get("per_candle")
        counts = {k: v for k, v in stats.items() if k != "per_candle"}
        if per and per.get("date") is not None:
            frame = pd.DataFrame({k: per[k] for k in ("date", *COUNTED) if k in per})
            frame["date"] = pd.to_datetime(frame["date"], utc=True)
            frame = keep(frame)
            counts["candles"] = len(frame)
            counts.update({k: int(frame[k].sum()) for k in COUNTED if k in frame})
        out[pair] = counts
    return out


def _pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.1f} %" if whole else "n/a"


def gate_lines(report: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Share of candles with the gate open per class, and entries the gate blocked."""
    if not report:
        return ["gate: not reported by this strategy"]
    totals: dict[str, dict[str, int]] = {}
    for stats in report.values():
        cls = str(stats.get("pair_class", "?"))
        acc = totals.setdefault(cls, {"pairs": 0, "candles": 0, "gate_open": 0})
        acc["pairs"] += 1
        acc["candles"] += int(stats.get("candles", 0))
        acc["gate_open"] += int(stats.get("gate_open", 0))
    order = [c for c in CLASS_ORDER if c in totals] + sorted(set(totals) - set(CLASS_ORDER))
    shares = ", ".join(
        f"{cls} {_pct(totals[cls]['gate_open'], totals[cls]['candles'])} "
        f"({totals[cls]['pairs']} pair{'s' if totals[cls]['pairs'] != 1 else ''})"
        for cls in order
    )
    signals = sum(int(s.get("signals", 0)) for s in report.values())
    blocked = sum(int(s.get("blocked", 0)) for s in report.values())
    lines = [
        f"gate open (share of candles): {shares}",
        f"entries blocked by the gate: {blocked} of {signals} base signals "
        f"({_pct(blocked, signals)})",
    ]
    stale = sum(int(s.get("stale", 0)) for s in report.values())
    if stale:
        candles = sum(int(s.get("candles", 0)) for s in report.values())
        lines.append(
            f"candles on stale data (index or a required confirmation): {stale} of {candles} "
            f"({_pct(stale, candles)}); they follow stale_policy"
        )
    return lines


def series_lines(
    index: Mapping[str, Any] | None, series: Sequence[Mapping[str, Any]], end: Any
) -> list[str]:
    """Per confirmation series its data; then every series (index first) with stray rows
    dropped, and every series stale before the backtest's ``end`` named with its last session
    and the instant it became stale."""
    lines = [
        f"confirmation data: {info['ticker']} from {info['source']}, {info['sessions']} "
        f"sessions {info['first']:%Y-%m-%d} .. {info['last']:%Y-%m-%d}"
        for info in series
    ]
    every = ([index] if index else []) + list(series)
    for info in every:
        dropped = tuple(info.get("dropped") or ())
        if dropped:
            days = ", ".join(f"{pd.Timestamp(d):%Y-%m-%d}" for d in dropped)
            lines.append(f"stray rows dropped: {info['ticker']}: {days} (not sessions)")
    try:
        until = pd.Timestamp(end)
        until = until.tz_localize("UTC") if until.tzinfo is None else until
    except (ValueError, TypeError):
        until = None
    for info in every:
        since = info.get("stale_from")
        if since is not None and (until is None or pd.Timestamp(since) < until):
            lines.append(f"stale data: {stale_series_note(info['ticker'], info['last'], since)}")
    return lines


def summary_lines(
    index: Mapping[str, Any] | None,
    report: Mapping[str, Mapping[str, Any]],
    result: Mapping[str, Any],
    strategy: str | None = None,
    series: Sequence[Mapping[str, Any]] = (),
    params_file: str | None = None,
) -> list[str]:
    """The summary printed at the end of the main job (see module docstring for inputs)."""
    lines = [HEADER]
    if strategy:
        lines.append(f"strategy: {strategy}")
    if params_file:
        lines.append(f"parameters: from {params_file} (hyperopt export), not the defaults")
    start, end = result.get("backtest_start", "?"), result.get("backtest_end", "?")
    lines.append(f"backtest: {start} .. {end}")
    if index:
        lines.append(
            f"index data: {index['ticker']} from {index['source']}, {index['sessions']} sessions "
            f"{index['first']:%Y-%m-%d} .. {index['last']:%Y-%m-%d}"
        )
    else:
        lines.append("index data: none loaded")
    lines += series_lines(index, series, result.get("backtest_end"))
    lines += gate_lines(report)
    profit = float(result.get("profit_total", 0.0))
    absolute = " ".join(
        filter(None, [f"{float(result.get('profit_total_abs', 0.0)):+.2f}",
                      str(result.get("stake_currency", ""))])
    )
    lines.append(
        f"trades: {int(result.get('total_trades', 0))}, total profit: {100 * profit:+.2f} % "
        f"({absolute})"
    )
    return lines
