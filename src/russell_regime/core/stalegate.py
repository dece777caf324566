"""The stale policy per candle, and naming stale series (pure).

The strategy's rule, in one place: the mixin applies it (``adapter.mixin``:
``_effective_gate`` / ``_russell_confirm``) and the evidence's trade filter
(``evidence.alignment.class_gate_masks``) applies the same functions, so the filter models
staleness exactly as the backtest does:

* the index: stale candles (:func:`refresh.stale_mask`) under ``stale_policy``
  ``block_entries`` (or any unknown policy) close the gate, under ``ignore_gate`` open it,
  under ``last_known`` keep it (:func:`gate_under_policy`);
* each active confirmation: its rule on the session the candle sees (False before its
  first), stale by the same rule with its own publication times; a stale *optional*
  confirmation, or any stale one under ``ignore_gate``, counts as open; a stale *required*
  one under ``block_entries`` as closed; under ``last_known`` it keeps its last verdict
  (:func:`confirmation_under_policy`). The gate is the index's AND every confirmation.

:func:`stale_from` / :func:`stale_series_note` name a series that is stale at an instant with
its last session and the instant it became stale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .calendar import Availability, to_utc
from .refresh import BLOCK, IGNORE, entry_override


def gate_under_policy(gate_open: np.ndarray, stale: np.ndarray, policy: str) -> np.ndarray:
    """The index gate per candle with ``stale_policy`` ``policy`` applied (module doc)."""
    gate_open = np.asarray(gate_open, dtype=bool)
    stale = np.asarray(stale, dtype=bool)
    override = entry_override(True, policy)
    if override == BLOCK:
        return gate_open & ~stale
    if override == IGNORE:
        return gate_open | stale
    return gate_open.copy()


def confirmation_under_policy(
    seen_open: np.ndarray, stale: np.ndarray, policy: str, required: bool
) -> np.ndarray:
    """A confirmation per candle as the strategy applies it (module doc)."""
    seen_open = np.asarray(seen_open, dtype=bool)
    stale = np.asarray(stale, dtype=bool)
    override = entry_override(True, policy)
    if not required or override == IGNORE:
        return seen_open | stale
    if override == BLOCK:
        return seen_open & ~stale
    return seen_open.copy()


def stale_from(
    last_session: pd.Timestamp | None, availability: Availability, grace_minutes: float
) -> pd.Timestamp | None:
    """The instant (UTC) from which data ending at ``last_session`` is stale: the next
    calendar session's ``available_at`` + ``grace``. None after the calendar's end; no data
    (None) is stale for ever (``Timestamp.min`` in UTC)."""
    if last_session is None:
        return pd.Timestamp.min.tz_localize("UTC")
    successor = availability.next_session(pd.Timestamp(last_session))
    if successor is None:
        return None
    return availability.available_at([successor])[0] + pd.Timedelta(minutes=grace_minutes)


def stale_series_note(
    name: str, last_session: pd.Timestamp | None, since: pd.Timestamp | None
) -> str:
    """``'IWN last session 2025-03-14, stale from 2025-03-17 23:15 UTC'``."""
    if last_session is None:
        return f"{name}: no data (stale)"
    text = f"{name} last session {pd.Timestamp(last_session):%Y-%m-%d}"
    if since is None:
        return text
    return f"{text}, stale from {to_utc(since):%Y-%m-%d %H:%M} UTC"
