"""Where daily bars come from: Yahoo Finance (via yfinance) or a local file.

Every source answers ``fetch(now, start=None)`` with a *normalised* frame in the daily-frame
layout (:func:`russell_regime.core.daily.normalize_daily`: columns, dates and numbers checked)
holding only sessions whose bar is final and published at ``now``
(``availability.available_at(session) <= now``, see :class:`core.calendar.Availability`).
Dates on non-sessions of the source's exchange calendar follow the stray-row policy
(:func:`russell_regime.core.daily.split_sessions`): an answer with too many (or adjacent) such
rows is rejected whole (DataValidationError naming the first bad date); a few isolated ones
are passed on, and the merge drops and names them (``MergeResult.dropped``). Row values
(NaN, inf, high < low, negative volume...) are judged by the merge
(:func:`russell_regime.core.merge.merge_update`), which may keep the cached row of a session
whose fresh row is bad; a bad row of a new session is an error there. A source never
answers with an empty frame: nothing usable is a :class:`SourceError`.

Yahoo timestamps are midnight America/New_York, tz-aware. They are converted explicitly:
``tz_convert("America/New_York")`` -> must be midnight -> ``tz_localize(None)`` = session.
A naive index, or one not at New York midnight, is a SourceError (we cannot tell the date).

NaN closes: the in-progress bar (often NaN during US hours) is dropped as not yet available;
a NaN close on a completed session is judged by the merge (see above).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from ..core.calendar import NEW_YORK, Availability, to_utc
from ..core.daily import (
    SessionRows,
    normalize_daily,
    split_sessions,
    validate_daily,
    validate_sessions,
)
from ..errors import ConfigError, SourceError

if TYPE_CHECKING:
    from ..settings import RegimeSettings

YAHOO_COLUMNS = ("Open", "High", "Low", "Close", "Volume")
_REQUIRED_YAHOO = ("open", "high", "low", "close")
SOURCE_KINDS = ("yahoo", "file")
_READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    ".csv": pd.read_csv,
    ".feather": pd.read_feather,
    ".parquet": pd.read_parquet,
    ".pq": pd.read_parquet,
}

HistoryFn = Callable[..., pd.DataFrame]
"""``history(ticker, **kwargs)`` -> what ``yfinance.Ticker(ticker).history(**kwargs)`` returns."""


class DailySource(Protocol):
    """Anything that answers completed daily bars for one ticker."""

    ticker: str

    def fetch(self, now: pd.Timestamp, start: date | None = None) -> pd.DataFrame: ...


# --- pure core -------------------------------------------------------------------------------


def drop_unavailable(
    frame: pd.DataFrame,
    ticker: str,
    now: pd.Timestamp,
    availability: Availability,
) -> pd.DataFrame:
    """Rows of ``frame`` (with a naive ``session`` column) whose bar is available at ``now``.

    Raises SourceError when no row is left. ``now`` must be tz-aware.
    """
    now = to_utc(now)
    ready = np.asarray(availability.available_at(frame["session"]) <= now)
    kept = frame.loc[ready].reset_index(drop=True)
    if kept.empty:
        raise SourceError(ticker, f"no completed session available at {now:%Y-%m-%d %H:%M} UTC")
    return kept


def normalize_yahoo(
    raw: pd.DataFrame,
    ticker: str,
    now: pd.Timestamp,
    availability: Availability,
) -> pd.DataFrame:
    """A yfinance daily answer as a normalised daily frame of the sessions available at ``now``.

    Accepts flat columns (``Ticker.history``) or ``(Price, Ticker)`` / ``(Ticker, Price)``
    MultiIndex columns (``yf.download``). Extra columns (Adj Close, Dividends, ...) are ignored.
    Raises SourceError for an empty answer, missing columns, all-NaN closes, a naive index or
    an index not at New York midnight; DataValidationError for dates off
    ``availability.calendar`` beyond the stray-row policy (a few isolated ones are kept for
    the merge to drop) or malformed columns/dates. Row values are not judged here (see the
    module docstring).
    """
    if not isinstance(raw, pd.DataFrame) or raw.empty:
        raise SourceError(ticker, "empty answer from Yahoo (unknown ticker or no data)")
    prices = _flat_columns(raw, ticker)
    missing = [c for c in _REQUIRED_YAHOO if c not in prices.columns]
    if missing:
        have = ", ".join(map(str, raw.columns))
        raise SourceError(ticker, f"Yahoo answer lacks column(s) {', '.join(missing)}; have {have}")
    if prices["close"].isna().all():
        raise SourceError(ticker, "Yahoo answer has no close price (all NaN)")
    frame = pd.DataFrame(
        {"session": _yahoo_sessions(raw.index, ticker)}
        | {c: prices[c].to_numpy() for c in (*_REQUIRED_YAHOO, "volume") if c in prices.columns}
    )
    frame = normalize_daily(frame, ticker)
    split_sessions(frame, ticker, availability.calendar)  # refuses a series off the calendar
    return drop_unavailable(frame, ticker, now, availability)


def _flat_columns(raw: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """Lower-cased single-level price columns, selecting ``ticker`` from MultiIndex columns."""
    if isinstance(raw.columns, pd.MultiIndex):
        if raw.columns.nlevels != 2:
            raise SourceError(ticker, f"unexpected {raw.columns.nlevels}-level Yahoo columns")
        price_level = next(
            (lvl for lvl in (0, 1) if "close" in {str(v).lower() for v in raw.columns.levels[lvl]}),
            None,
        )
        if price_level is None:
            raise SourceError(ticker, "Yahoo answer lacks column(s) close")
        ticker_level = 1 - price_level
        tickers = list(raw.columns.unique(level=ticker_level))
        if ticker in tickers:
            chosen = ticker
        elif len(tickers) == 1:
            chosen = tickers[0]
        else:
            raise SourceError(ticker, f"Yahoo answer holds tickers {tickers}, not {ticker}")
        raw = raw.xs(chosen, axis=1, level=ticker_level)
    return raw.rename(columns=lambda c: str(c).lower())


def _yahoo_sessions(index: pd.Index, ticker: str) -> pd.DatetimeIndex:
    if not isinstance(index, pd.DatetimeIndex):
        raise SourceError(ticker, f"Yahoo index is not timestamps ({type(index).__name__})")
    if index.tz is None:
        raise SourceError(
            ticker, "Yahoo index is naive (no time zone): cannot tell which trading date it names"
        )
    local = index.tz_convert(NEW_YORK)
    off = local != local.normalize()
    if off.any():
        raise SourceError(
            ticker, f"Yahoo timestamp {local[off][0]} is not midnight {NEW_YORK}: not a daily bar"
        )
    return local.tz_localize(None).as_unit("ns")


# --- I/O edges -------------------------------------------------------------------------------


def _yfinance_history(ticker: str, **kwargs: object) -> pd.DataFrame:
    import yfinance as yf  # lazy: importing this module must not import yfinance

    return yf.Ticker(ticker).history(**kwargs)


@dataclass(frozen=True)
class YahooSource:
    """Daily bars of ``ticker`` from Yahoo Finance, available per ``availability``;
    ``timeout`` bounds the request (seconds); ``history`` replaces yfinance in tests."""

    ticker: str
    availability: Availability
    timeout: float = 10
    history: HistoryFn | None = None

    def fetch(self, now: pd.Timestamp, start: date | None = None) -> pd.DataFrame:
        """Sessions from ``start`` (all history when None) available at ``now``.

        Any failure of the call is a SourceError naming the ticker and the original message.
        """
        span: dict[str, object] = (
            {"period": "max"} if start is None else {"start": f"{pd.Timestamp(start):%Y-%m-%d}"}
        )
        call = self.history or _yfinance_history
        try:
            raw = call(
                self.ticker,
                interval="1d",
                auto_adjust=False,
                actions=False,
                timeout=self.timeout,
                **span,
            )
        except Exception as exc:  # third-party edge: any failure becomes a typed error
            raise SourceError(
                self.ticker, f"Yahoo request failed: {type(exc).__name__}: {exc}"
            ) from exc
        return normalize_yahoo(raw, self.ticker, now, self.availability)

    def __str__(self) -> str:
        return f"yahoo {self.ticker}"


def read_daily_file(path: Path, ticker: str, calendar: str | None = None) -> pd.DataFrame:
    """A validated daily frame from a .csv, .feather or .parquet file.

    Columns ``date`` (or ``session``), open, high, low, close[, volume]; other columns are
    ignored. Unknown suffix or unreadable file -> SourceError naming the path; bad content
    (including tz-aware dates) -> DataValidationError. With ``calendar`` the stray-row policy
    applies (:func:`read_daily_sessions`, which also names the dropped dates).
    """
    if calendar is None:
        return validate_daily(_read_file(path, ticker), ticker)
    return read_daily_sessions(path, ticker, calendar).frame


def read_daily_sessions(path: Path, ticker: str, calendar: str) -> SessionRows:
    """The file's validated rows on sessions of ``calendar`` and the stray dates dropped
    (:func:`daily.validate_sessions`); errors as :func:`read_daily_file`."""
    return validate_sessions(_read_file(path, ticker), ticker, calendar)


def read_daily_rows(path: Path, ticker: str, calendar: str) -> pd.DataFrame:
    """The file's rows normalised (:func:`daily.normalize_daily`), refused when off
    ``calendar`` beyond the stray-row policy (isolated stray rows are kept for the merge to
    drop and name); row values are left to the merge. Errors as :func:`read_daily_file`."""
    frame = normalize_daily(_read_file(path, ticker), ticker)
    split_sessions(frame, ticker, calendar)
    return frame


def _read_file(path: Path, ticker: str) -> pd.DataFrame:
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(_READERS)
        raise SourceError(ticker, f"cannot read {path}: unknown suffix {path.suffix!r} ({known})")
    try:
        frame = reader(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise SourceError(ticker, f"cannot read {path}: {type(exc).__name__}: {exc}") from exc
    if frame.index.name in ("date", "session") and frame.index.name not in frame.columns:
        frame = frame.reset_index()
    return frame


@dataclass(frozen=True)
class FileSource:
    """Daily bars of ``ticker`` from a local file (see :func:`read_daily_file`), available per
    ``availability``."""

    path: Path
    ticker: str
    availability: Availability

    def fetch(self, now: pd.Timestamp, start: date | None = None) -> pd.DataFrame:
        """All sessions in the file available at ``now``; ``start`` is ignored."""
        rows = read_daily_rows(Path(self.path), self.ticker, self.availability.calendar)
        return drop_unavailable(rows, self.ticker, now, self.availability)

    def __str__(self) -> str:
        return f"file {self.path}"


def source_for(settings: RegimeSettings) -> YahooSource | FileSource:
    """The one source factory: the source ``settings`` name (``file`` with its ``path``, else
    Yahoo with the configured fetch timeout), available per ``settings.availability``.
    ``source='file'`` without a path is a ConfigError."""
    if settings.source == "file":
        if settings.path is None:
            raise ConfigError("source 'file' needs a path (russell_regime.path / --path)")
        return FileSource(Path(settings.path), settings.ticker, settings.availability)
    if settings.source == "yahoo":
        return YahooSource(
            settings.ticker, settings.availability, timeout=settings.fetch_timeout_seconds
        )
    raise ConfigError(
        f"source must be one of {', '.join(SOURCE_KINDS)}, got {settings.source!r}"
    )
