"""RussellRiskOnLegacy: RussellRiskOn before RussellGateMixin, verbatim (regression oracle).

Long only. The base signal (EMA trend + ADX/RSI guard) enters when the pair's class gate
(BTC / ETH / altcoins) is open according to the daily Russell 2000 state: fresh all-time high,
breakout above long-term resistance, or resistance-turned-support retest. Exits are never
blocked by the gate. Russell data is aligned so each candle sees only sessions that had
closed (plus a publication lag) before the candle closed; see ``russell_regime.core.align``.
Backtest and hyperopt apply the live staleness rule per candle (``refresh.stale_mask``): a
candle whose expected session is missing beyond ``stale_grace_minutes`` (e.g. after the index
data ends) follows ``stale_policy``.

Config: the ``russell_regime`` section of config.json (see README). Hyperopt the gate with
``--spaces russell``.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import talib.abstract as ta
from freqtrade.enums import RunMode
from freqtrade.exceptions import ConfigurationError, OperationalException
from freqtrade.strategy import (
    CategoricalParameter,
    DecimalParameter,
    IntParameter,
    IStrategy,
)
from pandas import DataFrame, Series

# freqtrade puts this folder on sys.path only while it imports the strategy; keep it there so
# hyperopt workers can import the russell_regime package without `pip install -e .`.
if str(Path(__file__).parent) not in sys.path:
    sys.path.append(str(Path(__file__).parent))

from russell_regime.adapter.live import LiveRegime  # noqa: E402
from russell_regime.adapter.provider import RegimeProvider  # noqa: E402
from russell_regime.core.align import gather  # noqa: E402
from russell_regime.core.gate import MODES, PAIR_CLASSES, GateParams, pair_class  # noqa: E402
from russell_regime.core.refresh import BLOCK, IGNORE, POLICY_EFFECT, entry_override  # noqa: E402
from russell_regime.errors import ConfigError, RegimeError  # noqa: E402
from russell_regime.settings import settings_from_config  # noqa: E402

logger = logging.getLogger(__name__)

LIVE_MODES = (RunMode.LIVE, RunMode.DRY_RUN)
# Modes whose results freqtrade caches by a hash of strategy.config: the index data is loaded
# when the strategy is built, before that hash, and its fingerprint goes into the config.
RESULT_CACHE_MODES = (RunMode.BACKTEST, RunMode.HYPEROPT)
DATA_FINGERPRINT_KEY = "russell_regime_data"


class RussellRiskOnLegacy(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = False
    process_only_new_candles = True
    startup_candle_count = 500

    minimal_roi = {"0": 0.12, "1440": 0.06, "4320": 0.02}
    stoploss = -0.08
    trailing_stop = True
    trailing_stop_positive = 0.02
    trailing_stop_positive_offset = 0.04
    trailing_only_offset_is_reached = True

    # Base signal (buy / sell spaces).
    ema_fast = IntParameter(8, 40, default=21, space="buy")
    ema_slow = IntParameter(50, 200, default=100, space="buy")
    adx_min = IntParameter(10, 35, default=20, space="buy")
    rsi_max = IntParameter(55, 85, default=72, space="buy")
    rsi_exit = IntParameter(70, 95, default=82, space="sell")

    # Russell gate, one set per pair class (space "russell").
    btc_mode = CategoricalParameter(MODES, default="any", space="russell")
    btc_ath_fresh = IntParameter(0, 120, default=60, space="russell")
    btc_max_drawdown = DecimalParameter(0.02, 0.30, decimals=2, default=0.10, space="russell")
    btc_lookback = IntParameter(60, 756, default=252, space="russell")
    btc_margin = DecimalParameter(0.0, 0.03, decimals=3, default=0.0, space="russell")
    btc_tolerance = DecimalParameter(0.005, 0.05, decimals=3, default=0.02, space="russell")
    btc_window = IntParameter(5, 60, default=20, space="russell")
    btc_expiry = IntParameter(10, 250, default=60, space="russell")

    eth_mode = CategoricalParameter(MODES, default="any", space="russell")
    eth_ath_fresh = IntParameter(0, 120, default=60, space="russell")
    eth_max_drawdown = DecimalParameter(0.02, 0.30, decimals=2, default=0.10, space="russell")
    eth_lookback = IntParameter(60, 756, default=252, space="russell")
    eth_margin = DecimalParameter(0.0, 0.03, decimals=3, default=0.0, space="russell")
    eth_tolerance = DecimalParameter(0.005, 0.05, decimals=3, default=0.02, space="russell")
    eth_window = IntParameter(5, 60, default=20, space="russell")
    eth_expiry = IntParameter(10, 250, default=60, space="russell")

    alt_mode = CategoricalParameter(MODES, default="any", space="russell")
    alt_ath_fresh = IntParameter(0, 120, default=60, space="russell")
    alt_max_drawdown = DecimalParameter(0.02, 0.30, decimals=2, default=0.10, space="russell")
    alt_lookback = IntParameter(60, 756, default=252, space="russell")
    alt_margin = DecimalParameter(0.0, 0.03, decimals=3, default=0.0, space="russell")
    alt_tolerance = DecimalParameter(0.005, 0.05, decimals=3, default=0.02, space="russell")
    alt_window = IntParameter(5, 60, default=20, space="russell")
    alt_expiry = IntParameter(10, 250, default=60, space="russell")

    plot_config = {
        "main_plot": {
            "ema_fast": {"color": "orange"},
            "ema_slow": {"color": "blue"},
        },
        "subplots": {
            "Russell 2000": {
                "r2k_close": {"color": "black"},
                "r2k_ath": {"color": "green"},
                "r2k_resistance": {"color": "red"},
                "r2k_support_level": {"color": "purple"},
            },
            "Russell gate": {
                "r2k_gate_btc": {"color": "orange", "type": "bar"},
                "r2k_gate_eth": {"color": "blue", "type": "bar"},
                "r2k_gate_alt": {"color": "green", "type": "bar"},
            },
            "Russell drawdown": {"r2k_drawdown": {"color": "grey"}},
        },
    }

    live: LiveRegime | None = None  # dry-run / live only: background refresh + staleness
    # Per pair, filled by populate_entry_trend (last call wins): pair_class, candles, gate_open
    # (candles whose effective gate is open), signals (base entries before the gate), blocked
    # (signals the gate removed), stale (candles on stale index data).
    russell_report: dict[str, dict]

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        try:
            self.regime_settings = settings_from_config(config)
        except ConfigError as exc:  # freqtrade prints a ConfigurationError as one clear line
            raise ConfigurationError(str(exc)) from exc
        self.regime = RegimeProvider(self.regime_settings)
        self.russell_report = {}
        self._data_end_logged = -1  # provider version whose data end was logged
        if config.get("runmode") in RESULT_CACHE_MODES:
            self._load_offline()

    # --- lifecycle -------------------------------------------------------------------------

    def bot_start(self, **kwargs) -> None:
        if self.config.get("runmode") in LIVE_MODES:
            notify = lambda text: self.dp.send_msg(text)  # noqa: E731
            self.live = LiveRegime(self.regime, self.gate_params, notify=notify)
            self.live.start()
        elif not self.regime.loaded:
            self._load_offline()

    def _load_offline(self) -> None:
        """Load the file / cache; a RegimeError becomes freqtrade's one-line error (no
        traceback). Records the data's fingerprint in the config so freqtrade never reuses a
        cached backtest result computed with other index data."""
        try:
            self.regime.load_offline()
        except RegimeError as exc:
            raise OperationalException(f"russell_regime: {exc}") from exc
        self.config[DATA_FINGERPRINT_KEY] = self.regime.fingerprint()

    def bot_loop_start(self, current_time: datetime, **kwargs) -> None:
        """Live / dry-run: install finished refreshes, start due ones; never waits."""
        if self.live is not None:
            self.live.on_loop(current_time)

    def confirm_trade_entry(
        self, pair: str, order_type: str, amount: float, rate: float, time_in_force: str,
        current_time: datetime, entry_tag: str | None, side: str, **kwargs,
    ) -> bool:
        """Last-moment veto: no entry while the index data is stale under ``block_entries``,
        even if the candle was analysed before the data went stale."""
        return self.live is None or self.live.entry_override() != "block"

    # --- signals ---------------------------------------------------------------------------

    def gate_params(self, cls: str) -> GateParams:
        """The current (``.value``) gate thresholds of a pair class."""
        value = lambda name: getattr(self, f"{cls}_{name}").value  # noqa: E731
        return GateParams(
            mode=value("mode"),
            ath_fresh=value("ath_fresh"),
            max_drawdown=value("max_drawdown"),
            lookback=value("lookback"),
            margin=value("margin"),
            tolerance=value("tolerance"),
            window=value("window"),
            expiry=value("expiry"),
            basis=self.regime_settings.price_basis,
        )

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        for period in {*self.ema_fast.range, *self.ema_slow.range}:
            dataframe[f"ema_{period}"] = ta.EMA(dataframe, timeperiod=period)
        dataframe["ema_fast"] = dataframe[f"ema_{self.ema_fast.value}"]
        dataframe["ema_slow"] = dataframe[f"ema_{self.ema_slow.value}"]
        dataframe["adx"] = ta.ADX(dataframe)
        dataframe["rsi"] = ta.RSI(dataframe)

        positions = self.regime.positions(dataframe["date"], self.timeframe)
        dataframe["r2k_pos"] = positions
        audit = self.regime.audit(positions)
        for column in audit.columns:
            dataframe[column] = audit[column].array  # keeps datetime dtypes; no object array
        dataframe["r2k_close"] = gather(self.regime.daily["close"].to_numpy(), positions)
        stale = self.regime.stale(positions, dataframe["date"], self.timeframe)
        dataframe["r2k_stale"] = stale
        if self.live is None and stale.any():
            self._log_data_end(dataframe["date"], stale, metadata["pair"])
        return dataframe

    def _log_data_end(self, dates: Series, stale: np.ndarray, pair: str) -> None:
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

    def base_entry(self, dataframe: DataFrame) -> Series:
        """The crypto signal alone: fast EMA crosses above slow EMA in an ADX trend, RSI not hot."""
        ema_fast = dataframe[f"ema_{self.ema_fast.value}"]
        ema_slow = dataframe[f"ema_{self.ema_slow.value}"]
        return (
            (ema_fast > ema_slow)
            & (ema_fast.shift(1) <= ema_slow.shift(1))
            & (dataframe["close"] > ema_slow)
            & (dataframe["adx"] > self.adx_min.value)
            & (dataframe["rsi"] < self.rsi_max.value)
            & (dataframe["volume"] > 0)
        )

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        positions = dataframe["r2k_pos"].to_numpy()
        for cls in PAIR_CLASSES:
            dataframe[f"r2k_gate_{cls}"] = gather(
                self.regime.gate(self.gate_params(cls))["gate_open"].to_numpy(), positions
            )
        daily = self.regime.gate(self.gate_params(self._class(metadata)))
        for feature in ("ath", "drawdown", "resistance", "support_level"):
            dataframe[f"r2k_{feature}"] = gather(daily[feature].to_numpy(), positions)
        gate_open = gather(daily["gate_open"].to_numpy(), positions)
        tag = gather(daily["gate_tag"].to_numpy(), positions, fill="")
        if self.live is not None:  # live: the loop's verdict on the data in hand now
            stale = np.full(len(dataframe), self.live.state.stale)
        else:  # backtest / hyperopt: the same rule at each candle's close
            stale = dataframe["r2k_stale"].to_numpy(dtype=bool)
        override = entry_override(True, self.regime_settings.stale_policy)
        if override == BLOCK:  # stale_policy block_entries
            gate_open = gate_open & ~stale
        elif override == IGNORE:  # stale_policy ignore_gate
            gate_open = gate_open | stale
            tag = np.where(stale, "stale_ignored", tag)
        signals = self.base_entry(dataframe).to_numpy()
        enter = signals & gate_open
        dataframe.loc[enter, "enter_long"] = 1
        dataframe.loc[enter, "enter_tag"] = np.char.add("r2k_", tag[enter].astype(str))
        self.russell_report[metadata["pair"]] = {
            "pair_class": self._class(metadata),
            "candles": len(dataframe),
            "gate_open": int(gate_open.sum()),
            "signals": int(signals.sum()),
            "blocked": int((signals & ~gate_open).sum()),
            "stale": int(stale.sum()),
        }
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Trend end or RSI exhaustion; the gate never blocks an exit."""
        ema_fast = dataframe[f"ema_{self.ema_fast.value}"]
        ema_slow = dataframe[f"ema_{self.ema_slow.value}"]
        trend_end = (ema_fast < ema_slow) & (ema_fast.shift(1) >= ema_slow.shift(1))
        exhausted = dataframe["rsi"] > self.rsi_exit.value
        dataframe.loc[(trend_end | exhausted) & (dataframe["volume"] > 0), "exit_long"] = 1
        if self.regime_settings.exit_on_risk_off:
            gate = dataframe[f"r2k_gate_{self._class(metadata)}"].astype(bool)
            risk_off = ~gate & gate.shift(1, fill_value=False)
            dataframe.loc[risk_off, ["exit_long", "exit_tag"]] = (1, "r2k_risk_off")
        return dataframe

    def _class(self, metadata: dict) -> str:
        return pair_class(metadata["pair"], self.regime_settings.class_map)
