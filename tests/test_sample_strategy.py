"""Proof on code nobody here wrote: freqtrade's own SampleStrategy, gated by RussellGateMixin.

``GatedSample`` is ``class GatedSample(RussellGateMixin, SampleStrategy)`` with nothing else
(tests/strategies/GatedSample.py; timeframe 1h from config.json). Real freqtrade Backtesting on
the real shared data, markets from the offline snapshot. Entries are checked against an
independent recomputation of the gate (XNYS closes straight from exchange_calendars, features
on the daily frame truncated at the session), never against the mixin's own ``r2k_gate``.

Shorts: the markets snapshot is spot only and the shared data has no futures candles or funding
rates, so a futures backtest cannot run offline; ``SampleShort`` / ``GatedSampleShort``
(tests/strategies/SampleShort.py, ``can_short = True``) are loaded by freqtrade's
StrategyResolver in futures mode and compared on the real candles, signal column by column.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import exchange_calendars as xcals
import freqtrade.templates
import numpy as np
import pandas as pd
import pytest
from freqtrade.enums import RunMode
from freqtrade.resolvers import StrategyResolver
from freqtrade.templates.sample_strategy import SampleStrategy

from ftharness import TEST_STRATEGIES, backtest_config, run_backtest
from russell_regime import RussellGateMixin
from russell_regime.core.features import regime_features

pytestmark = [pytest.mark.shared_data, pytest.mark.freqtrade_run]

PAIRS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "LINK/USDT"]
# 2024-01..08: the default gate opens and closes many times (about half the sessions open).
TIMERANGE = "20240101-20240901"
ALL_OFF = {"btc_mode": "off", "eth_mode": "off", "alt_mode": "off"}
TEMPLATES = Path(freqtrade.templates.__file__).parent  # where SampleStrategy ships
HOUR = pd.Timedelta(hours=1)


class IndependentGate:
    """The default gate (mode ``any``) recomputed from scratch for a candle closing at a time:
    the last session whose XNYS close + 15 min publication lag is before it, features on the
    daily frame cut at that session. No alignment code, no provider, no memo of the mixin."""

    def __init__(self, rut: pd.DataFrame, lag_minutes: float = 15) -> None:
        self.rut = rut.reset_index(drop=True)
        cal = xcals.get_calendar("XNYS", start="1987-01-01", end="2026-12-31")
        closes = cal.closes.reindex(pd.DatetimeIndex(self.rut["session"]))
        assert closes.notna().all()
        self.available = pd.DatetimeIndex(closes) + pd.Timedelta(minutes=lag_minutes)
        self.memo: dict[int, dict[str, bool]] = {}

    def conditions(self, candle_close: pd.Timestamp) -> dict[str, bool]:
        k = int(np.searchsorted(self.available, candle_close, side="left")) - 1
        assert k >= 0 and self.available[k] < candle_close
        assert candle_close - self.available[k] < pd.Timedelta(days=5), "index data stale"
        if k not in self.memo:
            f = regime_features(self.rut.iloc[: k + 1], 252, 0.0, 0.02, 20, 60).iloc[-1]
            self.memo[k] = {
                "ath": bool(f.sessions_since_ath <= 60 and f.drawdown >= -0.10),
                "breakout": bool(f.breakout_active),
                "retest": bool(f.support),
            }
        return self.memo[k]

    def is_open(self, candle_close: pd.Timestamp) -> bool:
        return any(self.conditions(candle_close).values())


def _plain_sample_config(shared_data: Path, user_dir: Path, **kwargs) -> dict:
    """The same configuration, strategy SampleStrategy loaded from freqtrade's templates."""
    config = backtest_config(shared_data, user_dir, TIMERANGE, pairs=PAIRS, **kwargs)
    config["strategy"] = "SampleStrategy"
    config["strategy_path"] = str(TEMPLATES)
    return config


def _trade_keys(trades: pd.DataFrame) -> list[tuple]:
    cols = ["pair", "open_date", "close_date", "open_rate", "close_rate", "exit_reason",
            "profit_abs"]
    return sorted(map(tuple, trades[cols].astype(str).to_numpy()))


@pytest.fixture(scope="module")
def oracle(rut_daily) -> IndependentGate:
    return IndependentGate(rut_daily)


@pytest.fixture(scope="module")
def gated(shared_data: Path, tmp_path_factory):
    config = backtest_config(
        shared_data, tmp_path_factory.mktemp("gated"), TIMERANGE, strategy="GatedSample",
        pairs=PAIRS,
    )
    return run_backtest(config)


@pytest.fixture(scope="module")
def plain(shared_data: Path, tmp_path_factory):
    return run_backtest(_plain_sample_config(shared_data, tmp_path_factory.mktemp("plain")))


def test_gated_sample_is_the_unmodified_sample_strategy_plus_the_mixin() -> None:
    path = TEST_STRATEGIES / "GatedSample.py"
    spec = importlib.util.spec_from_file_location("GatedSample", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cls = module.GatedSample
    assert cls.__bases__ == (RussellGateMixin, SampleStrategy)
    assert SampleStrategy.__module__ == "freqtrade.templates.sample_strategy"
    own = {name for name in vars(cls) if not name.startswith("__")} - {"_abc_impl"}
    generated = {f"{c}_{p}" for c in ("btc", "eth", "alt") for p in (
        "mode", "ath_fresh", "max_drawdown", "lookback", "margin", "tolerance", "window",
        "expiry")}
    assert own <= generated, own - generated  # nothing hand-written, only the russell space
    assert cls.timeframe == "5m"  # SampleStrategy's own: 1h comes from config.json


def test_gated_sample_backtests_offline_and_trades(gated) -> None:
    trades, frames, backtesting = gated
    strategy = backtesting.strategylist[0]
    assert strategy.timeframe == "1h"
    assert len(trades) >= 20
    assert trades["pair"].nunique() >= 4
    assert trades["enter_tag"].str.fullmatch(r"r2k_(ath|breakout|retest)").all()
    for frame in frames.values():
        assert {"r2k_gate", "r2k_gate_tag", "r2k_session", "r2k_available_at"} <= set(frame)


def test_every_gated_entry_is_on_a_candle_whose_gate_is_open(gated, oracle) -> None:
    trades, frames, _ = gated
    for trade in trades.itertuples():
        # freqtrade enters at the open of the candle after the signal, i.e. the signal's close
        cond = oracle.conditions(pd.Timestamp(trade.open_date))
        condition = trade.enter_tag.removeprefix("r2k_")
        assert cond[condition], f"{trade.pair} {trade.open_date}: {trade.enter_tag} not true"
    signals = 0
    for pair, frame in frames.items():
        for date in frame.loc[frame["enter_long"].eq(1), "date"]:
            signals += 1
            assert oracle.is_open(date + HOUR), f"{pair}: entry signal {date}, gate closed"
    assert signals > len(trades) / 2


def test_the_gate_removes_sample_strategy_entries_taken_while_closed(gated, plain,
                                                                     oracle) -> None:
    gated_trades, _, _ = gated
    plain_trades, _, _ = plain
    closed = [t for t in plain_trades.itertuples()
              if not oracle.is_open(pd.Timestamp(t.open_date))]
    assert len(closed) >= 10  # non-vacuous: plain SampleStrategy trades into closed gates
    assert len(gated_trades) < len(plain_trades)


def test_all_classes_off_trades_equal_plain_sample_strategy(shared_data, tmp_path, plain) -> None:
    plain_trades, _, _ = plain
    config = backtest_config(
        shared_data, tmp_path, TIMERANGE, strategy="GatedSample", pairs=PAIRS, params=ALL_OFF
    )
    off_trades, _, _ = run_backtest(config)
    assert len(plain_trades) >= 50
    assert _trade_keys(off_trades) == _trade_keys(plain_trades)
    assert set(off_trades["enter_tag"]) == {"r2k_off"}


def test_exit_signals_of_sample_strategy_are_unchanged(gated, plain) -> None:
    _, gated_frames, _ = gated
    _, plain_frames, _ = plain
    total = 0
    for pair, frame in gated_frames.items():
        plain_frame = plain_frames[pair]
        assert frame["date"].tolist() == plain_frame["date"].tolist()
        exits = frame["exit_long"].fillna(0).to_numpy()
        total += int(exits.sum())
        np.testing.assert_array_equal(exits, plain_frame["exit_long"].fillna(0).to_numpy(),
                                      err_msg=pair)
    assert total > 0


# --- can_short: shorts untouched, longs gated (dataframe level, futures mode) ---------------

SHORT_PAIRS = {"BTC/USDT:USDT": "BTC_USDT", "ETH/USDT:USDT": "ETH_USDT",
               "SOL/USDT:USDT": "SOL_USDT"}


def _futures_strategy(shared_data: Path, user_dir: Path, name: str):
    config = backtest_config(shared_data, user_dir, TIMERANGE, strategy=name)
    config.update(trading_mode="futures", margin_mode="isolated", strategy=name,
                  strategy_path=str(TEST_STRATEGIES), runmode=RunMode.BACKTEST)
    return StrategyResolver.load_strategy(config)


def _signals(strategy, candles: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {
        pair: strategy.ft_advise_signals(frame, {"pair": pair})
        for pair, frame in strategy.advise_all_indicators(candles).items()
    }


@pytest.fixture(scope="module")
def short_frames(shared_data: Path, tmp_path_factory):
    candles = {}
    for pair, stem in SHORT_PAIRS.items():
        frame = pd.read_feather(shared_data / "binance" / f"{stem}-1h.feather")
        candles[pair] = frame[frame["date"].between("2021-12-20", "2024-09-01")].reset_index(
            drop=True
        )
    plain = _futures_strategy(shared_data, tmp_path_factory.mktemp("s"), "SampleShort")
    gated = _futures_strategy(shared_data, tmp_path_factory.mktemp("g"), "GatedSampleShort")
    assert plain.can_short and gated.can_short
    assert plain.config["trading_mode"] == gated.config["trading_mode"] == "futures"
    return _signals(plain, candles), _signals(gated, candles)


def test_a_short_strategy_keeps_its_shorts_and_exits_unchanged(short_frames) -> None:
    plain, gated = short_frames
    totals = dict.fromkeys(("enter_short", "exit_short", "exit_long"), 0)
    for pair in SHORT_PAIRS:
        for column in totals:
            values = gated[pair][column].fillna(0).to_numpy()
            totals[column] += int(values.sum())
            np.testing.assert_array_equal(
                values, plain[pair][column].fillna(0).to_numpy(), err_msg=f"{pair} {column}"
            )
        shorts = gated[pair]["enter_short"].eq(1)
        assert (gated[pair].loc[shorts, "enter_tag"].tolist()
                == plain[pair].loc[shorts, "enter_tag"].tolist()), f"{pair}: short tags changed"
    assert all(totals.values()), totals  # non-vacuous: every column fires somewhere


def test_a_short_strategy_has_only_its_long_entries_gated(short_frames, oracle) -> None:
    plain, gated = short_frames
    kept = blocked = 0
    for pair in SHORT_PAIRS:
        longs = plain[pair]["enter_long"].eq(1).to_numpy()
        closes = gated[pair]["date"] + HOUR
        gate = np.array([oracle.is_open(c) if is_long else False
                         for c, is_long in zip(closes, longs, strict=True)])
        expected = longs & gate
        assert gated[pair]["enter_long"].eq(1).tolist() == expected.tolist(), pair
        kept += int(expected.sum())
        blocked += int((longs & ~gate).sum())
    assert kept > 0 and blocked > 0
