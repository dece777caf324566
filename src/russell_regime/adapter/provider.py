"""The index data one strategy instance works with, plus memoised daily gates.

Imperative shell around the pure core: it holds the validated daily frame and its
``available_at`` times, and memoises :func:`gate.daily_gate` per parameter set, so hyperopt
recomputes daily features once per distinct parameter set (shared by every pair) and each
pair only gathers through its candle -> session positions.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd

from ..core.align import (
    AVAILABLE_AT_COLUMN,
    SESSION_COLUMN,
    audit_columns,
    count_runs,
    count_sorted,
    repeat_runs,
    session_positions,
)
from ..core.daily import stray_note, validate_daily
from ..core.gate import GateParams, class_features, gate_from_features
from ..core.refresh import NO_SESSION, stale_at_positions, stale_mask, stale_runs
from ..data.cache import DailyCache
from ..data.calendars import load_table
from ..data.sources import read_daily_sessions
from ..errors import RegimeError
from ..settings import RegimeSettings

logger = logging.getLogger(__name__)

_MEMO_SIZE = 16  # ~1.3 MB each on 38 years of sessions; a hyperopt epoch needs 3


@functools.cache
def _no_data() -> pd.DataFrame:
    """The empty daily frame (built on first use, not at import: under pandas 3 a DataFrame's
    string column index loads pyarrow, ~100 ms of every process's startup)."""
    return pd.DataFrame(
        {"session": pd.Series([], dtype="datetime64[ns]")}
        | {c: pd.Series([], dtype="float64") for c in ("open", "high", "low", "close", "volume")}
    )


class RegimeProvider:
    """Current daily frame for ``settings.ticker``; replace it with :meth:`set_daily`.

    Before any data is installed the frame is empty: every candle sees no session, so every
    gate is closed (entries blocked) while indicators and exits keep working.
    """

    def __init__(self, settings: RegimeSettings) -> None:
        self.settings = settings
        load_table(settings.calendar)  # from disk: no exchange_calendars build per process
        self._daily: pd.DataFrame = _no_data()
        self._available_at = pd.DatetimeIndex([], dtype="datetime64[ns, UTC]")
        self._session_ns = self._available_ns = np.empty(0, dtype=np.int64)
        self._memo: OrderedDict[GateParams, pd.DataFrame] = OrderedDict()
        self._features: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
        self._tags: OrderedDict[GateParams, pd.Categorical] = OrderedDict()
        self.version = 0
        self.dropped: tuple[pd.Timestamp, ...] = ()  # stray dates dropped from the series

    @property
    def loaded(self) -> bool:
        return len(self._daily) > 0

    @property
    def daily(self) -> pd.DataFrame:
        return self._daily

    @property
    def available_at(self) -> pd.DatetimeIndex:
        return self._available_at

    @property
    def available_ns(self) -> np.ndarray:
        """:attr:`available_at` as int ns UTC (read-only)."""
        return self._available_ns

    def set_daily(self, daily: pd.DataFrame) -> None:
        """Install a new daily frame (validated); drops every memoised gate."""
        frame = validate_daily(daily, self.settings.ticker)
        self._available_at = self.settings.availability.available_at(frame["session"])
        self._daily = frame
        self._session_ns = pd.DatetimeIndex(frame["session"]).as_unit("ns").asi8
        self._available_ns = self._available_at.as_unit("ns").asi8
        self._memo.clear()
        self._features.clear()
        self._tags.clear()
        self.version += 1

    def load_offline(self) -> pd.DataFrame:
        """Load from the configured file or the disk cache; never touches the network.

        Rows off ``settings.calendar`` follow the stray-row policy
        (:func:`~..core.daily.split_sessions`): a few isolated ones are dropped, named in one
        warning and kept in :attr:`dropped`; more refuse the series (DataValidationError /
        SourceError naming the first bad date).
        """
        s = self.settings
        if s.source == "file" and s.path is not None:
            rows = read_daily_sessions(s.path, s.ticker, s.calendar)
        else:
            cached = DailyCache(s.cache_dir).load_rows(s.ticker, s.calendar)
            if cached is None:
                raise RegimeError(
                    f"{s.ticker}: no cached index data in {s.cache_dir}; run "
                    f"`python -m russell_regime download --ticker '{s.ticker}'` while online, or "
                    "set russell_regime.source='file' and russell_regime.path to a daily CSV"
                )
            rows = cached
        self.set_daily(rows.frame)
        self.note_dropped(rows.dropped)
        return self.daily

    def note_dropped(self, dropped: tuple[pd.Timestamp, ...]) -> bool:
        """Record stray dates dropped from this series (:attr:`dropped`); one warning line
        naming those not recorded before. True when any was new."""
        new = sorted(set(dropped) - set(self.dropped))
        if not new:
            return False
        self.dropped = tuple(sorted(set(self.dropped) | set(new)))
        logger.warning("Russell %s", stray_note(self.settings.ticker, self.settings.calendar,
                                                tuple(new)))
        return True

    def positions(self, candle_dates: pd.Series, timeframe: str) -> np.ndarray:
        """Daily-row position each candle sees (-1 before the first available session);
        ``timeframe`` is freqtrade's (``"1h"``)."""
        return session_positions(candle_dates, timeframe_step(timeframe), self.available_at)

    def stale(self, positions: np.ndarray, candle_dates: pd.Series, timeframe: str) -> np.ndarray:
        """Per candle: is the data it sees stale at its close (:func:`refresh.stale_mask`, the
        live rule)? True where a session the calendar made available ``stale_grace_minutes``
        before the close is missing, e.g. every candle after the data ends."""
        s = self.settings
        return stale_at_positions(
            close_ns(candle_dates, timeframe), positions, self._available_ns,
            s.availability.times_ns(), s.stale_grace_minutes,
        )

    def candle_columns(
        self, candle_dates: pd.Series, timeframe: str
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """(positions, columns) for freqtrade candles in one pass on int64 ns: the same values
        as :meth:`positions`, :meth:`audit` (``r2k_session``, ``r2k_available_at``) and
        :meth:`stale` (under ``"stale"``), without their per-call datetime conversions."""
        closes = close_ns(candle_dates, timeframe)
        avail = self._available_ns
        s = self.settings
        calendar = s.availability.times_ns()
        lengths = count_runs(avail, closes, "left") if avail.size else None
        stale = None
        if lengths is not None:  # increasing candles: one repeat per column
            positions = repeat_runs(np.arange(avail.size, dtype=np.int64), lengths, -1)
            seen = repeat_runs(avail, lengths, NO_SESSION)
            runs = np.flatnonzero(lengths)  # stale_mask per run of candles seeing one session
            run_available = np.concatenate(([NO_SESSION], avail))[runs]
            stale = stale_runs(closes, run_available, lengths[runs], calendar,
                               s.stale_grace_minutes)
        elif avail.size:
            positions = count_sorted(avail, closes, "left") - 1
            row = np.maximum(positions, 0)
            has = positions >= 0
            seen = np.where(has, avail[row], NO_SESSION)
        else:
            positions = np.full(closes.size, -1, dtype=np.int64)
            seen = np.full(closes.size, NO_SESSION, dtype=np.int64)
        if stale is None:
            stale = stale_mask(closes, seen, calendar, s.stale_grace_minutes)
        columns = {  # NO_SESSION is NaT's int64; r2k_session: 2 bytes per candle, not 8
            SESSION_COLUMN: self._session_categorical(positions),
            AVAILABLE_AT_COLUMN: pd.array(seen, dtype=_UTC_NS),  # int ns are UTC instants
            "stale": stale,
        }
        return positions, columns

    def _session_categorical(self, positions: np.ndarray) -> pd.Categorical:
        """``r2k_session`` per candle as an ordered Categorical of the sessions from the first
        one seen to the last of the daily frame (NaN before the first): 1-2 bytes per candle
        instead of 8, the whole categories once. Frames of one provider that start at the same
        session (freqtrade's lookahead-analysis cuts) get the same categories."""
        has = positions >= 0
        first = int(positions.min(initial=self._session_ns.size, where=has))
        dtype = self._session_dtype(first, self.version)
        codes = np.where(has, positions - first, -1).astype(
            np.int16 if len(dtype.categories) < 2**15 else np.int32)
        return pd.Categorical.from_codes(codes, dtype=dtype)

    def _session_dtype(self, first: int, version: int) -> pd.CategoricalDtype:
        """The ordered dtype of the sessions from row ``first`` on, memoised per data
        ``version`` (pairs listed on the same day share it)."""
        memo = self.__dict__.setdefault("_session_dtypes", {})
        key = (first, version)
        if key not in memo:
            if len(memo) >= 64:
                memo.clear()
            memo[key] = pd.CategoricalDtype(
                pd.DatetimeIndex(self._session_ns[first:].view("M8[ns]")), ordered=True)
        return memo[key]

    def fingerprint(self) -> dict[str, Any]:
        """Identity of the data installed: ticker, source, rows, first/last session and a hash
        of every value (freqtrade's backtest cache keys on it, see RussellRiskOn)."""
        s, daily = self.settings, self._daily
        digest = hashlib.sha1(usedforsecurity=False)
        for column in daily.columns:
            digest.update(column.encode())
            digest.update(np.ascontiguousarray(daily[column].to_numpy()).tobytes())
        return {
            "ticker": s.ticker,
            "source": s.source if s.source != "file" else f"file {s.path}",
            "rows": len(daily),
            "first": f"{daily['session'].iloc[0]:%Y-%m-%d}" if len(daily) else None,
            "last": f"{daily['session'].iloc[-1]:%Y-%m-%d}" if len(daily) else None,
            "sha1": digest.hexdigest(),
        }

    def audit(self, positions: np.ndarray) -> pd.DataFrame:
        """``r2k_session`` and ``r2k_available_at`` for the given positions."""
        return audit_columns(positions, self.daily["session"], self.available_at)

    def gate(self, params: GateParams) -> pd.DataFrame:
        """Memoised :func:`gate.daily_gate` for the current frame; classes whose feature
        thresholds agree share one feature computation."""
        return _memoised(
            self._memo, params,
            lambda: gate_from_features(
                _memoised(
                    self._features, params.feature_key(),
                    lambda: class_features(self.daily, params),
                ),
                params,
            ),
        )


    def gate_tags(self, params: GateParams) -> pd.Categorical:
        """The ``gate_tag`` column of :meth:`gate` as a Categorical (categories in order of
        appearance), memoised: gathered per pair without factorizing the daily tags again."""
        def compute() -> pd.Categorical:
            # on the column itself: a str column is encoded by pyarrow, no Python str objects
            codes, uniques = pd.factorize(self.gate(params)["gate_tag"], use_na_sentinel=True)
            return pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object))

        return _memoised(self._tags, params, compute)


def timeframe_step(timeframe: str) -> pd.Timedelta:
    """freqtrade's timeframe (``"5m"``, ``"1h"``, ``"1d"``...) as a duration, converted by
    freqtrade's own ``timeframe_to_seconds``; anything else is a ValueError naming it."""
    from freqtrade.exchange import timeframe_to_seconds

    try:
        seconds = timeframe_to_seconds(str(timeframe))
    except Exception as exc:  # ccxt raises its own NotSupported / ValueError / IndexError
        raise ValueError(
            f"unsupported timeframe {timeframe!r}; expected e.g. 5m, 1h, 4h, 1d"
        ) from exc
    if seconds <= 0:
        raise ValueError(f"unsupported timeframe {timeframe!r}; expected e.g. 5m, 1h, 4h, 1d")
    return pd.Timedelta(seconds=seconds)


def close_ns(candle_dates: pd.Series, timeframe: str) -> np.ndarray:
    """Candle closes, int ns UTC; candle dates must be timezone-aware."""
    dtype = getattr(candle_dates, "dtype", None)
    if isinstance(dtype, pd.DatetimeTZDtype):  # freqtrade's candles: no conversion, one multiply
        dates = candle_dates.array.asi8 * _NS_PER[dtype.unit]
    else:
        index = pd.DatetimeIndex(candle_dates)
        if index.tz is None:
            raise ValueError("candle dates must be timezone-aware UTC timestamps, got naive values")
        dates = index.tz_convert("UTC").as_unit("ns").asi8
    return dates + _step_ns(timeframe)


_UTC_NS = pd.DatetimeTZDtype("ns", "UTC")
_NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


@functools.lru_cache(maxsize=32)
def _step_ns(timeframe: str) -> int:
    return timeframe_step(timeframe).value


def _memoised(memo: OrderedDict, key, compute) -> Any:
    """``memo[key]``, computed on a miss; least recently used entries beyond the size go."""
    hit = memo.get(key)
    if hit is not None:
        memo.move_to_end(key)
        return hit
    result = memo[key] = compute()
    if len(memo) > _MEMO_SIZE:
        memo.popitem(last=False)
    return result
