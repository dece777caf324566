"""Test strategy: RussellGateMixin on a long/short strategy (futures) whose long and short
signals often fall on the same candle, with exit signals on some of those candles too.

freqtrade enters nothing on a candle with both ``enter_long`` and ``enter_short``; the gate
must not turn such a candle into a short, nor change any short exit
(``ignore_roi_if_entry_signal`` makes exits depend on the entry columns as well).
"""

from freqtrade.strategy import IStrategy
from pandas import DataFrame

from russell_regime import RussellGateMixin


class BothWays(RussellGateMixin, IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = True
    minimal_roi = {"0": 0.02}
    stoploss = -0.03
    ignore_roi_if_entry_signal = True
    startup_candle_count = 24

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["sma"] = dataframe["close"].rolling(24).mean()
        dataframe["ret3"] = dataframe["close"].pct_change(3)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        above = dataframe["close"] > dataframe["sma"]
        rising = dataframe["close"] > dataframe["close"].shift(1)
        spike = dataframe["ret3"] > 0.01  # a fast rise: short it (also above the average)
        dataframe.loc[above & rising, ["enter_long", "enter_tag"]] = (1, "up")
        dataframe.loc[spike | (dataframe["close"] < dataframe["sma"] * 0.99),
                      "enter_short"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["close"] < dataframe["sma"], "exit_long"] = 1
        dataframe.loc[dataframe["ret3"] > 0.015, "exit_short"] = 1  # often with enter_short
        return dataframe
