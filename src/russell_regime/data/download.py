"""The one fetch-merge-write path of the disk cache, and the ``download`` command's work.

:func:`update_cache` is used by ``download`` and by the live refresh alike. Under the cache
file's lock (:meth:`cache.DailyCache.lock`) it reads the cache, fetches (when given a fetch
function; the live refresh fetches before, outside the lock, because the network can hang),
merges (:func:`merge.merge_update`) and writes atomically when anything changed. Two writers
(two downloads, or a download next to a running bot) therefore never lose each other's
sessions: the second one merges into what the first one wrote.

With a cache present only the tail is re-fetched (from ``REFETCH_DAYS`` before the last
cached session, so late revisions are picked up); sources that ignore ``start`` (files)
answer everything, which the merge makes idempotent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from rich.console import Console

from ..core.calendar import Availability
from ..core.daily import stray_note
from ..core.merge import MergeResult, merge_update
from ..errors import SourceError
from .cache import DailyCache, load_cache_rows, write_cache
from .sources import DailySource

REFETCH_DAYS = 14
LOCK_TIMEOUT_SECONDS = 60.0

Fetch = Callable[[pd.DataFrame | None], pd.DataFrame]
"""``fetch(known)``: the source's answer, given the frame known before (None: nothing)."""


@dataclass(frozen=True)
class CacheUpdate:
    """What :func:`update_cache` did.

    ``merge``: the merge of the answer into the data known before (cache, plus sessions only
    the caller's memory held); ``path``: the cache file; ``wrote``: whether it was rewritten;
    ``migrated_from``: the old-named file it replaced (and removed); ``replaced``: why an
    unreadable cache file was ignored and replaced (``replace_unreadable`` only);
    ``dropped_cached``: stray dates dropped from the cache file as read (the stray-row policy;
    the file is rewritten without them).
    """

    merge: MergeResult
    path: Path
    wrote: bool
    migrated_from: Path | None = None
    replaced: str | None = None
    dropped_cached: tuple[pd.Timestamp, ...] = ()

    @property
    def frame(self) -> pd.DataFrame:
        """The merged daily frame."""
        return self.merge.frame

    @property
    def dropped(self) -> tuple[pd.Timestamp, ...]:
        """Every stray date dropped (answer and cache file), increasing."""
        return tuple(sorted(set(self.merge.dropped) | set(self.dropped_cached)))


# --- pure core -------------------------------------------------------------------------------


def resume_from(cached: pd.DataFrame | None, refetch_days: int = REFETCH_DAYS) -> date | None:
    """First date to fetch given the cached frame: None (everything) when nothing is cached."""
    if cached is None or cached.empty:
        return None
    return (cached["session"].iloc[-1] - pd.Timedelta(days=refetch_days)).date()


def known_sessions(
    cached: pd.DataFrame | None, memory: pd.DataFrame | None
) -> pd.DataFrame | None:
    """``cached`` plus the sessions only ``memory`` holds (both valid daily frames or None).

    The cache wins on a session both hold: it may carry a concurrent writer's newer revision,
    and the refetch window re-reads recent sessions anyway.
    """
    if memory is None or memory.empty:
        return cached
    if cached is None or cached.empty:
        return memory
    extra = memory[~memory["session"].isin(cached["session"])]
    if extra.empty:
        return cached
    both = pd.concat([cached, extra], ignore_index=True).sort_values("session")
    return both.reset_index(drop=True)


# --- I/O edges -------------------------------------------------------------------------------


def update_cache(
    cache: DailyCache,
    ticker: str,
    fresh: pd.DataFrame | Fetch,
    *,
    calendar: str,
    memory: pd.DataFrame | None = None,
    force_write: bool = False,
    lock_timeout: float | None = None,
    replace_unreadable: bool = False,
    cancelled: Callable[[], bool] = lambda: False,
    on_wait: Callable[[Path], None] | None = None,
) -> CacheUpdate:
    """Under ``ticker``'s cache lock: read the cache, fetch, merge, write; see the module doc.

    ``fresh`` is the source's answer, or ``fetch(known)`` called under the lock; ``calendar``
    the exchange calendar every session must belong to. The answer is
    merged into the cache as read under the lock plus the sessions only ``memory`` holds; the
    file is rewritten atomically when the result differs from it, when ``force_write``, or to
    move an old-named file (:func:`cache.legacy_cache_file`) to its new name; never once
    ``cancelled()`` is true. Waits at most ``lock_timeout`` (default ``LOCK_TIMEOUT_SECONDS``)
    for the lock, calling ``on_wait(lock file)`` first if another process holds it.

    Raises CacheUnavailable (lock timeout, failed write; the cache file is unchanged), the
    errors of ``fetch`` and of :func:`merge.merge_update` (nothing written), and SourceError
    for an unreadable cache file unless ``replace_unreadable`` (then it is treated as empty and
    replaced).
    """
    timeout = LOCK_TIMEOUT_SECONDS if lock_timeout is None else lock_timeout
    with cache.lock(ticker, timeout, on_wait):
        legacy = cache.legacy_path(ticker)
        replaced = None
        dropped_cached: tuple[pd.Timestamp, ...] = ()
        try:
            rows = load_cache_rows(legacy or cache.path(ticker), ticker, calendar)
        except SourceError as exc:
            if not replace_unreadable:
                raise
            rows, replaced = None, str(exc)
        on_disk = None if rows is None else rows.frame
        if rows is not None and rows.dropped:
            dropped_cached = rows.dropped
            force_write = True  # the file still holds them: rewrite it without
        known = known_sessions(on_disk, memory)
        answer = fresh(known) if callable(fresh) else fresh
        result = merge_update(known, answer, ticker, calendar)
        behind = on_disk is None or not result.frame.equals(on_disk)
        wrote = False
        if (force_write or behind or legacy is not None) and not cancelled():
            write_cache(cache.path(ticker), result.frame, ticker)
            wrote = True
            if legacy is not None:
                with contextlib.suppress(OSError):  # the new file is in place and wins anyway
                    legacy.unlink()
    return CacheUpdate(
        result, cache.path(ticker), wrote, legacy if wrote else None, replaced, dropped_cached
    )


def download(
    ticker: str,
    source: DailySource,
    cache_dir: Path,
    now: pd.Timestamp,
    progress: bool = True,
    console: Console | None = None,
    *,
    availability: Availability,
    lock_timeout: float | None = None,
) -> pd.DataFrame:
    """Fetch ``ticker`` from ``source`` into the cache (:func:`update_cache`), print a summary,
    return the merged frame. Every session must be one of ``availability.calendar``.

    Raises SourceError / DataValidationError from the source, the merge or the cache
    (CacheUnavailable when another process holds the cache longer than ``lock_timeout``); on
    failure the cache file is unchanged.
    """
    console = console or Console(soft_wrap=True, highlight=False)

    def fetch(known: pd.DataFrame | None) -> pd.DataFrame:
        start = resume_from(known)
        if not progress:
            return source.fetch(now, start)
        since = "all history" if start is None else f"from {start:%Y-%m-%d}"
        with console.status(f"Fetching {ticker} ({since}) from {source}..."):
            return source.fetch(now, start)

    def waiting(lock: Path) -> None:
        wait = LOCK_TIMEOUT_SECONDS if lock_timeout is None else lock_timeout
        console.print(
            f"{ticker}: another download or a bot is updating the cache; waiting up to {wait:g} s "
            f"for {lock}"
        )

    update = update_cache(
        DailyCache(cache_dir), ticker, fetch, calendar=availability.calendar,
        lock_timeout=lock_timeout, on_wait=waiting,
    )
    m, frame = update.merge, update.frame
    console.print(
        f"{ticker}: {len(frame)} sessions {frame['session'].iloc[0]:%Y-%m-%d} .. "
        f"{frame['session'].iloc[-1]:%Y-%m-%d} ({m.added} new, {m.revised} revised) "
        f"-> {update.path}"
    )
    if update.migrated_from is not None:
        console.print(f"{ticker}: moved the cache from its old name {update.migrated_from.name}")
    if update.dropped:
        console.print(f"warning: {stray_note(ticker, availability.calendar, update.dropped)}")
    if m.kept_cached:
        days = ", ".join(f"{s:%Y-%m-%d}" for s in m.kept_cached)
        console.print(f"{ticker}: invalid rows from {source} for {days}; kept the cached values")
    return frame
