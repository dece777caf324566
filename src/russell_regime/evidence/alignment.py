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
  confirmations (a required confirmation closes the gate; stale data is not modelled: the
  evidence runs on history that covers the window).
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
from .multitest import PLACEBO_KINDS


@dataclass(frozen=True)
class ConfirmationSeries:
    """``is_open``: bool per own session (index = sessions); ``available_at``: UTC instant of
    each of those sessions (same length, increasing); ``note``: how it was formed."""

    key: str
    is_open: pd.Series
    available_at: pd.DatetimeIndex
    note: str = ""

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


def class_gate_masks(
    daily: pd.DataFrame,
    available_at: pd.DatetimeIndex,
    gate: Mapping[str, object],
    grid: pd.DatetimeIndex,
    timeframe: pd.Timedelta,
    confirmations: Iterable[ConfirmationSeries] = (),
    basis: str = "close",
) -> dict[str, np.ndarray]:
    """``{class: gate open on each candle}`` for the russell parameters ``gate`` (the
    ``<class>_<threshold>`` names), AND-ed with every confirmation in ``confirmations``."""
    from ..adapter.params import GATE_PARAMS, gate_params

    extra = np.ones(len(grid), dtype=bool)
    for conf in confirmations:
        extra &= candle_states(conf.is_open.to_numpy(dtype=bool), conf.available_at, grid,
                               timeframe)
    out = {}
    for cls in PAIR_CLASSES:
        values = {spec.threshold: gate[f"{cls}_{spec.threshold}"] for spec in GATE_PARAMS}
        params = gate_params(values, basis)
        daily_open = daily_gate(daily, params)["gate_open"].to_numpy(dtype=bool)
        out[cls] = candle_states(daily_open, available_at, grid, timeframe) & extra
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
