"""Lookahead-free alignment of daily sessions onto crypto candles.

Contract: a candle opening at ``date`` with timeframe ``tf`` (a ``pd.Timedelta``; the adapter
converts freqtrade's timeframe strings with ``timeframe_to_seconds``) closes at
``date + tf``; freqtrade acts on it only then. The candle sees the latest session whose
``available_at`` is strictly before that close (``available_at < close``). Example (1h
candles, lag 15 min, 2024-07-01 is a regular EDT session: close 20:00 UTC, available 20:15
UTC)::

    candle 2024-07-01 19:00 (closes 20:00)  -> session 2024-06-28
    candle 2024-07-01 20:00 (closes 21:00)  -> session 2024-07-01
    1d candle 2024-07-01 00:00 (closes 07-02 00:00) -> session 2024-07-01
    15m candle 2024-07-01 20:00 (closes 20:15 == available_at) -> session 2024-06-28

Why strictly: live, freqtrade analyses a candle in the first bot loop after it closes, right
after ``bot_loop_start``; a refresh due at ``available_at`` starts in that very loop and lands
seconds later, so the candle closing exactly at ``available_at`` is analysed with the previous
session. The backtest does the same (replay-tested on 15m candles, lag 15). On 1h / 4h / 1d
candles with the default lag (15 min) no close ever equals an ``available_at``.

Calendar dates are never merged. The mapping (one ``searchsorted`` per pair) is computed once;
any daily column is then gathered through it, so features can be recomputed per hyperopt
epoch without re-merging. Index -1 means "no session available yet".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SESSION_COLUMN = "r2k_session"
AVAILABLE_AT_COLUMN = "r2k_available_at"


def _utc_ns(values: pd.Series | pd.DatetimeIndex, what: str) -> np.ndarray:
    index = pd.DatetimeIndex(values)
    if index.tz is None:
        raise ValueError(f"{what} must be timezone-aware UTC timestamps, got naive values")
    return index.tz_convert("UTC").as_unit("ns").asi8


def session_positions(
    candle_dates: pd.Series | pd.DatetimeIndex,
    timeframe: pd.Timedelta,
    available_at: pd.DatetimeIndex,
) -> np.ndarray:
    """Position (into the daily frame) of the session each candle sees, or -1: the last row
    with ``available_at < candle close`` (strictly, see the module doc).

    ``available_at`` must be increasing (one entry per daily row); ``timeframe`` > 0.
    O(n log m).
    """
    step = pd.Timedelta(timeframe)
    if step <= pd.Timedelta(0):
        raise ValueError(f"timeframe must be a positive duration, got {timeframe!r}")
    avail = _utc_ns(available_at, "available_at")
    if avail.size > 1 and not (np.diff(avail) > 0).all():
        raise ValueError("available_at must be strictly increasing")
    closes = _utc_ns(candle_dates, "candle dates") + step.value
    return count_sorted(avail, closes, "left") - 1


def count_sorted(sorted_values: np.ndarray, at: np.ndarray, side: str = "left") -> np.ndarray:
    """``np.searchsorted(sorted_values, at, side)`` as int64: per ``at``, how many
    ``sorted_values`` are before it (``"left"``: strictly; ``"right"``: or equal). For
    increasing ``at`` (freqtrade's candles) one search per sorted value and a running count,
    cheaper than one search per candle; any other ``at`` falls back to the plain search."""
    at = np.asarray(at)
    if at.size < 2 or sorted_values.size == 0 or (at[1:] < at[:-1]).any():
        return np.searchsorted(sorted_values, at, side=side).astype(np.int64)
    # value j is counted from the first ``at`` after it ("left") / at or after it ("right")
    first = np.searchsorted(at, sorted_values, side="right" if side == "left" else "left")
    return np.bincount(first, minlength=at.size + 1)[: at.size].cumsum()


def _ns(values: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Timestamps as int ns (UTC when tz-aware); a ns-unit column is read without a copy."""
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, pd.DatetimeTZDtype) and dtype.unit == "ns":
        return values.array.asi8
    return pd.DatetimeIndex(values).as_unit("ns").asi8


def count_runs(sorted_values: np.ndarray, at: np.ndarray, side: str = "left") -> np.ndarray | None:
    """For increasing ``at``: ``lengths[k]`` = how many ``at`` have :func:`count_sorted` == k
    (k = 0..len(sorted_values)), so ``np.repeat(np.arange(m + 1), lengths)`` is that count
    and any per-value table is gathered with one ``np.repeat`` (no per-candle search or
    ``where``). None when ``at`` is not increasing."""
    at = np.asarray(at)
    if at.size > 1 and (at[1:] < at[:-1]).any():
        return None
    if at.size == 0:
        return np.zeros(sorted_values.size + 1, dtype=np.int64)
    # value j is counted from the first ``at`` after it ("left") / at or after it ("right");
    # only the values inside [at[0], at[-1]] need a search (the others: from 0 / never)
    lo, hi = np.searchsorted(sorted_values, at[[0, -1]], side=side)
    first = np.empty(sorted_values.size, dtype=np.int64)
    first[:lo] = 0
    first[hi:] = at.size
    first[lo:hi] = np.searchsorted(at, sorted_values[lo:hi],
                                   side="right" if side == "left" else "left")
    return np.diff(first, prepend=0, append=at.size)


def repeat_runs(values: np.ndarray, lengths: np.ndarray, fill: object) -> np.ndarray:
    """``values`` gathered through :func:`count_runs` lengths: ``fill`` for the first run
    (count 0: nothing before), ``values[k - 1]`` for run k."""
    return np.repeat(np.concatenate((np.asarray([fill], dtype=values.dtype), values)), lengths)


def positions_from_available_at(
    seen_available_at: pd.Series | pd.DatetimeIndex,
    available_at: pd.DatetimeIndex | np.ndarray,
) -> np.ndarray:
    """The daily row each candle sees, recovered from its ``r2k_available_at`` (the inverse of
    :func:`audit_columns`; ``available_at`` is unique per session): -1 where it is NaT or not
    an ``available_at`` of the daily frame. ``available_at`` may also be given as sorted int
    ns (UTC). int64. ``np.repeat(*seen_runs(...))``."""
    return np.repeat(*seen_runs(seen_available_at, available_at))


def seen_runs(
    seen_available_at: pd.Series | pd.DatetimeIndex,
    available_at: pd.DatetimeIndex | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`positions_from_available_at` in run-length form: (row per run, run lengths).
    Candles seeing the same session form runs (on increasing candles), so one search per run,
    and a daily column is gathered per run then repeated (``np.repeat(gather(values, rows),
    lengths)``) instead of per candle."""
    seen = _ns(seen_available_at)
    avail = (available_at if isinstance(available_at, np.ndarray)
             else pd.DatetimeIndex(available_at).as_unit("ns").asi8)
    if avail.size == 0 or seen.size == 0:
        return np.full(min(seen.size, 1), -1, dtype=np.int64), np.full(min(seen.size, 1),
                                                                       seen.size, dtype=np.int64)
    if (seen[1:] >= seen[:-1]).all():
        runs = np.flatnonzero(np.concatenate(([True], seen[1:] != seen[:-1])))
        values, lengths = seen[runs], np.diff(np.append(runs, seen.size))
    else:
        values, lengths = seen, np.ones(seen.size, dtype=np.int64)
    at = np.searchsorted(avail, values)
    found = avail[np.minimum(at, avail.size - 1)] == values
    return np.where(found, at, -1).astype(np.int64), lengths


def gather(
    values: np.ndarray | pd.Series, positions: np.ndarray, fill: object = np.nan
) -> np.ndarray:
    """``values[positions]`` with ``fill`` where the position is -1 (no session yet).

    Boolean columns come back boolean with ``fill`` coerced (``np.nan`` -> False).
    """
    array = np.asarray(values)
    if array.dtype == bool:
        fill = False if fill is None or (isinstance(fill, float) and np.isnan(fill)) else fill
    if array.size == 0:
        return np.full(len(positions), fill, dtype=bool if array.dtype == bool else None)
    out = array[np.maximum(positions, 0)]
    if np.issubdtype(out.dtype, np.integer) and not isinstance(fill, (int, np.integer)):
        out = out.astype("float64")
    return np.where(positions >= 0, out, fill)


def gather_categorical(
    values: np.ndarray | pd.Series, positions: np.ndarray, fill: object = ""
) -> pd.Categorical:
    """``values[positions]`` (``fill`` where the position is -1) as a pandas Categorical: one
    byte per candle for a few distinct daily values (e.g. gate tags), and no per-candle
    string work. Missing daily values stay missing. A ``pd.Categorical`` (e.g. memoised daily
    tags) is used as is: no factorizing per call."""
    if isinstance(values, pd.Categorical):
        codes, categories = values.codes, list(values.categories)
    else:
        codes, uniques = pd.factorize(np.asarray(values), use_na_sentinel=True)
        categories = list(uniques)
    if pd.isna(fill):
        fill_code = -1
    else:
        if fill not in categories:
            categories.append(fill)
        fill_code = categories.index(fill)
    dtype = np.int8 if len(categories) < np.iinfo(np.int8).max else np.int32
    per_candle = np.where(
        positions >= 0,
        codes.astype(dtype)[np.maximum(positions, 0)] if codes.size else dtype(0),
        dtype(fill_code),
    )
    return pd.Categorical.from_codes(per_candle, categories=pd.Index(categories, dtype=object))


def audit_columns(
    positions: np.ndarray, sessions: pd.Series, available_at: pd.DatetimeIndex
) -> pd.DataFrame:
    """``r2k_session`` (naive date, NaT before the first session) and ``r2k_available_at`` (UTC)."""
    nat = np.iinfo(np.int64).min
    session_ns = pd.DatetimeIndex(sessions).as_unit("ns").asi8
    avail_ns = pd.DatetimeIndex(available_at).tz_convert("UTC").as_unit("ns").asi8
    return pd.DataFrame(
        {
            SESSION_COLUMN: gather(session_ns, positions, nat).astype("int64").view("M8[ns]"),
            AVAILABLE_AT_COLUMN: pd.DatetimeIndex(
                gather(avail_ns, positions, nat).astype("int64").view("M8[ns]")
            ).tz_localize("UTC"),
        }
    )
