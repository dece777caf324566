"""NYSE sessions and the instant each session's daily bar becomes usable.

Contract: a session's bar is *available* at ``close + lag`` where ``close`` is the NYSE
(XNYS) close of that session in UTC — 16:00 America/New_York, 13:00 on early-close days —
and ``lag`` is the publication lag. Example (lag 15 min)::

    2024-07-01 (EDT)          close 20:00 UTC -> available_at 2024-07-01 20:15 UTC
    2024-12-02 (EST)          close 21:00 UTC -> available_at 2024-12-02 21:15 UTC
    2024-11-29 (early close)  close 18:00 UTC -> available_at 2024-11-29 18:15 UTC

A date that is not an XNYS session (e.g. a futures series trading on an NYSE holiday)
is given the regular 16:00 New York close of that date.
"""

from __future__ import annotations

from functools import lru_cache

import exchange_calendars as xcals
import pandas as pd

NEW_YORK = "America/New_York"
DEFAULT_PUBLICATION_LAG_MINUTES = 15
CALENDAR_START = "1980-01-01"


@lru_cache(maxsize=1)
def xnys() -> xcals.ExchangeCalendar:
    """The XNYS calendar from 1980 to two years after today (built once per process)."""
    end = (pd.Timestamp.now(tz="UTC").normalize() + pd.DateOffset(years=2)).tz_localize(None)
    return xcals.get_calendar("XNYS", start=CALENDAR_START, end=end.strftime("%Y-%m-%d"))


def _as_sessions(sessions: pd.DatetimeIndex | pd.Series) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(sessions)
    if index.tz is not None:
        raise ValueError("sessions must be naive calendar dates, got tz-aware timestamps")
    return index.normalize()


def session_close(sessions: pd.DatetimeIndex | pd.Series) -> pd.DatetimeIndex:
    """UTC close instant of each session (early closes included, DST handled)."""
    index = _as_sessions(sessions)
    closes = xnys().closes.reindex(index)
    missing = closes.isna().to_numpy()
    if missing.any():
        regular = (index[missing] + pd.Timedelta(hours=16)).tz_localize(NEW_YORK)
        closes.iloc[missing] = regular.tz_convert("UTC")
    return pd.DatetimeIndex(closes).tz_convert("UTC").as_unit("ns")


def available_at(
    sessions: pd.DatetimeIndex | pd.Series,
    lag_minutes: float = DEFAULT_PUBLICATION_LAG_MINUTES,
) -> pd.DatetimeIndex:
    """UTC instant each session's bar becomes usable: ``session_close + lag``."""
    return session_close(sessions) + _lag(lag_minutes)


def latest_available_session(
    now: pd.Timestamp, lag_minutes: float = DEFAULT_PUBLICATION_LAG_MINUTES
) -> pd.Timestamp | None:
    """The newest XNYS session whose bar is available at ``now`` (UTC), or None.

    Weekends and holidays do not advance it: on Saturday it is Friday's session.
    """
    now = to_utc(now)
    ready = xnys().closes + _lag(lag_minutes) <= now
    if not ready.any():
        return None
    return pd.Timestamp(ready[ready].index[-1])


def is_available(
    session: pd.Timestamp, now: pd.Timestamp, lag_minutes: float = DEFAULT_PUBLICATION_LAG_MINUTES
) -> bool:
    """True when ``session``'s bar is final and published at ``now``."""
    return bool(available_at(pd.DatetimeIndex([session]), lag_minutes)[0] <= to_utc(now))


def _lag(lag_minutes: float) -> pd.Timedelta:
    if not lag_minutes >= 0:
        raise ValueError(f"publication lag must be >= 0 minutes, got {lag_minutes}")
    return pd.Timedelta(minutes=lag_minutes)


def to_utc(now: pd.Timestamp) -> pd.Timestamp:
    """``now`` as a UTC Timestamp; a naive value is a ValueError (we cannot guess its zone)."""
    now = pd.Timestamp(now)
    if now.tzinfo is None:
        raise ValueError(f"'now' must be timezone-aware, got naive {now}")
    return now.tz_convert("UTC")
