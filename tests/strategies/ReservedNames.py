"""Test strategy: OwnHooks (long on every candle, never exits) that also writes columns named
with the gate's reserved ``r2k_`` prefix: ``r2k_stale`` and ``r2k_session`` in
``populate_indicators``, ``r2k_gate = True`` and its own ``r2k_gate_tag`` in
``populate_entry_trend``. The gate applied (and shown in the frame) must stay the mixin's."""

from OwnHooks import OwnHooks
from pandas import DataFrame


class ReservedNames(OwnHooks):
    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["r2k_stale"] = "mine"
        dataframe["r2k_session"] = 1
        dataframe["r2k_mine"] = 2.0  # another r2k_ name, not one of the gate's: left alone
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe = super().populate_entry_trend(dataframe, metadata)
        dataframe["r2k_gate"] = True  # "no gate for me": not how the gate is switched off
        dataframe["r2k_gate_tag"] = "mine"
        return dataframe
