"""The one spec of the gate's hyperopt parameters: per pair class, 8 thresholds in space
``russell``, named ``<class>_<threshold>`` (``btc_mode``, ``eth_ath_fresh``, ``alt_lookback``...).

:class:`~russell_regime.adapter.mixin.RussellGateMixin` builds a fresh set of freqtrade
parameter objects from this spec for every subclass (:func:`russell_parameters`), so the
names, ranges and defaults live here only; the defaults equal
:class:`~russell_regime.core.gate.GateParams`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from freqtrade.strategy import CategoricalParameter, DecimalParameter, IntParameter
from freqtrade.strategy.parameters import BaseParameter

from ..core.gate import MODES, PAIR_CLASSES, GateParams

SPACE = "russell"
GENERATED = "_russell_spec"  # marks a parameter object built from this spec


@dataclass(frozen=True)
class ParamSpec:
    """One threshold: ``kind`` int / decimal / categorical, its range and default."""

    threshold: str
    kind: str
    low: Any = None
    high: Any = None
    default: Any = None
    decimals: int = 3

    def build(self) -> BaseParameter:
        """A new freqtrade parameter object in space ``russell``."""
        if self.kind == "categorical":
            param = CategoricalParameter(MODES, default=self.default, space=SPACE)
        elif self.kind == "int":
            param = IntParameter(self.low, self.high, default=self.default, space=SPACE)
        else:
            param = DecimalParameter(
                self.low, self.high, decimals=self.decimals, default=self.default, space=SPACE
            )
        setattr(param, GENERATED, True)
        return param


GATE_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("mode", "categorical", default="any"),
    ParamSpec("ath_fresh", "int", 0, 120, 60),
    ParamSpec("max_drawdown", "decimal", 0.02, 0.30, 0.10, decimals=2),
    ParamSpec("lookback", "int", 60, 756, 252),
    ParamSpec("margin", "decimal", 0.0, 0.03, 0.0),
    ParamSpec("tolerance", "decimal", 0.005, 0.05, 0.02),
    ParamSpec("window", "int", 5, 60, 20),
    ParamSpec("expiry", "int", 10, 250, 60),
)


def parameter_names(pair_class: str | None = None) -> list[str]:
    """``["btc_mode", "btc_ath_fresh", ...]``: every generated name (or one class's)."""
    classes = PAIR_CLASSES if pair_class is None else (pair_class,)
    return [f"{cls}_{spec.threshold}" for cls in classes for spec in GATE_PARAMS]


def russell_parameters() -> dict[str, BaseParameter]:
    """Fresh parameter objects for every class and threshold, keyed by attribute name."""
    return {
        f"{cls}_{spec.threshold}": spec.build() for cls in PAIR_CLASSES for spec in GATE_PARAMS
    }


def is_generated(param: object) -> bool:
    """True for a parameter object built from this spec (not one a user declared)."""
    return bool(getattr(param, GENERATED, False))


def gate_params(values: dict[str, Any], basis: str) -> GateParams:
    """``GateParams`` from one class's threshold values (``{"mode": "any", ...}``)."""
    return GateParams(**{spec.threshold: values[spec.threshold] for spec in GATE_PARAMS},
                      basis=basis)
