"""Pure gate rules: which pair class may enter long on a given session.

Pair classes: ``btc`` (base BTC), ``eth`` (base ETH), ``alt`` (everything else); the base ->
class map is configurable. Each class has a :class:`GateParams`; its ``mode`` picks the rule:

* ``off``      always open (the base signal alone);
* ``ath``      ``sessions_since_ath <= ath_fresh`` and ``drawdown >= -max_drawdown``;
* ``breakout`` ``breakout_active`` (a breakout within ``expiry`` sessions, close still above
  the broken level less ``tolerance``);
* ``retest``   ``support`` (resistance turned support, see ``features``);
* ``any``      any of ath / breakout / retest; ``all``: all three.

The tag names the condition that opened the gate, strongest first: ``retest`` > ``breakout`` >
``ath``; ``off`` when the gate is disabled; ``""`` when closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .features import PRICE_BASES, regime_features

PAIR_CLASSES = ("btc", "eth", "alt")
MODES = ("off", "ath", "breakout", "retest", "any", "all")
DEFAULT_CLASS_MAP: Mapping[str, str] = {"BTC": "btc", "ETH": "eth"}
CONDITIONS = ("retest", "breakout", "ath")


@dataclass(frozen=True)
class GateParams:
    """Thresholds of one class's gate (all of them are hyperopt parameters)."""

    mode: str = "any"
    ath_fresh: int = 60
    max_drawdown: float = 0.10
    lookback: int = 252
    margin: float = 0.0
    tolerance: float = 0.02
    window: int = 20
    expiry: int = 60
    basis: str = "close"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"gate mode must be one of {MODES}, got {self.mode!r}")
        if self.basis not in PRICE_BASES:
            raise ValueError(f"price basis must be one of {PRICE_BASES}, got {self.basis!r}")
        if not 0.0 <= float(self.max_drawdown) < 1.0:
            raise ValueError(f"max_drawdown must be in [0, 1), got {self.max_drawdown!r}")
        if int(self.ath_fresh) != self.ath_fresh or self.ath_fresh < 0:
            raise ValueError(f"ath_fresh must be a whole number >= 0, got {self.ath_fresh!r}")

    def feature_key(self) -> tuple:
        """The parameters the daily features depend on (memoisation key)."""
        return (self.lookback, self.margin, self.tolerance, self.window, self.expiry, self.basis)


def pair_class(pair: str, class_map: Mapping[str, str] | None = None) -> str:
    """``'BTC/USDT'`` -> ``'btc'``; ``'SOL/USDT:USDT'`` -> ``'alt'`` (unless ``class_map``)."""
    base = pair.split("/")[0].split(":")[0].upper()
    mapping = dict(DEFAULT_CLASS_MAP)
    mapping.update({k.upper(): v for k, v in (class_map or {}).items()})
    return mapping.get(base, "alt")


def gate_conditions(features: pd.DataFrame, params: GateParams) -> pd.DataFrame:
    """Daily boolean columns ``ath``, ``breakout``, ``retest`` for one class's thresholds."""
    with np.errstate(invalid="ignore"):
        ath = (features["sessions_since_ath"].to_numpy() <= params.ath_fresh) & (
            features["drawdown"].to_numpy() >= -params.max_drawdown
        )
    return pd.DataFrame(
        {
            "ath": ath,
            "breakout": features["breakout_active"].to_numpy(dtype=bool),
            "retest": features["support"].to_numpy(dtype=bool),
        },
        index=features.index,
    )


def gate_state(conditions: pd.DataFrame, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(open, tag) per daily row for ``mode``; see the module doc for tags."""
    n = len(conditions)
    if mode == "off":
        return np.ones(n, dtype=bool), np.full(n, "off", dtype=object)
    if mode in CONDITIONS:
        is_open = conditions[mode].to_numpy(dtype=bool)
        return is_open, np.where(is_open, mode, "").astype(object)
    if mode not in ("any", "all"):
        raise ValueError(f"gate mode must be one of {MODES}, got {mode!r}")
    stack = [conditions[name].to_numpy(dtype=bool) for name in CONDITIONS]
    if mode == "all":
        is_open = np.logical_and.reduce(stack)
        return is_open, np.where(is_open, "all", "").astype(object)
    is_open = np.logical_or.reduce(stack)
    return is_open, np.select(stack, list(CONDITIONS), default="").astype(object)


def class_features(daily: pd.DataFrame, params: GateParams) -> pd.DataFrame:
    """:func:`features.regime_features` for the thresholds in ``params.feature_key()``."""
    return regime_features(
        daily, params.lookback, params.margin, params.tolerance, params.window, params.expiry,
        params.basis,
    )


def gate_from_features(features: pd.DataFrame, params: GateParams) -> pd.DataFrame:
    """Features + conditions + ``gate_open``/``gate_tag`` for one class, one row per session."""
    conditions = gate_conditions(features, params)
    is_open, tag = gate_state(conditions, params.mode)
    out = pd.concat([features, conditions.add_prefix("cond_")], axis=1)
    out["gate_open"] = is_open
    out["gate_tag"] = tag
    return out


def daily_gate(daily: pd.DataFrame, params: GateParams) -> pd.DataFrame:
    """:func:`gate_from_features` on freshly computed :func:`class_features`."""
    return gate_from_features(class_features(daily, params), params)
