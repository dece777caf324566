"""Same-exposure random-gate control (pure, seeded): does the gate help only by trading less?

A gate is a per-candle bool mask (True = entries allowed). :func:`same_exposure_gate` draws a
random gate with **exactly** the real gate's open share and the same open and closed spell
lengths: the open spells are shuffled among themselves, the closed spells among themselves,
re-interleaved in the real gate's alternation, then the whole sequence is rotated by a uniform
random offset (the rotation may join the last and first spell when they have the same state;
exposure is unchanged). So a random gate is open as often and for as long at a time as the
real one, at random places.

Evaluation (:func:`gate_control`) works on the **ungated run's trade list**: a gate keeps a
trade when it is open on the trade's signal candle (the candle before the entry candle, the
one freqtrade's ``enter_long`` was set on). The real gate is measured the same way, so real
and random gates are compared on exactly the same base entries. Re-running freqtrade for each
of hundreds of random gates would cost a full backtest each; the filter is exact except for
``max_open_trades``: a gated backtest can take a trade the ungated one skipped because every
slot was busy (the filtered real gate is reported next to the real gated backtest, so the size
of that effect is visible).

Metrics per gate: ``trades``, ``profit`` = sum of the kept trades' ``profit_ratio`` (stake-
independent), ``profit_per_1k_open`` = profit per 1000 open pair-candles (the gate's exposure:
equal for every random gate by construction), ``profit_per_1k_in_trade`` = profit per 1000
hours spent in the kept trades. ``percentile`` = share of random gates below the real gate
(ties count half) x 100; ``p_random`` = one-sided ``(1 + #random >= real) / (1 + n)``.

A metric can be undefined for a gate: ``profit_per_1k_in_trade`` of a gate that keeps no trade
(no hours in trades: 0/0). Such random gates are left out of that metric's distribution (a rate
of a gate that never trades is not 0, it does not exist), so ``n_random`` (the random gates
compared) can be below the gates drawn; ``n_undefined`` counts the ones left out
(``n_random + n_undefined`` = the gates drawn). Few trades and a gate open in few long spells
make this common: most random placements of those spells then miss every trade.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .bootstrap import rng_for

METRICS = ("trades", "profit", "profit_per_1k_open", "profit_per_1k_in_trade")


def spells(mask: np.ndarray) -> tuple[bool, np.ndarray]:
    """(state of the first spell, spell lengths) of a bool sequence (run-length encoding)."""
    m = np.asarray(mask, dtype=bool)
    if m.size == 0:
        return False, np.zeros(0, dtype=np.int64)
    edges = np.flatnonzero(m[1:] != m[:-1]) + 1
    bounds = np.concatenate(([0], edges, [m.size]))
    return bool(m[0]), np.diff(bounds).astype(np.int64)


def from_spells(first: bool, lengths: np.ndarray) -> np.ndarray:
    """The bool sequence of alternating spells starting with ``first`` (inverse of spells)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    states = (np.arange(lengths.size) % 2 == 0) == first
    return np.repeat(states, lengths)


def same_exposure_gate(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random gate with the same open share and spell lengths as ``mask`` (module doc)."""
    first, lengths = spells(mask)
    if lengths.size == 0:
        return np.zeros(0, dtype=bool)
    shuffled = lengths.copy()
    for parity in (0, 1):  # spells of one state: every other spell
        idx = np.arange(parity, lengths.size, 2)
        shuffled[idx] = lengths[idx][rng.permutation(idx.size)]
    return np.roll(from_spells(first, shuffled), int(rng.integers(0, int(lengths.sum()))))


@dataclass(frozen=True)
class ControlInput:
    """The ungated trades and the real gate per pair class on one candle grid.

    ``grid``: the candle open times (regular, increasing, UTC) of the backtest window;
    ``masks[cls]``: the real gate on each candle of ``grid`` for pair class ``cls``;
    ``trades``: the ungated run's trades (``pair, open_date, close_date, profit_ratio``);
    ``pair_classes``: ``{pair: class}`` of every traded pair (and of every pair of the run, for
    the exposure); ``timeframe``: the candle length; ``n``: random gates; ``seed``.
    """

    grid: pd.DatetimeIndex
    masks: Mapping[str, np.ndarray]
    trades: pd.DataFrame
    pair_classes: Mapping[str, str]
    timeframe: pd.Timedelta = pd.Timedelta(hours=1)
    n: int = 500
    seed: int = 7


def signal_slots(trades: pd.DataFrame, grid: pd.DatetimeIndex, timeframe: pd.Timedelta
                 ) -> np.ndarray:
    """Grid index of each trade's signal candle (entry candle - timeframe); -1 off the grid."""
    if not len(trades):
        return np.zeros(0, dtype=np.int64)
    signal = pd.DatetimeIndex(trades["open_date"]).as_unit("ns") - pd.Timedelta(timeframe)
    g = pd.DatetimeIndex(grid).as_unit("ns")
    pos = np.searchsorted(g.asi8, signal.asi8)
    found = (pos < g.size) & (g.asi8[np.minimum(pos, g.size - 1)] == signal.asi8)
    return np.where(found, pos, -1).astype(np.int64)


def _metrics(keep: np.ndarray, profit: np.ndarray, hours: np.ndarray, open_candles: float
             ) -> dict[str, float]:
    total = float(profit[keep].sum())
    in_trade = float(hours[keep].sum())
    return {
        "trades": int(keep.sum()),
        "profit": total,
        "profit_per_1k_open": 1000.0 * total / open_candles if open_candles else np.nan,
        "profit_per_1k_in_trade": 1000.0 * total / in_trade if in_trade else np.nan,
    }


def _kept(masks: Mapping[str, np.ndarray], classes: np.ndarray, slots: np.ndarray
          ) -> np.ndarray:
    keep = np.zeros(slots.size, dtype=bool)
    ok = slots >= 0
    for cls, mask in masks.items():
        rows = ok & (classes == cls)
        keep[rows] = np.asarray(mask, dtype=bool)[slots[rows]]
    return keep


def _open_pair_candles(masks: Mapping[str, np.ndarray], pair_classes: Mapping[str, str]
                       ) -> float:
    return float(sum(int(np.count_nonzero(masks[c])) for c in pair_classes.values()
                     if c in masks))


def gate_control(inp: ControlInput, label: str = "gate") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary, draws): the real gate's metrics with each metric's percentile and
    ``p_random`` among ``inp.n`` same-exposure random gates, and every random gate's metrics.

    Random gate ``i`` is drawn per class from ``rng_for(seed, "random-gate", label, cls, i)``
    (the same seed gives the same gates). Summary columns: ``gate, metric, real, random_mean,
    random_median, random_p05, random_p95, percentile, p_random, n_random, n_undefined,
    exposure`` (``n_undefined``: random gates whose metric is undefined, module doc).
    """
    trades = inp.trades
    slots = signal_slots(trades, inp.grid, inp.timeframe)
    classes = np.array([inp.pair_classes.get(p, "") for p in trades["pair"]], dtype=object) \
        if len(trades) else np.zeros(0, dtype=object)
    profit = trades["profit_ratio"].to_numpy(dtype="float64") if len(trades) else np.zeros(0)
    hours = ((pd.DatetimeIndex(trades["close_date"]) - pd.DatetimeIndex(trades["open_date"]))
             / pd.Timedelta(hours=1)).to_numpy(dtype="float64") if len(trades) else np.zeros(0)
    open_candles = _open_pair_candles(inp.masks, inp.pair_classes)
    real = _metrics(_kept(inp.masks, classes, slots), profit, hours, open_candles)
    draws = []
    for i in range(int(inp.n)):
        masks = {cls: same_exposure_gate(m, rng_for(inp.seed, "random-gate", label, cls, i))
                 for cls, m in inp.masks.items()}
        draws.append({"draw": i, **_metrics(_kept(masks, classes, slots), profit, hours,
                                            _open_pair_candles(masks, inp.pair_classes))})
    draws_frame = pd.DataFrame(draws, columns=["draw", *METRICS])
    used = [c for c in set(inp.pair_classes.values()) if c in inp.masks]
    exposure = float(np.mean([np.mean(inp.masks[c]) for c in used])) if used else np.nan
    rows = []
    for metric in METRICS:
        drawn = draws_frame[metric].to_numpy(dtype="float64")
        values = drawn[np.isfinite(drawn)]
        x = float(real[metric])
        row = {"gate": label, "metric": metric, "real": x}
        if values.size and np.isfinite(x):
            row |= {
                "random_mean": float(values.mean()), "random_median": float(np.median(values)),
                "random_p05": float(np.percentile(values, 5)),
                "random_p95": float(np.percentile(values, 95)),
                "percentile": float(100.0 * (np.count_nonzero(values < x)
                                             + 0.5 * np.count_nonzero(values == x)) / values.size),
                "p_random": float((1 + np.count_nonzero(values >= x)) / (1 + values.size)),
            }
        row |= {"n_random": int(values.size), "n_undefined": int(drawn.size - values.size),
                "exposure": exposure}
        rows.append(row)
    return pd.DataFrame(rows), draws_frame.assign(gate=label)
