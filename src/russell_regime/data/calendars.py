"""Exchange-calendar tables kept on disk, so a process need not build (or even import)
exchange_calendars to know the sessions and closes.

Building XNYS over the package's fixed span costs ~0.15 s and importing exchange_calendars
~0.07 s; every freqtrade process (backtest, each hyperopt worker, every CLI command) would pay
it. :func:`load_table` reads the table (``core.calendar.CalendarTable``: sessions + UTC closes)
from a small file, builds and writes it on a miss, and hands it to the core
(``core.calendar.remember_table``). The file name carries everything the table depends on:
the calendar name, the exchange_calendars version, the span and a format version; any other
file is ignored. A missing, unreadable or unwritable cache only costs the build; it never
fails the caller, and says so in at most one debug line per table and process.

Location: ``$R2K_CALENDAR_CACHE`` if set (``off`` disables the disk cache), else
``$XDG_CACHE_HOME/russell_regime`` (an absolute path, as the XDG spec asks), else
``~/.cache/russell_regime``. With no home at all (``HOME`` unset and a uid without a passwd
entry, e.g. ``docker run --user 4242``: :meth:`Path.home` raises) there is no disk cache: the
table is built in memory. A read-only home (a read-only container filesystem) is an
unwritable cache: built, used, not stored.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.calendar import (
    CALENDAR_END,
    CALENDAR_START,
    CalendarTable,
    build_table,
    calendar_table,
    remember_table,
    remembered_table,
)

logger = logging.getLogger(__name__)

FORMAT = 1
ENV = "R2K_CALENDAR_CACHE"


def cache_dir() -> Path | None:
    """Where the tables live (module docstring); None when disabled or when there is no home
    directory to put them in."""
    configured = os.environ.get(ENV)
    if configured:
        return None if configured.strip().lower() == "off" else Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "russell_regime"
    try:
        home = Path.home()
    except (RuntimeError, KeyError, OSError) as exc:  # HOME unset, uid not in passwd
        logger.debug("no home directory (%s): calendar tables are built in memory", exc)
        return None
    return home / ".cache" / "russell_regime"


def xcals_version() -> str:
    """The installed exchange_calendars version, from its distribution metadata (no import:
    importing it is what the cache avoids); ``"unknown"`` if not installed."""
    try:
        return importlib.metadata.version("exchange_calendars")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def table_path(directory: Path, name: str, version: str) -> Path:
    """The file of calendar ``name`` built by exchange_calendars ``version``."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    return Path(directory) / (
        f"calendar-{safe}-xcals{version}-{CALENDAR_START}-{CALENDAR_END}-v{FORMAT}.npz"
    )


def read_table(path: Path, name: str) -> CalendarTable | None:
    """The table stored at ``path`` for ``name``, or None if absent or not a valid table."""
    table, problem = _read_table(path, name)
    if problem:
        logger.debug("ignoring calendar table %s: %s", path, problem)
    return table


def _read_table(path: Path, name: str) -> tuple[CalendarTable | None, str | None]:
    """(table, None), or (None, why it is not usable; None if there is simply no file)."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            if str(stored["name"]) != name:
                return None, f"holds {str(stored['name'])!r}, not {name!r}"
            return CalendarTable(
                name=name,
                sessions_ns=stored["sessions_ns"],
                closes_ns=stored["closes_ns"],
                tz=str(stored["tz"]),
                regular_close=pd.Timedelta(int(stored["regular_close_ns"])),
            ), None
    except (FileNotFoundError, NotADirectoryError):
        return None, None
    except Exception as exc:  # unreadable, corrupt, truncated, foreign: rebuild
        return None, f"{type(exc).__name__}: {exc}"


def write_table(path: Path, table: CalendarTable) -> None:
    """Store ``table`` at ``path`` atomically (a temp file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.stem, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(
                fh,
                name=np.array(table.name),
                sessions_ns=table.sessions_ns,
                closes_ns=table.closes_ns,
                tz=np.array(table.tz),
                regular_close_ns=np.array(table.regular_close.value, dtype=np.int64),
            )
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def load_table(name: str, directory: Path | None = None) -> CalendarTable:
    """The calendar table of ``name``: already in the process, else from the disk cache, else
    built (and written for the next process); handed to the core either way. Unknown name ->
    ValueError (from the build)."""
    known = remembered_table(name)
    if known is not None:
        return known
    directory = cache_dir() if directory is None else directory
    if directory is None:
        return calendar_table(name)
    path = table_path(directory, name, xcals_version())
    table, problem = _read_table(path, name)
    if table is None:
        table = build_table(name)
        try:
            write_table(path, table)
        except OSError as exc:  # read-only home, full disk: the build is enough
            problem = "; ".join(filter(None, (problem, f"not written: {exc}")))
        if problem:  # one line whatever went wrong
            logger.debug("calendar table %s built (%s)", path, problem)
    remember_table(table)
    return table
