"""Test strategy: RussellGateMixin on a strategy that enters long on every candle, never exits
and asks to add to its position (``adjust_trade_position``, a positive stake) on every call at
a multiple of ``ADD_EVERY_HOURS`` UTC.
The mixin must drop those increases where the gate is closed or the data stale (default
``gate_position_adjustments``) and let them through with the setting false."""

from datetime import datetime

from freqtrade.strategy import IStrategy
from pandas import DataFrame

from russell_regime import RussellGateMixin

ADD_STAKE = 20.0
ADD_EVERY_HOURS = 6


class GatedAdder(RussellGateMixin, IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    minimal_roi = {"0": 10.0}
    stoploss = -0.9
    startup_candle_count = 0
    position_adjustment_enable = True
    max_entry_position_adjustment = -1

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["enter_long"] = 1
        dataframe["enter_tag"] = "adder"
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["exit_long"] = 0
        return dataframe

    def adjust_trade_position(self, trade, current_time: datetime, current_rate: float,
                              current_profit: float, min_stake: float | None, max_stake: float,
                              **kwargs) -> tuple[float | None, str]:
        if current_time.hour % ADD_EVERY_HOURS:  # few adds keep the backtest fast
            return None, ""
        self.asked = getattr(self, "asked", 0) + 1
        return max(ADD_STAKE, min_stake or 0.0), "add"
