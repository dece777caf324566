"""The ``russell_regime`` section of a freqtrade config, validated into :class:`RegimeSettings`.

Every key can be overridden with freqtrade's environment variables, e.g.
``FREQTRADE__RUSSELL_REGIME__SOURCE=file``. All invalid values are reported together in one
:class:`ConfigError` naming each key and value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .core.calendar import (
    DEFAULT_CALENDAR,
    DEFAULT_PUBLICATION_LAG_MINUTES,
    Availability,
    calendar_names,
)
from .core.confirmations import (
    CONFIRMATIONS,
    LEAD_RULES,
    VALUE_RULES,
    VIX_RULES,
    FlowsParams,
    LeadParams,
    ValueParams,
    VixParams,
)
from .core.features import PRICE_BASES
from .core.gate import PAIR_CLASSES
from .errors import ConfigError

SECTION = "russell_regime"
SOURCES = ("yahoo", "file")
STALE_POLICIES = ("block_entries", "ignore_gate", "last_known")
MAX_TICKER_LENGTH = 32
# Series that close later than their exchange (minutes after the XNYS close).
CLOSE_OFFSETS: Mapping[str, float] = {"^VIX": 15.0}
ConfirmationParams = VixParams | LeadParams | ValueParams | FlowsParams


@dataclass(frozen=True)
class ConfirmationSettings:
    """One enabled confirmation (``core.confirmations``): where its series come from, when
    they are published and the rule's parameters.

    ``ticker`` is the confirmation's series (VIX, the small caps, the value series, the ETF);
    ``versus`` the ratio's denominator (``lead``; ``value`` with a ratio rule), else None.
    ``source`` ``file``: ``path`` is the ticker's daily file (``flows``: the flows CSV,
    columns ``date,flow``) and ``versus_path`` the denominator's. ``source`` ``yahoo`` for
    ``flows``: the ETF's shares-outstanding history and closes. ``required``: a stale
    required confirmation follows ``stale_policy`` like the index; a stale optional one is
    ignored (treated as open).
    """

    key: str
    ticker: str
    params: ConfirmationParams
    versus: str | None = None
    source: str = "yahoo"
    path: Path | None = None
    versus_path: Path | None = None
    required: bool = True
    calendar: str = DEFAULT_CALENDAR
    close_offset_minutes: float = 0.0
    publication_lag_minutes: float = DEFAULT_PUBLICATION_LAG_MINUTES

    @property
    def tickers(self) -> tuple[str, ...]:
        """The daily series to load: ``(ticker,)`` or ``(ticker, versus)``."""
        return (self.ticker,) if self.versus is None else (self.ticker, self.versus)

    @property
    def availability(self) -> Availability:
        """When a session of the confirmation is usable: the calendar close + the close offset
        + the publication lag (one time for both series of a ratio: the later one)."""
        return Availability(self.calendar, self.publication_lag_minutes, self.close_offset_minutes)


@dataclass(frozen=True)
class LedgerSettings:
    """The decision ledger (dry-run / live only): on by default, at ``path`` (resolved by
    :func:`settings_from_config`: ``<user_data_dir>/russell_regime/ledger.sqlite`` by default;
    None when the config has neither ``path`` nor ``user_data_dir``, which freqtrade always
    sets: then no ledger is written)."""

    enabled: bool = True
    path: Path | None = None


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
    # Increases of long positions (adjust_trade_position) follow the gate and the stale veto.
    gate_position_adjustments: bool = True
    confirmations: Mapping[str, ConfirmationSettings] = field(default_factory=dict)
    ledger: LedgerSettings = field(default_factory=LedgerSettings)

    @property
    def enabled_confirmations(self) -> tuple[str, ...]:
        """Keys of the enabled confirmations, in ``CONFIRMATIONS`` order (empty by default)."""
        return tuple(key for key in CONFIRMATIONS if key in self.confirmations)

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
        gate_position_adjustments=pick("gate_position_adjustments", _bool, True),
        ledger=_ledger(raw.get("ledger"), config.get("user_data_dir"), errors),
    )
    if raw.get("confirmations") is not None:
        confirmations = _confirmations(raw["confirmations"], settings, errors)
        settings = replace(settings, confirmations=confirmations)
    if settings.source == "file" and settings.path is None and "source" in raw:
        errors.append("source='file' needs 'path' (a CSV, feather or parquet daily file)")
    if errors:
        raise ConfigError(f"invalid {SECTION} config: " + "; ".join(errors))
    return settings


def _ledger(raw: Any, user_data: Any, errors: list[str]) -> LedgerSettings:
    """``ledger``: ``{"enabled": bool, "path": str | null}`` (missing / null: defaults); bad
    keys or values are appended to ``errors`` as ``ledger.<key>=<value>: <problem>``."""
    default = LedgerSettings(
        path=Path(user_data) / "russell_regime" / "ledger.sqlite" if user_data else None)
    if raw is None:
        return default
    if not isinstance(raw, Mapping):
        errors.append(f"ledger={raw!r}: must be an object such as "
                      '{"enabled": true, "path": null}')
        return default
    errors += [f"unknown key 'ledger.{key}'" for key in raw if key not in ("enabled", "path")]
    values: dict[str, Any] = {}
    for key, check in (("enabled", _bool), ("path", _path)):
        if raw.get(key) is None:
            continue
        try:
            values[key] = check(raw[key])
        except (TypeError, ValueError) as exc:
            errors.append(f"ledger.{key}={raw[key]!r}: {exc}")
    return replace(default, **values)


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


# Per confirmation: default ticker, default versus, rule names, parameter class, the keys of
# its rule's parameters and their checks.
_SERIES_KEYS = ("enabled", "required", "ticker", "source", "path", "close_offset_minutes",
                "publication_lag_minutes")
_RATIO_KEYS = ("versus", "versus_path")


def _window(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be a whole number of sessions")
    number = float(value)
    if number != int(number):
        raise ValueError("must be a whole number of sessions")
    return int(number)


def _finite_number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    return float(value)


_RULE_FIELDS: Mapping[str, tuple[type, dict[str, Any]]] = {
    "vix": (VixParams, {"rule": _choice(VIX_RULES), "level": _finite_number, "window": _window}),
    "lead": (LeadParams, {"rule": _choice(LEAD_RULES), "window": _window}),
    "value": (
        ValueParams,
        {"rule": _choice(VALUE_RULES), "tolerance": _finite_number, "window": _window},
    ),
    "flows": (FlowsParams, {"window": _window, "threshold": _finite_number}),
}
_DEFAULT_TICKERS: Mapping[str, tuple[str, str | None]] = {
    "vix": ("^VIX", None),
    "lead": ("^RUT", "^GSPC"),
    "value": ("IWN", "IWM"),
    "flows": ("IWM", None),
}


def _confirmations(
    raw: Any, settings: RegimeSettings, errors: list[str]
) -> dict[str, ConfirmationSettings]:
    """The enabled confirmations of ``raw`` (the ``confirmations`` object); every bad key or
    value is appended to ``errors`` as ``confirmations.<key>.<field>=<value>: <problem>``."""
    if not isinstance(raw, Mapping):
        keys = ", ".join(CONFIRMATIONS)
        errors.append(f"confirmations={raw!r}: must be an object with keys {keys}")
        return {}
    out: dict[str, ConfirmationSettings] = {}
    for key, spec in raw.items():
        if key not in CONFIRMATIONS:
            errors.append(f"unknown confirmation {key!r} (one of {', '.join(CONFIRMATIONS)})")
            continue
        if spec is None or isinstance(spec, bool | str):
            try:
                spec = {"enabled": _bool(spec if spec is not None else False)}
            except ValueError:
                errors.append(f"confirmations.{key}={spec!r}: must be an object or true/false")
                continue
        if not isinstance(spec, Mapping):
            errors.append(f"confirmations.{key}={spec!r}: must be an object or true/false")
            continue
        item = _confirmation(key, spec, settings, errors)
        if item is not None:
            out[key] = item
    return {key: out[key] for key in CONFIRMATIONS if key in out}


def _confirmation(
    key: str, spec: Mapping[str, Any], settings: RegimeSettings, errors: list[str]
) -> ConfirmationSettings | None:
    params_cls, rule_fields = _RULE_FIELDS[key]
    ratio = key in ("lead", "value")
    known = set(_SERIES_KEYS) | set(rule_fields) | (set(_RATIO_KEYS) if ratio else set())
    before = len(errors)
    errors += [f"unknown key 'confirmations.{key}.{name}'" for name in spec if name not in known]

    def pick(name: str, check, default):
        if name not in spec or spec[name] is None:
            return default
        try:
            return check(spec[name])
        except (TypeError, ValueError) as exc:
            errors.append(f"confirmations.{key}.{name}={spec[name]!r}: {exc}")
            return default

    ticker_default, versus_default = _DEFAULT_TICKERS[key]
    enabled = pick("enabled", _bool, True)
    ticker = pick("ticker", _ticker, ticker_default)
    values = {name: pick(name, check, None) for name, check in rule_fields.items()}
    values = {name: value for name, value in values.items() if value is not None}
    params = None
    try:
        params = params_cls(**values)
    except ValueError as exc:
        given = [name for name in values if name in spec]
        shown = ", ".join(f"{name}={spec[name]!r}" for name in given)
        where = f".{shown}" if len(given) == 1 else f" ({shown or 'defaults'})"
        errors.append(f"confirmations.{key}{where}: {exc}")
    uses_versus = key == "lead" or (key == "value" and params is not None and params.uses_core)
    versus = pick("versus", _ticker, versus_default) if uses_versus else None
    source = pick("source", _choice(SOURCES), "yahoo")
    path = pick("path", _path, None)
    versus_path = pick("versus_path", _path, None) if uses_versus else None
    if source == "file" and path is None:
        what = "the flows CSV (date,flow)" if key == "flows" else f"the {ticker} daily file"
        errors.append(f"confirmations.{key}: source='file' needs 'path' ({what})")
    if source == "file" and uses_versus and versus_path is None:
        errors.append(f"confirmations.{key}: source='file' needs 'versus_path' ({versus} file)")
    offset_default = max(CLOSE_OFFSETS.get(t, 0.0) for t in (ticker, versus) if t)
    item = ConfirmationSettings(
        key=key,
        ticker=ticker,
        params=params if params is not None else params_cls(),
        versus=versus,
        source=source,
        path=path,
        versus_path=versus_path,
        required=pick("required", _bool, True),
        calendar=settings.calendar,
        close_offset_minutes=pick("close_offset_minutes", _number(0, 24 * 60), offset_default),
        publication_lag_minutes=pick(
            "publication_lag_minutes", _number(0, 24 * 60), float(settings.publication_lag_minutes)
        ),
    )
    return item if enabled and len(errors) == before else None
