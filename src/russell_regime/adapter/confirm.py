"""Confirmations in the strategy: each enabled confirmation's daily series, aligned like the index.

Every daily series of a confirmation (``^VIX``; ``^RUT`` and ``^GSPC``; ``IWN`` and ``IWM``)
goes through the index's own machinery: a :class:`~.provider.RegimeProvider` per ticker (source
file or the disk cache offline, :class:`~.live.LiveRegime` refresh in dry / live, validation,
the cache written by ``download --ticker``), with the confirmation's publication time: a
session is usable at ``close + close_offset + lag`` (``ConfirmationSettings.availability``; the
VIX closes at 16:15 New York, so with the default 15 min lag at 16:30 New York, while ^RUT is
usable at 16:15). The ``flows`` confirmation reads a user's flows file (``date,flow``).

The confirmation's sessions are the sessions all of its series have (inner join; a ratio is
formed on them), each usable at its ``available_at``; a candle sees the newest one with
``available_at < candle close`` (:func:`~..core.align.session_positions`, strictly, as the
index) and is stale by the index's rule (:func:`~..core.refresh.stale_mask`) with the
confirmation's times and the section's ``stale_grace_minutes``.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.align import audit_columns, gather, session_positions
from ..core.calendar import Availability
from ..core.confirmations import flows_open, lead_open, validate_flows, value_open, vix_open
from ..core.refresh import stale_at_positions
from ..core.stalegate import stale_from, stale_series_note
from ..errors import RegimeError
from ..settings import ConfirmationSettings, RegimeSettings
from .provider import RegimeProvider, _memoised, close_ns, timeframe_step

logger = logging.getLogger(__name__)

PREFIX = "r2k_"


def series_settings(
    settings: RegimeSettings, conf: ConfirmationSettings, ticker: str, path: Path | None
) -> RegimeSettings:
    """The settings of one series of ``conf``: the section's (cache dir, calendar, refresh,
    staleness, notifications) with the series' ticker, source and path, and a publication lag
    of ``close_offset + lag`` (the same ``available_at`` as ``conf.availability``)."""
    return replace(
        settings, ticker=ticker, source=conf.source, path=path, confirmations={},
        publication_lag_minutes=conf.close_offset_minutes + conf.publication_lag_minutes,
    )


class FlowsFile:
    """The ``flows`` confirmation's series: a user's daily flows file (``date,flow``, see
    :func:`~..core.confirmations.validate_flows`), provider-like (``daily``, ``loaded``,
    ``version``). Read offline at start; live, re-read when the file changes."""

    def __init__(self, path: Path, ticker: str, calendar: str) -> None:
        self.path, self.ticker, self.calendar = Path(path), ticker, calendar
        self.daily = pd.DataFrame({"session": pd.Series([], dtype="datetime64[ns]"),
                                   "flow": pd.Series([], dtype="float64")})
        self.version = 0
        self._stamp: tuple[int, int] | None = None

    @property
    def loaded(self) -> bool:
        return len(self.daily) > 0

    def load_offline(self) -> pd.DataFrame:
        """Read and validate the file (RegimeError naming the path on a problem)."""
        try:
            stat = self.path.stat()
            frame = pd.read_csv(self.path)
        except (OSError, ValueError) as exc:
            raise RegimeError(f"flows file {self.path}: {type(exc).__name__}: {exc}") from exc
        self.daily = validate_flows(frame, self.ticker, self.calendar)
        self._stamp = (stat.st_mtime_ns, stat.st_size)
        self.version += 1
        return self.daily

    def reload_if_changed(self) -> bool:
        """Re-read the file when its modification time or size changed; True when re-read.
        A bad new file keeps the data in hand (the error propagates to the caller's log)."""
        stat = self.path.stat()
        if (stat.st_mtime_ns, stat.st_size) == self._stamp:
            return False
        self.load_offline()
        return True

    def fingerprint(self) -> dict[str, Any]:
        digest = hashlib.sha1(usedforsecurity=False)
        digest.update(self.daily["session"].to_numpy().tobytes())
        digest.update(self.daily["flow"].to_numpy().tobytes())
        return {"ticker": self.ticker, "source": f"file {self.path}", "rows": len(self.daily),
                "sha1": digest.hexdigest()}


class Confirmation:
    """One enabled confirmation: its series, its sessions and ``available_at``, and its rule
    memoised per parameter set (per session: open or not)."""

    def __init__(self, settings: RegimeSettings, conf: ConfirmationSettings) -> None:
        self.conf = conf
        self.availability: Availability = conf.availability
        self.grace = settings.stale_grace_minutes
        self.series: dict[str, RegimeProvider | FlowsFile] = {}
        if conf.key == "flows":
            if conf.source != "file" or conf.path is None:
                raise RegimeError(
                    "confirmation flows: only a flows file is supported in the strategy "
                    "(source 'file', path to a date,flow CSV); Yahoo's shares-outstanding "
                    "history does not reach back far enough to backtest"
                )
            self.series[conf.ticker] = FlowsFile(conf.path, conf.ticker, conf.calendar)
        else:
            paths = {conf.ticker: conf.path, conf.versus: conf.versus_path}
            for ticker in conf.tickers:
                self.series[ticker] = RegimeProvider(
                    series_settings(settings, conf, ticker, paths[ticker])
                )
        self._versions: tuple[int, ...] | None = None
        self._sessions = pd.DatetimeIndex([], dtype="datetime64[ns]", name="session")
        self._available_at = pd.DatetimeIndex([], dtype="datetime64[ns, UTC]")
        self._memo: OrderedDict[Any, np.ndarray] = OrderedDict()
        self._stale_logged: tuple[int, ...] | None = None

    @property
    def key(self) -> str:
        return self.conf.key

    @property
    def loaded(self) -> bool:
        return all(series.loaded for series in self.series.values())

    def load_offline(self) -> None:
        """Every series from its file or the disk cache; never the network."""
        for series in self.series.values():
            series.load_offline()

    @property
    def sessions(self) -> pd.DatetimeIndex:
        """The sessions every series of the confirmation has (increasing)."""
        self._sync()
        return self._sessions

    @property
    def available_at(self) -> pd.DatetimeIndex:
        """When each of :attr:`sessions` is usable (``conf.availability``)."""
        self._sync()
        return self._available_at

    def _sync(self) -> None:
        versions = tuple(series.version for series in self.series.values())
        if versions == self._versions:
            return
        sessions = None
        for series in self.series.values():
            own = pd.DatetimeIndex(series.daily["session"])
            sessions = own if sessions is None else sessions.intersection(own, sort=True)
        sessions = pd.DatetimeIndex(sessions, name="session").as_unit("ns")
        self._sessions = sessions
        self._available_at = self.availability.available_at(sessions)
        self._memo.clear()
        self._versions = versions

    def open(self, params: Any) -> np.ndarray:
        """Per session of :attr:`sessions`: the rule ``params`` (a ``core.confirmations``
        parameter dataclass) is open. Memoised per parameter set."""
        sessions = self.sessions
        return _memoised(self._memo, params, lambda: self._rule(params).reindex(
            sessions, fill_value=False).to_numpy(dtype=bool))

    def _rule(self, params: Any) -> pd.Series:
        frames = [series.daily for series in self.series.values()]
        if not self.loaded:
            return pd.Series([], dtype=bool, index=pd.DatetimeIndex([], name="session"))
        key = self.key
        if key == "vix":
            return vix_open(frames[0], params)
        if key == "lead":
            return lead_open(frames[0], frames[1], params)
        if key == "value":
            core = frames[1] if len(frames) > 1 else None
            if core is None and params.uses_core:
                raise RegimeError(f"confirmation value rule {params.rule!r} needs 'versus'")
            return value_open(frames[0], core, params)
        return flows_open(frames[0], params)

    def positions(self, candle_dates: pd.Series, timeframe: str) -> np.ndarray:
        """The confirmation session each candle sees (-1: none yet)."""
        return session_positions(candle_dates, timeframe_step(timeframe), self.available_at)

    def stale(self, positions: np.ndarray, candle_dates: pd.Series, timeframe: str) -> np.ndarray:
        """Per candle: the confirmation data it sees is stale at its close (the index's rule
        with this confirmation's publication times). The first time candles are stale for
        the data in hand, one warning names each series with its last session."""
        stale = stale_at_positions(
            close_ns(candle_dates, timeframe), positions,
            self.available_at.as_unit("ns").asi8, self.availability.times_ns(), self.grace,
        )
        if stale.any() and self._stale_logged != self._versions:
            self._stale_logged = self._versions
            first = pd.DatetimeIndex(candle_dates)[int(np.argmax(stale))]
            ends = ", ".join(stale_series_note(ticker, last, since)
                             for ticker, last, since in self.series_ends())
            role = ("required: follows stale_policy" if self.conf.required
                    else "optional: counts as open while stale")
            logger.warning(
                "Russell confirmation %s: data ends (%s); %d of %d candles from %s on see stale "
                "%s data (allowance %g min; %s)", self.key, ends, int(stale.sum()), len(stale),
                first, self.key, self.grace, role,
            )
        return stale

    def series_ends(self) -> list[tuple[str, pd.Timestamp | None, pd.Timestamp | None]]:
        """``(ticker, last session, stale from)`` of each series (:func:`core.stalegate.
        stale_from` with this confirmation's publication times and allowance)."""
        out = []
        for ticker, series in self.series.items():
            daily = series.daily
            last = pd.Timestamp(daily["session"].iloc[-1]) if len(daily) else None
            out.append((ticker, last, stale_from(last, self.availability, self.grace)))
        return out

    def audit(self, positions: np.ndarray) -> pd.DataFrame:
        """``r2k_<key>_session`` and ``r2k_<key>_available_at`` for the given positions."""
        audit = audit_columns(positions, pd.Series(self.sessions), self.available_at)
        return audit.rename(columns=lambda c: c.replace(PREFIX, f"{PREFIX}{self.key}_", 1))

    def seen_open(self, positions: np.ndarray, params: Any) -> np.ndarray:
        """Per candle: the rule is open on the session it sees (False before the first)."""
        return gather(self.open(params), positions)

    def newest_session(self) -> pd.Timestamp | None:
        sessions = self.sessions
        return sessions[-1] if len(sessions) else None

    def fingerprint(self) -> dict[str, Any]:
        """The data's identity per series (for freqtrade's backtest result cache)."""
        return {ticker: series.fingerprint() for ticker, series in self.series.items()}


def confirmations_for(settings: RegimeSettings) -> dict[str, Confirmation]:
    """One :class:`Confirmation` per enabled confirmation, in ``CONFIRMATIONS`` order."""
    return {key: Confirmation(settings, settings.confirmations[key])
            for key in settings.enabled_confirmations}
