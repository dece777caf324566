"""The ``russell_regime`` section of a freqtrade config, validated into :class:`RegimeSettings`.

Every key can be overridden with freqtrade's environment variables, e.g.
``FREQTRADE__RUSSELL_REGIME__SOURCE=file``. All invalid values are reported together in one
:class:`ConfigError` naming each key and value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .core.calendar import (
    DEFAULT_CALENDAR,
    DEFAULT_PUBLICATION_LAG_MINUTES,
    Availability,
    calendar_names,
)
from .core.features import PRICE_BASES
from .core.gate import PAIR_CLASSES
from .errors import ConfigError

SECTION = "russell_regime"
SOURCES = ("yahoo", "file")
STALE_POLICIES = ("block_entries", "ignore_gate", "last_known")
MAX_TICKER_LENGTH = 32


@dataclass(frozen=True)
class RegimeSettings:
    ticker: str = "^RUT"
    calendar: str = DEFAULT_CALENDAR  # exchange_calendars code of the index's exchange
    source: str = "yahoo"
    path: Path | None = None
    cache_dir: Path = Path("user_data/data/russell")
    price_basis: str = "close"
    publication_lag_minutes: float = DEFAULT_PUBLICATION_LAG_MINUTES
    class_map: Mapping[str, str] = field(default_factory=dict)
    stale_policy: str = "block_entries"
    stale_grace_minutes: float = 180.0
    refresh_interval_minutes: float = 60.0
    fetch_timeout_seconds: float = 10.0
    notify: bool = True
    exit_on_risk_off: bool = False

    @property
    def availability(self) -> Availability:
        """When a session's bar is usable: ``calendar`` close + ``publication_lag_minutes``."""
        return Availability(self.calendar, self.publication_lag_minutes)


def settings_from_config(config: Mapping[str, Any]) -> RegimeSettings:
    """Validate ``config['russell_regime']`` (missing section = defaults).

    Relative ``cache_dir``/``path`` stay relative to the working directory, like freqtrade's
    own paths; the default cache dir is ``<user_data_dir>/data/russell``.
    """
    raw = config.get(SECTION)
    raw = {} if raw is None else raw
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{SECTION} must be an object, got {type(raw).__name__}: {raw!r}")
    errors: list[str] = []
    known = set(RegimeSettings.__dataclass_fields__)
    errors += [f"unknown key {key!r}" for key in raw if key not in known]

    def pick(key: str, check, default):
        if key not in raw or raw[key] is None:
            return default
        try:
            return check(raw[key])
        except (TypeError, ValueError) as exc:
            errors.append(f"{key}={raw[key]!r}: {exc}")
            return default

    user_data = Path(config.get("user_data_dir") or "user_data")
    settings = RegimeSettings(
        ticker=pick("ticker", _ticker, "^RUT"),
        source=pick("source", _choice(SOURCES), "yahoo"),
        path=pick("path", _path, None),
        cache_dir=pick("cache_dir", _path, user_data / "data" / "russell"),
        calendar=pick("calendar", _calendar, DEFAULT_CALENDAR),
        price_basis=pick("price_basis", _choice(PRICE_BASES), "close"),
        publication_lag_minutes=pick(
            "publication_lag_minutes", _number(0, 24 * 60), DEFAULT_PUBLICATION_LAG_MINUTES
        ),
        class_map=pick("class_map", _class_map, {}),
        stale_policy=pick("stale_policy", _choice(STALE_POLICIES), "block_entries"),
        stale_grace_minutes=pick("stale_grace_minutes", _number(0, 14 * 24 * 60), 180.0),
        refresh_interval_minutes=pick("refresh_interval_minutes", _number(1, 24 * 60), 60.0),
        fetch_timeout_seconds=pick("fetch_timeout_seconds", _number(0.1, 300), 10.0),
        notify=pick("notify", _bool, True),
        exit_on_risk_off=pick("exit_on_risk_off", _bool, False),
    )
    if settings.source == "file" and settings.path is None and "source" in raw:
        errors.append("source='file' needs 'path' (a CSV, feather or parquet daily file)")
    if errors:
        raise ConfigError(f"invalid {SECTION} config: " + "; ".join(errors))
    return settings


def _ticker(value: Any) -> str:
    """A Yahoo-style ticker: surrounding blanks are dropped; no inner whitespace or control
    characters; at most MAX_TICKER_LENGTH characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty ticker string such as '^RUT'")
    ticker = value.strip()
    if len(ticker) > MAX_TICKER_LENGTH:
        raise ValueError(f"is {len(ticker)} characters long; at most {MAX_TICKER_LENGTH}")
    if any(ch.isspace() or not ch.isprintable() for ch in ticker):
        raise ValueError("must not contain whitespace or control characters")
    return ticker


def _path(value: Any) -> Path:
    if not isinstance(value, str | Path) or not str(value).strip():
        raise ValueError("must be a non-empty path string")
    return Path(value)


def _calendar(value: Any) -> str:
    if not isinstance(value, str) or value not in calendar_names():
        raise ValueError("must be an exchange_calendars code such as 'XNYS', 'XLON' or 'XTKS'")
    return value


def _choice(options: tuple[str, ...]):
    def check(value: Any) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return check


def _number(low: float, high: float):
    def check(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError("must be a number")
        number = float(value)
        if not low <= number <= high:
            raise ValueError(f"must be between {low:g} and {high:g}")
        return number

    return check


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError("must be true or false")


def _class_map(value: Any) -> dict[str, str]:
    """Base currency -> class; keys are matched upper-case, so 'btc' and 'BTC' collide."""
    if not isinstance(value, Mapping):
        raise ValueError("must map base currencies to btc, eth or alt")
    bad = {k: v for k, v in value.items() if v not in PAIR_CLASSES}
    if bad:
        raise ValueError(f"classes must be one of {', '.join(PAIR_CLASSES)}; bad: {bad}")
    result: dict[str, str] = {}
    for key, cls in value.items():
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"keys must be non-empty base currencies, got {key!r}")
        if any(ch.isspace() or not ch.isprintable() for ch in key):
            raise ValueError(f"key {key!r} contains whitespace or control characters")
        if key.upper() in result:
            twin = next(k for k in value if k != key and str(k).upper() == key.upper())
            raise ValueError(f"keys {twin!r} and {key!r} are the same currency")
        result[key.upper()] = str(cls)
    return result
