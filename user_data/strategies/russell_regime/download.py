"""Download daily bars from a source into the disk cache (the ``download`` command's work).

With a cache present only the tail is re-fetched (from ``REFETCH_DAYS`` before the last
cached session, so late revisions are picked up); sources that ignore ``start`` (files)
answer everything, which the merge makes idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from rich.console import Console

from .cache import cache_file, load_cache, merge_sessions, write_cache
from .sources import DailySource

REFETCH_DAYS = 14


@dataclass(frozen=True)
class MergeSummary:
    """What a merge did: totals, span and counts of new and revised sessions."""

    rows: int
    first: pd.Timestamp
    last: pd.Timestamp
    added: int
    revised: int


def resume_from(cached: pd.DataFrame | None, refetch_days: int = REFETCH_DAYS) -> date | None:
    """First date to fetch given the cached frame: None (everything) when nothing is cached."""
    if cached is None or cached.empty:
        return None
    return (cached["session"].iloc[-1] - pd.Timedelta(days=refetch_days)).date()


def summarize(cached: pd.DataFrame | None, merged: pd.DataFrame) -> MergeSummary:
    """Compare the merged frame with what was cached before (both daily frames)."""
    first, last = merged["session"].iloc[0], merged["session"].iloc[-1]
    if cached is None:
        return MergeSummary(len(merged), first, last, added=len(merged), revised=0)
    before = cached.set_index("session")
    after = merged.set_index("session")
    common = after.index.intersection(before.index)
    changed = after.loc[common].ne(before.loc[common, after.columns]).any(axis=1)
    added = len(after.index.difference(before.index))
    return MergeSummary(len(merged), first, last, added=added, revised=int(changed.sum()))


def download(
    ticker: str,
    source: DailySource,
    cache_dir: Path,
    now: pd.Timestamp,
    progress: bool = True,
    console: Console | None = None,
) -> pd.DataFrame:
    """Fetch ``ticker`` from ``source``, merge it into the cache, print a summary, return it.

    Raises SourceError / DataValidationError from the source or the cache; on failure the
    cache file is unchanged.
    """
    console = console or Console(soft_wrap=True, highlight=False)
    path = cache_file(Path(cache_dir), ticker)
    cached = load_cache(path, ticker)
    start = resume_from(cached)
    if progress:
        since = "all history" if start is None else f"from {start:%Y-%m-%d}"
        with console.status(f"Fetching {ticker} ({since}) from {source}..."):
            fresh = source.fetch(now, start)
    else:
        fresh = source.fetch(now, start)
    merged = merge_sessions(cached, fresh, ticker)
    write_cache(path, merged, ticker)
    s = summarize(cached, merged)
    console.print(
        f"{ticker}: {s.rows} sessions {s.first:%Y-%m-%d} .. {s.last:%Y-%m-%d} "
        f"({s.added} new, {s.revised} revised) -> {path}"
    )
    return merged
