"""Russell events (pure): new all-time highs, breakouts and support retests, de-clustered.

Raw events are the sessions where a feature of :mod:`russell_regime.core.features` fires:

* ``ath``: ``new_ath`` (the price basis exceeds every earlier session's);
* ``breakout_<N>``: ``breakout`` for lookback ``N`` (close above the prior N-session maximum);
* ``retest_<N>``: ``retest`` for lookback ``N`` (a pull-back to the broken level that held).

De-clustering: events of one kind form *episodes*. An event within ``gap`` sessions of the
previous raw event of the same kind (``pos_i - pos_{i-1} <= gap``) belongs to that event's
episode (chaining, so a long streak of new highs is one episode). An episode is represented by
its first event; ``last_session`` and ``n_raw`` describe the rest. De-clustering runs over the
whole index history, so a streak that began before the crypto data is not counted again later.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..core.features import ath_features, regime_features
from ..core.gate import GateParams

EVENT_COLUMNS = (
    "kind", "position", "session", "available_at", "close", "level", "last_session", "n_raw",
)
DEFAULT_GAP = 20


def decluster(positions: np.ndarray, gap: int) -> np.ndarray:
    """Episode number (0, 1, ...) of each raw event; ``positions`` are increasing session
    indices. An event with ``positions[i] - positions[i-1] <= gap`` joins the previous episode.
    """
    pos = np.asarray(positions, dtype=np.int64)
    if int(gap) != gap or gap < 0:
        raise ValueError(f"de-clustering gap must be a whole number of sessions >= 0, got {gap!r}")
    if pos.size and (np.diff(pos) <= 0).any():
        raise ValueError("event positions must be strictly increasing")
    if pos.size == 0:
        return np.zeros(0, dtype=np.int64)
    new_episode = np.concatenate(([True], np.diff(pos) > gap))
    return np.cumsum(new_episode) - 1


def raw_events(
    daily: pd.DataFrame, lookbacks: Sequence[int], params: GateParams | None = None
) -> pd.DataFrame:
    """Every session where an event fires (columns ``kind, position, session, close, level``).

    ``level`` is the level that was exceeded or held: the previous all-time high for ``ath``,
    the resistance for ``breakout_N``, the support level for ``retest_N``. ``params``
    (default ``GateParams()``) gives margin, tolerance, window, expiry and basis.
    """
    params = params or GateParams()
    frames = []
    ath = ath_features(daily, params.basis)
    prior_ath = np.concatenate(([np.nan], ath["ath"].to_numpy()[:-1]))
    frames.append(_rows(daily, "ath", ath["new_ath"].to_numpy(), prior_ath))
    for lookback in sorted(set(int(lb) for lb in lookbacks)):
        feats = regime_features(
            daily, lookback, params.margin, params.tolerance, params.window, params.expiry,
            params.basis,
        )
        frames.append(_rows(
            daily, f"breakout_{lookback}", feats["breakout"].to_numpy(bool),
            feats["resistance"].to_numpy(),
        ))
        frames.append(_rows(
            daily, f"retest_{lookback}", feats["retest"].to_numpy(bool),
            feats["support_level"].to_numpy(),
        ))
    return pd.concat(frames, ignore_index=True)


def _rows(daily: pd.DataFrame, kind: str, flag: np.ndarray, level: np.ndarray) -> pd.DataFrame:
    idx = np.flatnonzero(flag)
    return pd.DataFrame({
        "kind": kind,
        "position": idx.astype(np.int64),
        "session": daily["session"].to_numpy()[idx],
        "close": daily["close"].to_numpy(dtype="float64")[idx],
        "level": np.asarray(level, dtype="float64")[idx],
    })


def episodes(raw: pd.DataFrame, gap: int = DEFAULT_GAP) -> pd.DataFrame:
    """The first event of each episode, per kind, plus ``last_session`` and ``n_raw``."""
    out = []
    for _kind, group in raw.groupby("kind", sort=False):
        group = group.sort_values("position")
        episode = decluster(group["position"].to_numpy(), gap)
        first = group.groupby(episode).head(1).copy()
        first["last_session"] = group.groupby(episode)["session"].last().to_numpy()
        first["n_raw"] = np.bincount(episode).astype(np.int64)
        out.append(first)
    if not out:
        return pd.DataFrame(columns=[c for c in EVENT_COLUMNS if c != "available_at"])
    return pd.concat(out, ignore_index=True)


def attach_available_at(events: pd.DataFrame, available_at: pd.DatetimeIndex) -> pd.DataFrame:
    """Add ``available_at`` (UTC) by position; ``available_at`` is one entry per daily row."""
    out = events.copy()
    avail = pd.DatetimeIndex(available_at)
    out["available_at"] = avail[out["position"].to_numpy(dtype=np.int64)]
    return out[[c for c in EVENT_COLUMNS if c in out.columns]].reset_index(drop=True)


def russell_events(
    daily: pd.DataFrame,
    available_at: pd.DatetimeIndex,
    lookbacks: Sequence[int] = (252,),
    params: GateParams | None = None,
    gap: int = DEFAULT_GAP,
) -> pd.DataFrame:
    """De-clustered events of every kind (see the module doc), columns ``EVENT_COLUMNS``."""
    return attach_available_at(episodes(raw_events(daily, lookbacks, params), gap), available_at)


def ath_events(
    daily: pd.DataFrame, available_at: pd.DatetimeIndex, kind: str, gap: int = DEFAULT_GAP,
    basis: str = "close",
) -> pd.DataFrame:
    """De-clustered new-ATH events of any daily frame (e.g. the S&P 500 placebo)."""
    ath = ath_features(daily, basis)
    prior = np.concatenate(([np.nan], ath["ath"].to_numpy()[:-1]))
    raw = _rows(daily, kind, ath["new_ath"].to_numpy(), prior)
    return attach_available_at(episodes(raw, gap), available_at)


def random_events(eligible: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct positions drawn uniformly from ``eligible`` (sorted); seeded by ``rng``.

    Fewer when ``eligible`` is shorter than ``count``.
    """
    pool = np.asarray(eligible, dtype=np.int64)
    k = min(int(count), pool.size)
    return np.sort(rng.choice(pool, size=k, replace=False)) if k else np.zeros(0, np.int64)


def in_window(
    events: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> pd.DataFrame:
    """Events whose ``available_at`` lies in ``[start, end]`` (None = open)."""
    keep = np.ones(len(events), dtype=bool)
    avail = pd.DatetimeIndex(events["available_at"])
    if start is not None:
        keep &= np.asarray(avail >= pd.Timestamp(start))
    if end is not None:
        keep &= np.asarray(avail <= pd.Timestamp(end))
    return events.loc[keep].reset_index(drop=True)


def event_list(
    daily: pd.DataFrame,
    available_at: pd.DatetimeIndex,
    lookbacks: Sequence[int],
    params: GateParams,
    gap: int = DEFAULT_GAP,
    raw: bool = False,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The ``events`` command's list: de-clustered events (or every raw one, each its own
    episode) with ``available_at``, sessions in ``[since, until]``, sorted by session, kind."""
    if raw:
        events = raw_events(daily, lookbacks, params)
        events["last_session"], events["n_raw"] = events["session"], 1
        events = events.assign(
            available_at=pd.DatetimeIndex(available_at)[events["position"].to_numpy()]
        )
    else:
        events = russell_events(daily, available_at, lookbacks, params, gap)
    sessions = pd.DatetimeIndex(events["session"])
    keep = np.ones(len(events), dtype=bool)
    if since is not None:
        keep &= np.asarray(sessions >= pd.Timestamp(since))
    if until is not None:
        keep &= np.asarray(sessions <= pd.Timestamp(until))
    return events.loc[keep].sort_values(["session", "kind"]).reset_index(drop=True)


def describe_sessions(
    daily: pd.DataFrame, sessions: Sequence, lookbacks: Sequence[int],
    params: GateParams | None = None,
) -> dict[pd.Timestamp, str]:
    """A short label per session of ``sessions`` from the raw events firing on it, e.g.
    ``"record close; breakout 252, 756"`` (``"last record close"`` for the latest ``ath`` in
    ``daily``); ``""`` for a session without events or outside ``daily``."""
    raw = raw_events(daily, lookbacks, params)
    days = pd.DatetimeIndex(raw["session"]).normalize()
    ath_days = days[raw["kind"].to_numpy() == "ath"]
    last_ath = ath_days.max() if len(ath_days) else None
    out: dict[pd.Timestamp, str] = {}
    for session in sessions:
        day = pd.Timestamp(session).normalize()
        kinds = raw.loc[days == day, "kind"].tolist()
        parts = []
        if "ath" in kinds:
            parts.append("last record close" if day == last_ath else "record close")
        for word in ("breakout", "retest"):
            sizes = [k.split("_")[1] for k in kinds if k.startswith(f"{word}_")]
            if sizes:
                parts.append(f"{word} {', '.join(sizes)}")
        out[day] = "; ".join(parts)
    return out
