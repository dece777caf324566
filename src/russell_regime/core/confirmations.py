"""Pure confirmation rules: extra daily conditions that may be required on top of the gate.

Each confirmation has a short key used everywhere (settings, columns, tables, hyperopt):

* ``vix``   volatility regime — the VIX close below a level (rule ``level``) or below its
  own ``window``-session moving average (rule ``ma``);
* ``lead``  small caps leading — the ratio ``ticker / versus`` (``^RUT/^GSPC`` or
  ``IWM/SPY``) at a ``window``-session high (rule ``high``) or above its ``window``-session
  moving average (rule ``ma``);
* ``value`` value vs core — the value series (``^RUJ`` or ``IWN``) within ``tolerance`` of its
  running maximum (rule ``high``), or the ratio ``value / core`` (``IWN/IWM``) above its
  ``window``-session moving average (``ratio_ma``) or above its value ``window`` sessions ago
  (``ratio_change``);
* ``flows`` small-cap ETF flows — the net flow over ``window`` sessions above ``threshold``.

Contracts. Inputs are validated daily frames (``core.daily``: a ``session`` column of naive
dates, strictly increasing, finite prices) or, for ``flows``, a session/flow frame
(:func:`validate_flows` or :func:`flows_from_shares`). Every rule returns a bool Series named
by its key, indexed by the sessions of its own series (``DatetimeIndex`` named ``session``),
so the caller aligns it to candles with that series' own ``available_at``. A ratio is formed
per session on the sessions both series have (inner join on ``session``; a session missing
from either is absent from the ratio and its windows count ratio rows). Windows count rows of
the series (sessions it has), ``t`` included; a window with fewer than ``window`` rows (too
short history) or with a NaN is closed. Session ``t`` uses only rows ``<= t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataValidationError
from .calendar import calendar_table, check_sessions

CONFIRMATIONS = ("vix", "lead", "value", "flows")
VIX_RULES = ("level", "ma")
LEAD_RULES = ("high", "ma")
VALUE_RULES = ("high", "ratio_ma", "ratio_change")
MAX_WINDOW = 2520


def _check_window(window: object, name: str = "window") -> None:
    if isinstance(window, bool) or not isinstance(window, int | np.integer):
        raise ValueError(f"{name} must be a whole number of sessions, got {window!r}")
    if not 1 <= window <= MAX_WINDOW:
        raise ValueError(f"{name} must be between 1 and {MAX_WINDOW} sessions, got {window!r}")


def _check_rule(rule: object, rules: tuple[str, ...], key: str) -> None:
    if rule not in rules:
        raise ValueError(f"{key} rule must be one of {rules}, got {rule!r}")


def _finite(value: object, name: str) -> None:
    if isinstance(value, bool) or not np.isfinite(float(value)):  # type: ignore[arg-type]
        raise ValueError(f"{name} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class VixParams:
    """``level``: open when ``close_t < level``; ``ma``: open when ``close_t`` is below the
    mean of the last ``window`` closes (``t`` included)."""

    rule: str = "level"
    level: float = 20.0
    window: int = 50

    def __post_init__(self) -> None:
        _check_rule(self.rule, VIX_RULES, "vix")
        _finite(self.level, "vix level")
        if float(self.level) <= 0:
            raise ValueError(f"vix level must be > 0, got {self.level!r}")
        _check_window(self.window)


@dataclass(frozen=True)
class LeadParams:
    """On ``r = ticker / versus``: ``high`` open when ``r_t >= max(r_{t-window+1..t})``;
    ``ma`` open when ``r_t > mean(r_{t-window+1..t})``."""

    rule: str = "ma"
    window: int = 50

    def __post_init__(self) -> None:
        _check_rule(self.rule, LEAD_RULES, "lead")
        _check_window(self.window)


@dataclass(frozen=True)
class ValueParams:
    """``high``: ``close_t >= (1 - tolerance) * max(close_0..close_t)`` of the value series;
    on ``r = value / core``: ``ratio_ma`` open when ``r_t > mean(r_{t-window+1..t})``,
    ``ratio_change`` open when ``r_t > r_{t-window}``."""

    rule: str = "high"
    tolerance: float = 0.02
    window: int = 50

    def __post_init__(self) -> None:
        _check_rule(self.rule, VALUE_RULES, "value")
        _finite(self.tolerance, "value tolerance")
        if not 0.0 <= float(self.tolerance) < 1.0:
            raise ValueError(f"value tolerance must be in [0, 1), got {self.tolerance!r}")
        _check_window(self.window)

    @property
    def uses_core(self) -> bool:
        """True when the rule needs the core series (a ratio rule)."""
        return self.rule != "high"


@dataclass(frozen=True)
class FlowsParams:
    """Open when ``sum(flow_{t-window+1..t}) > threshold`` (currency units of the flows)."""

    window: int = 20
    threshold: float = 0.0

    def __post_init__(self) -> None:
        _check_window(self.window)
        _finite(self.threshold, "flows threshold")


def _closes(daily: pd.DataFrame) -> pd.Series:
    """The close of each row, indexed by session."""
    index = pd.DatetimeIndex(daily["session"], name="session")
    return pd.Series(daily["close"].to_numpy(dtype="float64"), index=index)


def _opened(values: np.ndarray, index: pd.DatetimeIndex, key: str) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=bool), index=index, name=key)


def _rolling_mean(series: pd.Series, window: int) -> pd.Series:
    return series.rolling(window, min_periods=window).mean()


def vix_open(daily: pd.DataFrame, params: VixParams) -> pd.Series:
    """Per VIX session: the volatility regime is calm (see :class:`VixParams`)."""
    close = _closes(daily)
    bound = params.level if params.rule == "level" else _rolling_mean(close, params.window)
    with np.errstate(invalid="ignore"):
        return _opened((close < bound).to_numpy(), close.index, "vix")


def session_ratio(numerator: pd.DataFrame, denominator: pd.DataFrame) -> pd.Series:
    """``close(numerator) / close(denominator)`` on the sessions both frames have (inner join
    on ``session``), indexed by those sessions in increasing order."""
    top, bottom = _closes(numerator), _closes(denominator)
    both = top.index.intersection(bottom.index, sort=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = top.reindex(both).to_numpy() / bottom.reindex(both).to_numpy()
    ratio[~np.isfinite(ratio)] = np.nan
    return pd.Series(ratio, index=pd.DatetimeIndex(both, name="session"), name="ratio")


def lead_open(small: pd.DataFrame, large: pd.DataFrame, params: LeadParams) -> pd.Series:
    """Per joint session: small caps lead large caps (see :class:`LeadParams`)."""
    ratio = session_ratio(small, large)
    window = ratio.rolling(params.window, min_periods=params.window)
    # a NaN in the window makes its max/mean NaN: closed
    bound = window.max() if params.rule == "high" else window.mean()
    with np.errstate(invalid="ignore"):
        is_open = ratio >= bound if params.rule == "high" else ratio > bound
    return _opened(is_open.to_numpy(), ratio.index, "lead")


def value_open(
    value: pd.DataFrame, core: pd.DataFrame | None, params: ValueParams
) -> pd.Series:
    """Per session of the value series (rule ``high``) or of the value/core ratio: value
    stocks confirm (see :class:`ValueParams`). ``core`` may be None for rule ``high``."""
    if params.rule == "high":
        close = _closes(value)
        # a NaN close never becomes the running max and is closed itself
        peak = close.cummax()
        with np.errstate(invalid="ignore"):
            is_open = close >= (1.0 - params.tolerance) * peak
        return _opened(is_open.to_numpy(), close.index, "value")
    if core is None:
        raise ValueError(f"value rule {params.rule!r} needs the core series (e.g. IWM)")
    ratio = session_ratio(value, core)
    with np.errstate(invalid="ignore"):
        if params.rule == "ratio_ma":
            is_open = ratio > _rolling_mean(ratio, params.window)
        else:
            is_open = ratio > ratio.shift(params.window)
    return _opened(is_open.to_numpy(), ratio.index, "value")


def flows_open(flows: pd.DataFrame, params: FlowsParams) -> pd.Series:
    """Per flows session: the net flow over the last ``window`` rows exceeds ``threshold``.
    ``flows``: columns ``session``, ``flow`` (:func:`validate_flows`, :func:`flows_from_shares`)."""
    index = pd.DatetimeIndex(flows["session"], name="session")
    flow = pd.Series(flows["flow"].to_numpy(dtype="float64"), index=index)
    # rolling sum skips NaN: require a full window of real numbers instead
    known = flow.notna().astype("float64").rolling(params.window, min_periods=1).sum()
    net = flow.rolling(params.window, min_periods=1).sum()
    with np.errstate(invalid="ignore"):
        is_open = (net > params.threshold) & (known >= params.window)
    return _opened(is_open.to_numpy(), index, "flows")


def net_flow(flows: pd.DataFrame, window: int) -> pd.Series:
    """Net flow over the last ``window`` rows (NaN until a full window of numbers exists)."""
    _check_window(window)
    index = pd.DatetimeIndex(flows["session"], name="session")
    flow = pd.Series(flows["flow"].to_numpy(dtype="float64"), index=index, name="net_flow")
    return flow.rolling(window, min_periods=window).sum()


def flows_from_shares(shares: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    """Daily creations/redemptions of an ETF from its shares-outstanding history.

    ``shares``: columns ``session`` (naive dates, any days, increasing) and ``shares``;
    ``daily``: the ETF's validated daily frame. Each session of ``daily`` takes the latest
    shares count reported on or before it (as of), and
    ``flow_t = (shares_t - shares_{t-1}) * close_t`` (a session's change valued at its close);
    NaN before the second session with a known count. Returns columns ``session``, ``flow``.
    """
    dates = pd.DatetimeIndex(shares["session"])
    if not dates.is_monotonic_increasing:
        raise ValueError("shares history must have increasing dates")
    counts = pd.Series(shares["shares"].to_numpy(dtype="float64"), index=dates)
    counts = counts[~counts.index.duplicated(keep="last")]
    sessions = pd.DatetimeIndex(daily["session"])
    at = counts.index.searchsorted(sessions, side="right") - 1
    held = np.where(at >= 0, counts.to_numpy()[np.maximum(at, 0)], np.nan)
    change = np.diff(held, prepend=np.nan)
    flow = change * daily["close"].to_numpy(dtype="float64")
    return pd.DataFrame({"session": sessions, "flow": flow})


def validate_flows(frame: pd.DataFrame, ticker: str, calendar: str | None = None) -> pd.DataFrame:
    """A user's daily flows table, checked, as columns ``session`` (naive dates), ``flow``.

    Format: columns ``date`` (or ``session``) and ``flow`` (names case-insensitive; other
    columns ignored); one row per session, dates strictly increasing; ``flow`` a finite number
    (net creations minus redemptions that session, any currency unit; 0 for a session without
    flow). With ``calendar``, every date is a session of it and no session between the first
    and the last date is missing. Raises DataValidationError naming the session and the value.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(ticker, f"expected a DataFrame, got {type(frame).__name__}")
    lower: dict[str, str] = {}
    for col in frame.columns:
        name = str(col).strip().lower()
        name = "session" if name == "date" else name
        if name in lower and name in ("session", "flow"):
            raise DataValidationError(
                ticker, f"columns collide: {lower[name]!r} and {col!r} (date = session)"
            )
        lower.setdefault(name, col)
    missing = [name for name in ("session", "flow") if name not in lower]
    if missing:
        have = ", ".join(map(str, frame.columns)) or "none"
        raise DataValidationError(ticker, f"flows need columns date,flow; missing "
                                  f"{', '.join(missing)}; have {have}")
    if frame.empty:
        raise DataValidationError(ticker, "flows file has no rows")
    raw_dates = frame[lower["session"]].reset_index(drop=True)
    sessions = _flow_sessions(raw_dates, ticker)
    raw_flow = frame[lower["flow"]].reset_index(drop=True)
    flow = pd.to_numeric(raw_flow, errors="coerce").astype("float64")
    bad = ~np.isfinite(flow.to_numpy())
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        more = f" ({int(bad.sum())} rows)" if bad.sum() > 1 else ""
        raise DataValidationError(
            ticker, f"flow is not a finite number: {_shown(raw_flow.iloc[i])}{more}", sessions[i]
        )
    if calendar is not None:
        check_sessions(sessions, ticker, calendar)
        _check_no_gaps(sessions, ticker, calendar)
    return pd.DataFrame({"session": sessions, "flow": flow})


def _shown(value: object) -> str:
    """A cell as the user wrote it: text quoted, numbers plain, an empty cell ``empty``."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float | np.floating):
        return "empty" if np.isnan(value) else f"{float(value):g}"
    return repr(value)


def _flow_sessions(values: pd.Series, ticker: str) -> pd.DatetimeIndex:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        raise DataValidationError(ticker, "flow dates must be naive calendar dates, got tz-aware")
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    if parsed.isna().any():
        i = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise DataValidationError(ticker, f"unparseable flow date {values.iloc[i]!r} (row {i})")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        raise DataValidationError(ticker, f"flow dates must be naive, got {values.iloc[0]!r}")
    sessions = pd.DatetimeIndex(parsed).as_unit("ns")
    timed = sessions != sessions.normalize()
    if timed.any():
        i = int(np.flatnonzero(timed)[0])
        raise DataValidationError(ticker, f"flow date has a time of day: {values.iloc[i]!r}")
    steps = np.diff(sessions.asi8)
    if (steps <= 0).any():
        i = int(np.flatnonzero(steps <= 0)[0]) + 1
        what = "duplicate flow date" if steps[i - 1] == 0 else "flow dates not increasing"
        raise DataValidationError(ticker, what, sessions[i])
    return pd.DatetimeIndex(sessions, name="session")


def _check_no_gaps(sessions: pd.DatetimeIndex, ticker: str, calendar: str) -> None:
    """DataValidationError naming the first session of ``calendar`` between the first and last
    flow dates that has no row."""
    table = calendar_table(calendar)
    span = table.sessions[(table.sessions >= sessions[0]) & (table.sessions <= sessions[-1])]
    absent = span.difference(sessions)
    if len(absent):
        more = f"; {len(absent)} sessions missing" if len(absent) > 1 else ""
        raise DataValidationError(
            ticker, f"no flow row for this {calendar} session (write 0 for no flow{more})",
            absent[0],
        )
