"""The VIX confirmation in freqtrade's own bot (FreqtradeBot.process, dry-run; the harness of
test_dryrun_bot: fake clock, candles from the real Binance files, sockets refused), with a fake
yfinance serving the real ^RUT and ^VIX rows as of the clock. The bot refreshes the VIX like
the index (cache, then background fetch on the index's worker); while the required VIX is
stale, block_entries blocks every entry and the last-moment veto agrees."""

from __future__ import annotations

import pandas as pd
import pytest
import yfinance
from livefakes import FakeYahoo, utc
from test_dryrun_bot import PAIRS, DryRun, entry_signal, no_network  # noqa: F401 (fixture)

from russell_regime.adapter.offline import default_snapshot, load_markets_snapshot, offline_markets
from russell_regime.core.daily import validate_daily
from russell_regime.data.cache import cache_file, load_cache, write_cache


class VixDryRun(DryRun):
    """DryRun with the VIX confirmation on (Yahoo source, required, level 20)."""

    vix_daily: pd.DataFrame
    vix_until: str

    def _config(self, tmp_path):
        config = super()._config(tmp_path)
        config["russell_regime"]["confirmations"] = {"vix": {"rule": "level", "level": 20}}
        vix = self.vix_daily
        write_cache(cache_file(self.cache.parent, "^VIX"),
                    vix[vix["session"] <= pd.Timestamp(self.vix_until)], "^VIX")
        return config

    def step(self, now: pd.Timestamp) -> None:
        self.vix.now = now
        self.clock.now = self.yahoo.now = now
        self.bot.process()
        strategy = self.bot.strategy
        assert strategy.live.wait(10)
        for live in strategy.russell_confirmation_lives["vix"]:
            assert live.wait(10)


@pytest.fixture
def vix_run(tmp_path, shared_data, rut_daily, monkeypatch, no_network):  # noqa: F811
    from freqtrade.persistence.usedb_context import enable_database_use

    enable_database_use()
    vix_daily = validate_daily(pd.read_csv(shared_data / "index" / "VIX.csv"), "^VIX")
    runs = []

    def start(cached_until: str, now: pd.Timestamp) -> VixDryRun:
        VixDryRun.vix_daily, VixDryRun.vix_until = vix_daily, cached_until
        with offline_markets(load_markets_snapshot(default_snapshot())):
            run = VixDryRun(tmp_path, shared_data, rut_daily, monkeypatch, cached_until, now)
        run.vix = FakeYahoo(vix_daily, now)
        tickers = {"^RUT": run.yahoo, "^VIX": run.vix}
        monkeypatch.setattr(yfinance, "Ticker", lambda symbol: tickers[symbol].ticker(symbol))
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.close()


def test_stale_vix_blocks_entries_until_its_refresh_succeeds(vix_run):
    # Caches end Friday 11-15; Tuesday 01:00 UTC: Monday's ^RUT and ^VIX sessions are overdue.
    # ^RUT refreshes; the VIX source is down: the required VIX is stale -> no entries.
    run = vix_run("2024-11-15", utc("2024-11-19 01:00:05"))
    strategy = run.bot.strategy
    lives = strategy.russell_confirmation_lives["vix"]
    assert len(lives) == 1 and lives[0]._ensure_worker() is strategy.live._ensure_worker()
    run.vix.fault = ConnectionError("Yahoo unreachable")
    with offline_markets(load_markets_snapshot(default_snapshot())):
        run.step(utc("2024-11-19 01:00:05"))
        run.step(utc("2024-11-19 01:00:10"))
        assert strategy.regime.daily["session"].iloc[-1] == pd.Timestamp("2024-11-18")
        assert not strategy.live.state.stale  # the index is fresh...
        assert lives[0].state.stale  # ... the VIX is not
        assert strategy.russell_entry_blocked()
        assert not entry_signal(strategy, run.clock.now)  # the last-moment veto
        assert run.trades() == []
        assert any(m.startswith("Russell data stale: ^VIX") for m in run.sent)
        assert {c["ticker"] for c in run.vix.calls} == {"^VIX"}

        run.step(utc("2024-11-19 02:00:05"))  # a new candle: still blocked
        assert run.trades() == []

        run.vix.fault = None
        run.step(utc("2024-11-19 02:10:05"))  # the VIX's catch-up retry
        run.step(utc("2024-11-19 02:10:10"))
        vix = strategy.russell_confirmations["vix"]
        assert vix.newest_session() == pd.Timestamp("2024-11-18")
        assert load_cache(cache_file(run.cache.parent, "^VIX"), "^VIX")["session"].iloc[-1] == (
            pd.Timestamp("2024-11-18"))
        assert not lives[0].state.stale and not strategy.russell_entry_blocked()
        assert entry_signal(strategy, run.clock.now)

        run.step(utc("2024-11-19 03:00:05"))  # next candle: index gate open, VIX 15.6 < 20
    trades = run.trades()
    assert sorted(t.pair for t in trades) == PAIRS
    assert {t.enter_tag for t in trades} == {"r2k_retest"}
    frame = strategy.dp.get_analyzed_dataframe("BTC/USDT", "1h")[0]
    last = frame.iloc[-1]
    assert last["r2k_vix"] and last["r2k_vix_session"] == pd.Timestamp("2024-11-18")
    assert last["r2k_vix_available_at"] == utc("2024-11-18 21:30")  # 16:15 NY + 15 min


def test_vix_above_the_level_keeps_the_gate_closed_in_the_bot(vix_run):
    # The index gates open on 11-15 (retest); with VIX level 15 (11-15 VIX close 16.14) the
    # confirmation is closed: fresh data, no stale veto, and still no entry.
    run = vix_run("2024-11-15", utc("2024-11-18 20:00:05"))
    strategy = run.bot.strategy
    strategy.vix_level.value = 15.0
    with offline_markets(load_markets_snapshot(default_snapshot())):
        run.step(utc("2024-11-18 20:00:05"))
        run.step(utc("2024-11-18 20:00:10"))
        assert not strategy.russell_entry_blocked()
        run.step(utc("2024-11-18 21:00:05"))
    assert run.trades() == []
    frame = strategy.dp.get_analyzed_dataframe("BTC/USDT", "1h")[0]
    last = frame.iloc[-1]
    assert not last["r2k_vix"] and not last["r2k_gate"]
    assert strategy.russell_gather(frame.iloc[-1:], "gate_open", "btc")[0]  # the index's is open
    assert last["r2k_vix_session"] == pd.Timestamp("2024-11-15")
