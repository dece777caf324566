"""RussellRiskOn: a TA-Lib trend entry gated by the Russell 2000 risk-appetite regime.

The worked example of :class:`russell_regime.RussellGateMixin`: the strategy below is a plain
long-only EMA trend signal (EMA cross + ADX/RSI guard) with its own exits; the one line
``class RussellRiskOn(RussellGateMixin, IStrategy)`` gates its entries per pair class (BTC /
ETH / altcoins) on the daily Russell 2000 state, in every runmode, with the gate's
hyperopt parameters in space ``russell`` (``btc_mode`` ... ``alt_expiry``). The only Russell
code here fills the columns its ``plot_config`` shows, in the runmodes that show it.

Config: the ``russell_regime`` section of config.json (see README). Ships with the package
(``russell_regime/resources/strategies/``); the repo's ``user_data/strategies/RussellRiskOn.py``
is this file.
"""

from __future__ import annotations

import talib.abstract as ta
from freqtrade.enums import RunMode
from freqtrade.strategy import IntParameter, IStrategy
from pandas import DataFrame, Series

from russell_regime import RussellGateMixin

PLOT_FEATURES = ("close", "ath", "drawdown", "resistance", "support_level")
# Runmodes that show plot_config (plot-dataframe, FreqUI); backtest / hyperopt frames stay lean.
PLOT_MODES = (RunMode.PLOT, RunMode.WEBSERVER, RunMode.DRY_RUN, RunMode.LIVE)


class RussellRiskOn(RussellGateMixin, IStrategy):
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

    # Base signal (buy / sell spaces); the Russell gate's come from RussellGateMixin.
    ema_fast = IntParameter(8, 40, default=21, space="buy")
    ema_slow = IntParameter(50, 200, default=100, space="buy")
    adx_min = IntParameter(10, 35, default=20, space="buy")
    rsi_max = IntParameter(55, 85, default=72, space="buy")
    rsi_exit = IntParameter(70, 95, default=82, space="sell")

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

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        for period in {*self.ema_fast.range, *self.ema_slow.range}:
            dataframe[f"ema_{period}"] = ta.EMA(dataframe, timeperiod=period)
        dataframe["ema_fast"] = dataframe[f"ema_{self.ema_fast.value}"]
        dataframe["ema_slow"] = dataframe[f"ema_{self.ema_slow.value}"]
        dataframe["adx"] = ta.ADX(dataframe)
        dataframe["rsi"] = ta.RSI(dataframe)
        return dataframe

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
        """The base signal; the mixin clears it where the gate (``r2k_gate``) is closed."""
        dataframe.loc[self.base_entry(dataframe), "enter_long"] = 1
        if self.config.get("runmode") in PLOT_MODES:
            self.plot_columns(dataframe, metadata)
        return dataframe

    def plot_columns(self, dataframe: DataFrame, metadata: dict) -> None:
        """Every class's gate and the pair's class features, for ``plot_config``."""
        for cls in ("btc", "eth", "alt"):
            dataframe[f"r2k_gate_{cls}"] = self.russell_gather(dataframe, "gate_open", cls)
        cls = self.russell_pair_class(metadata["pair"])
        for feature in PLOT_FEATURES:
            dataframe[f"r2k_{feature}"] = self.russell_gather(dataframe, feature, cls)

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Trend end or RSI exhaustion; the gate never blocks an exit."""
        ema_fast = dataframe[f"ema_{self.ema_fast.value}"]
        ema_slow = dataframe[f"ema_{self.ema_slow.value}"]
        trend_end = (ema_fast < ema_slow) & (ema_fast.shift(1) >= ema_slow.shift(1))
        exhausted = dataframe["rsi"] > self.rsi_exit.value
        dataframe.loc[(trend_end | exhausted) & (dataframe["volume"] > 0), "exit_long"] = 1
        return dataframe
