"""Pure decisions of the live loop: when to refresh, when data is stale, what to announce.

No I/O, no clock: every function takes ``now`` (tz-aware) and the state it decides on; the
:class:`~.calendar.Availability` (exchange calendar + publication lag, from the settings) is
the only shared (immutable, cached) input.
The imperative shell acting on them is :mod:`russell_regime.adapter.live`. Sessions are
naive dates, instants are UTC; ``grace`` is the staleness allowance in minutes.

* **Refresh schedule** (:func:`next_refresh_at`, :func:`refresh_due`): due when nothing was
  tried yet; when a session became available (close + lag) after the last attempt; when
  ``interval`` passed since the last attempt; and, while the last attempt left the data behind
  the calendar, ``min(retry, interval)`` after it (catch-up retries).
* **Staleness** (:func:`stale_mask`, the one definition; :func:`staleness` is its scalar form
  for the live loop, the backtest applies it per candle close): stale when there is no data, or
  the newest session in hand became available before the *expected* session, the newest
  calendar session available at ``now - grace``. Weekends and holidays never make data stale:
  on Saturday the expected session is Friday's.
* **Entry override** (:func:`entry_override`): while stale, ``block_entries`` -> ``"block"``,
  ``ignore_gate`` -> ``"ignore"`` (act as gate mode off), ``last_known`` -> ``None`` (keep the
  gate); never anything while fresh.
* **Announcements** (:func:`gate_transitions`, :func:`stale_transition`): one message per
  change, none while nothing changes, none for a class seen for the first time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .align import count_runs, count_sorted, repeat_runs
from .calendar import Availability, to_utc
from .gate import CONDITIONS, GateParams

CATCH_UP_RETRY_MINUTES = 10.0
BLOCK = "block"
IGNORE = "ignore"
POLICY_EFFECT = {
    "block_entries": "entries blocked",
    "ignore_gate": "entries ignore the Russell gate",
    "last_known": "entries keep the last known gate",
}


# --- schedule --------------------------------------------------------------------------------


NO_SESSION = np.iinfo(np.int64).min  # int-ns marker: no session in hand / none expected


def next_refresh_at(
    last_attempt: pd.Timestamp | None,
    newest_session: pd.Timestamp | None,
    availability: Availability,
    interval_minutes: float,
    retry_minutes: float = CATCH_UP_RETRY_MINUTES,
) -> pd.Timestamp | None:
    """When the next refresh is due (see the module doc); None means due now.

    ``last_attempt`` is the clock value the last fetch was started at, ``newest_session`` the
    newest session in hand after it.
    """
    if last_attempt is None:
        return None
    last_attempt = to_utc(last_attempt)
    due = last_attempt + pd.Timedelta(minutes=interval_minutes)
    upcoming = availability.next_available(last_attempt)
    if upcoming is not None:
        due = min(due, upcoming)
    expected = availability.latest_available_session(last_attempt)
    if expected is not None and (newest_session is None or newest_session < expected):
        due = min(due, last_attempt + pd.Timedelta(minutes=min(retry_minutes, interval_minutes)))
    return due


def refresh_due(
    now: pd.Timestamp,
    last_attempt: pd.Timestamp | None,
    last_session: pd.Timestamp | None,
    availability: Availability,
    interval_minutes: float,
    retry_minutes: float = CATCH_UP_RETRY_MINUTES,
) -> bool:
    """True when a refresh should start at ``now`` (see :func:`next_refresh_at`)."""
    due = next_refresh_at(last_attempt, last_session, availability, interval_minutes, retry_minutes)
    return due is None or to_utc(now) >= due


# --- staleness -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Staleness:
    """Whether the data in hand is stale at ``now``.

    ``expected_session``: newest session that should be in hand (None before 1980);
    ``age``: ``now - available_at(newest_session)``; ``stale_at``: the instant the data in hand
    is (or was) stale from, so the verdict cannot change before it unless the data changes
    (None: no data, stale for ever).
    """

    stale: bool
    expected_session: pd.Timestamp | None
    newest_session: pd.Timestamp | None
    age: pd.Timedelta | None
    stale_at: pd.Timestamp | None


def stale_mask(
    at_ns: np.ndarray,
    newest_available_ns: np.ndarray,
    calendar_available_ns: np.ndarray,
    grace_minutes: float,
) -> np.ndarray:
    """The staleness rule, vectorised (pure): True where the data in hand is stale.

    ``at_ns``: instants (int ns UTC, e.g. candle closes); ``newest_available_ns``: at each
    instant, ``available_at`` of the newest session in hand (:data:`NO_SESSION`: no data);
    ``calendar_available_ns``: sorted ``available_at`` of every calendar session
    (:meth:`Availability.times_ns`). The expected session at ``t`` is the newest calendar session
    available at ``t - grace``; stale = no data, or newest in hand available before it. One
    ``searchsorted`` over the calendar (:func:`align.count_sorted`).
    """
    at = np.asarray(at_ns, dtype=np.int64)
    newest = np.asarray(newest_available_ns, dtype=np.int64)
    grace_ns = pd.Timedelta(minutes=grace_minutes).value
    lengths = count_runs(calendar_available_ns, at - grace_ns, "right")
    if lengths is not None:  # increasing instants (candle closes): one repeat, no per-candle search
        expected = repeat_runs(np.asarray(calendar_available_ns, dtype=np.int64), lengths,
                               NO_SESSION)
    else:
        i = count_sorted(calendar_available_ns, at - grace_ns, "right") - 1
        expected = np.where(i >= 0, calendar_available_ns[np.maximum(i, 0)], NO_SESSION)
    return (newest == NO_SESSION) | (newest < expected)


def stale_at_positions(
    closes_ns: np.ndarray,
    positions: np.ndarray,
    available_ns: np.ndarray,
    calendar_available_ns: np.ndarray,
    grace_minutes: float,
) -> np.ndarray:
    """:func:`stale_mask` for candles given the daily row each sees (``positions``, -1: none):
    the newest data in hand at a candle is that row's ``available_at`` (``available_ns``)."""
    newest = np.full(len(positions), NO_SESSION, dtype=np.int64)
    if available_ns.size:
        newest = np.where(positions >= 0, available_ns[np.maximum(positions, 0)], NO_SESSION)
    return stale_mask(closes_ns, newest, calendar_available_ns, grace_minutes)


def stale_runs(
    closes_ns: np.ndarray,
    run_available_ns: np.ndarray,
    lengths: np.ndarray,
    calendar_available_ns: np.ndarray,
    grace_minutes: float,
) -> np.ndarray:
    """:func:`stale_mask` in run-length form, for increasing candles that see one session per
    run: run k has ``lengths[k]`` candles whose newest data is ``run_available_ns[k]``
    (:data:`NO_SESSION`: none). A run is stale from the close at which the next calendar
    session after its data has been available for ``grace_minutes``; no data is stale."""
    grace = pd.Timedelta(minutes=grace_minutes).value
    after = np.searchsorted(calendar_available_ns, run_available_ns, side="right")
    threshold = np.where(
        after < calendar_available_ns.size,
        calendar_available_ns[np.minimum(after, calendar_available_ns.size - 1)] + grace,
        np.iinfo(np.int64).max,
    )
    threshold[run_available_ns == NO_SESSION] = np.iinfo(np.int64).min
    return np.asarray(closes_ns) >= np.repeat(threshold, lengths)


def staleness(
    now: pd.Timestamp,
    newest_session: pd.Timestamp | None,
    availability: Availability,
    grace_minutes: float,
) -> Staleness:
    """The staleness verdict at ``now`` for data whose newest session is ``newest_session``
    (:func:`stale_mask` at one instant)."""
    now = to_utc(now)
    grace = pd.Timedelta(minutes=grace_minutes)
    expected = availability.latest_available_session(now - grace)
    if newest_session is None:
        return Staleness(True, expected, None, None, None)
    newest = pd.Timestamp(newest_session)
    newest_at = availability.available_at(pd.DatetimeIndex([newest]))[0]
    stale = bool(
        stale_mask(
            np.array([now.value]), np.array([newest_at.value]),
            availability.times_ns(), grace_minutes,
        )[0]
    )
    age = now - newest_at
    successor = availability.next_session(newest)
    stale_at = (
        None if successor is None else availability.available_at([successor])[0] + grace
    )
    return Staleness(stale, expected, newest, age, stale_at)


def entry_override(stale: bool, policy: str) -> str | None:
    """What entries do instead of following the gate: ``"block"``, ``"ignore"`` or None."""
    if not stale or policy == "last_known":
        return None
    if policy == "ignore_gate":
        return IGNORE
    return BLOCK  # block_entries, and any unknown policy: fail closed


def stale_transition(
    announced: bool | None,
    current: Staleness,
    ticker: str,
    policy: str,
    availability: Availability,
    grace_minutes: float,
    reason: str | None = None,
) -> str | None:
    """The message for a staleness change since ``announced`` (None: nothing announced yet).

    Becoming stale (or starting stale) -> a "stale" message naming the sessions, the allowance,
    the policy's effect and ``reason`` (why the last refresh failed); stale -> fresh -> a
    "fresh again" message; no change -> None.
    """
    if not current.stale:
        if not announced:
            return None
        return (
            f"Russell data fresh again: {ticker} session "
            f"{day_label(current.newest_session)} in hand; entries follow the Russell gate."
        )
    if announced:
        return None
    expected = current.expected_session
    due = (
        f" (available "
        f"{availability.available_at(pd.DatetimeIndex([expected]))[0]:%Y-%m-%d %H:%M}"
        f" UTC, allowance {grace_minutes:g} min)"
        if expected is not None
        else ""
    )
    text = (
        f"Russell data stale: {ticker} newest session {day_label(current.newest_session)}, "
        f"expected {day_label(expected)}{due}; {POLICY_EFFECT.get(policy, 'entries blocked')} "
        f"(stale_policy {policy})."
    )
    return f"{text} Last refresh: {reason}." if reason else text


# --- gate states -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GateState:
    """One pair class's gate on the newest session in hand, with the levels behind it."""

    pair_class: str
    mode: str
    session: pd.Timestamp
    is_open: bool
    condition: str
    close: float
    ath: float
    drawdown: float
    resistance: float
    support_level: float
    conditions: tuple[tuple[str, bool], ...]


def latest_gate_state(
    pair_class: str, params: GateParams, daily: pd.DataFrame, gate: pd.DataFrame
) -> GateState | None:
    """The gate of ``pair_class`` on the last row of ``daily`` (``gate`` = its ``daily_gate``).

    None for an empty frame.
    """
    if len(daily) == 0:
        return None
    row = gate.iloc[-1]
    return GateState(
        pair_class=pair_class,
        mode=params.mode,
        session=pd.Timestamp(daily["session"].iloc[-1]),
        is_open=bool(row["gate_open"]),
        condition=str(row["gate_tag"]),
        close=float(daily["close"].iloc[-1]),
        ath=float(row["ath"]),
        drawdown=float(row["drawdown"]),
        resistance=float(row["resistance"]),
        support_level=float(row["support_level"]),
        conditions=tuple((name, bool(row[f"cond_{name}"])) for name in CONDITIONS),
    )


def describe_gate(state: GateState, ticker: str) -> str:
    """``'btc open (retest, mode any) on ^RUT 2024-11-15: close 2,303.84, ATH ...'``."""
    verdict = "open" if state.is_open else "closed"
    return f"{state.pair_class} {verdict} {_gate_details(state, ticker)}"


def gate_transitions(
    previous: Mapping[str, GateState | None],
    current: Mapping[str, GateState | None],
    ticker: str = "^RUT",
) -> list[str]:
    """One message per class whose gate opened or closed between ``previous`` and ``current``.

    A class missing (or None) on either side yields nothing: first sight is not a change.
    """
    messages = []
    for pair_class, now in current.items():
        before = previous.get(pair_class)
        if before is None or now is None or before.is_open == now.is_open:
            continue
        verb = "opened" if now.is_open else "closed"
        messages.append(f"Russell gate {pair_class.upper()} {verb} {_gate_details(now, ticker)}")
    return messages


def _gate_details(state: GateState, ticker: str) -> str:
    why = f"{state.condition}, mode {state.mode}" if state.is_open else f"mode {state.mode}"
    levels = (
        f"close {state.close:,.2f}, ATH {state.ath:,.2f} ({state.drawdown:+.1%}), "
        f"resistance {_level(state.resistance)}"
    )
    if state.support_level == state.support_level:  # not NaN: a breakout episode is live
        levels += f", support {state.support_level:,.2f}"
    flags = ", ".join(f"{name} {'yes' if ok else 'no'}" for name, ok in state.conditions)
    return f"({why}) on {ticker} {day_label(state.session)}: {levels}; conditions {flags}"


# --- status ----------------------------------------------------------------------------------


def status_lines(
    ticker: str,
    source: str,
    cache_path: str,
    now: pd.Timestamp,
    state: Staleness,
    available: pd.Timestamp | None,
    gates: Mapping[str, GateState | None],
    policy: str,
    grace_minutes: float,
) -> list[str]:
    """The ``status`` command's report: data in hand, staleness and each class's gate."""
    override = entry_override(state.stale, policy)
    effect = {
        BLOCK: "entries blocked",
        IGNORE: "entries ignore the gate",
        None: "entries follow the gate",
    }[override]
    age = "" if state.age is None else f", age {duration_label(state.age)}"
    lines = [
        f"ticker    {ticker} (source {source})",
        f"cache     {cache_path}",
        f"now       {to_utc(now):%Y-%m-%d %H:%M} UTC",
        f"session   {day_label(state.newest_session)}"
        + ("" if available is None else f" (available {available:%Y-%m-%d %H:%M} UTC{age})"),
        f"expected  {day_label(state.expected_session)} (allowance {grace_minutes:g} min)",
        f"stale     {'yes' if state.stale else 'no'} -> {effect} (stale_policy {policy})",
    ]
    for pair_class, gate in gates.items():
        text = f"{pair_class} no data (closed)" if gate is None else describe_gate(gate, ticker)
        lines.append(f"gate      {text}")
    return lines


# --- helpers ---------------------------------------------------------------------------------


def day_label(session: pd.Timestamp | None) -> str:
    return "none" if session is None else f"{pd.Timestamp(session):%Y-%m-%d}"


def _level(value: float) -> str:
    return "n/a" if value != value else f"{value:,.2f}"


def duration_label(delta: pd.Timedelta) -> str:
    """``'1d 2h 05m'``; negative spans get a leading ``-`` (``'-0h 30m'``), whole minutes
    towards zero."""
    seconds = delta.total_seconds()
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    sign = "-" if seconds < 0 and (days or hours or minutes) else ""
    return sign + (f"{days}d " if days else "") + f"{hours}h {minutes:02d}m"
