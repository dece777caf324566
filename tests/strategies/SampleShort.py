"""freqtrade's own SampleStrategy allowed to short (it already emits enter_short /
exit_short), plain and gated by the Russell regime: the gate must leave its shorts alone.

Only ``can_short`` is changed; use with ``trading_mode`` futures. Timeframe from the config.
"""

from freqtrade.templates.sample_strategy import SampleStrategy

from russell_regime import RussellGateMixin


class SampleShort(SampleStrategy):
    can_short = True


class GatedSampleShort(RussellGateMixin, SampleStrategy):
    can_short = True
