"""data/candles.candle_file: the one name rule for freqtrade's spot candle files, the same name
freqtrade's own feather data handler reads and writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from freqtrade.data.history.datahandlers.featherdatahandler import FeatherDataHandler
from freqtrade.enums import CandleType

from russell_regime.data.candles import candle_file


def test_candle_file_names_a_pair_as_freqtrade_stores_it():
    assert candle_file(Path("binance"), "BTC/USDT") == Path("binance/BTC_USDT-1h.feather")
    assert candle_file(Path("d"), "ETH/USDT", "4h") == Path("d/ETH_USDT-4h.feather")


@pytest.mark.parametrize("pair", ["BTC/USDT", "1000SHIB/USDT", "BTC/USDT:USDT", "A.B/USDT"])
@pytest.mark.parametrize("timeframe", ["1h", "4h", "1d"])
def test_candle_file_is_freqtrades_own_file_name(tmp_path, pair, timeframe):
    """The same path freqtrade's feather handler uses for spot candles."""
    ours = candle_file(tmp_path, pair, timeframe)
    assert ours == FeatherDataHandler._pair_data_filename(tmp_path, pair, timeframe,
                                                          CandleType.SPOT)
