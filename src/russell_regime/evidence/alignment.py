"""Gate and confirmation states at given instants (pure): what a strategy knew when.

* :class:`ConfirmationSeries` — one confirmation's per-session open state
  (``core.confirmations``) with the ``available_at`` of each of ITS OWN sessions (e.g. the
  VIX closes at 16:15 New York, so its session is usable 15 minutes after the index's).
* :func:`open_at` — the confirmation state known at each instant: the last session whose
  ``available_at`` is at or before the instant (False before the first).
* :func:`candle_states` — a daily state seen by each candle with the strategy's rule
  (:func:`core.align.session_positions`: the last session available strictly before the
  candle's close), False before the first session.
* :func:`class_gate_masks` — the gate per pair class on a candle grid from the russell
  parameters in effect (``{"btc_mode": ..., "eth_lookback": ...}``), optionally AND-ed with
  confirmations. With a :class:`StaleModel` (the strategy's ``stale_policy`` and allowance)
  staleness is modelled exactly as the strategy does (:mod:`..core.stalegate`: the index's
  and each confirmation's own data end, required / optional), so the filter keeps the trades
  the gated backtest takes; without one, stale data is not modelled (each candle sees the
  last session's verdict: ``last_known``).
* :func:`confirmed_events` — events of the Russell kinds that a confirmation also allows at
  the event's entry time, as kind ``<kind>+<key>`` (e.g. ``ath+vix``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.align import gather, session_positions
from ..core.gate import PAIR_CLASSES, daily_gate
from ..core.refresh import stale_at_positions
from ..core.stalegate import confirmation_under_policy, gate_under_policy
from .multitest import PLACEBO_KINDS


@dataclass(frozen=True)
class ConfirmationSeries:
    """``is_open``: bool per own session (index = sessions); ``available_at``: UTC instant of
    each of those sessions (same length, increasing); ``note``: how it was formed;
    ``required``: a stale one follows ``stale_policy`` (else counts as open);
    ``calendar_ns``: sorted ``available_at`` of every calendar session with this series'
    publication times (:meth:`Availability.times_ns`), needed to model its staleness."""

    key: str
    is_open: pd.Series
    available_at: pd.DatetimeIndex
    note: str = ""
    required: bool = True
    calendar_ns: np.ndarray | None = None

    def __post_init__(self) -> None:
        if len(self.is_open) != len(self.available_at):
            raise ValueError(f"confirmation {self.key}: {len(self.is_open)} sessions but "
                             f"{len(self.available_at)} availability times")


def _ns(times) -> np.ndarray:
    return pd.DatetimeIndex(times).as_unit("ns").asi8


def open_at(series: ConfirmationSeries, times: pd.DatetimeIndex | Sequence) -> np.ndarray:
    """The confirmation state known at each instant (available at or before it)."""
    pos = np.searchsorted(_ns(series.available_at), _ns(times), side="right") - 1
    return gather(series.is_open.to_numpy(dtype=bool), pos.astype(np.int64), False)


def candle_states(
    values: np.ndarray, available_at: pd.DatetimeIndex, grid: pd.DatetimeIndex,
    timeframe: pd.Timedelta,
) -> np.ndarray:
    """The daily bool ``values`` seen by each candle opening at ``grid`` (mixin rule)."""
    pos = session_positions(pd.DatetimeIndex(grid), pd.Timedelta(timeframe), available_at)
    return gather(np.asarray(values, dtype=bool), pos, False)


@dataclass(frozen=True)
class StaleModel:
    """The strategy's staleness settings: ``policy`` (``stale_policy``), ``grace_minutes``
    (``stale_grace_minutes``) and ``calendar_ns`` (the index's calendar ``available_at``
    times, :meth:`Availability.times_ns`)."""

    policy: str
    grace_minutes: float
    calendar_ns: np.ndarray


def stale_candles(
    available_at: pd.DatetimeIndex, calendar_ns: np.ndarray, grid: pd.DatetimeIndex,
    timeframe: pd.Timedelta, grace_minutes: float,
) -> np.ndarray:
    """Per candle opening at ``grid``: the daily series with ``available_at`` is stale at the
    candle's close (:func:`core.refresh.stale_at_positions`, the strategy's rule)."""
    grid = pd.DatetimeIndex(grid)
    step = pd.Timedelta(timeframe)
    pos = session_positions(grid, step, available_at)
    closes = (grid + step).as_unit("ns").asi8
    return stale_at_positions(closes, pos, _ns(available_at), calendar_ns, grace_minutes)


def class_gate_masks(
    daily: pd.DataFrame,
    available_at: pd.DatetimeIndex,
    gate: Mapping[str, object],
    grid: pd.DatetimeIndex,
    timeframe: pd.Timedelta,
    confirmations: Iterable[ConfirmationSeries] = (),
    basis: str = "close",
    stale: StaleModel | None = None,
) -> dict[str, np.ndarray]:
    """``{class: gate open on each candle}`` for the russell parameters ``gate`` (the
    ``<class>_<threshold>`` names), AND-ed with every confirmation in ``confirmations``;
    with ``stale``, the stale policy applied as the strategy does (module doc; every
    confirmation then needs its ``calendar_ns``)."""
    from ..adapter.params import GATE_PARAMS, gate_params

    extra = np.ones(len(grid), dtype=bool)
    for conf in confirmations:
        seen = candle_states(conf.is_open.to_numpy(dtype=bool), conf.available_at, grid,
                             timeframe)
        if stale is not None:
            if conf.calendar_ns is None:
                raise ValueError(f"confirmation {conf.key}: no calendar times to model "
                                 "its staleness")
            key_stale = stale_candles(conf.available_at, conf.calendar_ns, grid, timeframe,
                                      stale.grace_minutes)
            seen = confirmation_under_policy(seen, key_stale, stale.policy, conf.required)
        extra &= seen
    index_stale = None
    if stale is not None:
        index_stale = stale_candles(available_at, stale.calendar_ns, grid, timeframe,
                                    stale.grace_minutes)
    out = {}
    for cls in PAIR_CLASSES:
        values = {spec.threshold: gate[f"{cls}_{spec.threshold}"] for spec in GATE_PARAMS}
        params = gate_params(values, basis)
        daily_open = daily_gate(daily, params)["gate_open"].to_numpy(dtype=bool)
        index_open = candle_states(daily_open, available_at, grid, timeframe)
        if index_stale is not None:
            index_open = gate_under_policy(index_open, index_stale, stale.policy)
        out[cls] = index_open & extra
    return out


def confirmed_events(
    events: pd.DataFrame,
    entry_times: pd.DatetimeIndex,
    confirmations: Iterable[ConfirmationSeries],
    placebo_kinds: Iterable[str] = PLACEBO_KINDS,
) -> pd.DataFrame:
    """Rows of ``events`` (Russell kinds only) whose confirmation is open at their entry
    time, one copy per confirmation with ``kind`` = ``<kind>+<key>``; ``entry_times`` is one
    instant per row of ``events``."""
    entry_times = pd.DatetimeIndex(entry_times)
    russell = ~events["kind"].isin(list(placebo_kinds)).to_numpy()
    frames = []
    for conf in confirmations:
        ok = russell & open_at(conf, entry_times)
        part = events.loc[ok].copy()
        part["kind"] = part["kind"] + f"+{conf.key}"
        frames.append(part)
    if not frames:
        return events.iloc[:0].copy()
    return pd.concat(frames, ignore_index=True)


def gate_timeline(
    daily: pd.DataFrame, available_at: pd.DatetimeIndex, params,
) -> pd.DataFrame:
    """One class's daily gate (:func:`core.gate.daily_gate` with ``params``, a
    :class:`core.gate.GateParams`) per session with the instant it became known: columns
    ``session, available_at, close, ath, resistance, gate_open, gate_tag``. A strategy's
    candle sees row ``i`` from ``available_at[i]`` until the next row's."""
    gate = daily_gate(daily, params)
    return pd.DataFrame({
        "session": pd.DatetimeIndex(daily["session"]),
        "available_at": pd.DatetimeIndex(available_at),
        "close": daily["close"].to_numpy(dtype="float64"),
        "ath": gate["ath"].to_numpy(dtype="float64"),
        "resistance": gate["resistance"].to_numpy(dtype="float64"),
        "gate_open": gate["gate_open"].to_numpy(dtype=bool),
        "gate_tag": gate["gate_tag"].to_numpy(dtype=object),
    })


def open_spells(
    times: pd.DatetimeIndex, is_open: np.ndarray, end: pd.Timestamp | None = None,
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """``(start, stop)`` of each run of True in a step series that holds ``is_open[i]`` from
    ``times[i]`` until ``times[i + 1]`` (the last until ``end``, default its own time)."""
    times = pd.DatetimeIndex(times)
    state = np.asarray(is_open, dtype=bool)
    if not state.size:
        return []
    stop_last = times[-1] if end is None else pd.Timestamp(end)
    edges = np.flatnonzero(np.diff(state.astype(np.int8))) + 1
    starts = np.concatenate(([0], edges))
    stops = np.concatenate((edges, [state.size]))
    return [(times[a], times[b] if b < state.size else stop_last)
            for a, b in zip(starts, stops, strict=True) if state[a]]
