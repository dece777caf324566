"""The daily frame: one row per US trading session, the input of every feature.

Contract (checked by :func:`validate_daily`):

* columns ``session, open, high, low, close, volume``; ``session`` is a naive calendar date
  (``datetime64[ns]`` at midnight, no time zone: it names a trading day, not an instant);
* sessions unique and strictly increasing;
* no NaN close; prices > 0; ``high >= max(open, close)``; ``low <= min(open, close)``;
* volume may be missing (filled with 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import DataValidationError

PRICE_COLUMNS = ("open", "high", "low", "close")
COLUMNS = ("session", *PRICE_COLUMNS, "volume")
# Yahoo stores float32-derived prices: allow rounding noise in the OHLC ordering checks.
_REL_TOLERANCE = 1e-6


def validate_daily(frame: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """Return a clean copy of ``frame`` in the daily-frame layout or raise DataValidationError.

    Accepts a ``date`` column as an alias of ``session``. Never reorders or drops rows:
    unsorted or duplicated input is an error, so nothing is silently lost.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(ticker, f"expected a DataFrame, got {type(frame).__name__}")
    data = frame.rename(columns=str.lower)
    if "session" not in data.columns and "date" in data.columns:
        data = data.rename(columns={"date": "session"})
    missing = [c for c in ("session", *PRICE_COLUMNS) if c not in data.columns]
    if missing:
        raise DataValidationError(
            ticker,
            f"missing column(s) {', '.join(missing)}; have {', '.join(map(str, data.columns))}",
        )
    if data.empty:
        raise DataValidationError(ticker, "no rows")
    out = pd.DataFrame({"session": _sessions(data["session"], ticker)})
    for col in PRICE_COLUMNS:
        out[col] = _numeric(data[col], ticker, col, out["session"])
    volume = data["volume"] if "volume" in data.columns else 0.0
    out["volume"] = pd.to_numeric(volume, errors="coerce")
    out["volume"] = out["volume"].fillna(0.0).astype("float64")
    _check_order(out, ticker)
    _check_prices(out, ticker)
    return out.reset_index(drop=True)


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
    duplicate = np.flatnonzero(steps == np.timedelta64(0))
    if duplicate.size:
        raise DataValidationError(ticker, "duplicate session", out["session"][duplicate[0] + 1])
    backwards = np.flatnonzero(steps < np.timedelta64(0))
    if backwards.size:
        i = backwards[0] + 1
        raise DataValidationError(
            ticker,
            f"sessions not increasing (follows {out['session'][i - 1]:%Y-%m-%d})",
            out["session"][i],
        )


def _check_prices(out: pd.DataFrame, ticker: str) -> None:
    o, h, lo, c = (out[col].to_numpy() for col in PRICE_COLUMNS)
    tol = _REL_TOLERANCE * np.abs(c)
    checks = (
        (np.isnan(c), lambda i: "close is NaN"),
        (np.isnan(o) | np.isnan(h) | np.isnan(lo), lambda i: "open/high/low is NaN"),
        ((o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0), lambda i: _prices(out, i, "price <= 0")),
        (h < np.maximum(o, c) - tol, lambda i: _prices(out, i, "high < max(open, close)")),
        (lo > np.minimum(o, c) + tol, lambda i: _prices(out, i, "low > min(open, close)")),
    )
    for bad, message in checks:
        rows = np.flatnonzero(bad)
        if rows.size:
            i = int(rows[0])
            extra = f" ({rows.size} sessions)" if rows.size > 1 else ""
            raise DataValidationError(ticker, message(i) + extra, out["session"][i])


def _prices(out: pd.DataFrame, i: int, problem: str) -> str:
    row = out.iloc[i]
    return (
        f"{problem}: open={row.open:g} high={row.high:g} low={row.low:g} close={row.close:g}"
    )
