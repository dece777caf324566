"""The event study as one pure computation: typed inputs in, tables out (no I/O, no clock).

:func:`run_study` takes a :class:`StudyInput` (the index, its availability times, the events to
measure, the crypto candles and the settings) and returns a :class:`StudyResult`: the study
table (one row per kind x asset x horizon, with raw and Benjamini-Hochberg adjusted placebo
p-values), per-event detail, the forward returns after ``--at`` sessions, the events measured
and those outside the measured period, and the average paths for the plots.

Base rate: every session whose availability time falls inside the crypto data (and
``start``/``end``). Random placebo: as many seeded random sessions as there are ``ath``
events. Entry rule and metrics: :mod:`.forward`; uncertainty: :mod:`.report`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core.gate import pair_class
from ..errors import ConfigError
from .alignment import ConfirmationSeries, confirmed_events
from .bootstrap import rng_for
from .events import random_events
from .forward import PriceGrid, forward_metrics, forward_paths, next_valid, price_grid
from .multitest import PLACEBO_KINDS, with_bh
from .report import StudySettings, event_detail, study_table

BASKET = "ALT"
HOUR = pd.Timedelta(hours=1)
PATH_ASSETS = ("BTC", "ETH", BASKET)


@dataclass(frozen=True)
class StudyInput:
    """Everything the event study needs.

    ``daily``: the index (``session``, ``close``); ``available_at``: one UTC instant per daily
    row; ``events``: ``kind, session, available_at`` (+ any other columns, e.g. ``position``);
    ``candles``: ``{base: frame with date, open}`` (1h); ``start``/``end``: UTC bounds of the
    start times (None = open); ``at``: extra sessions to report (``YYYY-MM-DD``);
    ``paths``: also compute the average paths for the plots; ``confirmations``: each adds
    the kinds ``<kind>+<key>`` (:func:`.alignment.confirmed_events`, at the entry time).
    """

    daily: pd.DataFrame
    available_at: pd.DatetimeIndex
    events: pd.DataFrame
    candles: Mapping[str, pd.DataFrame]
    settings: StudySettings = field(default_factory=StudySettings)
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    at: tuple[str, ...] = ()
    paths: bool = True
    confirmations: tuple[ConfirmationSeries, ...] = ()


@dataclass(frozen=True)
class StudyResult:
    """Tables of :func:`run_study` (see the module doc)."""

    table: pd.DataFrame
    detail: pd.DataFrame
    at_detail: pd.DataFrame
    events: pd.DataFrame
    outside: pd.DataFrame
    grid: PriceGrid
    base_slots: np.ndarray
    n_random: int
    paths: Mapping[str, np.ndarray]

    @property
    def first_start(self) -> pd.Timestamp:
        return self.grid.start + int(self.base_slots[0]) * self.grid.step

    @property
    def last_start(self) -> pd.Timestamp:
        return self.grid.start + int(self.base_slots[-1]) * self.grid.step


def asset_rows(grid: PriceGrid, pairs: Sequence[str]) -> dict[str, list[int]]:
    """``{asset: grid rows}``: each pair alone, plus the altcoin basket ``ALT`` (every pair
    whose class is ``alt``) when there is one."""
    rows = {p: [grid.names.index(p)] for p in pairs}
    alts = [grid.names.index(p) for p in pairs if pair_class(f"{p}/USDT") == "alt"]
    if alts:
        rows[BASKET] = alts
    return rows


def base_starts(
    grid: PriceGrid, available_at: pd.DatetimeIndex, start: pd.Timestamp | None,
    end: pd.Timestamp | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(slots, daily positions) of every session available inside the grid and the bounds."""
    slots = grid.slots(available_at)
    inside = (slots >= 0) & (slots < grid.size)
    times = pd.DatetimeIndex(available_at)
    if start is not None:
        inside &= np.asarray(times >= pd.Timestamp(start))
    if end is not None:
        inside &= np.asarray(times <= pd.Timestamp(end))
    return slots[inside], np.flatnonzero(inside)


def at_events(
    dates: Sequence[str], daily: pd.DataFrame, times: pd.DatetimeIndex, grid: PriceGrid,
    base_slots: np.ndarray,
) -> pd.DataFrame:
    """Rows ``kind="at", session, available_at, slot`` for ``--at`` sessions (ConfigError
    naming a date that is not a session or lies outside the measured period)."""
    rows = []
    sessions = pd.DatetimeIndex(daily["session"])
    allowed = set(base_slots.tolist())
    for text in dates:
        session = pd.Timestamp(text)
        pos = sessions.get_indexer([session])[0]
        if pos < 0:
            raise ConfigError(f"--at {text}: not a session of the index file")
        slot = int(grid.slots(times[[pos]])[0])
        if slot not in allowed:
            raise ConfigError(f"--at {text}: outside the crypto data / --start..--end")
        rows.append({"kind": "at", "session": session, "available_at": times[pos], "slot": slot})
    return pd.DataFrame(rows)


def run_study(inp: StudyInput, advance: Callable[[str], None] | None = None) -> StudyResult:
    """The event study (module doc). ``advance(asset)`` is called after each asset (progress)."""
    settings = inp.settings
    grid = price_grid(dict(inp.candles), HOUR)
    times = pd.DatetimeIndex(inp.available_at)
    base_slots, base_pos = base_starts(grid, times, inp.start, inp.end)
    if not base_slots.size:
        first, last = grid.start, grid.start + (grid.size - 1) * HOUR
        bounds = (f"{'-' if inp.start is None else f'{inp.start:%Y-%m-%d}'}.."
                  f"{'-' if inp.end is None else f'{inp.end:%Y-%m-%d}'}")
        raise ConfigError(f"no session to measure: --start..--end {bounds} holds no index "
                          f"session available inside the crypto data ({first:%Y-%m-%d}.."
                          f"{last:%Y-%m-%d})")
    events = inp.events.copy()
    events["slot"] = grid.slots(pd.DatetimeIndex(events["available_at"]))
    in_period = events["slot"].isin(base_slots)
    outside = events.loc[~in_period]
    events = events.loc[in_period].reset_index(drop=True)
    if not len(events):
        period = grid.times(base_slots[[0, -1]])
        raise ConfigError(f"nothing to measure: no event in the measured period "
                          f"{period[0]:%Y-%m-%d}..{period[-1]:%Y-%m-%d} ({len(outside)} "
                          "outside it); widen --start/--end or change the thresholds")
    if inp.confirmations:
        entry = grid.times(events["slot"].to_numpy(np.int64))
        confirmed = confirmed_events(events, entry, inp.confirmations, PLACEBO_KINDS)
        events = pd.concat([events, confirmed], ignore_index=True)
    n_ath = int((events["kind"] == "ath").sum())
    rand = random_events(base_slots, n_ath, rng_for(settings.seed, "random-events"))
    pos_of_slot = {int(s): int(i) for s, i in zip(base_slots, base_pos, strict=True)}
    rand_events = pd.DataFrame({
        "kind": "random", "slot": rand,
        "position": np.array([pos_of_slot[int(s)] for s in rand], dtype=np.int64),
    })
    rand_events["session"] = inp.daily["session"].to_numpy()[rand_events["position"].to_numpy()]
    rand_events["available_at"] = times[rand_events["position"].to_numpy()]
    events = pd.concat([events, rand_events], ignore_index=True)

    at = at_events(inp.at, inp.daily, times, grid, base_slots)
    widths = [int(h) * 24 for h in settings.horizons]
    pairs = list(inp.candles)
    assets = asset_rows(grid, pairs)
    nv = next_valid(grid.prices)
    forwards, entries, paths = {}, {}, {}
    path_slots = np.concatenate([base_slots, events["slot"].to_numpy(np.int64)])
    for asset, rows in assets.items():
        prices = grid.prices[rows]
        forwards[asset] = forward_metrics(prices, base_slots, widths)
        entry = nv[rows[0], np.minimum(base_slots, grid.size - 1)] if len(rows) == 1 \
            else base_slots
        entries[asset] = pd.DatetimeIndex(
            [grid.start + int(e) * HOUR if e < grid.size else pd.NaT for e in entry]
        )
        if inp.paths and asset in PATH_ASSETS:
            paths[asset] = forward_paths(prices, path_slots, max(widths), 24)
        if advance is not None:
            advance(asset)
    table = study_table(forwards, base_slots, np.ones(base_slots.size, bool), events, settings)
    table = with_bh(table, placebo_kinds=PLACEBO_KINDS)
    detail = event_detail(forwards, base_slots, events, entries, settings.horizons)
    at_detail = (event_detail(forwards, base_slots, at, entries, settings.horizons)
                 if len(at) else pd.DataFrame())
    return StudyResult(table, detail, at_detail, events, outside, grid, base_slots, len(rand),
                       paths)


def average_paths(
    result: StudyResult,
) -> dict[str, tuple[dict[str, np.ndarray], dict[str, np.ndarray], tuple]]:
    """Per plotted asset: (event paths per plain kind, base centre per stat, base 25-75 %
    band); the ``<kind>+<confirmation>`` kinds are left out of the plots (tables only)."""
    import warnings

    out = {}
    n_base = result.base_slots.size
    kinds = result.events["kind"]
    for asset, p in result.paths.items():
        base, ev_paths = p[:n_base], p[n_base:]
        per_kind = {kind: ev_paths[(kinds == kind).to_numpy()] for kind in dict.fromkeys(kinds)
                    if "+" not in kind}  # the plots show the plain kinds only
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns near the end
            band = (np.nanpercentile(base, 25, axis=0), np.nanpercentile(base, 75, axis=0))
            centre = {"mean": np.nanmean(base, axis=0), "median": np.nanmedian(base, axis=0)}
        out[asset] = (per_kind, centre, band)
    return out
