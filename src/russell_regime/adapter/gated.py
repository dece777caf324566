"""Is a strategy freqtrade loaded gated by the Russell regime? (the evaluation commands' check)

``backtest --strategy NAME`` and ``compare --strategy NAME`` evaluate any strategy built on
:class:`~russell_regime.adapter.mixin.RussellGateMixin`. They let freqtrade's own resolver find
and load the strategy (``--strategy-path``, the user data folder), then check the loaded
object's class here: anything else is one :class:`~russell_regime.errors.ConfigError` line
saying how to gate it, before any backtest runs.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError

MIXIN_NAME = "RussellGateMixin"


def require_gated(strategy: Any) -> None:
    """Pass when ``strategy`` (a loaded freqtrade strategy) uses RussellGateMixin; otherwise
    raise ConfigError naming the strategy, its file and the one-line change that gates it."""
    from .mixin import RussellGateMixin

    if isinstance(strategy, RussellGateMixin):
        return
    cls = type(strategy)
    name = cls.__name__
    where = getattr(strategy, "__file__", None) or getattr(cls, "__module__", "?")
    foreign = [c for c in cls.__mro__ if c.__name__ == MIXIN_NAME]
    if foreign:
        raise ConfigError(
            f"strategy {name} ({where}) uses a {MIXIN_NAME} from another copy of russell_regime "
            f"({foreign[0].__module__}); import it from the installed package: "
            f"`from russell_regime import {MIXIN_NAME}`"
        )
    bases = ", ".join(base.__name__ for base in cls.__bases__) or "IStrategy"
    raise ConfigError(
        f"strategy {name} ({where}) does not use {MIXIN_NAME}, so it has no Russell gate to "
        f"evaluate; gate it with `class {name}({MIXIN_NAME}, {bases})` "
        f"(`from russell_regime import {MIXIN_NAME}`)"
    )
