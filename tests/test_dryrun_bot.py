"""Dry run through freqtrade's own bot (FreqtradeBot.process) across a US session close.

Only the network edge is faked: exchange markets come from the shipped snapshot, candles /
order book / ticker from the real Binance 1h files as of a fake clock, yfinance from the real
^RUT rows as of the same clock. Sockets are refused, so any real network use fails the test.
``base_entry`` is forced true so an entry depends on the Russell gate and staleness alone.
"""

from __future__ import annotations

import socket
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import yfinance
from freqtrade.configuration import Configuration
from freqtrade.enums import RunMode
from freqtrade.freqtradebot import FreqtradeBot
from freqtrade.persistence import Trade
from freqtrade.persistence.usedb_context import enable_database_use
from livefakes import FakeYahoo, patch_exchange, seed_cache, utc

from russell_regime.adapter.offline import default_snapshot, load_markets_snapshot, offline_markets
from russell_regime.data.cache import load_cache

REPO_ROOT = Path(__file__).resolve().parents[1]
PAIRS = ["BTC/USDT", "ETH/USDT"]


class Clock:
    """The fake "now" that freqtrade, the candles and Yahoo all see."""

    def __init__(self, now: pd.Timestamp) -> None:
        self.now = now

    def datetime_class(self):
        clock = self

        class FakeDatetime(datetime):
            @classmethod
            def now(cls, tz=None):
                now = clock.now.to_pydatetime()
                return now.astimezone(tz) if tz is not None else now.replace(tzinfo=None)

        return FakeDatetime


@pytest.fixture
def no_network(monkeypatch):
    real_connect = socket.socket.connect

    def refuse(self, address, *args):
        if self.family == socket.AF_UNIX:
            return real_connect(self, address, *args)
        raise OSError(f"test forbids network access (tried {address!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse)

    def refuse_dns(host, *args, **kwargs):
        raise OSError(f"test forbids name resolution (tried {host!r})")

    monkeypatch.setattr(socket, "getaddrinfo", refuse_dns)


class DryRun:
    """A FreqtradeBot in dry-run on the fake clock; ``step(now)`` runs one bot loop."""

    def __init__(self, tmp_path, shared_data, rut_daily, monkeypatch, cached_until: str,
                 now: pd.Timestamp, strategy: str = "RussellRiskOn") -> None:
        self.strategy_name = strategy
        self.clock = Clock(now)
        self.yahoo = FakeYahoo(rut_daily, now)
        self.cache = seed_cache(tmp_path / "russell", rut_daily, cached_until)
        self.candles = {
            pair: pd.read_feather(shared_data / "binance" / f"{pair.replace('/', '_')}-1h.feather")
            for pair in PAIRS
        }
        self.sent: list[str] = []
        fake_datetime = self.clock.datetime_class()
        monkeypatch.setattr("freqtrade.freqtradebot.datetime", fake_datetime)
        monkeypatch.setattr("freqtrade.util.datetime_helpers.datetime", fake_datetime)
        monkeypatch.setattr(yfinance, "Ticker", self.yahoo.ticker)
        patch_exchange(monkeypatch, self.closed)
        self.bot = FreqtradeBot(self._config(tmp_path))
        if hasattr(self.bot.strategy, "base_entry"):
            monkeypatch.setattr(self.bot.strategy, "base_entry",
                                lambda df: pd.Series(True, index=df.index))
        original = self.bot.rpc.process_msg_queue

        def record(queue):  # the strategy's dp.send_msg messages, on their way to Telegram
            self.sent.extend(queue)
            return original(queue)

        monkeypatch.setattr(self.bot.rpc, "process_msg_queue", record)
        self.bot.startup()

    def _config(self, tmp_path: Path) -> dict:
        args = {
            "config": [str(REPO_ROOT / "config.json")],
            "user_data_dir": str(tmp_path / "user_data"),
            "strategy": self.strategy_name,
            "strategy_path": str(REPO_ROOT / ("user_data" if self.strategy_name == "RussellRiskOn"
                                              else "tests") / "strategies"),
            "db_url": "sqlite://",
            "dry_run": True,
        }
        (tmp_path / "user_data").mkdir()
        config = Configuration(args, RunMode.DRY_RUN).get_config()
        config["exchange"]["pair_whitelist"] = list(PAIRS)
        config["exchange"]["enable_ws"] = False
        config["fee"] = 0.001
        config.pop("fiat_display_currency", None)  # the fiat converter would call CoinGecko
        config["russell_regime"]["cache_dir"] = str(self.cache.parent)
        return config

    def closed(self, pair: str) -> pd.DataFrame:
        frame = self.candles[pair]
        done = frame[frame["date"] + pd.Timedelta(hours=1) <= self.clock.now]
        return done.tail(700).reset_index(drop=True)

    def step(self, now: pd.Timestamp) -> None:
        """One bot loop at ``now``, then let a refresh it started finish (the bot would not
        wait; its next loop 5 s later installs the result)."""
        self.clock.now = self.yahoo.now = now
        self.bot.process()
        assert self.bot.strategy.live.wait(10)

    def trades(self) -> list[Trade]:
        return Trade.get_trades_proxy()

    def close(self) -> None:
        self.bot.cleanup()


@pytest.fixture
def dry_run(tmp_path, shared_data, rut_daily, monkeypatch, no_network):
    # backtesting/hyperopt run in-process by other tests switch freqtrade's database off
    enable_database_use()
    runs: list[DryRun] = []

    def start(cached_until: str, now: pd.Timestamp, strategy: str = "RussellRiskOn") -> DryRun:
        with offline_markets(load_markets_snapshot(default_snapshot())):
            run = DryRun(tmp_path, shared_data, rut_daily, monkeypatch, cached_until, now,
                         strategy)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.close()


def test_entry_waits_for_the_session_close_then_follows_the_refreshed_gate(dry_run):
    # Thursday 11-14 closed every gate; Friday 11-15 opens them (retest) at its close,
    # 21:00 UTC (EST), available 21:15 UTC.
    run = dry_run("2024-11-14", utc("2024-11-15 20:30"))
    with offline_markets(load_markets_snapshot(default_snapshot())):
        run.step(utc("2024-11-15 20:30"))  # session in progress: Yahoo's bar is provisional
        assert run.trades() == []
        assert run.bot.strategy.regime.daily["session"].iloc[-1] == pd.Timestamp("2024-11-14")

        run.step(utc("2024-11-15 21:16"))  # refresh due right after close + lag
        run.step(utc("2024-11-15 21:16:05"))  # ... and installed on the next loop
        assert run.bot.strategy.regime.daily["session"].iloc[-1] == pd.Timestamp("2024-11-15")
        assert load_cache(run.cache, "^RUT")["session"].iloc[-1] == pd.Timestamp("2024-11-15")
        assert run.trades() == []  # the 20:00 candle closed at 21:00, before 11-15 was usable
        assert any(m.startswith("Russell gate BTC opened (retest") for m in run.sent)

        run.step(utc("2024-11-15 22:00:05"))  # the 21:00 candle sees 11-15: gate open
    trades = run.trades()
    assert sorted(t.pair for t in trades) == PAIRS
    assert {t.enter_tag for t in trades} == {"r2k_retest"}
    assert len(run.yahoo.calls) == 2


def test_entries_blocked_while_yahoo_is_down_and_allowed_after_recovery(dry_run):
    # Cache ends Friday 11-15 (gates open); on Tuesday 01:00 UTC Monday's session is overdue.
    run = dry_run("2024-11-15", utc("2024-11-19 01:00:05"))
    run.yahoo.fault = ConnectionError("Yahoo unreachable")
    with offline_markets(load_markets_snapshot(default_snapshot())):
        run.step(utc("2024-11-19 01:00:05"))
        run.step(utc("2024-11-19 01:00:10"))
        assert run.bot.strategy.live.state.stale
        assert run.trades() == []  # the gate of 11-15 is open, but the data is stale
        assert sum(m.startswith("Russell data stale") for m in run.sent) == 1
        assert not entry_signal(run.bot.strategy, run.clock.now)  # the last-moment veto agrees

        run.yahoo.fault = None
        run.step(utc("2024-11-19 01:10:05"))  # catch-up retry
        run.step(utc("2024-11-19 01:10:10"))
        assert not run.bot.strategy.live.state.stale
        assert sum(m.startswith("Russell data fresh again") for m in run.sent) == 1
        assert entry_signal(run.bot.strategy, run.clock.now)
        assert run.trades() == []  # same candle: analysed while stale

        run.step(utc("2024-11-19 02:00:05"))  # next candle: fresh data, gate open (11-18)
    assert sorted(t.pair for t in run.trades()) == PAIRS


def entry_signal(strategy, now: pd.Timestamp) -> bool:
    """Would freqtrade enter long on a fresh candle carrying a long signal (the last-moment
    veto in ``get_entry_signal``, which ``FreqtradeBot.create_trade`` calls)?"""
    candle = pd.DataFrame({"date": [now.floor("h") - pd.Timedelta(hours=1)], "enter_long": [1],
                           "enter_tag": ["r2k_retest"]})
    signal, _ = strategy.get_entry_signal("BTC/USDT", "1h", candle)
    return signal is not None
