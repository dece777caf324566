"""Exchange sessions and the instant each session's daily bar becomes usable.

Contract: a session's bar is *available* at ``close + lag`` where ``close`` is the close of
that session on the index's exchange calendar (setting ``calendar``, default ``XNYS``; any
exchange_calendars code) in UTC — for XNYS 16:00 America/New_York, 13:00 on early-close
days — and ``lag`` is the publication lag. Example (XNYS, lag 15 min)::

    2024-07-01 (EDT)          close 20:00 UTC -> available_at 2024-07-01 20:15 UTC
    2024-12-02 (EST)          close 21:00 UTC -> available_at 2024-12-02 21:15 UTC
    2024-11-29 (early close)  close 18:00 UTC -> available_at 2024-11-29 18:15 UTC

Calendars are built once per process and name (:func:`exchange_calendar`) from
``CALENDAR_START`` to ``CALENDAR_END`` (or the calendar's own bounds): a fixed span, so the
core never reads the clock (the build cost does not depend on the span's length). After the
calendar's last session no newer session is ever expected.

:class:`Availability` (calendar + publication lag, built from the settings) is the one object
the rest of the package passes around; its methods are the functions below bound to it.

Which dates are sessions (:func:`non_sessions`, :func:`check_sessions`): inside the
calendar's span, exactly its sessions. Before its first session (e.g. XBOM from 1997) and
after its last, the calendar knows nothing: every weekday is accepted, weekends are not.
A date that is not a session of the calendar is given the calendar's regular close time on
that date (``session_close``); sources reject such dates before they reach the cache.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import exchange_calendars as xcals
import numpy as np
import pandas as pd

from ..errors import DataValidationError

NEW_YORK = "America/New_York"
DEFAULT_PUBLICATION_LAG_MINUTES = 15
DEFAULT_CALENDAR = "XNYS"
CALENDAR_START = "1980-01-01"
CALENDAR_END = "2045-12-31"


@lru_cache(maxsize=8)
def exchange_calendar(name: str) -> xcals.ExchangeCalendar:
    """The exchange calendar ``name`` from ``CALENDAR_START`` to ``CALENDAR_END`` (within its
    own bounds), built once per process and name. Unknown name -> ValueError."""
    if name not in calendar_names():
        raise ValueError(f"unknown exchange calendar {name!r} (an exchange_calendars code)")
    end = pd.Timestamp(CALENDAR_END)
    try:
        return xcals.get_calendar(name, start=CALENDAR_START, end=f"{end:%Y-%m-%d}")
    except ValueError:  # the calendar's holidays are recorded over a shorter span
        cls = type(xcals.get_calendar(name))
    start = max(pd.Timestamp(CALENDAR_START), pd.Timestamp(cls.bound_min() or CALENDAR_START))
    end = min(end, pd.Timestamp(cls.bound_max() or end))
    return xcals.get_calendar(name, start=f"{start:%Y-%m-%d}", end=f"{end:%Y-%m-%d}")


def xnys() -> xcals.ExchangeCalendar:
    """The XNYS calendar (see :func:`exchange_calendar`)."""
    return exchange_calendar(DEFAULT_CALENDAR)


@lru_cache(maxsize=1)
def calendar_names() -> frozenset[str]:
    """Every exchange_calendars code and alias accepted as the ``calendar`` setting."""
    return frozenset(xcals.get_calendar_names(include_aliases=True))


def non_sessions(sessions: pd.DatetimeIndex | pd.Series, calendar: str) -> pd.DatetimeIndex:
    """The dates among ``sessions`` (naive dates) that are not sessions of ``calendar``.

    Outside the calendar's span every weekday counts as a session (module docstring).
    """
    index = _as_sessions(sessions)
    cal = exchange_calendar(calendar)
    inside = (index >= cal.first_session) & (index <= cal.last_session)
    known = index.isin(cal.sessions)
    weekday = np.asarray(index.day_of_week < 5)
    ok = np.where(inside, known, weekday)
    return index[~ok]


def check_sessions(
    sessions: pd.DatetimeIndex | pd.Series, ticker: str, calendar: str
) -> None:
    """DataValidationError naming the first date of ``sessions`` that is not a session of
    ``calendar`` (and how many there are); nothing when all are sessions."""
    bad = non_sessions(sessions, calendar)
    if len(bad):
        day = bad[0]
        more = f"; {len(bad)} such dates" if len(bad) > 1 else ""
        raise DataValidationError(
            ticker,
            f"not a {calendar} session ({day:%A}{more}): a shifted or mislabelled series? "
            "(set russell_regime.calendar for a non-US index)",
            day,
        )


def _as_sessions(sessions: pd.DatetimeIndex | pd.Series) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(sessions)
    if index.tz is not None:
        raise ValueError("sessions must be naive calendar dates, got tz-aware timestamps")
    return index.normalize()


def session_close(sessions: pd.DatetimeIndex | pd.Series, calendar: str) -> pd.DatetimeIndex:
    """UTC close instant of each session on ``calendar`` (early closes included, DST handled).

    A date that is not a session gets the calendar's regular close time on that date.
    """
    index = _as_sessions(sessions)
    cal = exchange_calendar(calendar)
    closes = cal.closes.reindex(index)
    missing = closes.isna().to_numpy()
    if missing.any():
        local = index[missing] + _regular_close(cal)
        closes.iloc[missing] = local.tz_localize(cal.tz).tz_convert("UTC")
    return pd.DatetimeIndex(closes).tz_convert("UTC").as_unit("ns")


@dataclass(frozen=True)
class Availability:
    """When a session's daily bar becomes usable: its close on the exchange calendar
    ``calendar`` plus ``lag_minutes`` (the publication lag, >= 0; module docstring).

    Frozen and hashable; build it from the settings (``RegimeSettings.availability``).
    """

    calendar: str = DEFAULT_CALENDAR
    lag_minutes: float = DEFAULT_PUBLICATION_LAG_MINUTES

    def __post_init__(self) -> None:
        if isinstance(self.lag_minutes, bool) or not float(self.lag_minutes) >= 0:
            raise ValueError(f"publication lag must be >= 0 minutes, got {self.lag_minutes}")
        object.__setattr__(self, "lag_minutes", float(self.lag_minutes))

    @property
    def lag(self) -> pd.Timedelta:
        """The publication lag."""
        return pd.Timedelta(minutes=self.lag_minutes)

    def session_close(self, sessions: pd.DatetimeIndex | pd.Series) -> pd.DatetimeIndex:
        """UTC close instant of each session (:func:`session_close`)."""
        return session_close(sessions, self.calendar)

    def available_at(self, sessions: pd.DatetimeIndex | pd.Series) -> pd.DatetimeIndex:
        """UTC instant each session's bar becomes usable: ``session_close + lag``."""
        return session_close(sessions, self.calendar) + self.lag

    def latest_available_session(self, now: pd.Timestamp) -> pd.Timestamp | None:
        """The newest calendar session whose bar is available at ``now`` (aware), or None.

        Weekends and holidays do not advance it: on Saturday it is Friday's session.
        """
        times = self.times_ns()
        i = int(np.searchsorted(times, to_utc(now).value, side="right")) - 1
        if i < 0:
            return None
        return pd.Timestamp(exchange_calendar(self.calendar).sessions[i])

    def is_available(self, session: pd.Timestamp, now: pd.Timestamp) -> bool:
        """True when ``session``'s bar is final and published at ``now``."""
        return bool(self.available_at(pd.DatetimeIndex([session]))[0] <= to_utc(now))

    def non_sessions(self, sessions: pd.DatetimeIndex | pd.Series) -> pd.DatetimeIndex:
        """The dates among ``sessions`` that are not sessions of the calendar."""
        return non_sessions(sessions, self.calendar)

    def check_sessions(self, sessions: pd.DatetimeIndex | pd.Series, ticker: str) -> None:
        """DataValidationError naming the first non-session date (:func:`check_sessions`)."""
        check_sessions(sessions, ticker, self.calendar)

    def times_ns(self) -> np.ndarray:
        """Sorted ``available_at`` (int ns, UTC) of every calendar session (cached, read-only)."""
        return _availability_ns(self.calendar, self.lag_minutes)

    def next_available(self, after: pd.Timestamp) -> pd.Timestamp | None:
        """The first instant strictly after ``after`` at which a calendar session becomes
        available (None after the calendar's end)."""
        times = self.times_ns()
        i = int(np.searchsorted(times, to_utc(after).value, side="right"))
        return pd.Timestamp(int(times[i]), tz="UTC") if i < times.size else None

    def next_session(self, session: pd.Timestamp) -> pd.Timestamp | None:
        """The calendar session after ``session`` (None after the calendar's end)."""
        sessions = exchange_calendar(self.calendar).sessions
        i = int(sessions.searchsorted(pd.Timestamp(session), side="right"))
        return pd.Timestamp(sessions[i]) if i < len(sessions) else None


@lru_cache(maxsize=8)
def _availability_ns(calendar: str, lag_minutes: float) -> np.ndarray:
    closes = pd.DatetimeIndex(exchange_calendar(calendar).closes.array)
    times = (closes.tz_convert("UTC").as_unit("ns") + pd.Timedelta(minutes=lag_minutes)).asi8
    times.flags.writeable = False
    return times


def _regular_close(cal: xcals.ExchangeCalendar) -> pd.Timedelta:
    """The calendar's latest regular close time of day as an offset from midnight."""
    close: dt.time = cal.close_times[-1][1]
    return pd.Timedelta(hours=close.hour, minutes=close.minute)


def to_utc(now: pd.Timestamp) -> pd.Timestamp:
    """``now`` as a UTC Timestamp; a naive value is a ValueError (we cannot guess its zone)."""
    now = pd.Timestamp(now)
    if now.tzinfo is None:
        raise ValueError(f"'now' must be timezone-aware, got naive {now}")
    return now.tz_convert("UTC")
