"""The daily frame: one row per exchange session, the input of every feature.

Contract (checked by :func:`validate_daily`):

* columns ``session, open, high, low, close, volume``; ``session`` is a naive calendar date
  (``datetime64[ns]`` at midnight, no time zone: it names a trading day, not an instant);
* column names are matched case-insensitively; two input columns that collide after
  lower-casing (``Close`` and ``close``, ``date`` and ``session``) are an error;
* sessions unique and strictly increasing; with ``calendar`` given, every session is a
  session of that exchange calendar (:func:`calendar.check_sessions`);
* prices finite and > 0, no NaN; ``high >= max(open, close)``; ``low <= min(open, close)``;
* volume is optional: a missing column or an empty cell is NaN ("unknown"); a given volume
  must be a finite number >= 0.

Checking is split in two so a merge can keep good rows of a partly bad answer:
:func:`normalize_daily` checks the structure (columns, session dates, numbers) and
:func:`row_problems` names what is wrong with each row's values.

Stray rows (:func:`split_sessions`, the one policy of every reader: file, Yahoo, cache, live
refresh, evidence): of ``n`` rows, the rows dated on a non-session of the calendar are
*dropped and named* when they are few and isolated — at most ``max(2, n // 100)`` of them,
no two of them adjacent in the (increasing) row order, and at least one session row left —
e.g. a Labor Day row in a VIX answer. Otherwise the whole series is refused
(DataValidationError naming the first bad date and how many there are): a series mostly off
the calendar is shifted or mislabelled, and dropping rows would hide it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataValidationError
from .calendar import check_sessions, non_sessions

PRICE_COLUMNS = ("open", "high", "low", "close")
COLUMNS = ("session", *PRICE_COLUMNS, "volume")
# Yahoo stores float32-derived prices: allow rounding noise in the OHLC ordering checks.
REL_TOLERANCE = 1e-6
_ALIASES = {"date": "session"}
STRAY_MIN_ROWS = 2  # stray rows always tolerated (short answers: a refetch tail)
STRAY_SHARE = 0.01  # ... or up to 1 % of the rows


@dataclass(frozen=True)
class SessionRows:
    """A frame whose rows are all sessions, and the dates of the stray rows dropped from it
    (increasing; empty when none)."""

    frame: pd.DataFrame
    dropped: tuple[pd.Timestamp, ...] = ()


def stray_limit(rows: int) -> int:
    """Most off-calendar rows dropped (not refused) from a series of ``rows`` rows."""
    return max(STRAY_MIN_ROWS, int(rows * STRAY_SHARE))


def split_sessions(frame: pd.DataFrame, ticker: str, calendar: str) -> SessionRows:
    """``frame`` (a ``session`` column of naive dates, increasing) split by the stray-row
    policy (module docstring): the rows on sessions of ``calendar`` and the dropped dates,
    or DataValidationError naming the first non-session date (and the count) when the
    off-calendar rows are too many, adjacent, or all there is. Pure."""
    sessions = pd.DatetimeIndex(frame["session"])
    if not len(sessions):
        return SessionRows(frame)
    off = np.asarray(sessions.isin(non_sessions(sessions, calendar)))
    count = int(off.sum())
    if not count:
        return SessionRows(frame)
    adjacent = bool((off[1:] & off[:-1]).any())
    if count <= stray_limit(len(off)) and not adjacent and count < len(off):
        kept = frame.loc[~off].reset_index(drop=True)
        return SessionRows(kept, tuple(pd.Timestamp(d) for d in sessions[off]))
    why = ("two in a row" if adjacent and count <= stray_limit(len(off))
           else f"{count} of {len(off)} rows")
    try:
        check_sessions(sessions, ticker, calendar)
    except DataValidationError as exc:
        raise DataValidationError(
            ticker, f"{exc.problem}; refused: {why} off the calendar (isolated stray rows are "
            f"dropped only up to max({STRAY_MIN_ROWS}, 1 %) of the rows)", exc.session,
        ) from None
    raise AssertionError("unreachable: non_sessions and check_sessions disagree")


def stray_note(ticker: str, calendar: str, dropped: tuple[pd.Timestamp, ...]) -> str:
    """The one warning line naming the stray rows dropped from ``ticker``'s series."""
    days = ", ".join(f"{pd.Timestamp(d):%Y-%m-%d} ({pd.Timestamp(d):%a})" for d in dropped)
    rows = "row" if len(dropped) == 1 else "rows"
    return (f"{ticker}: dropped {len(dropped)} {rows} dated on a non-session of {calendar}: "
            f"{days}")


def validate_sessions(frame: pd.DataFrame, ticker: str, calendar: str) -> SessionRows:
    """:func:`validate_daily` with the stray-row policy: the validated frame of the rows on
    sessions of ``calendar`` and the dropped dates; DataValidationError otherwise."""
    split = split_sessions(normalize_daily(frame, ticker), ticker, calendar)
    return SessionRows(validate_daily(split.frame, ticker), split.dropped)


def validate_daily(
    frame: pd.DataFrame, ticker: str, calendar: str | None = None
) -> pd.DataFrame:
    """Return a clean copy of ``frame`` in the daily-frame layout or raise DataValidationError.

    Accepts a ``date`` column as an alias of ``session``. Never reorders or drops rows:
    unsorted or duplicated input is an error, so nothing is silently lost. With ``calendar``
    (an exchange_calendars code such as "XNYS"), a date that is not a session is an error.
    """
    out = normalize_daily(frame, ticker)
    if calendar is not None:
        check_sessions(out["session"], ticker, calendar)
    problems = row_problems(out)
    bad = np.flatnonzero(problems.notna().to_numpy())
    if bad.size:
        i = int(bad[0])
        extra = f" ({bad.size} sessions)" if bad.size > 1 else ""
        raise DataValidationError(ticker, str(problems.iloc[i]) + extra, out["session"][i])
    return out


def normalize_daily(frame: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """``frame`` in the daily-frame layout with its structure checked, values not yet.

    Checks columns (present, no case collisions), session dates (parseable, naive, midnight,
    unique, increasing) and that every value is a number (or empty). Values may still break
    the contract: see :func:`row_problems`. Raises DataValidationError.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(ticker, f"expected a DataFrame, got {type(frame).__name__}")
    data = _canonical_columns(frame, ticker)
    missing = [c for c in ("session", *PRICE_COLUMNS) if c not in data.columns]
    if missing:
        raise DataValidationError(
            ticker,
            f"missing column(s) {', '.join(missing)}; have {', '.join(map(str, frame.columns))}",
        )
    if data.empty:
        raise DataValidationError(ticker, "no rows")
    out = pd.DataFrame({"session": _sessions(data["session"], ticker)})
    for col in PRICE_COLUMNS:
        out[col] = _numeric(data[col], ticker, col, out["session"])
    if "volume" in data.columns:
        out["volume"] = _numeric(data["volume"], ticker, "volume", out["session"])
    else:
        out["volume"] = np.nan
    out["volume"] = out["volume"].astype("float64")
    _check_order(out, ticker)
    return out.reset_index(drop=True)


def row_problems(frame: pd.DataFrame) -> pd.Series:
    """Per row of a normalised frame: what breaks the contract (first problem), else NaN."""
    o, h, lo, c, v = (frame[col].to_numpy(dtype="float64") for col in (*PRICE_COLUMNS, "volume"))
    tol = REL_TOLERANCE * np.abs(c)
    with np.errstate(invalid="ignore"):
        checks = (
            (np.isnan(c), lambda i: "close is NaN"),
            (np.isnan(o) | np.isnan(h) | np.isnan(lo), lambda i: "open/high/low is NaN"),
            (
                np.isinf(o) | np.isinf(h) | np.isinf(lo) | np.isinf(c),
                lambda i: _prices(frame, i, "price is not finite"),
            ),
            ((o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0), lambda i: _prices(frame, i, "price <= 0")),
            (h < np.maximum(o, c) - tol, lambda i: _prices(frame, i, "high < max(open, close)")),
            (lo > np.minimum(o, c) + tol, lambda i: _prices(frame, i, "low > min(open, close)")),
            (np.isinf(v), lambda i: f"volume is not finite: {v[i]:g}"),
            (v < 0, lambda i: f"volume < 0: {v[i]:g}"),
        )
    problems = pd.Series(np.nan, index=frame.index, dtype="object")
    for bad, message in checks:
        for i in np.flatnonzero(bad & problems.isna().to_numpy()):
            problems.iloc[i] = message(int(i))
    return problems


def _canonical_columns(frame: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """Columns lower-cased with ``date`` -> ``session``; a collision is DataValidationError."""
    names: dict[str, list[str]] = {}
    for col in frame.columns:
        key = str(col).lower()
        names.setdefault(_ALIASES.get(key, key), []).append(str(col))
    clashes = [cols for key, cols in names.items() if len(cols) > 1 and key in COLUMNS]
    if clashes:
        described = "; ".join(" and ".join(repr(c) for c in cols) for cols in clashes)
        raise DataValidationError(
            ticker, f"columns collide (names are case-insensitive, date = session): {described}"
        )
    keep = {col: _ALIASES.get(str(col).lower(), str(col).lower()) for col in frame.columns}
    wanted = [col for col, name in keep.items() if name in COLUMNS]
    return frame[wanted].rename(columns=keep)


def _sessions(values: pd.Series, ticker: str) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        raise DataValidationError(
            ticker,
            f"session must be a naive calendar date, got tz-aware timestamps ({values.dtype.tz}); "
            "convert exchange timestamps to their local trading date first",
        )
    try:
        sessions = pd.to_datetime(values)
    except (ValueError, TypeError) as exc:
        raise DataValidationError(ticker, f"unparseable session date: {exc}") from exc
    if isinstance(sessions.dtype, pd.DatetimeTZDtype):
        raise DataValidationError(
            ticker,
            f"session must be a naive calendar date, got tz-aware values ({sessions.iloc[0]})",
        )
    if sessions.isna().any():
        row = int(np.flatnonzero(sessions.isna().to_numpy())[0])
        raise DataValidationError(ticker, f"missing session date at row {row}")
    not_midnight = sessions != sessions.dt.normalize()
    if not_midnight.any():
        bad = sessions[not_midnight].iloc[0]
        raise DataValidationError(ticker, f"session has a time of day ({bad.time()})", bad)
    return sessions.astype("datetime64[ns]").reset_index(drop=True)


def _numeric(values: pd.Series, ticker: str, col: str, sessions: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values.reset_index(drop=True), errors="coerce").astype("float64")
    bad = numbers.isna() & values.reset_index(drop=True).notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        problem = f"{col} is not a number: {values.iloc[row]!r}"
        raise DataValidationError(ticker, problem, sessions[row])
    return numbers


def _check_order(out: pd.DataFrame, ticker: str) -> None:
    sessions = out["session"].to_numpy()
    steps = np.diff(sessions)
    zero = np.timedelta64(0, "ns")  # a unit: numpy 2.5 deprecates the 'generic' one
    duplicate = np.flatnonzero(steps == zero)
    if duplicate.size:
        raise DataValidationError(ticker, "duplicate session", out["session"][duplicate[0] + 1])
    backwards = np.flatnonzero(steps < zero)
    if backwards.size:
        i = backwards[0] + 1
        raise DataValidationError(
            ticker,
            f"sessions not increasing (follows {out['session'][i - 1]:%Y-%m-%d})",
            out["session"][i],
        )


def _prices(frame: pd.DataFrame, i: int, problem: str) -> str:
    row = frame.iloc[i]
    return (
        f"{problem}: open={row.open:g} high={row.high:g} low={row.low:g} close={row.close:g}"
    )
