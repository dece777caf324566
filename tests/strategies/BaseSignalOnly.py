"""Test oracle: RussellRiskOn's base crypto signal with no Russell gate at all."""

from pandas import DataFrame

from RussellRiskOn import RussellRiskOn


class BaseSignalOnly(RussellRiskOn):
    russell_gate_entries = False  # the mixin leaves enter_long alone

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[self.base_entry(dataframe), ["enter_long", "enter_tag"]] = (1, "r2k_off")
        for cls in ("btc", "eth", "alt"):
            dataframe[f"r2k_gate_{cls}"] = True
        return dataframe
