"""Gating longs never changes the shorts a strategy takes (freqtrade's own futures Backtesting,
real ^RUT data, Binance 1h candles as the futures candles).

freqtrade enters nothing on a candle carrying both ``enter_long`` and ``enter_short``; a gate
that cleared ``enter_long`` there would turn the candle into a short. ``BothWays``
(tests/strategies) puts both signals on many candles, and exit signals on some of them.
Position stacking, a fixed stake, unlimited slots and a large wallet make every trade
independent of the others, so the short trades of the gated run must equal, one for one, those
of the run with every class ``off`` (the gate always open).

Markets: ``tests/data/binance_futures_markets.json`` (two Binance USDT-M perpetuals in ccxt's
structure: type swap, linear, settle USDT, contractSize 1, Binance's tick / step sizes and
minimum notionals); leverage tiers from freqtrade's bundled file (dry-run). Futures candles are
the spot 1h candles, mark candles the same, funding rate 0 (1h and 8h: the funding / mark
timeframe differs between freqtrade releases).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from freqtrade.enums import RunMode, SignalDirection
from freqtrade.optimize.backtesting import Backtesting
from freqtrade.resolvers import StrategyResolver
from freqtrade.util.datetime_helpers import dt_now

from ftharness import apply_params, backtest_config
from russell_regime import RussellGateMixin
from russell_regime.adapter.offline import load_markets_snapshot, offline_markets

pytestmark = pytest.mark.compat  # hooks freqtrade internals: run on the oldest and newest

SNAPSHOT = Path(__file__).parent / "data" / "binance_futures_markets.json"
PAIRS = {"BTC/USDT:USDT": "BTC_USDT", "ETH/USDT:USDT": "ETH_USDT"}
TIMERANGE = "20201101-20201201"
ALL_OFF = {"btc_mode": "off", "eth_mode": "off", "alt_mode": "off"}


def futures_datadir(shared_data: Path, root: Path) -> Path:
    """freqtrade's futures layout under ``root``: ``futures/<PAIR>-1h-futures.feather`` (the
    spot candles), ``-mark`` (the same) and ``-funding_rate`` (0) at 1h and 8h."""
    out = root / "futures"
    out.mkdir(parents=True, exist_ok=True)
    for pair, stem in PAIRS.items():
        spot = pd.read_feather(shared_data / "binance" / f"{stem}-1h.feather")
        spot = spot[spot["date"].between("2020-09-01", "2021-04-01")].reset_index(drop=True)
        name = pair.replace("/", "_").replace(":", "_")
        spot.to_feather(out / f"{name}-1h-futures.feather")
        for tf in ("1h", "8h"):
            mark = spot.set_index("date").resample(tf).agg(
                {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
            ).dropna().reset_index()
            mark.to_feather(out / f"{name}-{tf}-mark.feather")
            funding = mark.assign(open=0.0, high=0.0, low=0.0, close=0.0, volume=0.0)
            funding.to_feather(out / f"{name}-{tf}-funding_rate.feather")
    return root


def run_futures(shared_data: Path, user_dir: Path, datadir: Path,
                params: dict | None = None) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """(trades, analysed frames) of BothWays in a futures backtest."""
    config = backtest_config(shared_data, user_dir, TIMERANGE, strategy="BothWays",
                             pairs=list(PAIRS))
    config.update(trading_mode="futures", margin_mode="isolated", candle_type_def="futures",
                  datadir=datadir, position_stacking=True, max_open_trades=-1,
                  stake_amount=100, dry_run_wallet=10_000_000)
    with offline_markets(load_markets_snapshot(SNAPSHOT)):
        backtesting = Backtesting(config)
        try:
            strategy = backtesting.strategylist[0]
            apply_params(strategy, params or {})
            data, timerange = backtesting.load_bt_data()
            backtesting.backtest_one_strategy(strategy, data, timerange)
            trades = backtesting.all_bt_content[strategy.get_strategy_name()]["results"]
            analysed = {
                pair: strategy.ft_advise_signals(frame, {"pair": pair})
                for pair, frame in strategy.advise_all_indicators(data).items()
            }
        finally:
            Backtesting.cleanup()
    return trades, analysed


def _keys(trades: pd.DataFrame, short: bool) -> list[tuple]:
    cols = ["pair", "open_date", "close_date", "open_rate", "close_rate", "exit_reason"]
    chosen = trades[trades["is_short"] == short]
    return sorted(map(tuple, chosen[cols].astype(str).to_numpy()))


@pytest.fixture(scope="module")
def runs(shared_data, tmp_path_factory):
    datadir = futures_datadir(shared_data, tmp_path_factory.mktemp("futures"))
    off = run_futures(shared_data, tmp_path_factory.mktemp("off"), datadir, ALL_OFF)
    gated = run_futures(shared_data, tmp_path_factory.mktemp("gated"), datadir)
    return off, gated


def test_gated_and_ungated_take_the_same_shorts(runs) -> None:
    (off_trades, _), (gated_trades, _) = runs
    off_shorts, gated_shorts = _keys(off_trades, True), _keys(gated_trades, True)
    assert len(off_shorts) > 50
    assert gated_shorts == off_shorts
    # the gate did act on the longs
    assert len(_keys(gated_trades, False)) < len(_keys(off_trades, False))


def test_conflicting_candles_are_left_alone(runs) -> None:
    (_, off_frames), (_, gated_frames) = runs
    conflicting_closed = 0
    for pair in PAIRS:
        off, gated = off_frames[pair], gated_frames[pair]
        both = (off["enter_long"].eq(1) & off["enter_short"].eq(1)).to_numpy()
        closed = ~gated["r2k_gate"].to_numpy()
        conflicting_closed += int((both & closed).sum())
        for column in ("enter_short", "exit_short", "exit_long"):
            np.testing.assert_array_equal(gated[column].fillna(0).to_numpy(),
                                          off[column].fillna(0).to_numpy(), err_msg=column)
        # both signals: enter_long kept, so freqtrade still enters nothing there
        assert gated.loc[both, "enter_long"].eq(1).all()
        # a long alone on a closed candle: cleared
        alone = off["enter_long"].eq(1).to_numpy() & ~both & closed
        assert alone.any() and not gated.loc[alone, "enter_long"].eq(1).any()
    # candles where clearing enter_long alone would have made a short
    assert conflicting_closed > 20, conflicting_closed


def test_clearing_the_long_alone_would_have_added_shorts(shared_data, tmp_path, runs,
                                                        monkeypatch) -> None:
    """The check above can fail: with both-signal candles treated like the others (the long
    cleared, as before), the gated run takes shorts the strategy never takes."""
    (off_trades, _), _ = runs
    monkeypatch.setattr(RussellGateMixin, "_can_short_here", lambda self: False)
    datadir = futures_datadir(shared_data, tmp_path / "data")
    naive, _ = run_futures(shared_data, tmp_path / "naive", datadir)
    extra = set(_keys(naive, True)) - set(_keys(off_trades, True))
    assert len(extra) > 20, len(extra)


def test_the_stale_veto_never_turns_a_candle_into_a_short(shared_data, tmp_path,
                                                          monkeypatch) -> None:
    config = backtest_config(shared_data, tmp_path, TIMERANGE, strategy="BothWays",
                             pairs=list(PAIRS))
    config.update(trading_mode="futures", margin_mode="isolated", runmode=RunMode.DRY_RUN)
    strategy = StrategyResolver.load_strategy(config)
    monkeypatch.setattr(strategy, "russell_entry_blocked", lambda: True)  # stale, block_entries
    date = dt_now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)

    def signal(**columns):
        candle = pd.DataFrame({"date": [pd.Timestamp(date)], "enter_long": [0],
                               "enter_short": [0], **{k: [v] for k, v in columns.items()}})
        return strategy.get_entry_signal("BTC/USDT:USDT", "1h", candle)[0]

    assert signal(enter_long=1, enter_short=1) is None  # freqtrade: nothing; vetoed: nothing
    assert signal(enter_long=1) is None  # the veto
    assert signal(enter_short=1) == SignalDirection.SHORT  # shorts untouched
