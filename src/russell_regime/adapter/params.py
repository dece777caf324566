"""The one spec of the gate's hyperopt parameters: per pair class, 8 thresholds in space
``russell``, named ``<class>_<threshold>`` (``btc_mode``, ``eth_ath_fresh``, ``alt_lookback``...),
and per configured confirmation its rule and thresholds, named ``<key>_<field>``
(``vix_mode``, ``vix_level``, ``vix_window``, ``lead_mode``... see :data:`CONFIRM_PARAMS`).

:class:`~russell_regime.adapter.mixin.RussellGateMixin` builds a fresh set of freqtrade
parameter objects from this spec for every subclass (:func:`russell_parameters`), so the
names, ranges and defaults live here only; the defaults equal
:class:`~russell_regime.core.gate.GateParams`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from freqtrade.strategy import CategoricalParameter, DecimalParameter, IntParameter
from freqtrade.strategy.parameters import BaseParameter

from ..core.gate import MODES, PAIR_CLASSES, GateParams

if TYPE_CHECKING:
    from ..settings import ConfirmationSettings

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
    choices: tuple[str, ...] = MODES

    def build(self, default: Any = None) -> BaseParameter:
        """A new freqtrade parameter object in space ``russell`` (``default`` replaces the
        spec's; a number outside the range widens it)."""
        default = self.default if default is None else default
        if self.kind == "categorical":
            return _mark(CategoricalParameter(self.choices, default=default, space=SPACE))
        low = self.low if default is None else min(self.low, default)
        high = self.high if default is None else max(self.high, default)
        if self.kind == "int":
            param = IntParameter(low, high, default=default, space=SPACE)
        else:
            param = DecimalParameter(
                low, high, decimals=self.decimals, default=default, space=SPACE
            )
        return _mark(param)


def _mark(param: BaseParameter) -> BaseParameter:
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


# --- confirmations ---------------------------------------------------------------------------

OFF = "off"
ON = "on"
# Per confirmation key: its fields; ``mode`` is ``off`` or the rule (``on`` for flows).
# value's ratio rules are offered only when the value confirmation has a core series.
CONFIRM_PARAMS: dict[str, tuple[ParamSpec, ...]] = {
    "vix": (
        ParamSpec("mode", "categorical", choices=(OFF, "level", "ma")),
        ParamSpec("level", "decimal", 10.0, 40.0, decimals=1),
        ParamSpec("window", "int", 5, 200),
    ),
    "lead": (
        ParamSpec("mode", "categorical", choices=(OFF, "high", "ma")),
        ParamSpec("window", "int", 5, 200),
    ),
    "value": (
        ParamSpec("mode", "categorical", choices=(OFF, "high", "ratio_ma", "ratio_change")),
        ParamSpec("tolerance", "decimal", 0.0, 0.10, decimals=3),
        ParamSpec("window", "int", 5, 200),
    ),
    "flows": (
        ParamSpec("mode", "categorical", choices=(OFF, ON)),
        ParamSpec("window", "int", 5, 120),
    ),
}


def confirmation_parameter_names(key: str | None = None) -> list[str]:
    """``["vix_mode", "vix_level", ...]``: the names a configured confirmation adds (all
    confirmations', or one key's)."""
    keys = CONFIRM_PARAMS if key is None else (key,)
    return [f"{k}_{spec.threshold}" for k in keys for spec in CONFIRM_PARAMS[k]]


def confirmation_parameters(conf: ConfirmationSettings) -> dict[str, BaseParameter]:
    """Fresh parameter objects for one configured confirmation, defaults = its configured
    rule and thresholds (``mode`` = the rule, ``on`` for flows); ``off`` disables it."""
    out = {}
    for spec in CONFIRM_PARAMS[conf.key]:
        if spec.threshold == "mode":
            rule = getattr(conf.params, "rule", ON)
            choices = spec.choices
            if conf.key == "value" and conf.versus is None:
                choices = (OFF, "high")  # no core series loaded: no ratio rule
            spec = ParamSpec("mode", "categorical", choices=choices)
            out[f"{conf.key}_mode"] = spec.build(rule)
        else:
            out[f"{conf.key}_{spec.threshold}"] = spec.build(getattr(conf.params, spec.threshold))
    return out


def confirmation_params(key: str, values: dict[str, Any], base: Any) -> Any:
    """The rule parameters (``core.confirmations`` dataclass) of confirmation ``key`` from
    its current values (``{"mode": ..., "window": ...}``), other fields from ``base`` (the
    configured params); None when ``mode`` is ``off``."""
    mode = values["mode"]
    if mode == OFF:
        return None
    fields = {spec.threshold: values[spec.threshold]
              for spec in CONFIRM_PARAMS[key] if spec.threshold != "mode"}
    if key != "flows":
        fields["rule"] = mode
    return replace(base, **fields)
