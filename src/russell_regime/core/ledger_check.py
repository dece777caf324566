"""Check recorded dry-run / live decisions against what a backtest would have seen (pure).

Input: a *decisions* frame, one row per recorded candle (the ledger's ``decisions`` table:
``pair, timeframe, candle_close`` (UTC ISO), ``session`` (``YYYY-MM-DD`` or None),
``close_seen``, ``gate`` (0/1), ``stale`` (0/1), ``params`` (JSON of the class's
:class:`~.gate.GateParams`), ...), and the *current* validated daily frame with each session's
``available_at`` (``Availability.available_at(daily["session"])``).

Rule (:func:`check_decisions`), per row. The *backtest session* is the last session of the
current daily frame whose ``available_at`` is strictly before ``candle_close`` (the
alignment rule of :mod:`.align`); the *backtest gate* is that session's ``gate_open`` for the
row's own params (``GateParams(**json.loads(params))``), closed when there is no session.

* ``agree``: the row saw the backtest session, its ``close_seen`` equals that session's
  current close within ``REL_TOL`` (1e-9, relative), and its gate equals the backtest gate.
  A stale row (``stale=1``) also agrees when its gate is what ``stale_policy`` makes of a
  stale candle (closed under ``block_entries``, open under ``ignore_gate``), and a row whose
  ``confirmations`` JSON holds a ``"verdict": 0`` also agrees with a closed gate (the writer
  records the gate with confirmations applied).
* ``revised upstream``: same session, but the close now differs from ``close_seen`` (the
  index history was revised after the decision); the detail gives old and new close and
  whether the gate on the revised data differs from the recorded one.
* ``late data``: the row saw an OLDER session than the backtest session (or none while one was
  available): the live bot had not got the newer bar yet. How late: ``candle_close`` minus
  the backtest session's ``available_at``. Stale rows that saw an older session land here.
* ``mismatch`` (a defect): anything else, e.g. same session and close but another gate; a
  session NEWER than the backtest session (data used before it was available); a session that
  is not in the current data; a row whose params or close cannot be read.

Worked example (^RUT, XNYS, lag 15 min; 2024-07-01 closes 20:00 UTC, available 20:15 UTC;
closes 2024-06-28 2047.69, 2024-07-01 2030.07; gate mode ``any`` closed on both)::

    candle_close 2024-07-01 20:00, session 2024-06-28, close 2047.69, gate 0  -> agree
    candle_close 2024-07-01 21:00, session 2024-07-01, close 2030.07, gate 0  -> agree
    candle_close 2024-07-01 21:00, session 2024-07-01, close 2000.00, gate 0  -> revised upstream
    candle_close 2024-07-01 21:00, session 2024-06-28, close 2047.69, gate 0  -> late data (45m)
    candle_close 2024-07-01 21:00, session 2024-07-01, close 2030.07, gate 1  -> mismatch
    candle_close 2024-07-01 20:00, session 2024-07-01, ...                    -> mismatch (newer)
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .align import count_sorted
from .gate import GateParams, daily_gate

AGREE = "agree"
REVISED = "revised upstream"
LATE = "late data"
MISMATCH = "mismatch"
CLASSES = (AGREE, REVISED, LATE, MISMATCH)
REL_TOL = 1e-9
DECISION_COLUMNS = ("pair", "timeframe", "candle_close", "session", "close_seen", "gate",
                    "stale", "params")
CHECK_COLUMNS = ("backtest_session", "backtest_available_at", "backtest_close",
                 "backtest_gate", "late", "gate_differs", "class", "detail")
STALE_GATE = {"block_entries": 0, "ignore_gate": 1}  # the gate a stale candle gets, by policy

GateFor = Callable[[GateParams], np.ndarray]


def _utc(values: pd.Series) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(values, utc=True, format="ISO8601"))


def _day(value: pd.Timestamp) -> str:
    return "none" if pd.isna(value) else f"{value:%Y-%m-%d}"


def _at(value: pd.Timestamp) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC"


def duration_text(delta: pd.Timedelta) -> str:
    """``'1d 2h 45m'`` (whole minutes; ``'0m'`` for less than a minute)."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if hours else []
    parts += [f"{mins}m"] if mins or not parts else []
    return " ".join(parts)


def gate_memo(daily: pd.DataFrame) -> GateFor:
    """``params -> gate_open per daily row`` (bool array), computed once per params."""
    memo: dict[GateParams, np.ndarray] = {}

    def gate_for(params: GateParams) -> np.ndarray:
        if params not in memo:
            memo[params] = daily_gate(daily, params)["gate_open"].to_numpy(dtype=bool)
        return memo[params]

    return gate_for


def parse_params(text: Any) -> GateParams:
    """``GateParams(**json.loads(text))``; ValueError naming the problem when unreadable."""
    try:
        values = json.loads(text)
        if not isinstance(values, dict):
            raise ValueError("not a JSON object")
        return GateParams(**values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"params unreadable ({exc})") from exc


def check_decisions(
    decisions: pd.DataFrame,
    daily: pd.DataFrame,
    available_at: pd.DatetimeIndex,
    gate_for: GateFor | None = None,
    stale_policy: str | None = None,
) -> pd.DataFrame:
    """``decisions`` (same rows, same order) plus the columns ``CHECK_COLUMNS``: what a
    backtest at each candle sees (session, its ``available_at``, close and gate), ``late``
    (Timedelta, late data only), ``gate_differs`` (revised upstream only), ``class`` (one of
    ``CLASSES``, rule in the module doc) and ``detail`` (one line, ``""`` when agreeing).

    ``daily``: validated daily frame; ``available_at``: one strictly increasing UTC instant
    per daily row; ``gate_for``: ``params -> gate_open`` per daily row (default
    :func:`gate_memo`); ``stale_policy``: accepts a stale row's policy gate (module doc).
    Missing columns of ``DECISION_COLUMNS`` -> ValueError. No I/O, no clock.
    """
    missing = [c for c in DECISION_COLUMNS if c not in decisions.columns]
    if missing:
        raise ValueError(f"decisions lack column(s) {', '.join(missing)}")
    if len(available_at) != len(daily):
        raise ValueError("available_at must have one entry per daily row")
    gate_for = gate_memo(daily) if gate_for is None else gate_for
    sessions = pd.DatetimeIndex(daily["session"]).as_unit("ns")
    closes = daily["close"].to_numpy(dtype=float)
    avail = pd.DatetimeIndex(available_at).tz_convert("UTC").as_unit("ns")
    candle_close = _utc(decisions["candle_close"]).as_unit("ns")
    seen = pd.DatetimeIndex(pd.to_datetime(decisions["session"], format="ISO8601")).as_unit("ns")
    if seen.tz is not None:
        seen = seen.tz_localize(None)
    seen = seen.normalize()
    positions = count_sorted(avail.asi8, candle_close.asi8, "left") - 1
    close_seen = pd.to_numeric(decisions["close_seen"], errors="coerce").to_numpy(dtype=float)
    out: dict[str, list[Any]] = {name: [] for name in CHECK_COLUMNS}
    for i, pos in enumerate(positions):
        row = _Row(
            close=candle_close[i], seen=seen[i], close_seen=close_seen[i],
            gate=decisions["gate"].iloc[i], stale=decisions["stale"].iloc[i],
            params=decisions["params"].iloc[i], vetoed=_confirmation_closed(
                decisions["confirmations"].iloc[i] if "confirmations" in decisions else None),
        )
        session = sessions[pos] if pos >= 0 else pd.NaT
        at = avail[pos] if pos >= 0 else pd.NaT
        close = closes[pos] if pos >= 0 else math.nan
        verdict = _classify(row, int(pos), sessions, closes, avail, gate_for, stale_policy)
        out["backtest_session"].append(session)
        out["backtest_available_at"].append(at)
        out["backtest_close"].append(close)
        for name, value in zip(("backtest_gate", "late", "gate_differs", "class", "detail"),
                               verdict, strict=True):
            out[name].append(value)
    result = decisions.copy()
    for name in CHECK_COLUMNS:
        result[name] = out[name]
    result["late"] = pd.Series(
        [None if pd.isna(v) else v for v in out["late"]], index=result.index,
        dtype="timedelta64[ns]")
    return result


class _Row:
    """One decision's fields, parsed."""

    __slots__ = ("close", "seen", "close_seen", "gate", "stale", "params", "vetoed")

    def __init__(self, close: pd.Timestamp, seen: pd.Timestamp, close_seen: float, gate: Any,
                 stale: Any, params: Any, vetoed: bool = False) -> None:
        self.close, self.seen, self.close_seen, self.vetoed = close, seen, close_seen, vetoed
        self.gate = None if pd.isna(gate) else int(gate)
        self.stale = bool(0 if pd.isna(stale) else int(stale))
        self.params = params


def _classify(
    row: _Row, pos: int, sessions: pd.DatetimeIndex, closes: np.ndarray,
    avail: pd.DatetimeIndex, gate_for: GateFor, stale_policy: str | None,
) -> tuple[Any, Any, bool, str, str]:
    """(backtest gate, late, gate_differs, class, detail) of one row (module doc rule)."""
    nat = pd.NaT
    try:
        params = parse_params(row.params)
    except ValueError as exc:
        return None, nat, False, MISMATCH, str(exc)
    if pos >= 0:
        expected = int(gate_for(params)[pos])
        exp_session, exp_at = sessions[pos], avail[pos]
    else:
        expected, exp_session, exp_at = 0, nat, nat
    if pd.isna(row.seen):
        if pos < 0:
            if row.gate == expected:
                return expected, nat, False, AGREE, ""
            return expected, nat, False, MISMATCH, (
                f"no session available, but gate recorded {row.gate}")
        late = row.close - exp_at
        return expected, late, False, LATE, (
            f"saw no session; a backtest sees {_day(exp_session)} (available {_at(exp_at)}), "
            f"{duration_text(late)} late")
    if pos < 0 or row.seen > exp_session:
        known = sessions.searchsorted(row.seen)
        if known >= len(sessions) or sessions[known] != row.seen:
            return expected, nat, False, MISMATCH, (
                f"saw session {_day(row.seen)}, not in the current index data")
        return expected, nat, False, MISMATCH, (
            f"saw session {_day(row.seen)}, newer than the newest available before the candle "
            f"close ({_day(exp_session)}): data used before its available_at")
    if row.seen < exp_session:
        late = row.close - exp_at
        return expected, late, False, LATE, (
            f"saw {_day(row.seen)}, a backtest sees {_day(exp_session)} "
            f"(available {_at(exp_at)}): {duration_text(late)} late"
            + (" (stale)" if row.stale else ""))
    new_close = float(closes[pos])
    if math.isnan(row.close_seen):
        return expected, nat, False, MISMATCH, "no close_seen recorded"
    accepted = {expected}
    if row.stale and stale_policy in STALE_GATE:
        accepted.add(STALE_GATE[stale_policy])
    if row.vetoed:
        accepted.add(0)
    if not math.isclose(row.close_seen, new_close, rel_tol=REL_TOL, abs_tol=0.0):
        differs = row.gate not in accepted
        change = new_close / row.close_seen - 1 if row.close_seen else math.inf
        return expected, nat, differs, REVISED, (
            f"session {_day(row.seen)} close {row.close_seen:.6g} -> {new_close:.6g} "
            f"({change:+.4%}); gate "
            + (f"would differ (recorded {row.gate}, now {expected})" if differs else "unchanged"))
    if row.gate in accepted:
        return expected, nat, False, AGREE, ""
    return expected, nat, False, MISMATCH, (
        f"gate recorded {row.gate}, a backtest computes {expected} "
        f"(same session {_day(row.seen)}, same close)")


def _confirmation_closed(text: Any) -> bool:
    """True when the ``confirmations`` JSON (key -> ``{"verdict": 0/1, ...}``) holds a
    closed verdict; unreadable or empty -> False."""
    if not isinstance(text, str) or not text:
        return False
    try:
        values = json.loads(text)
    except ValueError:
        return False
    return isinstance(values, dict) and any(
        isinstance(v, dict) and v.get("verdict") == 0 for v in values.values())


def class_counts(checked: pd.DataFrame) -> dict[str, int]:
    """Rows per class of a :func:`check_decisions` result, every class present (0 if none)."""
    counts = checked["class"].value_counts()
    return {name: int(counts.get(name, 0)) for name in CLASSES}


ENTRIES = ("allowed", "blocked", "vetoed", "none")


def ledger_summary(decisions: pd.DataFrame) -> dict[str, Any]:
    """What the decisions cover (no index data needed): ``period`` (first, last candle close,
    UTC Timestamps, None when empty), ``rows`` (count), ``rows_per_pair`` {pair: n},
    ``gate_open_share`` {pair_class: share of rows with gate 1}, ``entries`` {each of
    ``ENTRIES`` and any other recorded value: n}, ``stale_spells`` (list of dicts ``pair,
    start, end, rows``: maximal runs of consecutive stale rows per pair, ordered by candle
    close)."""
    if decisions.empty:
        return {"period": None, "rows": 0, "rows_per_pair": {}, "gate_open_share": {},
                "entries": dict.fromkeys(ENTRIES, 0), "stale_spells": []}
    frame = decisions.assign(_close=_utc(decisions["candle_close"]))
    per_pair = frame.groupby("pair", sort=True).size()
    gate = pd.to_numeric(frame["gate"], errors="coerce").fillna(0).astype(bool)
    share = gate.groupby(frame["pair_class"].fillna("?")).mean()
    entries = dict.fromkeys(ENTRIES, 0)
    for value, n in frame["entry"].fillna("none").value_counts().items():
        entries[str(value)] = int(n)
    spells = []
    for pair, rows in frame.sort_values(["pair", "_close"], kind="stable").groupby(
            "pair", sort=True):
        stale = pd.to_numeric(rows["stale"], errors="coerce").fillna(0).to_numpy(dtype=bool)
        starts = np.flatnonzero(stale & ~np.concatenate(([False], stale[:-1])))
        ends = np.flatnonzero(stale & ~np.concatenate((stale[1:], [False])))
        closes = rows["_close"]
        for start, end in zip(starts, ends, strict=True):
            spells.append({"pair": str(pair), "start": closes.iloc[start],
                           "end": closes.iloc[end], "rows": int(end - start + 1)})
    return {
        "period": (frame["_close"].min(), frame["_close"].max()),
        "rows": len(frame),
        "rows_per_pair": {str(k): int(v) for k, v in per_pair.items()},
        "gate_open_share": {str(k): float(v) for k, v in share.items()},
        "entries": entries,
        "stale_spells": spells,
    }


FORWARD_HORIZONS_DAYS = (1, 7, 30)


def gate_openings(decisions: pd.DataFrame) -> pd.DataFrame:
    """The rows where the gate OPENED: gate 1 after a gate-0 row of the same strategy, pair
    and timeframe (ordered by candle close); the first row of each never counts. Columns
    ``strategy`` (when present), ``pair``, ``pair_class``, ``candle_close`` (UTC Timestamp),
    ordered by pair and candle close."""
    columns = ["pair", "pair_class", "candle_close"]
    if decisions.empty:
        return pd.DataFrame(columns=columns)
    keys = [c for c in ("strategy", "pair", "timeframe") if c in decisions.columns]
    frame = decisions.assign(
        candle_close=_utc(decisions["candle_close"]),
        _gate=pd.to_numeric(decisions["gate"], errors="coerce").fillna(0).astype(int),
    ).sort_values([*keys, "candle_close"], kind="stable")
    previous = frame.groupby(keys, sort=False)["_gate"].shift(1)
    opened = frame[(frame["_gate"] == 1) & (previous == 0)]
    if "pair_class" not in opened.columns:
        opened = opened.assign(pair_class=None)
    opened = opened.assign(pair_class=opened["pair_class"].fillna("?").astype(str))
    out = opened[[c for c in ("strategy", *columns) if c in opened.columns]]
    return out.sort_values(["pair", "candle_close"], kind="stable").reset_index(drop=True)


def opening_returns(
    decisions: pd.DataFrame,
    opens: dict[str, pd.Series],
    horizons_days: tuple[int, ...] = FORWARD_HORIZONS_DAYS,
) -> pd.DataFrame:
    """One row per gate opening (:func:`gate_openings`) with ``entry_at`` (open time of the
    first candle opening at or after the candle close), ``entry`` (its open) and, per horizon
    ``H`` days, ``ret_<H>d`` = open of the first candle opening at or after ``entry_at + H``
    divided by ``entry`` minus 1, NaN when not yet measurable (``entry_at + H`` later than the
    pair's last candle, no entry candle yet, or no candles for the pair at all).

    ``opens``: pair -> candle OPEN prices indexed by the candle's UTC open time (1h candles,
    the event study's entry rule: :mod:`russell_regime.evidence.forward`). No I/O."""
    table = gate_openings(decisions)
    entry_at, entry = [], []
    rets: dict[int, list[float]] = {h: [] for h in horizons_days}
    for row in table.itertuples(index=False):
        series = opens.get(row.pair)
        if series is None or series.empty:
            entry_at.append(pd.NaT)
            entry.append(math.nan)
            for h in horizons_days:
                rets[h].append(math.nan)
            continue
        times = pd.DatetimeIndex(series.index)
        times = times.tz_localize("UTC") if times.tz is None else times.tz_convert("UTC")
        values = series.to_numpy(dtype=float)
        i = int(times.searchsorted(row.candle_close, "left"))
        start = times[i] if i < len(times) else pd.NaT
        price = values[i] if i < len(times) else math.nan
        entry_at.append(start)
        entry.append(price)
        for h in horizons_days:
            if pd.isna(start) or start + pd.Timedelta(days=h) > times[-1]:
                rets[h].append(math.nan)
                continue
            j = int(times.searchsorted(start + pd.Timedelta(days=h), "left"))
            rets[h].append(float(values[j] / price - 1))
    result = table.assign(entry_at=entry_at, entry=entry)
    for h in horizons_days:
        result[f"ret_{h}d"] = pd.Series(rets[h], index=result.index, dtype=float)
    return result


def forward_summary(
    decisions: pd.DataFrame,
    opens: dict[str, pd.Series],
    horizons_days: tuple[int, ...] = FORWARD_HORIZONS_DAYS,
) -> dict[str, Any]:
    """Per pair class: ``openings`` (count) and, per horizon ``"<H>d"``, ``n`` (measured),
    ``mean``, ``median`` (fractions, None when nothing measured) and ``not_yet`` (openings
    not measurable yet, :func:`opening_returns`). Also ``horizons_days`` and
    ``pairs_without_candles`` (pairs with openings but no series in ``opens``)."""
    table = opening_returns(decisions, opens, horizons_days)
    classes: dict[str, Any] = {}
    for cls, rows in table.groupby("pair_class", sort=True):
        entry: dict[str, Any] = {"openings": len(rows)}
        for h in horizons_days:
            values = rows[f"ret_{h}d"].dropna()
            entry[f"{h}d"] = {
                "n": len(values),
                "mean": float(values.mean()) if len(values) else None,
                "median": float(values.median()) if len(values) else None,
                "not_yet": int(rows[f"ret_{h}d"].isna().sum()),
            }
        classes[str(cls)] = entry
    missing = sorted({str(p) for p in table["pair"]
                      if opens.get(p) is None or opens[p].empty})
    return {"horizons_days": list(horizons_days), "per_class": classes,
            "pairs_without_candles": missing}
