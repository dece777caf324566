"""RussellGateMixin on real freqtrade objects: generated parameters, the wiring checks, and the
columns / gating it applies around a strategy's own populate_* (real ^RUT and Binance data)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from freqtrade.enums import RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.strategy import DecimalParameter, IntParameter, IStrategy
from pandas import DataFrame

from ftharness import TEST_STRATEGIES
from russell_regime import RussellGateMixin
from russell_regime.adapter.params import GATE_PARAMS, parameter_names
from russell_regime.core.gate import GateParams

if str(TEST_STRATEGIES) not in sys.path:
    sys.path.append(str(TEST_STRATEGIES))


class Minimal(RussellGateMixin, IStrategy):
    timeframe = "1h"
    minimal_roi = {"0": 1.0}
    stoploss = -0.1
    can_short = True

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["sma"] = dataframe["close"].rolling(20).mean()
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        self.seen = {c: dataframe[c].copy() for c in ("r2k_gate", "r2k_gate_tag")}
        up = dataframe["close"] > dataframe["sma"]
        dataframe.loc[up, "enter_long"] = 1
        dataframe.loc[up & (dataframe["volume"] > dataframe["volume"].median()), "enter_tag"] = (
            "vol"
        )
        dataframe.loc[~up, ["enter_short", "enter_tag"]] = (1, "down")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["close"] < dataframe["sma"], "exit_long"] = 1
        return dataframe


class Other(Minimal):
    btc_lookback = IntParameter(100, 300, default=200, space="russell")  # narrowed by the user


class OtherChild(Other):
    pass


def _decimals(param: DecimalParameter) -> int:
    """A DecimalParameter's decimals (freqtrade 2025.12 keeps them as ``_decimals``)."""
    return param.decimals if hasattr(param, "decimals") else param._decimals


def _config(rut_csv, runmode=RunMode.BACKTEST, **section) -> dict:
    return {"runmode": runmode,
            "russell_regime": {"source": "file", "path": str(rut_csv), **section}}


# --- parameters ----------------------------------------------------------------------------

def test_the_24_parameters_keep_the_names_ranges_and_defaults_of_the_hand_written_ones():
    from RussellRiskOnLegacy import RussellRiskOnLegacy

    from RussellRiskOn import RussellRiskOn

    names = parameter_names()
    assert len(names) == 24 and {"btc_mode", "eth_ath_fresh", "alt_lookback"} <= set(names)
    for name in names:
        new, old = getattr(RussellRiskOn, name), getattr(RussellRiskOnLegacy, name)
        assert type(new) is type(old), name
        assert (new.space, new.value) == (old.space, old.value) == ("russell", old.value), name
        if isinstance(new, DecimalParameter):
            assert (new.low, new.high, _decimals(new)) == (old.low, old.high, _decimals(old)), name
        elif isinstance(new, IntParameter):
            assert (new.low, new.high) == (old.low, old.high), name
        else:
            assert new.opt_range == old.opt_range, name
    defaults = GateParams()
    for spec in GATE_PARAMS:
        assert getattr(Minimal, f"alt_{spec.threshold}").value == getattr(defaults, spec.threshold)


def test_every_subclass_gets_its_own_parameter_objects():
    assert Minimal.btc_mode is not Other.btc_mode
    from RussellRiskOn import RussellRiskOn

    assert RussellRiskOn.eth_window is not Minimal.eth_window
    Minimal.btc_mode.value = "off"
    try:
        assert Other.btc_mode.value == "any"
    finally:
        Minimal.btc_mode.value = "any"


def test_a_parameter_the_user_declares_is_kept_also_in_subclasses():
    assert (Other.btc_lookback.low, Other.btc_lookback.high) == (100, 300)
    assert OtherChild.btc_lookback is Other.btc_lookback  # inherited as freqtrade would
    assert Other.eth_lookback.low == 60  # the others are generated


def test_russell_params_override_and_russell_space_are_loaded_by_freqtrade(rut_csv):
    class Overridden(Minimal):
        russell_params = {"btc_mode": "retest", "alt_lookback": 100}

    strategy = Overridden(_config(rut_csv))
    strategy.ft_load_hyper_params()
    assert strategy.btc_mode.value == "retest" and strategy.alt_lookback.value == 100
    assert strategy.russell_gate_params("alt").lookback == 100
    assert {n for n, _ in strategy.enumerate_parameters("russell")} == set(parameter_names())
    assert Minimal.btc_mode.value == "any"  # the parent class's objects are untouched


# --- wiring checks -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "hook", ["ft_bot_start", "analyze", "get_entry_signal", "advise_indicators",
             "advise_entry", "advise_exit", "_adjust_trade_position_internal"],
)
def test_overriding_a_hooked_method_without_super_is_a_clear_startup_error(hook, rut_csv):
    def override(self, *args, **kwargs):
        return None

    Broken = type("Broken", (Minimal,), {hook: override})
    with pytest.raises(OperationalException, match=rf"Broken\.{hook} overrides .*super"):
        Broken(_config(rut_csv))


def test_overriding_a_hooked_method_with_super_is_fine(rut_csv):
    class Fine(Minimal):
        def analyze(self, pairs):
            super().analyze(pairs)

    Fine(_config(rut_csv))


def test_mixin_after_istrategy_is_a_clear_startup_error(rut_csv):
    class Late(IStrategy, RussellGateMixin):
        timeframe = "1h"
        populate_indicators = populate_entry_trend = populate_exit_trend = Minimal.__dict__[
            "populate_exit_trend"]

    with pytest.raises(OperationalException, match="RussellGateMixin before IStrategy"):
        Late(_config(rut_csv))


def test_user_callbacks_without_super_are_allowed(rut_csv):
    from OwnHooks import OwnHooks

    OwnHooks(_config(rut_csv))  # bot_start, bot_loop_start, confirm_trade_entry: no super()


# --- columns and gating --------------------------------------------------------------------

@pytest.fixture(scope="module")
def candles(shared_data) -> pd.DataFrame:
    frame = pd.read_feather(shared_data / "binance" / "ETH_USDT-1h.feather")
    return frame[(frame["date"] >= "2020-01-01") & (frame["date"] < "2022-01-01")].reset_index(
        drop=True)


def _analyse(strategy, candles, pair="ETH/USDT") -> DataFrame:
    frame = strategy.advise_indicators(candles.copy(), {"pair": pair})
    return strategy.ft_advise_signals(frame, {"pair": pair})


def test_columns_dtypes_and_gate_available_to_populate_entry_trend(rut_csv, candles):
    strategy = Minimal(_config(rut_csv))
    frame = _analyse(strategy, candles)
    np.testing.assert_array_equal(strategy.russell_positions(frame),
                                  strategy.regime.positions(frame["date"], "1h"))
    assert frame["r2k_stale"].dtype == bool and frame["r2k_gate"].dtype == bool
    assert isinstance(frame["r2k_gate_tag"].dtype, pd.CategoricalDtype)
    assert str(frame["r2k_available_at"].dt.tz) == "UTC" and frame["r2k_session"].notna().all()
    pd.testing.assert_series_equal(strategy.seen["r2k_gate"], frame["r2k_gate"])
    gate = frame["r2k_gate"].to_numpy()
    assert 0 < gate.mean() < 1
    expected = strategy.russell_gather(frame, "gate_open", "eth")
    np.testing.assert_array_equal(gate, expected)  # not stale over 2020-2021
    assert set(frame.loc[gate, "r2k_gate_tag"]) <= {"ath", "breakout", "retest"}
    assert set(frame.loc[~gate, "r2k_gate_tag"]) == {""}


def test_entries_cleared_where_the_gate_is_closed_and_tags_prefixed(rut_csv, candles):
    strategy = Minimal(_config(rut_csv))
    frame = _analyse(strategy, candles)
    up = (frame["close"] > frame["sma"]).to_numpy()
    gate = frame["r2k_gate"].to_numpy()
    entered = frame["enter_long"].eq(1).to_numpy()
    np.testing.assert_array_equal(entered, up & gate)
    assert (up & ~gate).sum() > 100
    tags = frame.loc[entered, "enter_tag"]
    conds = frame.loc[entered, "r2k_gate_tag"].astype(str)
    vol = frame.loc[entered, "volume"] > frame["volume"].median()
    assert tags.eq("r2k_" + conds + np.where(vol, ":vol", "")).all()
    assert vol.any() and (~vol).any()
    report = strategy.russell_report["ETH/USDT"]
    assert report["signals"] == up.sum() and report["blocked"] == (up & ~gate).sum()


def test_shorts_and_exits_are_never_touched(rut_csv, candles):
    gated = _analyse(Minimal(_config(rut_csv)), candles)

    class Ungated(Minimal):
        russell_gate_entries = False

    plain = _analyse(Ungated(_config(rut_csv)), candles)
    for column in ("enter_short", "exit_long"):
        pd.testing.assert_series_equal(gated[column], plain[column])
    shorts = plain["enter_short"].eq(1)
    assert shorts.sum() > 1000 and (plain.loc[shorts, "enter_tag"] == "down").all()
    assert (gated.loc[shorts, "enter_tag"] == "down").all()
    assert plain["enter_long"].eq(1).sum() > gated["enter_long"].eq(1).sum()  # off: no gating


def test_exit_on_risk_off_for_any_strategy(rut_csv, candles):
    frame = _analyse(Minimal(_config(rut_csv, exit_on_risk_off=True)), candles)
    gate = frame["r2k_gate"]
    closes = ~gate & gate.shift(1, fill_value=False)
    assert closes.sum() > 3
    assert frame["exit_tag"].eq("r2k_risk_off").tolist() == closes.tolist()
    assert frame.loc[closes, "exit_long"].eq(1).all()


def held_bytes(frame: DataFrame) -> pd.Series:
    """Bytes each column really holds: ``memory_usage(deep=True)``, except that an object
    column (or a Categorical's object categories) is its 8-byte pointers plus each distinct
    object once. pandas' deep measure adds ``sys.getsizeof`` per row, so a column of 17,000
    references to one interned ``""`` counts 17,000 strings, and its size follows CPython's
    ``str`` header (8 bytes smaller since 3.12, PEP 623): not a bound on anything real."""

    def objects(values) -> int:
        distinct = {id(v): v for v in values}
        return 8 * len(values) + sum(sys.getsizeof(v) for v in distinct.values())

    sizes = {}
    for name, column in frame.items():
        if column.dtype == object:
            sizes[name] = objects(column.to_numpy())
        elif (isinstance(column.dtype, pd.CategoricalDtype)
              and column.cat.categories.dtype == object):
            sizes[name] = column.cat.codes.nbytes + objects(column.cat.categories.to_numpy())
        else:
            sizes[name] = int(column.memory_usage(deep=True, index=False))
    return pd.Series(sizes)


def r2k_shares(frame: DataFrame) -> dict[str, float]:
    """The r2k_* share of ``frame`` by pandas' deep measure and by :func:`held_bytes`."""
    r2k = [c for c in frame.columns if c.startswith("r2k_")]
    deep, held = frame.memory_usage(deep=True, index=False), held_bytes(frame)
    return {"r2k_bytes": int(deep[r2k].sum()), "deep": float(deep[r2k].sum() / deep.sum()),
            "held": float(held[r2k].sum() / held.sum())}


def test_r2k_columns_are_at_most_a_tenth_of_the_analysed_backtest_frame(rut_csv, candles):
    """Within 10 % by pandas' deep measure and by the bytes really held (:func:`held_bytes`):
    the second does not depend on the Python version nor on how the strategy's tag columns are
    stored. r2k_session is an ordered Categorical (2 bytes per candle), the rest 1 byte, and
    r2k_available_at 8."""
    from RussellRiskOn import RussellRiskOn

    frame = _analyse(RussellRiskOn(_config(rut_csv)), candles)
    r2k = [c for c in frame.columns if c.startswith("r2k_")]
    assert sorted(r2k) == sorted(["r2k_session", "r2k_available_at", "r2k_stale",
                                  "r2k_gate", "r2k_gate_tag"])  # plot columns: plot modes only
    shares = r2k_shares(frame)
    print(f"r2k columns: {shares['r2k_bytes'] / 1e6:.3f} MB, {shares['deep']:.1%} (deep) / "
          f"{shares['held']:.1%} (held) of {len(frame)} candles' frame")
    assert shares["deep"] <= 0.10 and shares["held"] <= 0.10


def test_r2k_session_is_a_compact_ordered_categorical_of_timestamps(rut_csv, candles):
    frame = _analyse(Minimal(_config(rut_csv)), candles)
    session = frame["r2k_session"]
    assert isinstance(session.dtype, pd.CategoricalDtype) and session.cat.ordered
    assert session.cat.codes.dtype == np.int16 and str(session.cat.categories.dtype) == (
        "datetime64[ns]")
    strategy = Minimal(_config(rut_csv))
    positions = strategy.regime.positions(frame["date"], "1h")
    expected = strategy.regime.audit(positions)["r2k_session"]
    np.testing.assert_array_equal(session.to_numpy(dtype="datetime64[ns]"), expected.to_numpy())
    assert session.astype("datetime64[ns]").equals(expected)
    last = session.iloc[-1]
    assert isinstance(last, pd.Timestamp) and (session <= last).all()
    assert session.dt.year.min() == 2019  # the 2020-01-01 candles see 2019-12-31


def test_plot_columns_in_plot_modes(rut_csv, candles):
    from RussellRiskOn import RussellRiskOn

    strategy = RussellRiskOn(_config(rut_csv, runmode=RunMode.PLOT))
    strategy.ft_bot_start()  # loads the index data outside backtest / hyperopt
    frame = _analyse(strategy, candles)
    for column in RussellRiskOn.plot_config["subplots"]["Russell gate"]:
        assert frame[column].dtype == bool
    np.testing.assert_array_equal(frame["r2k_gate_eth"], frame["r2k_gate"])
    assert frame["r2k_close"].notna().all() and (frame["r2k_drawdown"] <= 0).all()


def test_no_index_data_in_backtest_is_one_clear_error(tmp_path):
    with pytest.raises(OperationalException, match=r"russell_regime: .*missing"):
        Minimal(_config(tmp_path / "missing.csv"))
