"""Live and dry-run edge: background index refresh, staleness fail-safe, notifications, status.

:class:`LiveRegime` is the imperative shell around the pure decisions of
:mod:`russell_regime.core.refresh`; it alone talks to the source (network), the disk cache, a worker
thread, the log and the notifier. Contracts:

* ``start()`` installs the disk cache at once (an unreadable cache is logged and rebuilt by the
  first refresh) and needs no clock. Until the first ``on_loop`` the data counts as stale.
* ``on_loop(now)`` runs on the bot thread and never waits: it installs a finished fetch
  (``provider.set_daily``), starts a new one when the schedule says so (at most one in flight,
  handed to a daemon worker thread started ahead of use by ``start()``, so no thread start
  happens in the loop) and re-evaluates staleness only when the verdict can have changed. It
  never raises: an unexpected error is logged once per distinct message.
* The worker fetches (outside the cache lock: the network can hang), then, under the cache
  file's lock, merges the answer into the cache as read there plus the sessions only memory
  holds, and atomically rewrites the cache when anything changed or the cache is behind
  (:func:`download.update_cache`, the path ``download`` uses too, so a concurrent download's
  sessions are never lost). A failed fetch or a rejected merge (``RevisionRejected``, bad new
  rows) changes nothing; invalid fresh rows of cached sessions keep the cached values (logged
  once). Stray rows of an answer or of the cache (dated on non-sessions, few and isolated:
  :func:`~..core.daily.split_sessions`) are dropped and named once in a warning
  (``provider.dropped``): one bad upstream row never keeps the series stale. A failed write
  or a lock held too long (``CacheUnavailable``) keeps the new data in
  memory and the write is retried on the next refresh. Nothing leaves a partial cache file.
* A fetch still running ``timeout + OVERDUE_MARGIN_SECONDS`` after it started is logged once and
  no other is started; after ``abandon_after`` seconds it is abandoned, also while hung in its
  cache write (its result and any cache write not yet started are discarded, the thread is left
  to end on its own; a write already under way completes as a correct merge under the lock) and
  refreshes resume; while ``MAX_ABANDONED`` such threads are alive, refreshing pauses.
* Changes (stale / fresh, gate opened / closed) are logged and, with ``settings.notify``, sent
  once each through ``notify``. A stale start is announced only if the first refresh fails to
  fix it.

The ``status`` command (:mod:`russell_regime.cli.status`) reports the same state offline.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..core.calendar import to_utc
from ..core.gate import PAIR_CLASSES, GateParams
from ..core.merge import merge_update
from ..core.refresh import (
    GateState,
    Staleness,
    day_label,
    describe_gate,
    entry_override,
    gate_transitions,
    latest_gate_state,
    next_refresh_at,
    stale_transition,
    staleness,
)
from ..data.cache import DailyCache
from ..data.download import resume_from, update_cache
from ..data.sources import DailySource, source_for
from ..errors import CacheUnavailable, SourceError
from .provider import RegimeProvider

logger = logging.getLogger(__name__)

OVERDUE_MARGIN_SECONDS = 2.0
MAX_ABANDONED = 3
_NEVER = pd.Timestamp.max.tz_localize("UTC")

Notify = Callable[[str], None]
ParamsFor = Callable[[str], GateParams]
# on_attempt(ticker, attempted_at, outcome, detail, newest session after the attempt)
OnAttempt = Callable[[str, pd.Timestamp, str, str | None, pd.Timestamp | None], None]
REJECTED_ERRORS = ("RevisionRejected", "DataValidationError")


def attempt_outcome(error: str | None) -> str:
    """``ok`` (no error), ``rejected`` (the answer was refused: implausible revision or invalid
    rows) or ``failed`` (anything else: network, timeout, abandoned fetch)."""
    if error is None:
        return "ok"
    return "rejected" if error.split(":", 1)[0] in REJECTED_ERRORS else "failed"


@dataclass(eq=False)
class _Fetch:
    """One background refresh: its inputs, and its outcome once ``done`` is set."""

    now: pd.Timestamp
    base: pd.DataFrame | None
    force_write: bool
    started: float
    done: threading.Event = field(default_factory=threading.Event)
    merged: pd.DataFrame | None = None
    error: str | None = None
    wrote: bool = False
    write_error: str | None = None
    kept_cached: tuple[pd.Timestamp, ...] = ()
    dropped: tuple[pd.Timestamp, ...] = ()
    replaced: str | None = None
    abandoned: bool = False
    overdue: bool = False
    thread: threading.Thread | None = None
    run: weakref.WeakMethod | None = None  # the LiveRegime's fetch (a worker may be shared)
    running: bool = False  # a worker has taken it
    moved: bool = False  # handed to a new worker once (never again)


class _Worker:
    """A daemon thread running fetch jobs one at a time. Started ahead of use, so handing it a
    job is a queue put: ``Thread.start()`` waits until the new thread runs, which on a loaded
    machine took milliseconds of the bot loop. It ends after an abandoned job (it may be hung;
    a new worker takes over) or on ``None``. Several LiveRegimes (the index and each
    confirmation series) may share one: each job carries its own fetch."""

    def __init__(self, run: Callable[[_Fetch], None]) -> None:
        self.jobs: queue.SimpleQueue[_Fetch | None] = queue.SimpleQueue()
        self.thread = threading.Thread(
            target=_serve, args=(self.jobs, weakref.WeakMethod(run)), name="russell-refresh",
            daemon=True,
        )
        self.thread.start()

    def stop(self) -> None:
        """End after the job in hand (if any)."""
        self.jobs.put(None)


def _serve(jobs: queue.SimpleQueue, run_ref: weakref.WeakMethod) -> None:
    while (job := jobs.get()) is not None:
        job.running = True
        run = (job.run or run_ref)()  # weak: an idle worker keeps no LiveRegime alive
        if run is None:
            job.error = "live refresh shut down"
            job.done.set()
            return
        run(job)
        del run
        if job.abandoned:
            return


class LiveRegime:
    """Keeps ``provider``'s daily frame fresh in live / dry-run (see the module doc).

    ``params_for(pair_class)`` gives each class's current gate thresholds (for notifications;
    None: a confirmation series, no gate notifications); ``notify(text)`` sends a message (e.g.
    ``dp.send_msg``); ``source`` replaces the configured source (tests inject a fake yfinance
    this way); ``clock`` is the monotonic clock used to time fetches; ``lock_timeout`` bounds
    the worker's wait for the cache file lock (default ``download.LOCK_TIMEOUT_SECONDS``);
    ``worker_of``: another LiveRegime whose worker thread runs this one's fetches too (one
    worker for the index and every confirmation series; fetches queue behind each other).
    """

    def __init__(
        self,
        provider: RegimeProvider,
        params_for: ParamsFor | None,
        notify: Notify | None = None,
        source: DailySource | None = None,
        abandon_after: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        lock_timeout: float | None = None,
        worker_of: LiveRegime | None = None,
        on_attempt: OnAttempt | None = None,
    ) -> None:
        self.provider = provider
        self.on_attempt = on_attempt
        self._owner = worker_of
        self.settings = provider.settings
        self.params_for = params_for
        self.notify = notify
        self.source = source if source is not None else source_for(self.settings)
        self.cache = DailyCache(self.settings.cache_dir)
        self.timeout = float(getattr(self.source, "timeout", self.settings.fetch_timeout_seconds))
        self.abandon_after = (
            float(abandon_after)
            if abandon_after is not None
            else max(self.settings.refresh_interval_minutes * 60.0, 10.0 * self.timeout)
        )
        self._clock = clock
        self.lock_timeout = lock_timeout  # None: download.LOCK_TIMEOUT_SECONDS
        self._job: _Fetch | None = None
        self._abandoned: list[_Fetch] = []
        self._worker: _Worker | None = None
        self._last_attempt: pd.Timestamp | None = None
        self._next_refresh: pd.Timestamp | None = None  # None: due now
        self._cache_behind = False
        self._last_error: str | None = None
        self._state = Staleness(True, None, None, None, None)
        self._recheck: pd.Timestamp | None = None  # None: re-evaluate staleness now
        self._announced_stale: bool | None = None
        self._settled = False
        self._gates: dict[str, GateState | None] | None = None
        self._logged: set[str] = set()

    # --- public ----------------------------------------------------------------------------

    @property
    def state(self) -> Staleness:
        """The staleness verdict of the last loop (stale until the first loop)."""
        return self._state

    @property
    def last_error(self) -> str | None:
        """Why the last refresh failed (None after a good one)."""
        return self._last_error

    @property
    def busy(self) -> bool:
        """True while a fetch is in flight."""
        return self._job is not None

    @property
    def gates(self) -> Mapping[str, GateState | None]:
        """Each class's gate on the newest session in hand (empty before the first loop)."""
        return dict(self._gates or {})

    def start(self) -> None:
        """Install the disk cache at once and start the refresh worker; the first ``on_loop``
        hands it the first refresh."""
        s = self.settings
        self._ensure_worker()
        rows = None
        try:
            rows = self.cache.load_rows(s.ticker, s.availability.calendar)
            cached = None if rows is None else rows.frame
        except SourceError as exc:
            logger.error(
                "Russell %s; starting without index data (entries blocked) and refetching "
                "the full history", exc,
            )
            cached, self._cache_behind = None, True
        else:
            if cached is None:
                self._cache_behind = True
                logger.warning(
                    "Russell: no cached %s data in %s; entries stay blocked until the first "
                    "refresh succeeds", s.ticker, s.cache_dir,
                )
        if cached is not None:
            self.provider.set_daily(cached)
            if rows is not None and rows.dropped:
                self.provider.note_dropped(rows.dropped)
                self._cache_behind = True  # rewrite the file without them
            logger.info(
                "Russell: using cached %s at once: %d sessions up to %s (%s); refreshing from "
                "%s in the background", s.ticker, len(cached),
                day_label(cached["session"].iloc[-1]), self.cache.existing_path(s.ticker),
                self.source,
            )

    def on_loop(self, now: pd.Timestamp) -> bool:
        """One bot-loop tick at ``now`` (aware); True when new data was installed. Never raises."""
        try:
            return self._loop(to_utc(now))
        except Exception as exc:  # the bot loop must never fail because of the regime refresh
            self._log_once(
                f"loop {type(exc).__name__}: {exc}", logging.ERROR,
                "Russell live refresh error (the bot keeps running on the last good data): %s",
                exc, exc_info=True,
            )
            return False

    def entry_override(self) -> str | None:
        """``"block"``, ``"ignore"`` or None for the current staleness and stale policy."""
        return entry_override(self._state.stale, self.settings.stale_policy)

    def wait(self, timeout: float) -> bool:
        """Block until the fetch in flight (if any) has finished; False on timeout.

        For tests and tools only: the bot loop never waits.
        """
        job = self._job
        return True if job is None else job.done.wait(timeout)

    # --- bot thread ------------------------------------------------------------------------

    def _loop(self, now: pd.Timestamp) -> bool:
        changed = False
        job = self._job
        if job is not None:
            if job.done.is_set():
                changed = self._install(job)
            else:
                self._watch(job)
        if self._gates is None or changed:
            self._update_gates()
        if self._job is None and (self._next_refresh is None or now >= self._next_refresh):
            self._start_fetch(now)
        if self._recheck is None or now >= self._recheck:
            self._check_staleness(now)
        return changed

    def _start_fetch(self, now: pd.Timestamp) -> None:
        self._abandoned = [j for j in self._abandoned if j.thread and j.thread.is_alive()]
        if len(self._abandoned) >= MAX_ABANDONED:
            self._log_once(
                "paused", logging.ERROR,
                "Russell refresh paused: %d hung fetches of %s are still running; the last "
                "good data stays in use", len(self._abandoned), self.settings.ticker,
            )
            return
        self._logged.discard("paused")
        worker = self._ensure_worker()  # started already, except after an abandoned fetch
        base = self.provider.daily if self.provider.loaded else None
        job = _Fetch(now=now, base=base, force_write=self._cache_behind, started=self._clock(),
                     run=weakref.WeakMethod(self._fetch))
        job.thread = worker.thread
        self._job = job
        worker.jobs.put(job)

    def _ensure_worker(self) -> _Worker:
        if self._owner is not None:
            return self._owner._ensure_worker()
        if self._worker is None or not self._worker.thread.is_alive():
            self._worker = _Worker(self._fetch)
            weakref.finalize(self, self._worker.stop)
        return self._worker

    def _handover(self, hung: _Worker) -> None:
        """Replace the (hung) worker: jobs of other series queued behind the abandoned one go
        to a new worker; the old one ends if its job ever returns."""
        self._worker = None
        waiting: list[_Fetch] = []
        while True:
            try:
                queued = hung.jobs.get_nowait()
            except queue.Empty:
                break
            if queued is not None:
                waiting.append(queued)
        for queued in waiting:  # the abandoned job (if not started yet) stays with the old one
            if queued.abandoned:
                hung.jobs.put(queued)
        waiting = [queued for queued in waiting if not queued.abandoned]
        hung.stop()
        if waiting:
            worker = self._ensure_worker()
            for queued in waiting:
                queued.thread, queued.moved = worker.thread, True
                worker.jobs.put(queued)

    def _watch(self, job: _Fetch) -> None:
        elapsed = self._clock() - job.started
        owner = self._owner or self
        if (not job.running and not job.moved and elapsed > self.timeout + OVERDUE_MARGIN_SECONDS
                and owner._worker is not None and job.thread is owner._worker.thread):
            # queued behind another series' fetch that is taking too long on the shared
            # worker: the queued fetches move to a new worker (the slow one finishes alone)
            logger.warning("Russell refresh of %s waited %.1f s behind another fetch; moving "
                           "it to a new worker", self.settings.ticker, elapsed)
            owner._handover(owner._worker)
        if not job.overdue and elapsed > self.timeout + OVERDUE_MARGIN_SECONDS:
            job.overdue = True
            logger.warning(
                "Russell refresh of %s started for %s is still running after %.1f s (timeout "
                "%g s); keeping the data in hand and not starting another",
                self.settings.ticker, f"{job.now:%Y-%m-%d %H:%M} UTC", elapsed, self.timeout,
            )
        if elapsed > self.abandon_after:
            job.abandoned = True  # the worker writes nothing after this (see _fetch)
            # its worker ends with this job; the next fetch gets a new one (unless the job's
            # worker was already replaced)
            if owner._worker is not None and job.thread is owner._worker.thread:
                owner._handover(owner._worker)
            self._abandoned.append(job)
            self._job = None
            reason = f"fetch or cache write hung for {elapsed:.0f} s and was abandoned"
            logger.error("Russell refresh of %s: %s; the next refresh starts a new one",
                         self.settings.ticker, reason)
            self._attempted(job.now, reason)

    def _install(self, job: _Fetch) -> bool:
        self._job = None
        error = job.error if job.merged is None else None
        try:
            if job.merged is None:
                logger.warning(
                    "Russell refresh of %s failed (%s); keeping the data in hand (newest "
                    "session %s)", self.settings.ticker, error, day_label(self._newest()),
                )
                return False
            return self._apply(job, job.merged)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:  # whatever happened, the attempt counts: no refetch storm on a bug
            self._attempted(job.now, error)

    def _apply(self, job: _Fetch, merged: pd.DataFrame) -> bool:
        if job.write_error is not None:
            self._cache_behind = True
            logger.warning(
                "Russell %s; the fetched data is used from memory and the write is retried on "
                "the next refresh", job.write_error,
            )
        elif job.wrote:
            self._cache_behind = False
        if job.replaced is not None:
            self._log_once(
                f"replaced {job.replaced}", logging.WARNING,
                "Russell %s; it was replaced with the data in hand", job.replaced,
            )
        if job.kept_cached:
            days = ", ".join(day_label(d) for d in job.kept_cached)
            self._log_once(
                f"kept {days}", logging.WARNING,
                "Russell: %s answered invalid rows for cached session(s) %s; the cached values "
                "are kept", self.source, days,
            )
        if job.dropped:
            self.provider.note_dropped(job.dropped)
        changed = not self.provider.loaded or not merged.equals(self.provider.daily)
        if changed:
            before = self._newest()
            self.provider.set_daily(merged)
            logger.info(
                "Russell refreshed %s: %d sessions, newest %s (was %s)", self.settings.ticker,
                len(merged), day_label(self._newest()), day_label(before),
            )
        return changed

    def _attempted(self, when: pd.Timestamp, error: str | None) -> None:
        s = self.settings
        self._last_attempt, self._last_error, self._settled = when, error, True
        self._next_refresh = next_refresh_at(
            when, self._newest(), s.availability, s.refresh_interval_minutes
        )
        self._recheck = None
        if self.on_attempt is not None:
            try:
                self.on_attempt(s.ticker, when, attempt_outcome(error), error, self._newest())
            except Exception as exc:  # a failing recorder must not stop the refresh loop
                self._log_once(f"on_attempt {type(exc).__name__}", logging.WARNING,
                               "Russell refresh recorder failed: %s", exc)

    def _check_staleness(self, now: pd.Timestamp) -> None:
        s = self.settings
        state = staleness(now, self._newest(), s.availability, s.stale_grace_minutes)
        self._state = state
        self._recheck = _NEVER if state.stale or state.stale_at is None else state.stale_at
        if not self._settled:
            if state.stale:
                self._log_once(
                    "stale start", logging.INFO,
                    "Russell data behind at start (newest %s, expected %s): %s until the first "
                    "refresh", day_label(state.newest_session), day_label(state.expected_session),
                    "entries blocked" if self.entry_override() == "block" else "stale policy "
                    f"{s.stale_policy} applies",
                )
            return
        message = stale_transition(
            self._announced_stale, state, s.ticker, s.stale_policy, s.availability,
            s.stale_grace_minutes, self._last_error,
        )
        self._announced_stale = state.stale
        if message:
            logger.log(logging.WARNING if state.stale else logging.INFO, message)
            self._send(message)

    def _update_gates(self) -> None:
        previous, current = self._gates or {}, self._gate_states()
        for pair_class, state in current.items():
            if state is not None and previous.get(pair_class) is None:  # first sight: log only
                logger.info("Russell gate: %s", describe_gate(state, self.settings.ticker))
        for message in gate_transitions(previous, current, self.settings.ticker):
            logger.info(message)
            self._send(message)
        self._gates = current

    def _gate_states(self) -> dict[str, GateState | None]:
        daily = self.provider.daily
        if self.params_for is None:  # a confirmation series: no gate of its own
            return {}
        states: dict[str, GateState | None] = dict.fromkeys(PAIR_CLASSES)
        if not self.provider.loaded:
            return states
        for pair_class in PAIR_CLASSES:
            params = self.params_for(pair_class)
            states[pair_class] = latest_gate_state(
                pair_class, params, daily, self.provider.gate(params)
            )
        return states

    def _send(self, message: str) -> None:
        if not (self.settings.notify and self.notify):
            return
        try:
            self.notify(message)
        except Exception as exc:  # a failing notifier must not stop the refresh loop
            self._log_once(f"notify {exc}", logging.WARNING,
                           "Russell notification failed: %s", exc)

    def _newest(self) -> pd.Timestamp | None:
        daily = self.provider.daily
        return pd.Timestamp(daily["session"].iloc[-1]) if len(daily) else None

    def _log_once(self, key: str, level: int, message: str, *args: Any, **kwargs: Any) -> None:
        if key not in self._logged:
            self._logged.add(key)
            logger.log(level, message, *args, **kwargs)

    # --- worker thread ---------------------------------------------------------------------

    def _fetch(self, job: _Fetch) -> None:
        """Fetch outside the cache lock, then merge and write under it (``update_cache``);
        the outcome goes into ``job``. Once ``job.abandoned`` nothing is written."""
        s = self.settings
        try:
            fresh = self.source.fetch(job.now, resume_from(job.base))
            try:
                update = update_cache(
                    self.cache, s.ticker, fresh, memory=job.base,
                    calendar=s.availability.calendar,
                    force_write=job.force_write, lock_timeout=self.lock_timeout,
                    replace_unreadable=True, cancelled=lambda: job.abandoned,
                )
                result, job.wrote, job.replaced = update.merge, update.wrote, update.replaced
                job.dropped = update.dropped
            except CacheUnavailable as exc:  # locked or unwritable: the data is still good
                job.write_error = str(exc)
                result = merge_update(job.base, fresh, s.ticker, s.availability.calendar)
                job.dropped = result.dropped
            job.kept_cached = result.kept_cached
            job.merged = result.frame
        except Exception as exc:  # thread edge: every failure is reported to the bot thread
            job.error = f"{type(exc).__name__}: {exc}"
        finally:
            job.done.set()
