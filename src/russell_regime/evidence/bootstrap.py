"""Uncertainty of "event mean minus base rate" (pure, seeded by a numpy Generator).

Inputs are one value per start in time order (e.g. the 30-day forward return of every session
whose horizon fits in the data: the base rate) and a boolean mask of the event starts.

* :func:`block_bootstrap_diff` — circular block bootstrap (Politis & Romano 1992) of the
  difference ``mean(events) - mean(all)``. The timeline of (value, is_event) pairs is resampled
  in blocks of ``block`` consecutive starts, wrapping at the end, to the original length; each
  replicate's difference is computed on the resampled timeline. Blocks keep the overlap of
  forward windows (neighbouring starts share most of their path), so a block about as long as
  the horizon is the natural choice. A replicate that drew no event is NaN (counted, ignored).
* :func:`placebo_means` — the same-size mean over random start dates (without replacement):
  the distribution of the event mean if the events were dates picked at random.
  :func:`placebo_pvalue` — one-sided ``P(placebo >= observed)`` with the +1 correction.
"""

from __future__ import annotations

import zlib

import numpy as np


def rng_for(seed: int, *keys: object) -> np.random.Generator:
    """A Generator determined by ``seed`` and ``keys`` only (not by call order)."""
    words = [int(seed) & 0xFFFFFFFF] + [zlib.crc32(str(k).encode()) for k in keys]
    return np.random.default_rng(words)


def circular_block_indices(n: int, block: int, rng: np.random.Generator, reps: int) -> np.ndarray:
    """``reps`` x ``n`` indices: blocks of ``block`` consecutive positions (mod ``n``)."""
    if n < 1 or block < 1:
        raise ValueError(f"need n >= 1 and block >= 1, got n={n}, block={block}")
    block = min(int(block), n)
    count = -(-n // block)
    starts = rng.integers(0, n, size=(reps, count))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]) % n
    return idx.reshape(reps, count * block)[:, :n]


def block_bootstrap_diff(
    values: np.ndarray,
    is_event: np.ndarray,
    block: int,
    reps: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``reps`` bootstrap replicates of ``mean(values[is_event]) - mean(values)`` (NaN when a
    replicate holds no event). ``values`` must be finite."""
    v = np.asarray(values, dtype="float64")
    ev = np.asarray(is_event, dtype=bool)
    if v.shape != ev.shape or not np.isfinite(v).all():
        raise ValueError("values must be finite and the same length as is_event")
    idx = circular_block_indices(v.size, block, rng, reps)
    vals, flags = v[idx], ev[idx]
    counts = flags.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        event_mean = np.where(flags, vals, 0.0).sum(axis=1) / counts
    return np.where(counts > 0, event_mean - vals.mean(axis=1), np.nan)


def percentile_ci(samples: np.ndarray, level: float = 0.90) -> tuple[float, float]:
    """Central percentile interval of the finite samples (NaN, NaN when there are none)."""
    s = np.asarray(samples, dtype="float64")
    s = s[np.isfinite(s)]
    if s.size == 0:
        return (np.nan, np.nan)
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(s, [tail, 100.0 - tail])
    return float(lo), float(hi)


def placebo_means(
    values: np.ndarray, count: int, draws: int, rng: np.random.Generator
) -> np.ndarray:
    """``draws`` means of ``count`` distinct values picked uniformly at random."""
    v = np.asarray(values, dtype="float64")
    k = int(count)
    if k < 1 or k > v.size:
        raise ValueError(f"count must be in 1..{v.size}, got {count}")
    if k * k > v.size:  # collisions would be frequent: exact draw via random keys
        return v[np.argsort(rng.random((draws, v.size)), axis=1)[:, :k]].mean(axis=1)
    picks = rng.integers(0, v.size, size=(draws, k))
    while True:  # redraw rows that picked a value twice (rare when count << len(values))
        ordered = np.sort(picks, axis=1)
        dup = (np.diff(ordered, axis=1) == 0).any(axis=1)
        if not dup.any():
            break
        picks[dup] = rng.integers(0, v.size, size=(int(dup.sum()), k))
    return v[picks].mean(axis=1)


def placebo_pvalue(observed: float, draws: np.ndarray) -> float:
    """One-sided ``(1 + #(draws >= observed)) / (1 + len(draws))``; NaN when observed is NaN."""
    d = np.asarray(draws, dtype="float64")
    if not np.isfinite(observed) or d.size == 0:
        return np.nan
    return float((1 + np.count_nonzero(d >= observed)) / (1 + d.size))
