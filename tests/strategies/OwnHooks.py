"""Test strategy: a user strategy on RussellGateMixin that overrides bot_start, bot_loop_start
and confirm_trade_entry WITHOUT calling super(), enters long on every candle with its own tag
and exits never. The mixin must still refresh, gate and veto."""

from datetime import datetime

from freqtrade.strategy import IStrategy
from pandas import DataFrame

from russell_regime import RussellGateMixin


class OwnHooks(RussellGateMixin, IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    minimal_roi = {"0": 10.0}
    stoploss = -0.5
    startup_candle_count = 0

    def bot_start(self, **kwargs) -> None:
        self.started = True

    def bot_loop_start(self, current_time: datetime, **kwargs) -> None:
        self.loops = getattr(self, "loops", 0) + 1

    def confirm_trade_entry(self, pair, order_type, amount, rate, time_in_force, current_time,
                            entry_tag, side, **kwargs) -> bool:
        self.confirmed = getattr(self, "confirmed", 0) + 1
        return True

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["enter_long"] = 1
        dataframe["enter_tag"] = "mine"
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["exit_long"] = 0
        return dataframe
