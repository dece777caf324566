"""Disk cache of daily frames: one feather file per ticker under a cache directory.

File names (:func:`cache_file`) are readable, injective (also on case-insensitive file systems
such as macOS and Windows) and cannot leave the directory: ``A-Z 0-9 ^ = . -`` are kept, every
other character (lower-case letters, ``/``, ``\\``, ``:``, ``_`` itself, ...) is written as
``_XX`` per UTF-8 byte (upper-case hex), then ``.feather`` is appended::

    "^RUT" -> "^RUT.feather"      "RTY=F" -> "RTY=F.feather"      "BRK-B" -> "BRK-B.feather"
    "../X" -> "_2E._2FX.feather"  "rut" -> "_72_75_74.feather"    "CON" -> "_43ON.feather"

A leading ``.`` (hidden file, ``..``) and the first letter of a Windows device name (``CON``,
``NUL``, ``COM1`` ... before the first ``.``) are escaped too. A stem longer than
``MAX_STEM`` characters is a ConfigError (file systems allow 255 bytes per name, and the lock
and temp files add to it). :func:`ticker_of` reverses the encoding.

Older versions wrote ``_XX`` for ``^`` and ``=`` too (``^RUT`` -> ``_5ERUT.feather``, see
:func:`legacy_cache_file`): such a file is read when the new one is absent, and the next
update (download or live refresh) writes the new name and removes the old one.

Writes are atomic: temp file in the same directory, fsync, ``os.replace``. A failed write
leaves the previous file intact and no temp file behind. Unreadable or invalid cache files are
SourceErrors naming the path (delete the file to rebuild it); failed writes and lock timeouts
are CacheUnavailable (a SourceError) naming the file.

Read-merge-write cycles are serialised per cache file by :meth:`DailyCache.lock`, an OS file
lock (``filelock``; released by the OS when its holder dies) on ``<cache file>.lock``, with a
timeout. Readers need no lock: a write replaces the file atomically.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
from filelock import FileLock, Timeout

from ..core.daily import SessionRows, validate_daily, validate_sessions
from ..core.merge import merge_sessions  # noqa: F401  (re-export; the merge rules live in merge.py)
from ..errors import CacheUnavailable, ConfigError, DataValidationError, SourceError

DEFAULT_CACHE_DIR = Path("user_data/data/russell")
SUFFIX = ".feather"
LOCK_SUFFIX = ".lock"
MAX_STEM = 200
_SAFE = re.compile(r"[A-Z0-9^=.\-]")
_LEGACY_SAFE = re.compile(r"[A-Za-z0-9.\-]")
_ESCAPE = re.compile(r"_([0-9A-F]{2})")
_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{d}{i}" for d in ("COM", "LPT") for i in range(10)}
)


# --- pure core -------------------------------------------------------------------------------


def _escape(ch: str) -> str:
    return "".join(f"_{b:02X}" for b in ch.encode("utf-8"))


def encode_ticker(ticker: str) -> str:
    """The file stem of ``ticker`` (see module docstring).

    Empty, non-string or too long a ticker -> ConfigError (a ValueError) naming it.
    """
    if not isinstance(ticker, str) or not ticker:
        raise ConfigError(f"ticker must be a non-empty string, got {ticker!r}")
    stem = "".join(ch if _SAFE.fullmatch(ch) else _escape(ch) for ch in ticker)
    if stem.startswith("."):
        stem = _escape(".") + stem[1:]
    if stem.split(".", 1)[0] in _DEVICES:
        stem = _escape(stem[0]) + stem[1:]
    if len(stem) > MAX_STEM:
        shown = ticker if len(ticker) <= 24 else f"{ticker[:24]}..."
        raise ConfigError(
            f"ticker {shown!r} ({len(ticker)} characters) is too long: its cache file name "
            f"would have {len(stem)} characters, at most {MAX_STEM} are allowed"
        )
    return stem


def ticker_of(file_name: str) -> str:
    """The ticker whose cache file is ``file_name`` (inverse of :func:`cache_file`; also
    decodes :func:`legacy_cache_file` names)."""
    stem = file_name.removesuffix(SUFFIX)
    raw = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(stem):
        raw += stem[pos : m.start()].encode("ascii")
        raw.append(int(m.group(1), 16))
        pos = m.end()
    raw += stem[pos:].encode("ascii")
    return raw.decode("utf-8")


def cache_file(cache_dir: Path, ticker: str) -> Path:
    """Path of ``ticker``'s cache file directly inside ``cache_dir``."""
    return Path(cache_dir) / f"{encode_ticker(ticker)}{SUFFIX}"


def legacy_cache_file(cache_dir: Path, ticker: str) -> Path:
    """Path older versions used for ``ticker`` (only ``[A-Za-z0-9.-]`` kept: ``_5ERUT``)."""
    encode_ticker(ticker)  # same checks as the current name
    stem = "".join(ch if _LEGACY_SAFE.fullmatch(ch) else _escape(ch) for ch in ticker)
    return Path(cache_dir) / f"{stem}{SUFFIX}"


def lock_file(path: Path) -> Path:
    """The lock file guarding the cache file ``path``."""
    path = Path(path)
    return path.with_name(path.name + LOCK_SUFFIX)


# --- I/O edges -------------------------------------------------------------------------------


def load_cache(path: Path, ticker: str, calendar: str | None = None) -> pd.DataFrame | None:
    """The validated cached frame at ``path``, or None when the file does not exist; with
    ``calendar``, stray rows are dropped by the stray-row policy (:func:`load_cache_rows`
    names them).

    Unreadable (truncated, corrupted) or invalid content -> SourceError naming the path.
    """
    if calendar is not None:
        rows = load_cache_rows(path, ticker, calendar)
        return None if rows is None else rows.frame
    frame = _read_feather(Path(path), ticker)
    if frame is None:
        return None
    try:
        return validate_daily(frame, ticker)
    except DataValidationError as exc:
        raise SourceError(ticker, f"cache file {path} invalid ({exc}); delete it") from exc


def load_cache_rows(path: Path, ticker: str, calendar: str) -> SessionRows | None:
    """The cached rows on sessions of ``calendar`` and the stray dates dropped
    (:func:`daily.validate_sessions`), or None when the file does not exist; unreadable or
    invalid content (incl. a series off the calendar) -> SourceError naming the path."""
    frame = _read_feather(Path(path), ticker)
    if frame is None:
        return None
    try:
        return validate_sessions(frame, ticker, calendar)
    except DataValidationError as exc:
        raise SourceError(ticker, f"cache file {path} invalid ({exc}); delete it") from exc


def _read_feather(path: Path, ticker: str) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        frame = pd.read_feather(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise SourceError(
            ticker, f"cache file {path} unreadable ({type(exc).__name__}: {exc}); delete it"
        ) from exc
    return frame


def write_cache(path: Path, frame: pd.DataFrame, ticker: str) -> None:
    """Validate ``frame`` and atomically replace ``path`` with it (parents created).

    DataValidationError for bad content (nothing written); CacheUnavailable naming the path
    when the write fails (the previous file is left intact, the temp file removed).
    """
    path = Path(path)
    data = validate_daily(frame, ticker)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            if hasattr(os, "fchmod"):  # mkstemp creates 0600; a cache of public prices is 0644
                os.fchmod(fh.fileno(), 0o644)
            data.to_feather(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
        _fsync_dir(path.parent)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise CacheUnavailable(
            ticker, f"cannot write cache file {path}: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable where the OS allows fsync on a directory (POSIX)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def locked(
    path: Path, ticker: str, timeout: float, on_wait: Callable[[Path], None] | None = None
) -> Iterator[Path]:
    """Hold the lock of the cache file ``path`` (yields the lock file) for one read-merge-write.

    Waits at most ``timeout`` seconds, calling ``on_wait(lock file)`` first when the lock is
    taken; a timeout, or a lock file that cannot be created, is CacheUnavailable naming the
    lock file. The OS drops the lock when its holder dies, so a crashed process never leaves
    the cache locked.
    """
    lock_path = lock_file(path)
    lock = FileLock(lock_path, timeout=timeout)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if on_wait is not None:
                on_wait(lock_path)
            lock.acquire()
    except Timeout as exc:
        raise CacheUnavailable(
            ticker, f"cache file {path} is being updated by another process (download or bot): "
            f"gave up after waiting {timeout:g} s for the lock {lock_path}; retry later",
        ) from exc
    except OSError as exc:
        raise CacheUnavailable(
            ticker, f"cannot lock cache file {path} with {lock_path}: {type(exc).__name__}: {exc}"
        ) from exc
    try:
        yield lock_path
    finally:
        lock.release()


class DailyCache:
    """The cache directory of daily frames, one file per ticker."""

    def __init__(self, cache_dir: Path = DEFAULT_CACHE_DIR) -> None:
        self.cache_dir = Path(cache_dir)

    def path(self, ticker: str) -> Path:
        """The cache file of ``ticker`` (where it is written)."""
        return cache_file(self.cache_dir, ticker)

    def legacy_path(self, ticker: str) -> Path | None:
        """An old-named cache file of ``ticker`` that exists while the new one does not."""
        old, new = legacy_cache_file(self.cache_dir, ticker), self.path(ticker)
        if old == new or new.exists() or not old.exists():
            return None
        return old

    def existing_path(self, ticker: str) -> Path:
        """The file :meth:`load` reads: the new name, else an old-named file (see module doc)."""
        return self.legacy_path(ticker) or self.path(ticker)

    def load(self, ticker: str, calendar: str | None = None) -> pd.DataFrame | None:
        """The cached frame of ``ticker`` or None (see :func:`load_cache`)."""
        return load_cache(self.existing_path(ticker), ticker, calendar)

    def load_rows(self, ticker: str, calendar: str) -> SessionRows | None:
        """The cached rows of ``ticker`` on sessions of ``calendar`` and the stray dates
        dropped, or None (see :func:`load_cache_rows`)."""
        return load_cache_rows(self.existing_path(ticker), ticker, calendar)

    def lock(
        self, ticker: str, timeout: float, on_wait: Callable[[Path], None] | None = None
    ) -> contextlib.AbstractContextManager[Path]:
        """The lock serialising read-merge-write of ``ticker``'s cache (see :func:`locked`)."""
        return locked(self.path(ticker), ticker, timeout, on_wait)

    def update(self, ticker: str, fresh: pd.DataFrame, calendar: str) -> pd.DataFrame:
        """Merge ``fresh`` (sessions of the exchange calendar ``calendar``) into the cache under
        its lock (see :func:`download.update_cache`)."""
        from .download import update_cache  # the one fetch-merge-write path lives there

        return update_cache(self, ticker, fresh, calendar=calendar).frame

    def __repr__(self) -> str:
        return f"DailyCache({str(self.cache_dir)!r})"
