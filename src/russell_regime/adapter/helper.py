"""``merge_russell_regime``: the Russell gate on a candle dataframe, for strategies that want no
base class (the helper the mixin builds on, in one pure call)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..core.align import audit_columns, gather, session_positions
from ..core.calendar import Availability
from ..core.daily import validate_daily
from ..core.gate import GateParams, daily_gate
from .provider import timeframe_step


def merge_russell_regime(
    dataframe: pd.DataFrame,
    daily: pd.DataFrame,
    timeframe: str,
    availability: Availability | None = None,
    params: GateParams | None = None,
    columns: Iterable[str] = (),
    ticker: str = "^RUT",
) -> pd.DataFrame:
    """A copy of ``dataframe`` (freqtrade candles, UTC ``date`` = candle open) with
    ``r2k_session``, ``r2k_available_at``, ``r2k_gate`` (bool) and ``r2k_gate_tag`` (category)
    added, plus ``r2k_<name>`` for each name in ``columns`` (a column of the daily gate frame,
    ``ath``, ``drawdown``, ``resistance``, ``support_level``, ``cond_ath``..., or of ``daily``,
    ``close``...).

    ``daily``: one row per exchange session (``session``/``date``, ``open``, ``high``, ``low``,
    ``close``, ``volume``; validated here), e.g. ``pd.read_csv("RUT.csv")``. ``availability``:
    calendar + publication lag (default ``Availability("XNYS", 15)``). ``params``: the gate
    thresholds (default :class:`~russell_regime.core.gate.GateParams`: mode ``any``).

    Time contract. Session ``s`` is usable from ``available_at(s) = close(s) + lag`` (close on
    the exchange calendar, in UTC). The candle opening at ``date`` closes at
    ``date + timeframe``; it sees the newest session with ``available_at < close``, strictly
    (live, freqtrade analyses a candle right after it closes and a session only lands seconds
    after ``available_at``). Calendar dates are never merged, unlike
    ``merge_informative_pair`` on midnight-dated daily bars. Worked example (XNYS, lag 15 min;
    2024-11-27 is a regular EST session, 11-28 Thanksgiving is closed, 11-29 closes early at
    13:00 New York)::

        session     close (UTC)        available_at (UTC)
        2024-11-26  2024-11-26 21:00   2024-11-26 21:15
        2024-11-27  2024-11-27 21:00   2024-11-27 21:15
        2024-11-29  2024-11-29 18:00   2024-11-29 18:15   (early close)

        1h candle  2024-11-27 20:00 (closes 21:00)  -> r2k_session 2024-11-26
        1h candle  2024-11-27 21:00 (closes 22:00)  -> r2k_session 2024-11-27
        1h candle  2024-11-28 12:00 (closes 13:00)  -> r2k_session 2024-11-27 (holiday)
        1h candle  2024-11-29 17:00 (closes 18:00)  -> r2k_session 2024-11-27
        1h candle  2024-11-29 18:00 (closes 19:00)  -> r2k_session 2024-11-29
        4h candle  2024-11-29 16:00 (closes 20:00)  -> r2k_session 2024-11-29
        1d candle  2024-11-29 00:00 (closes 11-30)  -> r2k_session 2024-11-29

    Rows before the first available session get no session (NaT) and a closed gate.

    What it does NOT do: refresh the data (in dry-run / live ``daily`` is whatever you pass),
    staleness (a candle after the data ends keeps the last gate: no ``stale_policy``), the
    last-moment entry veto, per-class hyperopt parameters, or touching ``enter_long``.
    :class:`~russell_regime.adapter.mixin.RussellGateMixin` does all of that; use it unless you
    manage those yourself.
    """
    availability = availability if availability is not None else Availability()
    params = params if params is not None else GateParams()
    frame = validate_daily(daily, ticker)
    available_at = availability.available_at(frame["session"])
    positions = session_positions(dataframe["date"], timeframe_step(timeframe), available_at)
    gate = daily_gate(frame, params)
    out = dataframe.copy()
    audit = audit_columns(positions, frame["session"], available_at)
    for column in audit.columns:
        out[column] = audit[column].array
    out["r2k_gate"] = gather(gate["gate_open"].to_numpy(dtype=bool), positions)
    out["r2k_gate_tag"] = pd.Categorical(gather(gate["gate_tag"].to_numpy(), positions, fill=""))
    for name in columns:
        source = gate if name in gate.columns else frame
        out[f"r2k_{name}"] = gather(np.asarray(source[name].to_numpy()), positions)
    return out
