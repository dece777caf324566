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
calendar's last session no newer session is ever expected. Everything below reads a
:class:`CalendarTable` (sessions + UTC closes of that build, :func:`calendar_table`), not the
exchange_calendars object: a table costs milliseconds to load where building the calendar
costs ~0.15 s and importing exchange_calendars ~0.07 s (every calendar module, incl. a slow
Thai one), so exchange_calendars is imported only when a table is built, and the shell may
keep tables on disk (``data.calendars``) and hand them over with :func:`remember_table`.

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
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import DataValidationError

if TYPE_CHECKING:  # imported lazily: importing exchange_calendars costs ~0.07 s
    import exchange_calendars as xcals

NEW_YORK = "America/New_York"
DEFAULT_PUBLICATION_LAG_MINUTES = 15
DEFAULT_CALENDAR = "XNYS"
CALENDAR_START = "1980-01-01"
CALENDAR_END = "2045-12-31"


@lru_cache(maxsize=8)
def exchange_calendar(name: str) -> xcals.ExchangeCalendar:
    """The exchange calendar ``name`` from ``CALENDAR_START`` to ``CALENDAR_END`` (within its
    own bounds), built once per process and name. Unknown name -> ValueError."""
    import exchange_calendars as xcals

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
    import exchange_calendars as xcals

    return frozenset(xcals.get_calendar_names(include_aliases=True))


@dataclass(frozen=True, eq=False)
class CalendarTable:
    """What the package needs from one exchange calendar (as built by
    :func:`exchange_calendar`): its sessions, their UTC closes, its time zone and its latest
    regular close time of day. ``sessions_ns`` / ``closes_ns``: int64 ns (naive dates / UTC
    instants), same length, sessions strictly increasing."""

    name: str
    sessions_ns: np.ndarray
    closes_ns: np.ndarray
    tz: str
    regular_close: pd.Timedelta

    def __post_init__(self) -> None:
        sessions = np.asarray(self.sessions_ns, dtype=np.int64)
        closes = np.asarray(self.closes_ns, dtype=np.int64)
        if sessions.ndim != 1 or sessions.shape != closes.shape or sessions.size == 0:
            raise ValueError(f"calendar table {self.name!r}: sessions and closes do not match")
        if not (np.diff(sessions) > 0).all():
            raise ValueError(f"calendar table {self.name!r}: sessions not strictly increasing")
        for array in (sessions, closes):
            array.flags.writeable = False
        object.__setattr__(self, "sessions_ns", sessions)
        object.__setattr__(self, "closes_ns", closes)
        object.__setattr__(self, "regular_close", pd.Timedelta(self.regular_close))

    @cached_property
    def sessions(self) -> pd.DatetimeIndex:
        """The sessions as naive dates."""
        return pd.DatetimeIndex(self.sessions_ns.view("M8[ns]"))

    @property
    def first_session(self) -> pd.Timestamp:
        return pd.Timestamp(int(self.sessions_ns[0]))

    @property
    def last_session(self) -> pd.Timestamp:
        return pd.Timestamp(int(self.sessions_ns[-1]))

    def session_index(self, dates_ns: np.ndarray) -> np.ndarray:
        """Per date (int ns, naive): its position among the sessions, or -1 if not a session."""
        i = np.searchsorted(self.sessions_ns, dates_ns)
        clipped = np.minimum(i, self.sessions_ns.size - 1)
        return np.where(self.sessions_ns[clipped] == dates_ns, clipped, -1)


def build_table(name: str) -> CalendarTable:
    """The :class:`CalendarTable` of :func:`exchange_calendar` ``(name)`` (builds the calendar,
    ~0.15 s for XNYS; unknown name -> ValueError)."""
    cal = exchange_calendar(name)
    close: dt.time = cal.close_times[-1][1]
    return CalendarTable(
        name=name,
        sessions_ns=pd.DatetimeIndex(cal.sessions).as_unit("ns").asi8,
        closes_ns=pd.DatetimeIndex(cal.closes.array).tz_convert("UTC").as_unit("ns").asi8,
        tz=str(cal.tz),
        regular_close=pd.Timedelta(hours=close.hour, minutes=close.minute),
    )


_TABLES: dict[str, CalendarTable] = {}


def calendar_table(name: str) -> CalendarTable:
    """The calendar table of ``name``: the one handed over by :func:`remember_table`, else
    built once per process (:func:`build_table`)."""
    table = _TABLES.get(name)
    if table is None:
        table = _TABLES[name] = build_table(name)
    return table


def remember_table(table: CalendarTable) -> None:
    """Use ``table`` for its calendar from now on (e.g. one the shell kept on disk)."""
    _TABLES[table.name] = table


def remembered_table(name: str) -> CalendarTable | None:
    """The table of ``name`` already in this process (remembered or built), else None."""
    return _TABLES.get(name)


def non_sessions(sessions: pd.DatetimeIndex | pd.Series, calendar: str) -> pd.DatetimeIndex:
    """The dates among ``sessions`` (naive dates) that are not sessions of ``calendar``.

    Outside the calendar's span every weekday counts as a session (module docstring).
    """
    index = _as_sessions(sessions)
    table = calendar_table(calendar)
    inside = (index >= table.first_session) & (index <= table.last_session)
    known = table.session_index(index.as_unit("ns").asi8) >= 0
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
    table = calendar_table(calendar)
    at = table.session_index(index.as_unit("ns").asi8)
    closes = table.closes_ns[np.maximum(at, 0)]
    missing = at < 0
    if missing.any():
        local = index[missing] + table.regular_close
        closes[missing] = local.tz_localize(table.tz).tz_convert("UTC").as_unit("ns").asi8
    return pd.DatetimeIndex(closes.view("M8[ns]")).tz_localize("UTC")


@dataclass(frozen=True)
class Availability:
    """When a session's daily bar becomes usable: its close on the exchange calendar
    ``calendar``, plus ``close_offset_minutes`` when the series closes later than the exchange
    (>= 0; the VIX index's 16:15 New York close on XNYS is offset 15, also on early-close
    days), plus ``lag_minutes`` (the publication lag, >= 0; module docstring).

    Frozen and hashable; build it from the settings (``RegimeSettings.availability``).
    """

    calendar: str = DEFAULT_CALENDAR
    lag_minutes: float = DEFAULT_PUBLICATION_LAG_MINUTES
    close_offset_minutes: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.lag_minutes, bool) or not float(self.lag_minutes) >= 0:
            raise ValueError(f"publication lag must be >= 0 minutes, got {self.lag_minutes}")
        offset = self.close_offset_minutes
        if isinstance(offset, bool) or not 0 <= float(offset) <= 24 * 60:
            raise ValueError(f"close offset must be 0 to 1440 minutes, got {offset}")
        object.__setattr__(self, "lag_minutes", float(self.lag_minutes))
        object.__setattr__(self, "close_offset_minutes", float(offset))

    @property
    def lag(self) -> pd.Timedelta:
        """The publication lag."""
        return pd.Timedelta(minutes=self.lag_minutes)

    @property
    def close_offset(self) -> pd.Timedelta:
        """How much later than the exchange the series closes."""
        return pd.Timedelta(minutes=self.close_offset_minutes)

    def session_close(self, sessions: pd.DatetimeIndex | pd.Series) -> pd.DatetimeIndex:
        """UTC close instant of the series on each session: the exchange close
        (:func:`session_close`) + ``close_offset``."""
        return session_close(sessions, self.calendar) + self.close_offset

    def available_at(self, sessions: pd.DatetimeIndex | pd.Series) -> pd.DatetimeIndex:
        """UTC instant each session's bar becomes usable: ``session_close + lag``."""
        return self.session_close(sessions) + self.lag

    def latest_available_session(self, now: pd.Timestamp) -> pd.Timestamp | None:
        """The newest calendar session whose bar is available at ``now`` (aware), or None.

        Weekends and holidays do not advance it: on Saturday it is Friday's session.
        """
        times = self.times_ns()
        i = int(np.searchsorted(times, to_utc(now).value, side="right")) - 1
        if i < 0:
            return None
        return calendar_table(self.calendar).sessions[i]

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
        return _availability_ns(self.calendar, self.close_offset_minutes + self.lag_minutes)

    def next_available(self, after: pd.Timestamp) -> pd.Timestamp | None:
        """The first instant strictly after ``after`` at which a calendar session becomes
        available (None after the calendar's end)."""
        times = self.times_ns()
        i = int(np.searchsorted(times, to_utc(after).value, side="right"))
        return pd.Timestamp(int(times[i]), tz="UTC") if i < times.size else None

    def next_session(self, session: pd.Timestamp) -> pd.Timestamp | None:
        """The calendar session after ``session`` (None after the calendar's end)."""
        sessions = calendar_table(self.calendar).sessions
        i = int(sessions.searchsorted(pd.Timestamp(session), side="right"))
        return sessions[i] if i < len(sessions) else None


@lru_cache(maxsize=8)
def _availability_ns(calendar: str, delay_minutes: float) -> np.ndarray:
    times = calendar_table(calendar).closes_ns + pd.Timedelta(minutes=delay_minutes).value
    times.flags.writeable = False
    return times


def to_utc(now: pd.Timestamp) -> pd.Timestamp:
    """``now`` as a UTC Timestamp; a naive value is a ValueError (we cannot guess its zone)."""
    now = pd.Timestamp(now)
    if now.tzinfo is None:
        raise ValueError(f"'now' must be timezone-aware, got naive {now}")
    return now.tz_convert("UTC")
