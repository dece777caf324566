"""``RussellGateMixin``: gate the long entries of any freqtrade strategy on the Russell 2000.

Usage (the one-line change)::

    from russell_regime import RussellGateMixin

    class Mine(RussellGateMixin, IStrategy):            # or (RussellGateMixin, MyStrategy)
        ...

What it adds to every analysed dataframe (``r2k_*`` columns, compact dtypes):

* after ``populate_indicators`` (once per pair, not per hyperopt epoch): ``r2k_session`` (the
  session each candle sees, NaT before the first), ``r2k_available_at`` (UTC, when that
  session became usable) and ``r2k_stale`` (bool, the candle sees stale index data at its
  close);
* before ``populate_entry_trend`` (every epoch, for this epoch's ``.value`` thresholds):
  ``r2k_gate`` (bool: the pair's class gate with the stale policy applied) and
  ``r2k_gate_tag`` (category: ``ath`` / ``breakout`` / ``retest`` / ``all`` / ``off`` /
  ``stale_ignored``, ``""`` when closed).

After ``populate_entry_trend``, when ``russell_gate_entries`` (default True), ``enter_long`` is
cleared where ``r2k_gate`` is False and each surviving ``enter_tag`` becomes ``r2k_<condition>``
(``r2k_<condition>:<your tag>`` when you set one). A candle that also carries ``enter_short``
where freqtrade can short (futures / margin, ``can_short``) is left exactly as it is: freqtrade
enters nothing on a candle with both signals, so clearing its ``enter_long`` would turn it into
a short. ``enter_short`` and every exit are never touched, so the shorts a strategy takes are
the same with and without the gate; with ``exit_on_risk_off`` in the config an ``exit_long``
tagged ``r2k_risk_off`` is added on the candle where the class gate closes.

Position adjustments (``position_adjustment_enable``): with ``gate_position_adjustments``
(config, default true) and ``russell_gate_entries``, an increase of a LONG trade (a positive
stake from ``adjust_trade_position``) is dropped where the pair's ``r2k_gate`` is closed on the
last analysed candle (the candle the decision is made on: in backtest freqtrade slices the
analysed frame up to it) or, in dry-run / live, while :meth:`russell_entry_blocked` (stale
data under ``block_entries``). Reductions (negative stakes) and short trades are never touched.

Reserved names: column names starting with ``r2k_`` are reserved for the gate. A
``r2k_session`` / ``r2k_available_at`` / ``r2k_stale`` (or confirmation audit column) your
``populate_indicators`` creates is replaced by the gate's; a ``r2k_gate`` / ``r2k_gate_tag`` your
``populate_entry_trend`` changes or drops is restored to the gate applied (which is always the
mixin's). Each is one warning naming the column, once per column.

The 24 gate parameters (``btc_mode`` ... ``alt_expiry``, space ``russell``) are generated per
subclass from :mod:`.params`; a name your class defines itself is left alone (e.g. to narrow a
range).

Confirmations (``confirmations`` in the config, :mod:`.confirm`): ``r2k_gate`` is the class
gate AND every active confirmation, each seen through its own series' ``available_at``; a
stale required confirmation follows ``stale_policy`` like the index, a stale optional one is
ignored. A configured confirmation adds ``<key>_mode`` (``off`` or its rule) and its thresholds
to space ``russell`` on the instance (:func:`.params.confirmation_parameters`). Backtest /
hyperopt frames get no per-confirmation column (:meth:`russell_confirmation_audit` computes
them); plot / webserver / dry-run / live frames carry ``r2k_<key>_session``,
``r2k_<key>_available_at`` and ``r2k_<key>``. Dry-run / live refresh each series with its own
:class:`~.live.LiveRegime` on the index's worker thread.

Lifecycle, the same in every supported freqtrade (:mod:`..compat`; checked in 2025.12, 2026.3
and 2026.9: ``freqtradebot.py``, ``strategy/interface.py``, ``optimize/backtesting.py``: same
signatures, same call sites). The mixin hooks freqtrade's internal entry points, which user
strategies do not override, so **you may override** ``bot_start``, ``bot_loop_start`` and
``confirm_trade_entry`` **freely, with or without** ``super()``:

* ``__init__``: an unsupported freqtrade is refused first (one line naming both versions,
  :func:`..compat.require_supported_freqtrade`); settings from the ``russell_regime`` config
  section (one-line ``ConfigurationError``); in backtest / hyperopt the index data is loaded
  here, because freqtrade hashes the config for its result cache before ``bot_start``; the
  data's fingerprint goes into the config.
* ``ft_bot_start`` (``FreqtradeBot.startup`` and ``Backtesting.__init__``; it calls your
  ``bot_start``): dry-run / live start :class:`~.live.LiveRegime` (disk cache at once,
  background refresh); other modes load the file / cache offline. Never the network outside
  dry-run / live.
* ``analyze(pairs)`` (``FreqtradeBot.process``, once per bot loop right after
  ``bot_loop_start``): ``LiveRegime.on_loop(now)`` first: installs a finished refresh, starts a
  due one, re-evaluates staleness; never waits, never raises.
* ``get_entry_signal`` (``FreqtradeBot.create_trade``, just before an entry): the last-moment
  veto. No long entry while the data is stale under ``stale_policy`` ``block_entries``, even
  from a candle analysed while it was fresh (only with ``russell_gate_entries``).
* ``advise_indicators`` / ``advise_entry`` / ``advise_exit``: the columns and gating above.
* ``_adjust_trade_position_internal`` (``FreqtradeBot.check_and_call_adjust_trade_position`` and
  ``Backtesting._check_adjust_trade_for_candle``; it calls your ``adjust_trade_position``): the
  gate on increases of long positions above.

Decision ledger (dry-run / live, ``ledger`` in the config, on by default;
:mod:`..data.ledger`): after ``advise_entry`` the pair's last candle (the one the bot decides
on) is recorded once per candle with its session, gate and entry (``allowed`` / ``blocked`` /
``none``); a long vetoed by ``get_entry_signal`` turns that candle's row to ``vetoed``; every
refresh attempt of the index and of each confirmation series is a ``refreshes`` row. Writing
never blocks or fails the bot (a background thread; errors are one warning).

Overriding one of these seven internal methods without calling ``super()``, or listing the mixin
after ``IStrategy`` in the bases, would silently drop the gate: it is an
``OperationalException`` when the strategy is built.
"""

from __future__ import annotations

import logging
import sys
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from freqtrade.enums import RunMode, SignalDirection, TradingMode
from freqtrade.exceptions import ConfigurationError, OperationalException
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.strategy import IStrategy
from freqtrade.util.datetime_helpers import dt_now

from ..compat import require_supported_freqtrade
from ..core.align import gather, gather_categorical, positions_from_available_at, seen_runs
from ..core.gate import GateParams, pair_class
from ..core.refresh import BLOCK, IGNORE, POLICY_EFFECT, entry_override, staleness
from ..core.stalegate import confirmation_under_policy, gate_under_policy
from ..data.ledger import Ledger, Refresh, day, iso
from ..errors import ConfigError, RegimeError
from ..settings import settings_from_config
from .confirm import Confirmation, FlowsFile, confirmations_for
from .decisions import build_decision, entry_outcome
from .live import LiveRegime
from .params import (
    CONFIRM_PARAMS,
    GATE_PARAMS,
    confirmation_parameters,
    confirmation_params,
    is_generated,
    russell_parameters,
)
from .params import gate_params as make_gate_params
from .provider import RegimeProvider

logger = logging.getLogger(__name__)

LIVE_MODES = (RunMode.LIVE, RunMode.DRY_RUN)
# Modes whose results freqtrade caches by a hash of strategy.config: the index data is loaded
# when the strategy is built, before that hash, and its fingerprint goes into the config.
RESULT_CACHE_MODES = (RunMode.BACKTEST, RunMode.HYPEROPT)
DATA_FINGERPRINT_KEY = "russell_regime_data"
HOOKED = (
    "ft_bot_start", "analyze", "get_entry_signal",
    "advise_indicators", "advise_entry", "advise_exit", "_adjust_trade_position_internal",
)
AVAILABLE_AT = "r2k_available_at"
STALE = "r2k_stale"
GATE = "r2k_gate"
GATE_TAG = "r2k_gate_tag"
RISK_OFF_TAG = "r2k_risk_off"
STALE_IGNORED = "stale_ignored"
RESTORED = ("it is restored to the gate applied, which never comes from the frame (the gate is "
            "set with the russell parameters, russell_gate_entries and the config)")
# Runmodes whose frames carry each confirmation's audit columns (r2k_<key>_session,
# r2k_<key>_available_at, r2k_<key>); backtest / hyperopt frames stay within the r2k_* memory
# budget and give them on demand (russell_confirmation_audit).
AUDIT_MODES = (RunMode.PLOT, RunMode.WEBSERVER, RunMode.DRY_RUN, RunMode.LIVE)


class RussellGateMixin:
    """Put it first in the bases: ``class Mine(RussellGateMixin, IStrategy)``. See the module
    doc for the columns, the gating and the hook contract.

    Attributes: ``regime_settings`` (validated config section), ``regime``
    (:class:`~.provider.RegimeProvider`, the daily frame in use), ``live``
    (:class:`~.live.LiveRegime` in dry-run / live, else None), ``russell_report`` (per pair, last
    analysis: pair_class, candles, gate_open, signals, blocked, stale; ``per_candle`` the same
    per candle, ``{"date", "gate_open", "signals", "blocked", "stale"}`` arrays, so a backtest's
    summary can count only the candles after freqtrade's startup period).
    """

    russell_gate_entries: bool = True
    live: LiveRegime | None = None
    russell_report: dict[str, dict[str, Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, param in russell_parameters().items():
            inherited = getattr(cls, name, None)
            if name in cls.__dict__ or (inherited is not None and not is_generated(inherited)):
                continue  # declared by this class or a user base class: theirs
            setattr(cls, name, param)
        if IStrategy in cls.__mro__[: cls.__mro__.index(RussellGateMixin)]:
            # IStrategy.__init__ would never reach ours: refuse when the strategy is built (not
            # at import, which would break loading every other strategy of the folder).
            def refuse(self: Any, *args: Any, **kwargs: Any) -> None:
                require_supported_freqtrade()
                _check_wiring(cls)

            cls.__init__ = refuse  # type: ignore[method-assign]

    def __init__(self, config: dict) -> None:
        require_supported_freqtrade()  # one line naming both versions (compat.py)
        _check_wiring(type(self))
        super().__init__(config)  # type: ignore[call-arg]
        try:
            self.regime_settings = settings_from_config(config)
        except ConfigError as exc:  # freqtrade prints a ConfigurationError as one clear line
            raise ConfigurationError(str(exc)) from exc
        self.regime = RegimeProvider(self.regime_settings)
        try:
            self.russell_confirmations = confirmations_for(self.regime_settings)
        except RegimeError as exc:
            raise ConfigurationError(f"russell_regime: {exc}") from exc
        self.russell_confirmation_lives: dict[str, list[LiveRegime]] = {}
        self._confirmation_stale: dict[str, bool] = {}
        for conf in (c.conf for c in self.russell_confirmations.values()):
            for name, param in confirmation_parameters(conf).items():
                inherited = getattr(type(self), name, None)
                if inherited is None or is_generated(inherited):  # else declared by the user
                    setattr(self, name, param)  # per instance: only configured ones exist
        self.russell_report = {}
        self.russell_ledger: Ledger | None = None  # dry-run / live with ledger.enabled
        # (pair, timeframe) -> (last candle recorded, its row builder, entry)
        self._ledger_last: dict[tuple[str, str], tuple[Any, Any, str]] = {}
        self._ledger_failed = False
        self._ledger_step: int | None = None  # the timeframe in seconds, once
        self.russell_adds_blocked: dict[str, int] = {}  # per pair: long increases dropped
        self._adds_logged: dict[Any, Any] = {}  # trade id -> candle of the last logged block
        self._reserved_warned: set[str] = set()
        self._data_end_logged = -1  # provider version whose data end was logged
        if config.get("runmode") in RESULT_CACHE_MODES:
            self._russell_load_offline()

    # --- freqtrade's internal entry points -----------------------------------------------

    def ft_bot_start(self, **kwargs: Any) -> None:
        super().ft_bot_start(**kwargs)  # type: ignore[misc]
        if self.config.get("runmode") in LIVE_MODES:
            notify = lambda text: self.dp.send_msg(text)  # noqa: E731
            ledger = self.regime_settings.ledger
            if ledger.enabled and ledger.path is not None:
                self.russell_ledger = Ledger(ledger.path)
            self.live = LiveRegime(self.regime, self.russell_gate_params, notify=notify,
                                   on_attempt=self._russell_record_refresh)
            self.live.start()
            self._russell_start_confirmations(notify)
        elif not self.regime.loaded:
            self._russell_load_offline()

    def analyze(self, pairs: list[str]) -> None:
        self.russell_loop(dt_now())
        super().analyze(pairs)  # type: ignore[misc]

    def get_entry_signal(
        self, pair: str, timeframe: str, dataframe: pd.DataFrame
    ) -> tuple[SignalDirection | None, str | None]:
        """freqtrade's signal, a LONG vetoed (None, never a short) while
        :meth:`russell_entry_blocked`."""
        signal, tag = super().get_entry_signal(pair, timeframe, dataframe)  # type: ignore[misc]
        if signal == SignalDirection.LONG and self.russell_entry_blocked():
            logger.info("Russell: long entry on %s vetoed, the index data is stale "
                        "(stale_policy block_entries)", pair)
            self._russell_record_veto(pair, timeframe, dataframe)
            return None, tag
        return signal, tag

    def _adjust_trade_position_internal(
        self, trade: Any, current_time: Any, **kwargs: Any
    ) -> tuple[float | None, str]:
        """freqtrade's (stake, order tag) from your ``adjust_trade_position``; a positive stake
        on a LONG trade becomes (None, "") where :meth:`russell_add_blocked`."""
        stake, tag = super()._adjust_trade_position_internal(  # type: ignore[misc]
            trade=trade, current_time=current_time, **kwargs
        )
        if (stake is not None and stake > 0 and not trade.is_short
                and self.russell_add_blocked(trade, current_time)):
            return None, ""
        return stake, tag

    def advise_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        if self.config.get("runmode") == RunMode.HYPEROPT:
            _keep_builtins_pickled_by_reference()
        before = set(dataframe.columns)
        dataframe = super().advise_indicators(dataframe, metadata)  # type: ignore[misc]
        users = {c for c in dataframe.columns if str(c).startswith("r2k_") and c not in before}
        _, columns = self.regime.candle_columns(dataframe["date"], self.timeframe)
        stale = columns[STALE] = columns.pop("stale")
        dataframe = _with_columns(dataframe, columns)
        written = list(columns)
        if self.config.get("runmode") in AUDIT_MODES:
            for confirmation in self.russell_confirmations.values():
                audit = confirmation.audit(
                    confirmation.positions(dataframe["date"], self.timeframe))
                for column in audit.columns:
                    dataframe[column] = audit[column].array
                written += list(audit.columns)
        for column in users.intersection(written):
            self._warn_reserved(column, "populate_indicators created",
                                "it is replaced by the gate's")
        if self.live is None and stale.any():
            self._log_data_end(dataframe["date"], stale, metadata["pair"])
        return dataframe

    def advise_entry(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        if AVAILABLE_AT not in dataframe.columns:
            raise OperationalException(
                f"{type(self).__name__}: the dataframe has no {AVAILABLE_AT} column; "
                "advise_indicators did not run through RussellGateMixin"
            )
        pair = metadata["pair"]
        cls = self.russell_pair_class(pair)
        gate_open, tag, stale, applied, seen = self._effective_gate(dataframe, cls)
        # the frame gets copies: a strategy writing into r2k_gate cannot change the gate applied
        dataframe = _with_columns(dataframe, {GATE: gate_open.copy(), GATE_TAG: tag.copy()})
        if self.config.get("runmode") in AUDIT_MODES:
            for key in self.russell_confirmations:
                dataframe[f"r2k_{key}"] = applied.get(key, np.ones(len(dataframe), dtype=bool))
        dataframe = super().advise_entry(dataframe, metadata)  # type: ignore[misc]
        dataframe = self._restore_gate_columns(dataframe, gate_open, tag)
        signals = _flag(dataframe, "enter_long")
        blocked = np.zeros(len(dataframe), dtype=bool)
        if self.russell_gate_entries:
            if self._can_short_here():  # both signals: freqtrade enters nothing; leave it so
                signals = signals & ~_flag(dataframe, "enter_short")
            blocked = signals & ~gate_open
            if blocked.any():
                dataframe.loc[blocked, "enter_long"] = 0
            keep = signals & gate_open
            if keep.any():
                dataframe["enter_tag"] = dataframe["enter_tag"].astype(object)
                dataframe.loc[keep, "enter_tag"] = _prefixed(
                    np.asarray(tag[keep], dtype=object),
                    dataframe.loc[keep, "enter_tag"].to_numpy()
                )
        self.russell_report[pair] = {
            "pair_class": cls,
            "candles": len(dataframe),
            "gate_open": int(gate_open.sum()),
            "signals": int(signals.sum()),
            "blocked": int(blocked.sum()),
            "stale": int(stale.sum()),
            "per_candle": {"date": dataframe["date"].values if "date" in dataframe else None,
                           "gate_open": gate_open,  # the gate applied; the frame has a copy
                           "signals": signals, "blocked": blocked, "stale": stale},
        }
        if self.live is not None and self.russell_ledger is not None and len(dataframe):
            self._russell_record_decision(dataframe, pair, cls, gate_open, tag, stale, applied,
                                          entry_outcome(bool(signals[-1]), bool(blocked[-1])),
                                          seen)
        return dataframe

    def advise_exit(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        dataframe = super().advise_exit(dataframe, metadata)  # type: ignore[misc]
        if self.regime_settings.exit_on_risk_off:
            cls = self.russell_pair_class(metadata["pair"])
            gate = pd.Series(self.russell_gather(dataframe, "gate_open", cls), dtype=bool,
                             index=dataframe.index)
            risk_off = ~gate & gate.shift(1, fill_value=False)
            dataframe.loc[risk_off, ["exit_long", "exit_tag"]] = (1, RISK_OFF_TAG)
        return dataframe

    # --- public helpers -------------------------------------------------------------------

    def russell_loop(self, now: pd.Timestamp) -> bool:
        """One live tick at ``now`` (what ``analyze`` runs first): the index, then every
        confirmation series (their fetches share the index's worker); False outside dry/live."""
        if self.live is None:
            return False
        changed = self.live.on_loop(now)
        for key, lives in self.russell_confirmation_lives.items():
            for live in lives:
                changed = live.on_loop(now) or changed
            confirmation = self.russell_confirmations[key]
            if lives:
                self._confirmation_stale[key] = any(live.state.stale for live in lives)
            else:  # the flows file: re-read when it changed
                changed = self._russell_reload_flows(confirmation) or changed
                newest = confirmation.newest_session()
                self._confirmation_stale[key] = staleness(
                    now, newest, confirmation.availability, confirmation.grace
                ).stale
        return changed

    def russell_entry_blocked(self) -> bool:
        """True when a long entry must be vetoed now: dry / live, ``russell_gate_entries``,
        ``stale_policy`` ``block_entries`` and the index data, or a required active
        confirmation's data, stale."""
        if not self.russell_gate_entries or self.live is None:
            return False
        if self.live.entry_override() == BLOCK:
            return True
        if entry_override(True, self.regime_settings.stale_policy) != BLOCK:
            return False
        return any(self._confirmation_stale.get(key, True)
                   for key in self._russell_active_confirmations()
                   if self.russell_confirmations[key].conf.required)

    def russell_add_blocked(self, trade: Any, current_time: Any) -> bool:
        """True when an increase of the long ``trade`` must be dropped now: with
        ``russell_gate_entries`` and ``gate_position_adjustments``, while
        :meth:`russell_entry_blocked` or where ``r2k_gate`` of the pair's last analysed candle
        is closed (no analysed candle: closed). Counted per pair in ``russell_adds_blocked``;
        logged once per trade and candle (info in dry / live, debug in backtest / hyperopt)."""
        if not self.russell_gate_entries or not self.regime_settings.gate_position_adjustments:
            return False
        frame, _ = self.dp.get_analyzed_dataframe(trade.pair, self.timeframe)
        candle = frame["date"].iat[-1] if len(frame) and GATE in frame.columns else None
        if self.russell_entry_blocked():
            reason = "the index data is stale (stale_policy block_entries)"
        elif candle is None:
            reason = "no analysed candle with r2k_gate"
        elif bool(frame[GATE].iat[-1]):
            return False
        else:
            reason = f"the gate is closed on the candle of {candle}"
        self.russell_adds_blocked[trade.pair] = self.russell_adds_blocked.get(trade.pair, 0) + 1
        key = getattr(trade, "id", None) or (trade.pair, trade.open_date)
        seen = candle if candle is not None else current_time
        if self._adds_logged.get(key) != seen:
            self._adds_logged[key] = seen
            level = logging.INFO if self.live is not None else logging.DEBUG
            logger.log(level, "Russell: increase of the long trade %s on %s dropped at %s: %s "
                       "(gate_position_adjustments)", key, trade.pair, current_time, reason)
        return True

    def russell_confirmation_params(self, key: str) -> Any:
        """The current (``.value``) rule of a configured confirmation (a
        ``core.confirmations`` parameter dataclass), or None when its ``<key>_mode`` is off."""
        confirmation = self.russell_confirmations[key]
        values = {spec.threshold: getattr(self, f"{key}_{spec.threshold}").value
                  for spec in CONFIRM_PARAMS[key]}
        return confirmation_params(key, values, confirmation.conf.params)

    def russell_confirmation_audit(self, dataframe: pd.DataFrame, key: str) -> pd.DataFrame:
        """Per candle of ``dataframe`` (any runmode): ``r2k_<key>_session``,
        ``r2k_<key>_available_at`` (the confirmation session it sees, and when it became
        usable), ``r2k_<key>`` (its rule open there, for the current parameters; False when
        off or before the first session) and ``r2k_<key>_stale``."""
        confirmation = self.russell_confirmations[key]
        positions = confirmation.positions(dataframe["date"], self.timeframe)
        out = confirmation.audit(positions)
        params = self.russell_confirmation_params(key)
        out[f"r2k_{key}"] = (confirmation.seen_open(positions, params) if params is not None
                             else np.zeros(len(positions), dtype=bool))
        out[f"r2k_{key}_stale"] = confirmation.stale(positions, dataframe["date"], self.timeframe)
        out.index = dataframe.index
        return out

    def russell_pair_class(self, pair: str) -> str:
        """``btc`` / ``eth`` / ``alt`` for a pair, with the configured ``class_map``."""
        return pair_class(pair, self.regime_settings.class_map)

    def russell_gate_params(self, cls: str) -> GateParams:
        """The current (``.value``) gate thresholds of a pair class."""
        values = {spec.threshold: getattr(self, f"{cls}_{spec.threshold}").value
                  for spec in GATE_PARAMS}
        return make_gate_params(values, self.regime_settings.price_basis)

    def russell_gather(self, dataframe: pd.DataFrame, column: str, cls: str,
                       fill: object = np.nan) -> np.ndarray:
        """A daily column per candle (``fill`` before the first session), through
        :meth:`russell_positions`:
        one of the class's gate frame for the current thresholds (``gate_open``, ``gate_tag``,
        ``ath``, ``drawdown``, ``resistance``, ``support_level``, ``cond_retest``...) or of the
        index data (``close``, ``high``...)."""
        daily = self.regime.gate(self.russell_gate_params(cls))
        if column not in daily.columns:
            daily = self.regime.daily
        return gather(daily[column].to_numpy(), self.russell_positions(dataframe), fill=fill)

    def russell_positions(self, dataframe: pd.DataFrame) -> np.ndarray:
        """The daily row each candle sees (-1: none), recovered from ``r2k_available_at``
        (:func:`~..core.align.positions_from_available_at`; ``available_at`` is unique per
        session), so no position column is kept in the frame."""
        return positions_from_available_at(dataframe[AVAILABLE_AT], self.regime.available_ns)

    # --- internals ------------------------------------------------------------------------

    def _russell_load_offline(self) -> None:
        """Load the file / cache; a RegimeError becomes freqtrade's one-line error (no
        traceback). Records the data's fingerprint in the config so freqtrade never reuses a
        cached backtest result computed with other index data."""
        try:
            self.regime.load_offline()
            for confirmation in self.russell_confirmations.values():
                confirmation.load_offline()
        except RegimeError as exc:
            raise OperationalException(f"russell_regime: {exc}") from exc
        fingerprint = self.regime.fingerprint()
        if self.russell_confirmations:
            fingerprint["confirmations"] = {
                key: c.fingerprint() for key, c in self.russell_confirmations.items()
            }
        self.config[DATA_FINGERPRINT_KEY] = fingerprint

    def _russell_start_confirmations(self, notify: Any) -> None:
        """Dry / live: a LiveRegime per confirmation series (cache at once, refresh on the
        index's worker); the flows file is read now (a bad file is logged, the confirmation
        stays closed / stale)."""
        for key, confirmation in self.russell_confirmations.items():
            lives = []
            for series in confirmation.series.values():
                if isinstance(series, FlowsFile):
                    self._russell_reload_flows(confirmation)
                    continue
                live = LiveRegime(series, None, notify=notify, worker_of=self.live,
                                  on_attempt=self._russell_record_refresh)
                live.start()
                lives.append(live)
            self.russell_confirmation_lives[key] = lives

    def _russell_record_decision(
        self, dataframe: pd.DataFrame, pair: str, cls: str, gate_open: np.ndarray,
        tag: pd.Categorical, stale: np.ndarray, applied: dict[str, np.ndarray], entry: str,
        seen: tuple[int, Any] | None = None,
    ) -> None:
        """Queue the ledger row of the last candle of ``dataframe`` when that candle is new
        for (pair, timeframe). The bot thread only captures raw values (the last candle's
        date, the daily row it sees, ``seen`` = (row, GateParams) from the gate computation);
        the writer thread builds the row (:func:`.decisions.build_decision`). Never raises
        (one error log)."""
        try:
            dates = self.russell_report.get(pair, {}).get("per_candle", {}).get("date")
            last = pd.Timestamp(dates[-1] if dates is not None else dataframe["date"].iat[-1])
            key = (pair, self.timeframe)
            if self._ledger_last.get(key, (None,))[0] == last.value:  # int ns: naive = UTC
                return
            if seen is None:  # not from advise_entry: find the row (slower)
                seen = (int(self.russell_positions(dataframe.iloc[-1:])[0]),
                        self.russell_gate_params(cls))
            row, params = seen
            confirmations = {}
            for name in self._russell_active_confirmations():
                column = f"r2k_{name}_session"
                confirmations[name] = {
                    "session": dataframe[column].iat[-1] if column in dataframe else None,
                    "verdict": int(bool(applied[name][-1])) if name in applied else None,
                    "stale": int(self._confirmation_stale.get(name, True)),
                }
            if self._ledger_step is None:
                self._ledger_step = timeframe_to_seconds(self.timeframe)
            build = partial(
                build_decision, strategy=type(self).__name__, pair=pair,
                timeframe=self.timeframe, last_candle=last, step_seconds=self._ledger_step,
                decided_at=dt_now(), daily=self.regime.daily,
                available_ns=self.regime.available_ns, row=row, gate=bool(gate_open[-1]),
                stale=bool(stale[-1]), tag_code=int(tag.codes[-1]),
                tag_categories=tag.categories, params=params,
                confirmations=confirmations, entry=entry, pair_class=cls,
            )
            self._ledger_last[key] = (last.value, build, entry)
            self.russell_ledger.record_built(build)  # type: ignore[union-attr]
        except Exception as exc:  # the ledger must never fail the bot loop
            self._russell_ledger_error(exc)

    def _russell_record_veto(self, pair: str, timeframe: str, dataframe: pd.DataFrame) -> None:
        """Turn the recorded row of the vetoed candle (the last of ``dataframe``) to vetoed."""
        if self.russell_ledger is None or not len(dataframe):
            return
        try:
            last, build, entry = self._ledger_last.get((pair, timeframe), (None, None, None))
            if (build is not None and entry != "vetoed"
                    and last == pd.Timestamp(dataframe["date"].iat[-1]).value):
                self._ledger_last[(pair, timeframe)] = (last, build, "vetoed")
                self.russell_ledger.record_built(partial(build, entry="vetoed"))
        except Exception as exc:
            self._russell_ledger_error(exc)

    def _russell_record_refresh(self, ticker: str, when: pd.Timestamp, outcome: str,
                                detail: str | None, newest: pd.Timestamp | None) -> None:
        """LiveRegime's ``on_attempt``: a ``refreshes`` row."""
        if self.russell_ledger is not None:
            self.russell_ledger.record_refresh(Refresh(
                strategy=type(self).__name__, ticker=ticker, attempted_at=iso(when) or "",
                outcome=outcome, detail=detail, last_session=day(newest),
            ))

    def _russell_ledger_error(self, exc: Exception) -> None:
        if not self._ledger_failed:
            self._ledger_failed = True
            logger.error("Russell ledger: a decision row could not be built (%s: %s); trading "
                         "goes on", type(exc).__name__, exc, exc_info=True)

    def _russell_reload_flows(self, confirmation: Confirmation) -> bool:
        series = next(iter(confirmation.series.values()))
        try:
            return series.reload_if_changed()
        except Exception as exc:  # live: never crash the bot on a bad flows file
            logger.error("Russell confirmation flows: %s; keeping the flows in hand", exc)
            return False

    def _russell_active_confirmations(self) -> list[str]:
        """Keys of the configured confirmations whose ``<key>_mode`` is not off."""
        return [key for key in self.russell_confirmations
                if self.russell_confirmation_params(key) is not None]

    def _russell_confirm(
        self, dataframe: pd.DataFrame, gate_open: np.ndarray, stale: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """The class gate AND every active confirmation (gate open only where all are), each
        confirmation's staleness handled like the index's: a required one by
        ``stale_policy``, an optional stale one ignored (treated as open). Returns (gate, stale
        incl. required confirmations, per key the confirmation as applied)."""
        policy = self.regime_settings.stale_policy
        applied = {}
        for key in self._russell_active_confirmations():
            confirmation = self.russell_confirmations[key]
            positions = confirmation.positions(dataframe["date"], self.timeframe)
            seen = confirmation.seen_open(positions, self.russell_confirmation_params(key))
            if self.live is not None:
                key_stale = np.full(len(dataframe), self._confirmation_stale.get(key, True))
            else:
                key_stale = confirmation.stale(positions, dataframe["date"], self.timeframe)
            seen = confirmation_under_policy(seen, key_stale, policy,
                                             confirmation.conf.required)
            if confirmation.conf.required:
                stale = stale | key_stale
            gate_open = gate_open & seen
            applied[key] = seen
        return gate_open, stale, applied

    def _effective_gate(
        self, dataframe: pd.DataFrame, cls: str
    ) -> tuple[np.ndarray, pd.Categorical, np.ndarray, dict[str, np.ndarray], tuple[int, Any]]:
        """(gate open, tag, stale, per confirmation as applied) per candle with the stale
        policy applied: the index's class gate AND every active confirmation; and (the daily
        row the last candle sees or -1, the class's GateParams) for the ledger."""
        params = self.russell_gate_params(cls)
        daily = self.regime.gate(params)
        rows, lengths = seen_runs(dataframe[AVAILABLE_AT], self.regime.available_ns)
        runs = np.flatnonzero(lengths)
        last_row = int(rows[runs[-1]]) if runs.size else -1
        gate_open = np.repeat(gather(daily["gate_open"].to_numpy(), rows), lengths)
        per_run = gather_categorical(self.regime.gate_tags(params), rows, fill="")
        tag = pd.Categorical.from_codes(np.repeat(per_run.codes, lengths), dtype=per_run.dtype,
                                        validate=False)  # codes of per_run's own categories
        if self.live is not None:  # live: the loop's verdict on the data in hand now
            stale = np.full(len(dataframe), self.live.state.stale)
        else:  # backtest / hyperopt: the same rule at each candle's close
            stale = dataframe[STALE].to_numpy(dtype=bool)
        policy = self.regime_settings.stale_policy
        gate_open = gate_under_policy(gate_open, stale, policy)
        if entry_override(True, policy) == IGNORE:  # stale_policy ignore_gate: tag it
            # categories must not depend on the frame (freqtrade's lookahead-analysis compares
            # a full and a cut frame): always add the stale tag, then set it where stale
            if STALE_IGNORED not in tag.categories:
                tag = tag.add_categories([STALE_IGNORED])
            tag[stale] = STALE_IGNORED
        applied: dict[str, np.ndarray] = {}
        if self.russell_confirmations:
            index_open = gate_open
            gate_open, stale, applied = self._russell_confirm(dataframe, gate_open, stale)
            closed = index_open & ~gate_open
            if closed.any():  # closed by a confirmation: no condition tag
                tag[closed] = ""
        return gate_open, tag, stale, applied, (last_row, params)

    def _can_short_here(self) -> bool:
        """True where freqtrade takes ``enter_short`` (a non-spot trading mode and
        ``can_short``): there a candle with both entry signals enters nothing."""
        return bool(self.can_short) and (
            self.config.get("trading_mode", TradingMode.SPOT) != TradingMode.SPOT
        )

    def _restore_gate_columns(
        self, dataframe: pd.DataFrame, gate_open: np.ndarray, tag: pd.Categorical
    ) -> pd.DataFrame:
        """After your ``populate_entry_trend``: ``r2k_gate`` / ``r2k_gate_tag`` changed or
        dropped are put back to the gate applied (one warning per column, once)."""
        columns = dataframe.columns
        current = dataframe[GATE] if GATE in columns else None
        if current is None or current.dtype != bool or not np.array_equal(
            current.to_numpy(), gate_open
        ):
            self._warn_reserved(GATE, "populate_entry_trend changed", RESTORED)
            dataframe[GATE] = gate_open.copy()
        current = dataframe[GATE_TAG].array if GATE_TAG in columns else None  # no .cat work
        if current is None or not (
            isinstance(current, pd.Categorical)
            and (current.categories is tag.categories
                 or current.categories.equals(tag.categories))
            and np.array_equal(current.codes, tag.codes)
        ):
            self._warn_reserved(GATE_TAG, "populate_entry_trend changed", RESTORED)
            dataframe[GATE_TAG] = tag.copy()
        return dataframe

    def _warn_reserved(self, column: str, what: str, effect: str) -> None:
        """One warning per column name: a strategy used a name reserved for the gate."""
        if column in self._reserved_warned:
            return
        self._reserved_warned.add(column)
        logger.warning(
            "%s.%s column %r: names starting with 'r2k_' are reserved for the Russell gate; "
            "%s. Rename your column.", type(self).__name__, what, column, effect,
        )

    def _log_data_end(self, dates: pd.Series, stale: np.ndarray, pair: str) -> None:
        """Once per installed data: where the index data ends and what stale candles do."""
        if self._data_end_logged == self.regime.version:
            return
        self._data_end_logged = self.regime.version
        s = self.regime_settings
        daily = self.regime.daily
        last = f"{daily['session'].iloc[-1]:%Y-%m-%d}" if len(daily) else "none"
        first_stale = dates.iloc[int(np.argmax(stale))]
        logger.warning(
            "Russell %s data ends at session %s; %s: %d of %d candles from %s on see stale "
            "index data (allowance %g min): %s (stale_policy %s)",
            s.ticker, last, pair, int(stale.sum()), len(stale), first_stale, s.stale_grace_minutes,
            POLICY_EFFECT.get(s.stale_policy, "entries blocked"), s.stale_policy,
        )


def _with_columns(dataframe: pd.DataFrame, columns: dict[str, Any]) -> pd.DataFrame:
    """``dataframe`` with ``columns`` (name -> per-row values) added or replaced. New columns
    are appended in one ``concat`` (no copy of the frame's data; one column-index rebuild
    instead of one per column); the frame's ``attrs`` are kept."""
    if any(name in dataframe.columns for name in columns):  # re-analysed frame: replace
        for name, values in columns.items():
            dataframe[name] = values
        return dataframe
    added = pd.DataFrame(columns, index=dataframe.index, copy=False)
    out = pd.concat([dataframe, added], axis=1)
    out.attrs = dataframe.attrs
    return out


def _flag(dataframe: pd.DataFrame, column: str) -> np.ndarray:
    if column not in dataframe.columns:
        return np.zeros(len(dataframe), dtype=bool)
    return dataframe[column].eq(1).to_numpy(dtype=bool)


def _prefixed(conditions: np.ndarray, user_tags: np.ndarray) -> np.ndarray:
    """``r2k_<condition>``, or ``r2k_<condition>:<user tag>`` where the user set one."""
    out = np.char.add("r2k_", conditions.astype(str)).astype(object)
    has = np.array([isinstance(t, str) and t not in ("", "nan") for t in user_tags], dtype=bool)
    if has.any():
        out[has] = [f"{c}:{t}" for c, t in zip(out[has], user_tags[has], strict=True)]
    return out


def _keep_builtins_pickled_by_reference() -> None:
    """Undo one side effect of freqtrade's hyperopt on a mixin strategy (every release).

    ``HyperOptimizer.hyperopt_pickle_magic`` registers, for pickling by value, the module of
    every class on the strategy's base chain up to a class named ``IStrategy``. Through a plain
    mixin that chain reaches ``object``, so ``builtins`` is registered; cloudpickle then fails on
    the tasks it sends to the workers (builtin types by value: RecursionError, "Could not pickle
    the task"), and ``hyperopt -j N`` with N > 1 crashes. The registration is undone in the
    cloudpickle freqtrade registered it in: its optimizer module's own ``cloudpickle`` (joblib's
    vendored copy up to freqtrade 2026.8, the ``cloudpickle`` package from 2026.9). Runs before the
    first parallel epoch (freqtrade analyses indicators in the parent first, also with
    ``--analyze-per-epoch``).
    """
    import builtins

    optimizer = sys.modules.get("freqtrade.optimize.hyperopt.hyperopt_optimizer")
    pickler = getattr(optimizer, "cloudpickle", None)
    if pickler is not None and builtins.__name__ in pickler.list_registry_pickle_by_value():
        pickler.unregister_pickle_by_value(builtins)


def _check_wiring(cls: type) -> None:
    """Fail at startup where the gate would be silently dropped: the mixin after IStrategy in
    the bases, or a hooked internal method overridden without ``super()``."""
    mro = cls.__mro__
    here = mro.index(RussellGateMixin)
    if IStrategy in mro[:here]:
        raise OperationalException(
            f"{cls.__name__}: list RussellGateMixin before IStrategy (and before any strategy "
            f"class) in the bases, e.g. class {cls.__name__}(RussellGateMixin, IStrategy)"
        )
    for klass in mro[:here]:
        for name in HOOKED:
            method = klass.__dict__.get(name)
            code = getattr(method, "__code__", None)
            if method is not None and (code is None or "super" not in code.co_names):
                raise OperationalException(
                    f"{klass.__name__}.{name} overrides RussellGateMixin.{name} without calling "
                    f"super().{name}(...): the Russell gate would be silently disabled; call "
                    "super() or override the user callbacks (bot_start, bot_loop_start, "
                    "confirm_trade_entry, adjust_trade_position, populate_*) instead"
                )
