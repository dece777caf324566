"""Ledger rows from what the mixin decided (pure: no I/O, no clock; the caller passes
``decided_at``). The ledger itself is :mod:`..data.ledger`."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from ..core.gate import GateParams
from ..data.ledger import Decision, day, iso


@functools.lru_cache(maxsize=256)
def params_json(params: GateParams) -> str:
    """A class's gate thresholds as sorted JSON (``params`` column; memoised: a bot has a
    handful of parameter sets)."""
    return json.dumps(asdict(params), sort_keys=True, default=str)


_COLUMNS: dict[int, tuple[pd.DataFrame, np.ndarray, np.ndarray]] = {}


def _columns(daily: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``daily``'s session and close arrays, memoised per frame object (a provider installs
    a new frame on each change; the few last ones are kept, with the frame, so an id is never
    reused while cached)."""
    hit = _COLUMNS.get(id(daily))
    if hit is None or hit[0] is not daily:
        if len(_COLUMNS) >= 4:
            _COLUMNS.clear()
        hit = _COLUMNS[id(daily)] = (daily, daily["session"].to_numpy(),
                                     daily["close"].to_numpy())
    return hit[1], hit[2]


def entry_outcome(signal: bool, blocked: bool) -> str:
    """``none`` (no long signal), ``blocked`` (removed by the gate) or ``allowed``."""
    if not signal:
        return "none"
    return "blocked" if blocked else "allowed"


def decision_row(
    *,
    strategy: str,
    pair: str,
    timeframe: str,
    candle_close: pd.Timestamp,
    decided_at: pd.Timestamp,
    session: object,
    available_at: object,
    close_seen: float | None,
    gate: bool,
    stale: bool,
    tag: object,
    params: GateParams,
    confirmations: Mapping[str, Mapping[str, Any]],
    entry: str,
    pair_class: str,
) -> Decision:
    """The ``decisions`` row of one candle: times as UTC ISO, ``session`` as ``YYYY-MM-DD``
    (None before the first session), ``params`` and ``confirmations`` as sorted JSON
    (``confirmations``: key -> ``{"session", "verdict", "stale"}``)."""
    close = None if close_seen is None or pd.isna(close_seen) else float(close_seen)
    text_tag = "" if tag is None or (not isinstance(tag, str) and pd.isna(tag)) else str(tag)
    return Decision(
        strategy=strategy,
        pair=pair,
        timeframe=timeframe,
        candle_close=iso(candle_close) or "",
        decided_at=iso(decided_at) or "",
        session=day(session),
        available_at=iso(available_at),
        close_seen=close,
        gate=int(bool(gate)),
        stale=int(bool(stale)),
        tag=text_tag,
        params=params_json(params),
        confirmations=json.dumps(
            {key: dict(value) for key, value in confirmations.items()}, sort_keys=True,
            default=str,
        ),
        entry=entry,
        pair_class=pair_class,
    )


def build_decision(
    *,
    strategy: str,
    pair: str,
    timeframe: str,
    last_candle: object,
    step_seconds: int,
    decided_at: pd.Timestamp,
    daily: pd.DataFrame,
    available_ns: np.ndarray,
    row: int,
    gate: bool,
    stale: bool,
    tag_code: int,
    tag_categories: pd.Index,
    params: GateParams,
    confirmations: Mapping[str, Mapping[str, Any]],
    entry: str,
    pair_class: str,
) -> Decision:
    """:func:`decision_row` from the raw values the bot thread captured (run on the ledger's
    writer thread): the candle closes ``step_seconds`` after ``last_candle`` opens (naive =
    UTC); ``row`` is the row of ``daily`` the candle sees (-1: none), ``available_ns`` that
    row's ``available_at`` (int64 ns UTC, one per row); the tag is ``tag_categories[tag_code]``
    (-1: none)."""
    close = pd.Timestamp(last_candle)
    close = (close.tz_localize("UTC") if close.tzinfo is None else close) + pd.Timedelta(
        seconds=step_seconds)
    sessions, closes = _columns(daily)
    has = 0 <= row < len(sessions)
    return decision_row(
        strategy=strategy, pair=pair, timeframe=timeframe, candle_close=close,
        decided_at=decided_at,
        session=sessions[row] if has else None,
        available_at=pd.Timestamp(int(available_ns[row]), tz="UTC") if has else None,
        close_seen=closes[row] if has else None,
        gate=gate, stale=stale, tag=tag_categories[tag_code] if tag_code >= 0 else None,
        params=params,
        confirmations={key: {**value, "session": day(value.get("session"))}
                       for key, value in confirmations.items()},
        entry=entry, pair_class=pair_class,
    )
