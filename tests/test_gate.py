"""Pure gate rules: pair classes, modes, tags, thresholds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from russell_regime.core.gate import GateParams, daily_gate, gate_conditions, gate_state, pair_class


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("BTC/USDT", "btc"), ("ETH/USDT", "eth"), ("SOL/USDT", "alt"), ("eth/btc", "eth"),
        ("BTC/USDT:USDT", "btc"), ("DOGE/USDT", "alt"),
    ],
)
def test_default_pair_classes(pair: str, expected: str) -> None:
    assert pair_class(pair) == expected


def test_class_map_reassigns_bases() -> None:
    mapping = {"wbtc": "btc", "ETH": "alt"}
    assert pair_class("WBTC/USDT", mapping) == "btc"
    assert pair_class("ETH/USDT", mapping) == "alt"
    assert pair_class("BTC/USDT", mapping) == "btc"


CONDITIONS = pd.DataFrame(
    {
        "ath": [True, True, False, False, True],
        "breakout": [True, False, True, False, True],
        "retest": [False, False, True, False, True],
    }
)


@pytest.mark.parametrize(
    ("mode", "is_open", "tags"),
    [
        ("off", [1, 1, 1, 1, 1], ["off"] * 5),
        ("ath", [1, 1, 0, 0, 1], ["ath", "ath", "", "", "ath"]),
        ("breakout", [1, 0, 1, 0, 1], ["breakout", "", "breakout", "", "breakout"]),
        ("retest", [0, 0, 1, 0, 1], ["", "", "retest", "", "retest"]),
        ("any", [1, 1, 1, 0, 1], ["breakout", "ath", "retest", "", "retest"]),
        ("all", [0, 0, 0, 0, 1], ["", "", "", "", "all"]),
    ],
)
def test_modes_and_tags(mode: str, is_open: list[int], tags: list[str]) -> None:
    got_open, got_tags = gate_state(CONDITIONS, mode)
    assert got_open.tolist() == [bool(x) for x in is_open]
    assert got_tags.tolist() == tags


def test_ath_condition_needs_freshness_and_shallow_drawdown() -> None:
    features = pd.DataFrame(
        {
            "sessions_since_ath": [0.0, 5.0, 6.0, 2.0, np.nan],
            "drawdown": [0.0, -0.05, -0.01, -0.11, np.nan],
            "breakout_active": [False] * 5,
            "support": [False] * 5,
        }
    )
    cond = gate_conditions(features, GateParams(mode="ath", ath_fresh=5, max_drawdown=0.10))
    assert cond["ath"].tolist() == [True, True, False, False, False]


@pytest.mark.parametrize(
    ("field", "value"),
    [("mode", "sometimes"), ("basis", "open"), ("max_drawdown", 1.5), ("ath_fresh", -1)],
)
def test_invalid_params_name_the_value(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=repr(value)):
        GateParams(**{field: value})


def test_daily_gate_on_real_data_opens_after_the_2020_breakout(rut_daily) -> None:
    gate = daily_gate(rut_daily, GateParams(mode="breakout", lookback=756))
    by_session = gate.set_index(rut_daily["session"])
    assert not by_session.loc["2020-11-12", "gate_open"]
    assert by_session.loc["2020-11-13", "gate_open"]
    assert by_session.loc["2020-11-13", "gate_tag"] == "breakout"
    assert not by_session.loc["2022-06-30", "gate_open"]  # deep in the 2022 bear market
