"""Russell 2000 risk-appetite regime for freqtrade strategies.

Functional core (calendar, features, align, gate) with I/O at the edges
(sources, cache, live refresh, offline markets, CLI). Public API::

    from russell_regime import RussellGateMixin, merge_russell_regime

Both are imported on first use (they need freqtrade), so ``import russell_regime.core...``
stays light.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["RussellGateMixin", "merge_russell_regime"]

_LAZY = {
    "RussellGateMixin": "russell_regime.adapter.mixin",
    "merge_russell_regime": "russell_regime.adapter.helper",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'russell_regime' has no attribute {name!r}")
