"""Disk cache of daily frames: one feather file per ticker under a cache directory.

File names (:func:`cache_file`) are injective, readable and cannot leave the directory:
``[A-Za-z0-9.-]`` are kept, every other character is written as ``_XX`` per UTF-8 byte
(upper-case hex, ``_`` itself included), then ``.feather`` is appended::

    "^RUT" -> "_5ERUT.feather"    "RTY=F" -> "RTY_3DF.feather"    "_5ERUT" -> "_5F5ERUT.feather"
    "../x" -> ".._2Fx.feather"    (no "/" survives, so the file stays in the directory)

:func:`ticker_of` reverses it. Tickers differing only by case get different names, which
collide on case-insensitive file systems (Yahoo tickers are case-insensitive anyway).

Writes are atomic: temp file in the same directory, fsync, ``os.replace``. A failed write
leaves the previous file intact and no temp file behind. Unreadable or invalid cache
files, and failed writes, are SourceErrors naming the path; delete the file to rebuild it.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa

from .daily import validate_daily
from .errors import DataValidationError, SourceError
from .merge import merge_sessions  # noqa: F401  (re-export; the merge rules live in merge.py)

DEFAULT_CACHE_DIR = Path("user_data/data/russell")
SUFFIX = ".feather"
_SAFE = re.compile(r"[A-Za-z0-9.\-]")
_ESCAPE = re.compile(r"_([0-9A-F]{2})")


# --- pure core -------------------------------------------------------------------------------


def encode_ticker(ticker: str) -> str:
    """The file stem of ``ticker`` (see module docstring). Empty ticker -> ValueError."""
    if not ticker:
        raise ValueError("ticker must be a non-empty string")
    return "".join(
        ch if _SAFE.fullmatch(ch) else "".join(f"_{b:02X}" for b in ch.encode("utf-8"))
        for ch in ticker
    )


def ticker_of(file_name: str) -> str:
    """The ticker whose cache file is ``file_name`` (inverse of :func:`cache_file`)."""
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


# --- I/O edges -------------------------------------------------------------------------------


def load_cache(path: Path, ticker: str) -> pd.DataFrame | None:
    """The validated cached frame at ``path``, or None when the file does not exist.

    Unreadable (truncated, corrupted) or invalid content -> SourceError naming the path.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        frame = pd.read_feather(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise SourceError(
            ticker, f"cache file {path} unreadable ({type(exc).__name__}: {exc}); delete it"
        ) from exc
    try:
        return validate_daily(frame, ticker)
    except DataValidationError as exc:
        raise SourceError(ticker, f"cache file {path} invalid ({exc}); delete it") from exc


def write_cache(path: Path, frame: pd.DataFrame, ticker: str) -> None:
    """Validate ``frame`` and atomically replace ``path`` with it (parents created).

    DataValidationError for bad content (nothing written); SourceError naming the path when
    the write fails (the previous file is left intact, the temp file removed).
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
        raise SourceError(
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


class DailyCache:
    """The cache directory of daily frames, one file per ticker."""

    def __init__(self, cache_dir: Path = DEFAULT_CACHE_DIR) -> None:
        self.cache_dir = Path(cache_dir)

    def path(self, ticker: str) -> Path:
        """The cache file of ``ticker``."""
        return cache_file(self.cache_dir, ticker)

    def load(self, ticker: str) -> pd.DataFrame | None:
        """The cached frame of ``ticker`` or None (see :func:`load_cache`)."""
        return load_cache(self.path(ticker), ticker)

    def update(self, ticker: str, fresh: pd.DataFrame) -> pd.DataFrame:
        """Merge ``fresh`` into the cached frame, write it atomically, return the merged frame."""
        merged = merge_sessions(self.load(ticker), fresh, ticker)
        write_cache(self.path(ticker), merged, ticker)
        return merged

    def __repr__(self) -> str:
        return f"DailyCache({str(self.cache_dir)!r})"
