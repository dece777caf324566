"""Forward returns, maximum gain and maximum drawdown after given start times (pure).

Prices live on a regular grid (:class:`PriceGrid`): slot ``i`` is the instant
``start + i * step`` and holds the **open** of the candle that opens then (NaN when there is
no candle: listing not yet started, exchange outage, gap in the files).

Contract of :func:`forward_metrics` for one start slot ``s`` and a horizon of ``W`` slots:

* entry price = the open of the first candle opening at or after slot ``s`` (for an event,
  ``s`` is the first slot at or after its ``available_at``, so the entry is causal);
  exit price = the open of the first candle opening at or after slot ``s + W``. A candle more
  than ``max_delay`` slots late makes the asset unusable for that start/horizon (NO_DATA).
* ``ret = exit / entry - 1``; the path is ``p_i / entry`` for ``i`` in ``[s, s + W]``
  (each ``p_i`` = open of the first candle at or after slot ``i``), ``gain = max(path) - 1``
  (>= 0), ``dd = min(path / running_max(path)) - 1`` (peak-to-trough, <= 0).
* several assets (a basket): equal weight at the entry, buy and hold — the path is the mean of
  the assets' paths over the assets usable at both ends, so ``ret`` is the mean of their
  returns.
* status ``PAST_END`` when ``s + W`` is beyond the last slot (the horizon runs past the end of
  the data), ``NO_DATA`` when no asset is usable; metrics are NaN unless status is ``OK``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

OK, PAST_END, NO_DATA = 0, 1, 2
STATUS_NAMES = {OK: "ok", PAST_END: "past_end", NO_DATA: "no_data"}


@dataclass(frozen=True)
class PriceGrid:
    """Candle opens of several assets on one regular UTC grid (``prices[asset, slot]``)."""

    start: pd.Timestamp
    step: pd.Timedelta
    names: tuple[str, ...]
    prices: np.ndarray

    @property
    def size(self) -> int:
        return self.prices.shape[1]

    def slots(self, times: pd.DatetimeIndex | pd.Series) -> np.ndarray:
        """Index of the first slot at or after each time (may be < 0 or >= size)."""
        delta = (pd.DatetimeIndex(times).tz_convert("UTC") - self.start) / self.step
        return np.ceil(np.asarray(delta, dtype="float64")).astype(np.int64)

    def times(self, slots: np.ndarray) -> pd.DatetimeIndex:
        """The instants of the given slots."""
        return pd.DatetimeIndex(self.start + np.asarray(slots) * self.step)

    def select(self, names: Sequence[str]) -> PriceGrid:
        """The same grid restricted to ``names`` (in that order)."""
        rows = [self.names.index(n) for n in names]
        return PriceGrid(self.start, self.step, tuple(names), self.prices[rows])


def price_grid(candles: Mapping[str, pd.DataFrame], step: pd.Timedelta) -> PriceGrid:
    """Grid spanning every asset's candles; ``candles[name]`` has UTC ``date`` and ``open``."""
    if not candles:
        raise ValueError("no candles given")
    dates = {k: pd.DatetimeIndex(v["date"]).tz_convert("UTC") for k, v in candles.items()}
    start = min(d.min() for d in dates.values())
    end = max(d.max() for d in dates.values())
    size = int((end - start) / step) + 1
    prices = np.full((len(candles), size), np.nan)
    for row, (name, frame) in enumerate(candles.items()):
        offset = np.asarray((dates[name] - start) / step, dtype="float64")
        if not np.allclose(offset, np.round(offset)):
            raise ValueError(f"{name}: candle dates are not on the {step} grid")
        prices[row, np.round(offset).astype(np.int64)] = frame["open"].to_numpy(dtype="float64")
    return PriceGrid(pd.Timestamp(start), pd.Timedelta(step), tuple(candles), prices)


def next_valid(prices: np.ndarray) -> np.ndarray:
    """``[asset, i]`` -> smallest ``j >= i`` with a finite price, ``n`` when there is none."""
    prices = np.atleast_2d(prices)
    n = prices.shape[1]
    idx = np.where(np.isfinite(prices), np.arange(n), n)
    return np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1]


@dataclass(frozen=True)
class Forward:
    """Per start (rows) and horizon (columns): metrics and status (see the module doc)."""

    ret: np.ndarray
    gain: np.ndarray
    dd: np.ndarray
    status: np.ndarray


def _backfilled(prices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    prices = np.atleast_2d(np.asarray(prices, dtype="float64"))
    nv = next_valid(prices)
    n = prices.shape[1]
    padded = np.concatenate([prices, np.full((prices.shape[0], 1), np.nan)], axis=1)
    return np.take_along_axis(padded, np.minimum(nv, n), axis=1), nv


def forward_metrics(
    prices: np.ndarray, starts: np.ndarray, horizons: Sequence[int], max_delay: int = 24
) -> Forward:
    """Forward return, max gain and max drawdown for each start slot and horizon (in slots)."""
    bf, nv = _backfilled(prices)
    n = bf.shape[1]
    starts = np.asarray(starts, dtype=np.int64)
    shape = (starts.size, len(horizons))
    ret, gain, dd = (np.full(shape, np.nan) for _ in range(3))
    status = np.full(shape, NO_DATA, dtype=np.int8)
    for row, s in enumerate(starts):
        if s >= n:
            status[row] = PAST_END
            continue
        if s < 0:
            continue
        entry_ok = (nv[:, s] < n) & (nv[:, s] - s <= max_delay)
        groups: dict[bytes, list[tuple[int, int]]] = {}
        masks: dict[bytes, np.ndarray] = {}
        for col, width in enumerate(horizons):
            t = s + int(width)
            if t > n - 1:
                status[row, col] = PAST_END
                continue
            usable = entry_ok & (nv[:, t] < n) & (nv[:, t] - t <= max_delay)
            if usable.any():
                key = usable.tobytes()
                masks[key] = usable
                groups.setdefault(key, []).append((col, t - s))
        for key, items in groups.items():
            last = max(k for _, k in items)
            seg = bf[masks[key], s : s + last + 1]
            path = (seg / seg[:, :1]).mean(axis=0)
            peak = np.maximum.accumulate(path)
            trough = np.minimum.accumulate(path / peak - 1.0)
            for col, k in items:
                ret[row, col] = path[k] - 1.0
                gain[row, col] = peak[k] - 1.0
                dd[row, col] = trough[k]
                status[row, col] = OK
    return Forward(ret, gain, dd, status)


def forward_paths(
    prices: np.ndarray, starts: np.ndarray, length: int, stride: int = 1, max_delay: int = 24
) -> np.ndarray:
    """Normalised buy-and-hold path ``[start, j] = value at slot s + j*stride`` (1 at entry).

    Equal weight over the assets usable at the entry; NaN past the end of the data or when
    no asset is usable.
    """
    bf, nv = _backfilled(prices)
    n = bf.shape[1]
    offsets = np.arange(0, int(length) + 1, int(stride))
    out = np.full((len(starts), offsets.size), np.nan)
    for row, s in enumerate(np.asarray(starts, dtype=np.int64)):
        if s < 0 or s >= n:
            continue
        usable = (nv[:, s] < n) & (nv[:, s] - s <= max_delay)
        if not usable.any():
            continue
        cols = s + offsets[s + offsets < n]
        seg = bf[usable][:, cols] / bf[usable, s][:, None]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
            out[row, : cols.size] = np.nanmean(seg, axis=0)
    return out


def summarize(values: np.ndarray) -> dict[str, float]:
    """``n``, ``mean``, ``median``, ``hit`` (share > 0) of the finite values (NaN when none)."""
    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0, "mean": np.nan, "median": np.nan, "hit": np.nan}
    return {
        "n": int(v.size),
        "mean": float(v.mean()),
        "median": float(np.median(v)),
        "hit": float((v > 0).mean()),
    }
