"""freqtrade's own SampleStrategy, unmodified, gated by the Russell regime.

Nothing is added but the mixin. The timeframe comes from the config (config.json sets
``"timeframe": "1h"``; SampleStrategy's own 5m has no shared data).
"""

from freqtrade.templates.sample_strategy import SampleStrategy

from russell_regime import RussellGateMixin


class GatedSample(RussellGateMixin, SampleStrategy):
    pass
