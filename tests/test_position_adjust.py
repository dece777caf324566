"""Position adjustments (``adjust_trade_position``) and the Russell gate, through freqtrade's own
Backtesting (real ^RUT and Binance data) and FreqtradeBot in dry-run (fake clock and Yahoo).

Strategy ``GatedAdder`` (tests/strategies): enters long on every candle, never exits, asks to add
``ADD_STAKE`` every ``ADD_EVERY_HOURS`` hours. Default ``gate_position_adjustments`` (true): no
increase of a long trade where the gate is closed or the data stale (block_entries); false:
they go through.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
from freqtrade.exceptions import ConfigurationError
from livefakes import utc
from test_dryrun_bot import DryRun, dry_run, no_network  # noqa: F401 (fixtures)
from test_sample_strategy import IndependentGate

from ftharness import backtest_config, run_backtest
from russell_regime.adapter.offline import default_snapshot, load_markets_snapshot, offline_markets

pytestmark = pytest.mark.compat  # hooks freqtrade internals: run on the oldest and newest

# 2024-10: the default gate closes and opens 8 times for BTC (about a third of the candles closed).
TIMERANGE = "20241001-20241101"


def _backtest(shared_data: Path, user_dir: Path, **section):
    config = backtest_config(shared_data, user_dir, TIMERANGE, regime=section,
                             strategy="GatedAdder", pairs=["BTC/USDT"])
    config["stake_amount"] = 100
    config["dry_run_wallet"] = 1_000_000  # the wallet never limits the adds
    trades, _, backtesting = run_backtest(config)
    return trades, backtesting.strategylist[0]


def _adds(trades: pd.DataFrame) -> list[pd.Timestamp]:
    """Fill times of the entry orders after each trade's first one (the increases)."""
    out = []
    for orders in trades["orders"]:
        entries = [o for o in orders if o["ft_order_side"] == "buy"]
        out += [pd.Timestamp(o["order_filled_timestamp"], unit="ms", tz="UTC")
                for o in entries[1:]]
    return out


@pytest.fixture(scope="module")
def oracle(rut_daily) -> IndependentGate:
    return IndependentGate(rut_daily)


@pytest.fixture(scope="module")
def gated_adds(shared_data, tmp_path_factory):
    return _backtest(shared_data, tmp_path_factory.mktemp("gated"))


@pytest.fixture(scope="module")
def free_adds(shared_data, tmp_path_factory):
    return _backtest(shared_data, tmp_path_factory.mktemp("free"),
                     gate_position_adjustments=False)


def test_backtest_adds_to_longs_only_where_the_gate_is_open(gated_adds, oracle) -> None:
    trades, strategy = gated_adds
    adds = _adds(trades)
    # an add filled at T was decided on the candle closing at T: the gate seen at T
    closed = [t for t in adds if not oracle.is_open(t)]
    assert closed == []
    blocked = strategy.russell_adds_blocked["BTC/USDT"]
    assert len(adds) == 83 and blocked == 41  # measured: 124 asks, 41 while closed
    assert len(adds) + blocked == strategy.asked


def test_backtest_adds_go_through_with_the_setting_false(free_adds, gated_adds, oracle) -> None:
    trades, strategy = free_adds
    adds = _adds(trades)
    closed = [t for t in adds if not oracle.is_open(t)]
    assert len(adds) == strategy.asked == 124 and len(closed) == 41
    assert strategy.russell_adds_blocked == {}
    # the setting changes nothing else: same trade, same first entry
    gated_trades, _ = gated_adds
    assert trades[["pair", "open_date"]].equals(gated_trades[["pair", "open_date"]])


def test_bad_setting_is_one_clear_error_line(shared_data, tmp_path) -> None:
    with pytest.raises(ConfigurationError) as info:
        _backtest(shared_data, tmp_path, gate_position_adjustments="sometimes")
    assert str(info.value) == ("invalid russell_regime config: "
                               "gate_position_adjustments='sometimes': must be true or false")


# --- dry-run: FreqtradeBot, Yahoo down, stale data under block_entries ----------------------

@pytest.fixture
def adder_config(monkeypatch):
    """The dry-run bot's config with market orders (filled at once from the fake order book, so
    the trades hold a position) and ``section`` added to russell_regime."""

    def set_keys(**section) -> None:
        original = DryRun._config

        def config(self, tmp_path):
            out = original(self, tmp_path)
            out["order_types"] = {"entry": "market", "exit": "market", "stoploss": "market",
                                  "stoploss_on_exchange": False}
            out["entry_pricing"]["price_side"] = out["exit_pricing"]["price_side"] = "other"
            out["russell_regime"].update(section)
            return out

        monkeypatch.setattr(DryRun, "_config", config)

    return set_keys


def _entry_orders(run) -> dict[str, int]:
    return {t.pair: sum(o.ft_order_side == "buy" for o in t.orders) for t in run.trades()}


def _stale_dry_run(dry_run):  # noqa: F811
    """Open a trade per pair on fresh data (Monday 20:00 UTC: Friday 11-15 gates open), then
    Yahoo goes down: from Tuesday ~00:15 Monday's session is overdue, the data stale. Two bot
    loops at 06:00 (GatedAdder asks to add at hours divisible by 6)."""
    run = dry_run("2024-11-15", utc("2024-11-18 20:00:05"), strategy="GatedAdder")
    with offline_markets(load_markets_snapshot(default_snapshot())):
        run.step(utc("2024-11-18 20:00:05"))
        opened = _entry_orders(run)
        assert opened == {"BTC/USDT": 1, "ETH/USDT": 1}
        run.yahoo.fault = ConnectionError("Yahoo unreachable")
        run.step(utc("2024-11-19 06:00:05"))
        run.step(utc("2024-11-19 06:00:10"))
        assert run.bot.strategy.live.state.stale
    return run


def test_dry_run_no_adds_while_the_data_is_stale(dry_run, adder_config, caplog):  # noqa: F811
    adder_config()
    caplog.set_level(logging.INFO, logger="russell_regime")
    run = _stale_dry_run(dry_run)
    strategy = run.bot.strategy
    assert strategy.asked == 4  # 2 trades x 2 loops asked to add
    assert _entry_orders(run) == {"BTC/USDT": 1, "ETH/USDT": 1}
    assert strategy.russell_adds_blocked == {"BTC/USDT": 2, "ETH/USDT": 2}
    logged = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(logged) == 2 and all("stale" in m for m in logged)  # once per trade and time


def test_dry_run_adds_go_through_with_the_setting_false(dry_run, adder_config):  # noqa: F811
    adder_config(gate_position_adjustments=False)
    run = _stale_dry_run(dry_run)
    assert run.bot.strategy.regime_settings.gate_position_adjustments is False
    assert run.bot.strategy.asked == 4
    assert _entry_orders(run) == {"BTC/USDT": 3, "ETH/USDT": 3}
    assert run.bot.strategy.russell_adds_blocked == {}
