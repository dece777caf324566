"""Files the package ships as package data (``russell_regime/resources/``), located with
:mod:`importlib.resources`, never from a module's ``__file__``.

* :func:`markets_snapshot` - ``resources/markets/<exchange>_<mode>.json``: the exchange markets
  the offline runner hands to freqtrade (``binance_spot`` ships).
* :func:`example_config` - ``resources/config.json``: the example bot config (Binance spot,
  USDT, the ten pairs, 1h); the repo's top-level ``config.json`` is this file.
* :func:`example_strategies` - ``resources/strategies/``: the folder holding the example
  strategy ``RussellRiskOn.py`` (the repo's ``user_data/strategies/RussellRiskOn.py`` is it).

Each returns a real filesystem path (the package must be installed as files, which pip and
freqtrade's images do); a zipped install is one :class:`ShippedFileError` line.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import RegimeError

EXAMPLE_STRATEGY = "RussellRiskOn"


class ShippedFileError(RegimeError, FileNotFoundError):
    """A file the package should ship is missing (a broken or zipped install)."""


def _resource(*parts: str) -> Path:
    node = resources.files("russell_regime").joinpath("resources", *parts)
    path = Path(str(node))
    if not isinstance(node, Path) or not path.exists():
        raise ShippedFileError(
            f"russell_regime package data {'/'.join(parts)} not found at {path}: reinstall "
            "the package (pip install --force-reinstall russell-regime)"
        )
    return path


def markets_snapshot(name: str = "binance_spot") -> Path:
    """The shipped markets snapshot ``name`` (e.g. ``binance_spot``)."""
    return _resource("markets", f"{name}.json")


def example_config() -> Path:
    """The shipped example freqtrade config."""
    return _resource("config.json")


def example_strategies() -> Path:
    """The folder of the shipped example strategy (``RussellRiskOn.py``)."""
    return _resource("strategies")
