"""Same-exposure random gates (pure) and the control on a hand-made trade list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from russell_regime.evidence.bootstrap import rng_for
from russell_regime.evidence.random_gate import (
    ControlInput,
    from_spells,
    gate_control,
    same_exposure_gate,
    signal_slots,
    spells,
)


def test_spells_round_trip():
    mask = np.array([1, 1, 0, 0, 0, 1, 0, 1, 1, 1], dtype=bool)
    first, lengths = spells(mask)
    assert first is True and lengths.tolist() == [2, 3, 1, 1, 3]
    np.testing.assert_array_equal(from_spells(first, lengths), mask)
    assert spells(np.zeros(0, bool))[1].size == 0


def _circular_open_spells(mask: np.ndarray) -> list[int]:
    """Open spell lengths of a circular sequence (rotated to start at an open spell's start)."""
    start = int(np.flatnonzero(mask & ~np.roll(mask, 1))[0])
    first, lengths = spells(np.roll(mask, -start))
    return sorted(lengths[0 if first else 1 :: 2].tolist())


def test_random_gate_keeps_exposure_and_spell_lengths_but_moves_them():
    # starts open, ends closed: the circular spells are the linear ones
    mask = from_spells(True, np.array([5, 20, 12, 3, 1, 40, 7, 12]))
    open_lengths = sorted(spells(mask)[1][::2].tolist())
    gates = [same_exposure_gate(mask, rng_for(7, "t", i)) for i in range(50)]
    for gate in gates:
        assert gate.size == mask.size and gate.sum() == mask.sum()
        assert _circular_open_spells(gate) == open_lengths
    assert sum(not np.array_equal(g, mask) for g in gates) >= 45  # placed elsewhere
    # seeded: the same generator key gives the same gate
    np.testing.assert_array_equal(same_exposure_gate(mask, rng_for(7, "t", 3)), gates[3])


def test_signal_slots_are_the_candle_before_the_entry():
    grid = pd.date_range("2024-01-01", periods=5, freq="h", tz="UTC")
    trades = pd.DataFrame({"open_date": pd.to_datetime(
        ["2024-01-01 01:00", "2024-01-01 04:00", "2024-01-01 00:00"], utc=True)})
    assert signal_slots(trades, grid, pd.Timedelta(hours=1)).tolist() == [0, 3, -1]


def _trades(rows):
    frame = pd.DataFrame(rows, columns=["pair", "open_date", "close_date", "profit_ratio"])
    frame["open_date"] = pd.to_datetime(frame["open_date"], utc=True)
    frame["close_date"] = pd.to_datetime(frame["close_date"], utc=True)
    return frame


def test_gate_control_measures_the_real_gate_on_the_ungated_trades():
    grid = pd.date_range("2024-01-01", periods=10, freq="h", tz="UTC")
    btc = np.array([1, 1, 0, 0, 0, 0, 0, 0, 1, 1], dtype=bool)
    alt = np.array([0, 0, 0, 0, 1, 1, 0, 0, 0, 0], dtype=bool)
    trades = _trades([
        ("BTC/USDT", "2024-01-01 01:00", "2024-01-01 03:00", 0.02),   # signal 0: open
        ("BTC/USDT", "2024-01-01 04:00", "2024-01-01 05:00", -0.05),  # signal 3: closed
        ("SOL/USDT", "2024-01-01 05:00", "2024-01-01 09:00", 0.01),   # signal 4: alt open
        ("SOL/USDT", "2024-01-01 08:00", "2024-01-01 09:00", 0.03),   # signal 7: alt closed
    ])
    inp = ControlInput(grid, {"btc": btc, "eth": btc, "alt": alt}, trades,
                       {"BTC/USDT": "btc", "SOL/USDT": "alt"}, pd.Timedelta(hours=1), n=200,
                       seed=3)
    summary, draws = gate_control(inp, "gate")
    real = summary.set_index("metric")["real"]
    assert real["trades"] == 2
    assert real["profit"] == pytest.approx(0.03)
    # exposure: BTC/USDT 4 open candles + SOL/USDT 2 -> 0.03 per 6 open pair-candles
    assert real["profit_per_1k_open"] == pytest.approx(1000 * 0.03 / 6)
    assert real["profit_per_1k_in_trade"] == pytest.approx(1000 * 0.03 / 6)  # 2 h + 4 h
    assert len(draws) == 200 and (draws["gate"] == "gate").all()
    # every random gate has the real exposure: profit per open candle is profit / 6
    np.testing.assert_allclose(draws["profit_per_1k_open"], 1000 * draws["profit"] / 6)
    row = summary.set_index("metric").loc["profit"]
    below = (draws["profit"] < 0.03).sum() + 0.5 * (draws["profit"] == 0.03).sum()
    assert row["percentile"] == pytest.approx(100 * below / 200)
    assert row["p_random"] == pytest.approx((1 + (draws["profit"] >= 0.03).sum()) / 201)
    # the same seed gives the same draws; another seed other draws
    again = gate_control(inp, "gate")[1]
    pd.testing.assert_frame_equal(draws, again)
    other = gate_control(ControlInput(grid, inp.masks, trades, inp.pair_classes, n=200,
                                      seed=4), "gate")[1]
    assert not draws["profit"].equals(other["profit"])


def test_random_gates_without_a_kept_trade_are_counted_not_hidden():
    """Issue 16 item 8: ``n_random`` below the gates asked for. A random gate that keeps no
    trade has no hours in trades, so its profit per in-trade hour is undefined (0/0) and is
    left out of that metric only; ``n_undefined`` says how many, and they are exactly the
    draws that kept no trade."""
    grid = pd.date_range("2024-01-01", periods=100, freq="h", tz="UTC")
    mask = np.zeros(100, dtype=bool)
    mask[10:15] = True  # open 5 % of the time in one spell: most placements miss the trade
    trades = _trades([("BTC/USDT", "2024-01-01 12:00", "2024-01-01 14:00", 0.02)])
    inp = ControlInput(grid, {"btc": mask}, trades, {"BTC/USDT": "btc"},
                       pd.Timedelta(hours=1), n=300, seed=1)
    summary, draws = gate_control(inp, "gate")
    rows = summary.set_index("metric")
    no_trade = int((draws["trades"] == 0).sum())
    assert 0 < no_trade < 300
    per_hour = rows.loc["profit_per_1k_in_trade"]
    assert per_hour["n_undefined"] == no_trade
    assert per_hour["n_random"] + per_hour["n_undefined"] == 300
    for metric in ("trades", "profit", "profit_per_1k_open"):  # defined for every gate
        assert rows.loc[metric, "n_random"] == 300 and rows.loc[metric, "n_undefined"] == 0
