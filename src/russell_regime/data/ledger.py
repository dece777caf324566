"""The decision ledger: an SQLite file recording, per (strategy, pair, timeframe, candle), what
the Russell gate decided in dry-run / live, and every index refresh attempt.

Contracts:

* Schema version ``1`` (``meta.schema_version``): tables ``decisions`` (primary key
  ``strategy, pair, timeframe, candle_close``), ``refreshes`` and ``meta`` (:data:`SCHEMA`).
  ``ledger verify`` keeps its last outcome in ``meta`` (``last_verify_at``: UTC ISO,
  ``last_verify``: JSON ``{"at", "exit_code", "rows", "counts", "index"}``; :func:`write_meta`).
  Times are UTC ISO strings ``YYYY-MM-DDTHH:MM:SS+00:00`` (:func:`iso`), sessions
  ``YYYY-MM-DD``.
* A decision row is written once: a row already there is kept (restarts never duplicate or
  rewrite rows), except that ``entry`` changes to ``'vetoed'`` when the same candle is recorded
  again as vetoed (:data:`UPSERT_DECISION`).
* :class:`Ledger` never blocks and never raises into its caller: ``record_*`` puts the row on a
  bounded queue (a full queue drops the row, counted in ``dropped``, logged once); a daemon
  thread with its own connection (WAL, ``busy_timeout``) writes the rows in batches. Any
  ``sqlite3.Error`` / ``OSError`` (read-only or full disk, locked file) drops that batch and is
  one warning per kind of error; the next batch tries again.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
import weakref
from collections.abc import Callable
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import pandas as pd

logger = logging.getLogger(__name__)

SCHEMA_VERSION = "1"
ENTRIES = ("allowed", "blocked", "vetoed", "none")
OUTCOMES = ("ok", "failed", "rejected")
BUSY_TIMEOUT_MS = 5000
MAX_QUEUE = 10_000
BATCH = 500
LINGER_S = 1.0  # the writer collects rows this long after the first of a batch
LAST_VERIFY_AT = "last_verify_at"
LAST_VERIFY = "last_verify"
META_TIMEOUT_S = 2.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    strategy TEXT,
    pair TEXT,
    timeframe TEXT,
    candle_close TEXT,
    decided_at TEXT,
    session TEXT,
    available_at TEXT,
    close_seen REAL,
    gate INTEGER,
    stale INTEGER,
    tag TEXT,
    params TEXT,
    confirmations TEXT,
    entry TEXT,
    pair_class TEXT,
    PRIMARY KEY (strategy, pair, timeframe, candle_close)
);
CREATE TABLE IF NOT EXISTS refreshes (
    id INTEGER PRIMARY KEY,
    strategy TEXT,
    ticker TEXT,
    attempted_at TEXT,
    outcome TEXT,
    detail TEXT,
    last_session TEXT
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
"""


@dataclass(frozen=True)
class Decision:
    """One ``decisions`` row (column order = field order)."""

    strategy: str
    pair: str
    timeframe: str
    candle_close: str
    decided_at: str
    session: str | None
    available_at: str | None
    close_seen: float | None
    gate: int
    stale: int
    tag: str
    params: str
    confirmations: str
    entry: str
    pair_class: str


@dataclass(frozen=True)
class Refresh:
    """One ``refreshes`` row (``id`` is assigned by SQLite)."""

    strategy: str
    ticker: str
    attempted_at: str
    outcome: str
    detail: str | None
    last_session: str | None


_DECISION_COLUMNS = ", ".join(f.name for f in fields(Decision))
_REFRESH_COLUMNS = ", ".join(f.name for f in fields(Refresh))
UPSERT_DECISION = (
    f"INSERT INTO decisions ({_DECISION_COLUMNS}) "
    f"VALUES ({', '.join('?' * len(fields(Decision)))}) "
    "ON CONFLICT (strategy, pair, timeframe, candle_close) DO UPDATE SET entry = excluded.entry "
    "WHERE excluded.entry = 'vetoed' AND decisions.entry <> 'vetoed'"
)
INSERT_REFRESH = (
    f"INSERT INTO refreshes ({_REFRESH_COLUMNS}) "
    f"VALUES ({', '.join('?' * len(fields(Refresh)))})"
)


def iso(stamp: object) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS+00:00`` (UTC; a naive stamp is taken as UTC); None for None/NaT."""
    if stamp is None:
        return None
    ts = pd.Timestamp(stamp)
    if ts is pd.NaT or pd.isna(ts):
        return None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def day(stamp: object) -> str | None:
    """``YYYY-MM-DD`` of a session stamp; None for None/NaT."""
    if stamp is None:
        return None
    ts = pd.Timestamp(stamp)
    return None if pd.isna(ts) else ts.strftime("%Y-%m-%d")


def connect(path: Path) -> sqlite3.Connection:
    """A connection to the ledger at ``path`` (WAL, ``busy_timeout``), schema created."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(SCHEMA)
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                     (SCHEMA_VERSION,))
    except BaseException:
        conn.close()
        raise
    return conn


def write_meta(path: Path, values: dict[str, str], timeout: float = META_TIMEOUT_S) -> None:
    """Set ``meta`` keys of the EXISTING ledger at ``path`` in one short transaction (the file
    is never created; a busy writer is waited for up to ``timeout`` s). Raises
    ``sqlite3.Error`` / ``OSError`` (read-only, locked, not a ledger): the caller decides."""
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=rw", uri=True,
                           timeout=timeout, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                             list(values.items()))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()


class _Flush:
    """A marker on the queue: set once every row queued before it has been handled."""

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()


class Ledger:
    """Queues decision and refresh rows for a daemon writer thread (see the module doc).

    ``path``: the SQLite file (its folder is created on first write). ``dropped``: rows lost to
    a full queue or to a failed write. ``written``: rows handed to SQLite in committed batches.
    """

    def __init__(self, path: Path, max_queue: int = MAX_QUEUE, batch: int = BATCH,
                 linger: float = LINGER_S) -> None:
        self.path = Path(path)
        self.batch = batch
        self.linger = linger
        self._wake = threading.Event()
        self.dropped = 0
        self.written = 0
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="russell-ledger", daemon=True)
        self._thread.start()
        weakref.finalize(self, _stop, self._queue, self._thread, 2.0, self._wake)

    def record_decision(self, row: Decision) -> None:
        """Queue a decision row; never blocks, never raises."""
        self._put(row)

    def record_refresh(self, row: Refresh) -> None:
        """Queue a refresh row; never blocks, never raises."""
        self._put(row)

    def record_built(self, build: Callable[[], Decision]) -> None:
        """Queue a decision row that the writer thread builds (``build()``): the bot thread
        only captures raw values, the formatting (ISO times, JSON) happens off the bot loop.
        A ``build`` that raises drops its row (one warning per kind). Never blocks or raises."""
        self._put(build)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every row queued so far is written (or dropped); False on timeout.
        For tests, tools and shutdown: the bot loop never calls it."""
        marker = _Flush()
        try:
            self._queue.put(marker, timeout=timeout)
        except queue.Full:
            return False
        self._wake.set()
        return marker.done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (up to ``timeout``) and stop the writer."""
        self.flush(timeout)
        _stop(self._queue, self._thread, timeout, self._wake)

    # --- internals ------------------------------------------------------------------------

    def _put(self, row: Decision | Refresh | Callable[[], Decision]) -> None:
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            with self._lock:
                self.dropped += 1
            self._warn_once("queue full", "Russell ledger: the write queue is full (%d rows); "
                            "rows are dropped until the writer catches up (%s)",
                            self._queue.maxsize, self.path)

    def _warn_once(self, kind: str, message: str, *args: object) -> None:
        with self._lock:
            if kind in self._warned:
                return
            self._warned.add(kind)
        logger.warning(message, *args)

    def _serve(self) -> None:
        conn: sqlite3.Connection | None = None
        while True:
            items = [self._queue.get()]
            # linger: a bot loop queues its pairs' rows over a few hundred ms. The writer
            # sleeps on an event (not on the queue, which would wake it on every row and make
            # it take the GIL from the bot thread each time), then writes what came in one
            # transaction. flush() / close() set the event: no wait for them.
            if not (isinstance(items[0], _Flush) or items[0] is _STOP
                    or self._queue.qsize() >= self.batch - 1):  # a backlog: no waiting
                self._wake.wait(self.linger)
            self._wake.clear()
            while len(items) < self.batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            rows = [row for row in map(self._built, items) if row is not None]
            if rows:
                conn = self._write(conn, rows)
            for item in items:
                if isinstance(item, _Flush):
                    item.done.set()
            if any(item is _STOP for item in items):
                if conn is not None:
                    conn.close()
                return

    def _built(self, item: object) -> Decision | Refresh | None:
        """A queued row as written: rows as they are, a builder called (None on failure and
        for markers)."""
        if isinstance(item, Decision | Refresh):
            return item
        if not callable(item) or isinstance(item, _Flush):
            return None
        try:
            row = item()
        except Exception as exc:  # a row that cannot be built must not stop the writer
            with self._lock:
                self.dropped += 1
            self._warn_once(f"build {type(exc).__name__}", "Russell ledger: a decision row "
                            "could not be built (%s: %s); it is dropped", type(exc).__name__, exc)
            return None
        return row if isinstance(row, Decision) else None

    def _write(self, conn: sqlite3.Connection | None,
               rows: list[Decision | Refresh]) -> sqlite3.Connection | None:
        """Write ``rows`` in one transaction; on failure drop them (one warning per kind) and
        return None (a new connection is opened for the next batch)."""
        try:
            if conn is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = connect(self.path)
            decisions = [astuple(r) for r in rows if isinstance(r, Decision)]
            refreshes = [astuple(r) for r in rows if isinstance(r, Refresh)]
            conn.execute("BEGIN IMMEDIATE")
            try:
                if decisions:
                    conn.executemany(UPSERT_DECISION, decisions)
                if refreshes:
                    conn.executemany(INSERT_REFRESH, refreshes)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self.written += len(rows)
            return conn
        except (sqlite3.Error, OSError) as exc:
            with self._lock:
                self.dropped += len(rows)
            self._warn_once(
                f"{type(exc).__name__}: {exc}",
                "Russell ledger %s not written (%s: %s); trading goes on, the rows are dropped "
                "(logged once per kind of error)", self.path, type(exc).__name__, exc,
            )
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            return None


def _stop(q: queue.Queue, thread: threading.Thread, timeout: float = 2.0,
          wake: threading.Event | None = None) -> None:
    """End the writer after what is queued (bounded wait; the thread is a daemon anyway)."""
    try:
        q.put(_STOP, timeout=timeout)
    except queue.Full:
        return
    if wake is not None:
        wake.set()
    if thread is not threading.current_thread():
        thread.join(timeout)
