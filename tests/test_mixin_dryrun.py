"""RussellGateMixin in freqtrade's own bot (FreqtradeBot.process, dry-run, fake clock and fake
Yahoo; see test_dryrun_bot) on a user strategy that overrides bot_start, bot_loop_start and
confirm_trade_entry without super(): the mixin still refreshes, gates and vetoes."""

from __future__ import annotations

import pandas as pd
from livefakes import utc
from test_dryrun_bot import PAIRS, dry_run, entry_signal, no_network  # noqa: F401 (fixtures)

from russell_regime.adapter.offline import default_snapshot, load_markets_snapshot, offline_markets


def test_user_hooks_without_super_keep_refresh_gate_and_veto(dry_run):  # noqa: F811
    # Cache ends Friday 11-15 (gates open); on Tuesday 01:00 UTC Monday's session is overdue.
    run = dry_run("2024-11-15", utc("2024-11-19 01:00:05"), strategy="OwnHooks")
    strategy = run.bot.strategy
    assert strategy.started and strategy.live is not None  # user's bot_start ran, and ours
    run.yahoo.fault = ConnectionError("Yahoo unreachable")
    with offline_markets(load_markets_snapshot(default_snapshot())):
        run.step(utc("2024-11-19 01:00:05"))
        run.step(utc("2024-11-19 01:00:10"))
        assert strategy.loops == 2  # the user's bot_loop_start runs every loop
        assert strategy.live.state.stale
        assert run.trades() == []  # the strategy wants in on every candle; the gate says stale
        assert not entry_signal(strategy, run.clock.now)  # the veto, without confirm_trade_entry

        run.yahoo.fault = None
        run.step(utc("2024-11-19 01:10:05"))  # the refresh runs from analyze(), not the hooks
        run.step(utc("2024-11-19 01:10:10"))
        assert not strategy.live.state.stale
        assert strategy.regime.daily["session"].iloc[-1] == pd.Timestamp("2024-11-18")
        assert entry_signal(strategy, run.clock.now)

        run.step(utc("2024-11-19 02:00:05"))  # next candle: fresh data, gate open
    trades = run.trades()
    assert sorted(t.pair for t in trades) == PAIRS
    assert all(t.enter_tag.startswith("r2k_") and t.enter_tag.endswith(":mine") for t in trades)
    assert strategy.confirmed == len(PAIRS)  # the user's confirm_trade_entry saw each entry


def test_entries_vetoed_once_the_data_goes_stale_after_the_analysis(dry_run):  # noqa: F811
    # Monday 20:00 UTC: Friday's session is the one expected (Monday closes at 21:00), fresh;
    # on Tuesday 01:00 Monday's session is overdue: stale, with no new candle analysed.
    run = dry_run("2024-11-15", utc("2024-11-18 20:00:05"), strategy="OwnHooks")
    strategy = run.bot.strategy
    run.yahoo.fault = ConnectionError("Yahoo unreachable")
    with offline_markets(load_markets_snapshot(default_snapshot())):
        run.step(utc("2024-11-18 20:00:05"))
        assert not strategy.live.state.stale
        assert entry_signal(strategy, run.clock.now)
        strategy.russell_loop(utc("2024-11-19 01:00:00"))  # overdue now, same analysed candle
        assert strategy.live.state.stale
        assert not entry_signal(strategy, utc("2024-11-18 20:30"))
