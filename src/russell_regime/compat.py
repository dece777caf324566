"""The freqtrade releases this package supports, checked when a strategy using the mixin is built.

The range is data (:data:`FREQTRADE_MIN`, :data:`FREQTRADE_BELOW`), the same as the freqtrade
dependency in ``pyproject.toml`` (``tests/test_compat.py`` compares them). pip keeps an installed
freqtrade that is in the range and refuses one that is not, but a ``--no-deps`` install, a git
checkout or a Docker image can still put this package beside an unsupported freqtrade: then
:func:`require_supported_freqtrade` (called by ``RussellGateMixin.__init__``) stops
``freqtrade backtesting`` / ``hyperopt`` / ``trade`` / ``lookahead-analysis`` ... at once with one
line naming both versions::

    freqtrade 2025.8 is not supported by russell-regime 0.1.0 (supported: >=2025.12,<2026.10);
    install a supported freqtrade: pip install "freqtrade>=2025.12,<2026.10"

(one line; wrapped here). :class:`UnsupportedFreqtrade` is a :class:`~.errors.RegimeError` and a
freqtrade ``OperationalException``, so freqtrade's own ``main`` logs it as one error line (exit
code 2, no traceback) and ``russell-regime offline ...`` (:mod:`.adapter.ftrun`) prints
``russell_regime offline: error: <message>`` last on stderr (exit code 2).

Versions are compared with ``packaging`` (a freqtrade dependency) by PEP 440, as pip does: a
pre-release or development build of the upper bound (freqtrade's ``2026.10-dev-<commit>``) is
outside ``<2026.10``, one of the floor (``2025.12-dev``) is below ``>=2025.12``.
"""

from __future__ import annotations

import re

from freqtrade.exceptions import OperationalException
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from . import __version__
from .errors import RegimeError

FREQTRADE_MIN = "2025.12"  # the oldest supported release
FREQTRADE_BELOW = "2026.10"  # the first release not supported
SUPPORTED = f">={FREQTRADE_MIN},<{FREQTRADE_BELOW}"
DISTRIBUTION = "russell-regime"


class UnsupportedFreqtrade(RegimeError, OperationalException):
    """The installed freqtrade is outside :data:`SUPPORTED`; the message is one line."""


def installed_freqtrade() -> str:
    """The version of the freqtrade that is imported (``freqtrade.__version__``)."""
    import freqtrade

    return str(getattr(freqtrade, "__version__", "unknown"))


def parse_freqtrade_version(text: str) -> Version | None:
    """``text`` as a PEP 440 version, also freqtrade's own development spellings
    (``2026.10-dev-1a2b3c4``, ``docker-2026.10-dev-1a2b3c4``: ``2026.10.dev0``); None when it has
    no release number."""
    try:
        return Version(text)
    except InvalidVersion:
        pass
    found = re.search(r"\d+(?:\.\d+)+", text)
    if found is None:
        return None
    dev = ".dev0" if "dev" in text[found.end():].lower() else ""
    return Version(found.group(0) + dev)


def is_supported(version: str) -> bool:
    """True when the freqtrade version ``version`` is in :data:`SUPPORTED`."""
    parsed = parse_freqtrade_version(version)
    return parsed is not None and SpecifierSet(SUPPORTED).contains(parsed, prereleases=True)


def unsupported_message(version: str) -> str:
    return (
        f"freqtrade {version} is not supported by {DISTRIBUTION} {__version__} "
        f"(supported: {SUPPORTED}); install a supported freqtrade: "
        f'pip install "freqtrade{SUPPORTED}"'
    )


def require_supported_freqtrade(version: str | None = None) -> None:
    """Raise :class:`UnsupportedFreqtrade` unless freqtrade ``version`` (default: the installed
    one) is in :data:`SUPPORTED`."""
    version = installed_freqtrade() if version is None else version
    if not is_supported(version):
        raise UnsupportedFreqtrade(unsupported_message(version))
