"""Merge rules: how a fresh source answer is folded into the cached daily frame (pure).

:func:`merge_update` is the one merge used by ``download`` and the live refresh:

* ``cached`` must satisfy the full daily-frame contract and hold only sessions of the
  exchange calendar ``calendar`` (else DataValidationError naming the first bad date).
* ``fresh`` is a *normalised* source answer (:func:`daily.normalize_daily`: columns, session
  dates and numbers checked). Its rows dated on non-sessions follow the stray-row policy
  (:func:`daily.split_sessions`): a few isolated ones are dropped and listed in ``dropped``,
  more (or adjacent ones) reject the whole answer (DataValidationError naming the first bad
  date). Its price rows are checked here:
  an invalid fresh row (NaN / non-finite / <= 0 price, high < low ..., bad volume) of a session
  already cached is replaced by the cached row and listed in ``kept_cached``; an invalid row of
  a NEW session rejects the whole answer (DataValidationError naming it).
* A fresh volume that is NaN ("unknown", e.g. a file without a volume column) keeps the cached
  volume.
* Plausibility (:class:`RevisionLimits`): more price-revised sessions than
  ``max(min_count, share * overlap)``, or one close revised by more than ``max_close_change``
  (relative), raises :class:`errors.RevisionRejected` and nothing is merged. A revision is a
  price that differs by more than the float rounding tolerance; volume-only changes are
  merged and reported as revised but never rejected.

:func:`merge_sessions` is the old plain union (fresh wins, no plausibility limits), kept for
callers that have not moved to :func:`merge_update` yet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataValidationError, RevisionRejected
from .daily import (
    PRICE_COLUMNS,
    REL_TOLERANCE,
    normalize_daily,
    row_problems,
    split_sessions,
    validate_daily,
)


@dataclass(frozen=True)
class RevisionLimits:
    """Largest revision of cached sessions a merge accepts (see module docstring)."""

    min_count: int = 5
    share: float = 0.01
    max_close_change: float = 0.05

    def max_count(self, overlap: int) -> int:
        """Most price-revised sessions accepted when ``overlap`` sessions are in both frames."""
        return max(self.min_count, int(self.share * overlap))


DEFAULT_LIMITS = RevisionLimits()


@dataclass(frozen=True)
class MergeResult:
    """The merged daily frame and what the merge did.

    ``added``: sessions new to the cache; ``revised``: cached sessions whose values changed
    (prices beyond rounding, or a known volume); ``kept_cached``: cached sessions whose fresh row
    was invalid, so the cached row was kept (sorted); ``dropped``: stray dates of the answer
    dropped by the stray-row policy. ``frame`` is validated and sorted.
    """

    frame: pd.DataFrame
    added: int
    revised: int
    kept_cached: tuple[pd.Timestamp, ...] = ()
    dropped: tuple[pd.Timestamp, ...] = ()

    @property
    def changed(self) -> bool:
        """True when the merged frame differs from the cached one."""
        return self.added > 0 or self.revised > 0


def merge_update(
    cached: pd.DataFrame | None,
    fresh: pd.DataFrame,
    ticker: str,
    calendar: str,
    limits: RevisionLimits = DEFAULT_LIMITS,
) -> MergeResult:
    """Fold the normalised source answer ``fresh`` into ``cached`` (None = empty cache).

    Raises DataValidationError (non-session date, bad new row, broken ``cached``) or
    RevisionRejected (implausible revision); on error nothing is merged. See module docstring.
    """
    split = split_sessions(normalize_daily(fresh, ticker), ticker, calendar)
    new = split.frame
    if cached is None or len(cached) == 0:
        _raise_first_problem(new, ticker)
        return MergeResult(validate_daily(new, ticker), added=len(new), revised=0,
                           dropped=split.dropped)
    try:
        old = validate_daily(cached, ticker, calendar=calendar)
    except DataValidationError as exc:
        raise DataValidationError(
            ticker, f"cached data: {exc.problem}; delete the cache file to rebuild it", exc.session
        ) from exc
    old_rows = old.set_index("session")
    new_rows = new.set_index("session")
    in_cache = new_rows.index.isin(old_rows.index)

    problems = row_problems(new)
    bad = problems.notna().to_numpy()
    new_bad = bad & ~in_cache
    if new_bad.any():
        i = int(np.flatnonzero(new_bad)[0])
        raise DataValidationError(ticker, str(problems.iloc[i]), new["session"].iloc[i])
    kept = new_rows.index[bad]
    new_rows.loc[kept] = old_rows.loc[kept, new_rows.columns]
    unknown_volume = new_rows["volume"].isna() & new_rows.index.isin(old_rows.index)
    new_rows.loc[unknown_volume, "volume"] = old_rows.loc[
        new_rows.index[unknown_volume], "volume"
    ]

    common = new_rows.index[in_cache]
    before, after = old_rows.loc[common], new_rows.loc[common]
    price_moved = _differs(after[list(PRICE_COLUMNS)], before[list(PRICE_COLUMNS)])
    volume_moved = _differs(after[["volume"]], before[["volume"]])
    _check_plausible(before, after, price_moved, ticker, limits)

    merged = pd.concat([old_rows.drop(index=common), new_rows]).sort_index()
    frame = validate_daily(merged.reset_index(), ticker)
    return MergeResult(
        frame,
        added=int((~in_cache).sum()),
        revised=int((price_moved | volume_moved).sum()),
        kept_cached=tuple(pd.Timestamp(s) for s in kept),
        dropped=split.dropped,
    )


def merge_sessions(cached: pd.DataFrame | None, fresh: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """Union of ``cached`` and ``fresh`` by session; ``fresh`` wins on a revised session.

    Both inputs must satisfy the daily-frame contract; the result is sorted and validated.
    No calendar check and no plausibility limits: prefer :func:`merge_update`.
    """
    fresh = validate_daily(fresh, ticker)
    if cached is None:
        return fresh
    both = pd.concat([validate_daily(cached, ticker), fresh], ignore_index=True)
    merged = both.drop_duplicates("session", keep="last").sort_values("session")
    return validate_daily(merged.reset_index(drop=True), ticker)


def _raise_first_problem(frame: pd.DataFrame, ticker: str) -> None:
    problems = row_problems(frame)
    bad = np.flatnonzero(problems.notna().to_numpy())
    if bad.size:
        i = int(bad[0])
        extra = f" ({bad.size} sessions)" if bad.size > 1 else ""
        raise DataValidationError(ticker, str(problems.iloc[i]) + extra, frame["session"].iloc[i])


def _differs(after: pd.DataFrame, before: pd.DataFrame) -> pd.Series:
    """Per session: True when any value changed beyond float rounding (NaN == NaN)."""
    a, b = after.to_numpy(dtype="float64"), before.to_numpy(dtype="float64")
    same = np.isclose(a, b, rtol=REL_TOLERANCE, atol=0.0, equal_nan=True)
    return pd.Series(~same.all(axis=1), index=after.index)


def _check_plausible(
    before: pd.DataFrame,
    after: pd.DataFrame,
    price_moved: pd.Series,
    ticker: str,
    limits: RevisionLimits,
) -> None:
    count = int(price_moved.sum())
    allowed = limits.max_count(len(before))
    if count > allowed:
        first = price_moved.index[price_moved.to_numpy()][0]
        raise RevisionRejected(
            ticker,
            f"answer would revise {count} of {len(before)} cached sessions (limit {allowed}); "
            f"first {first:%Y-%m-%d} close {before.at[first, 'close']:g} -> "
            f"{after.at[first, 'close']:g}; not merged (a shifted or wrong series?)",
            first,
            count,
        )
    change = after["close"] / before["close"] - 1.0
    too_far = change.abs() > limits.max_close_change
    if too_far.any():
        first = too_far.index[too_far.to_numpy()][0]
        raise RevisionRejected(
            ticker,
            f"answer would revise the close of {first:%Y-%m-%d} from "
            f"{before.at[first, 'close']:g} to {after.at[first, 'close']:g} "
            f"({change[first]:+.1%}, limit {limits.max_close_change:.0%}); not merged",
            first,
            int(too_far.sum()),
        )
