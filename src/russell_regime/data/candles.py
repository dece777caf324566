"""Where freqtrade keeps a pair's candles: one name rule for every reader of them.

freqtrade's feather data handler stores spot candles as ``<datadir>/<pair>-<timeframe>.feather``
with the pair made a file name by ``freqtrade.misc.pair_to_filename`` (``BTC/USDT`` ->
``BTC_USDT``), e.g. ``binance/BTC_USDT-1h.feather``.
"""

from __future__ import annotations

from pathlib import Path

from freqtrade.misc import pair_to_filename


def candle_file(datadir: Path, pair: str, timeframe: str = "1h") -> Path:
    """The feather file freqtrade writes for ``pair``'s spot candles of ``timeframe`` in
    ``datadir`` (e.g. ``candle_file(Path("binance"), "BTC/USDT")`` is
    ``binance/BTC_USDT-1h.feather``). Pure: nothing is read."""
    return Path(datadir) / f"{pair_to_filename(pair)}-{timeframe}.feather"
