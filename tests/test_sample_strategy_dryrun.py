"""GatedSample (freqtrade's SampleStrategy + RussellGateMixin) in a FreqtradeBot dry run.

As in test_dryrun_bot.py only the network edge is faked: exchange markets from the shipped
snapshot, candles / order book / ticker from the real Binance 1h files as of a fake clock,
yfinance from the real ^RUT rows as of the same clock; sockets are refused. SampleStrategy's
entry rule is replaced (on the class, for the test only) by "enter long on the pairs in
``signal_pairs``", so whether the bot enters depends on the Russell gate and staleness alone.
"""

from __future__ import annotations

import socket
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import yfinance
from freqtrade.configuration import Configuration
from freqtrade.enums import RunMode, SignalDirection
from freqtrade.freqtradebot import FreqtradeBot
from freqtrade.persistence import Trade
from freqtrade.persistence.usedb_context import enable_database_use
from freqtrade.templates.sample_strategy import SampleStrategy
from livefakes import FakeYahoo, patch_exchange, seed_cache, utc

from russell_regime.adapter.offline import default_snapshot, load_markets_snapshot, offline_markets
from russell_regime.data.cache import load_cache

pytestmark = [pytest.mark.shared_data, pytest.mark.freqtrade_run]

REPO_ROOT = Path(__file__).resolve().parents[1]
PAIRS = ["BTC/USDT", "ETH/USDT"]


@pytest.fixture
def no_network(monkeypatch):
    real_connect = socket.socket.connect

    def refuse(self, address, *args):
        if self.family == socket.AF_UNIX:
            return real_connect(self, address, *args)
        raise OSError(f"test forbids network access (tried {address!r})")

    def refuse_dns(host, *args, **kwargs):
        raise OSError(f"test forbids name resolution (tried {host!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_dns)


class GatedSampleDryRun:
    """A FreqtradeBot running GatedSample in dry-run on a fake clock; ``step(now)`` = one loop."""

    def __init__(self, tmp_path: Path, shared_data: Path, rut_daily: pd.DataFrame, monkeypatch,
                 cached_until: str, now: pd.Timestamp) -> None:
        self.now = now
        self.yahoo = FakeYahoo(rut_daily, now)
        self.cache = seed_cache(tmp_path / "russell", rut_daily, cached_until)
        self.candles = {
            pair: pd.read_feather(shared_data / "binance" / f"{pair.replace('/', '_')}-1h.feather")
            for pair in PAIRS
        }
        self.signal_pairs: set[str] = set(PAIRS)
        self.sent: list[str] = []
        run = self

        class FakeDatetime(datetime):
            @classmethod
            def now(cls, tz=None):
                now = run.now.to_pydatetime()
                return now.astimezone(tz) if tz is not None else now.replace(tzinfo=None)

        def enter_on_signal_pairs(strategy, dataframe, metadata):
            if metadata["pair"] in run.signal_pairs:
                dataframe["enter_long"] = 1
            return dataframe

        monkeypatch.setattr("freqtrade.freqtradebot.datetime", FakeDatetime)
        monkeypatch.setattr("freqtrade.util.datetime_helpers.datetime", FakeDatetime)
        monkeypatch.setattr(yfinance, "Ticker", self.yahoo.ticker)
        monkeypatch.setattr(SampleStrategy, "populate_entry_trend", enter_on_signal_pairs)
        patch_exchange(monkeypatch, self.closed)
        self.bot = FreqtradeBot(self._config(tmp_path))
        assert type(self.bot.strategy).__name__ == "GatedSample"
        original = self.bot.rpc.process_msg_queue

        def record(queue):
            self.sent.extend(queue)
            return original(queue)

        monkeypatch.setattr(self.bot.rpc, "process_msg_queue", record)
        self.bot.startup()

    def _config(self, tmp_path: Path) -> dict:
        (tmp_path / "user_data").mkdir()
        args = {
            "config": [str(REPO_ROOT / "config.json")],
            "user_data_dir": str(tmp_path / "user_data"),
            "strategy": "GatedSample",
            "strategy_path": str(REPO_ROOT / "tests" / "strategies"),
            "db_url": "sqlite://",
            "dry_run": True,
        }
        config = Configuration(args, RunMode.DRY_RUN).get_config()
        config["exchange"]["pair_whitelist"] = list(PAIRS)
        config["exchange"]["enable_ws"] = False
        config["fee"] = 0.001
        config.pop("fiat_display_currency", None)  # the fiat converter would call CoinGecko
        config["russell_regime"]["cache_dir"] = str(self.cache.parent)
        return config

    def closed(self, pair: str) -> pd.DataFrame:
        frame = self.candles[pair]
        return frame[frame["date"] + pd.Timedelta(hours=1) <= self.now].tail(700).reset_index(
            drop=True
        )

    def step(self, now: pd.Timestamp) -> None:
        """One bot loop at ``now``; then let a refresh it started finish (the next loop,
        5 s later in a real bot, installs it)."""
        self.now = self.yahoo.now = now
        self.bot.process()
        assert self.bot.strategy.live.wait(10)

    def analysed(self, pair: str) -> pd.DataFrame:
        return self.bot.dataprovider.get_analyzed_dataframe(pair, "1h")[0]

    def entered(self) -> list[str]:
        return sorted(t.pair for t in Trade.get_trades_proxy())


@pytest.fixture
def dry_run(tmp_path, shared_data, rut_daily, monkeypatch, no_network):
    enable_database_use()  # in-process backtests elsewhere switch freqtrade's database off
    runs: list[GatedSampleDryRun] = []

    def start(cached_until: str, now: pd.Timestamp) -> GatedSampleDryRun:
        with offline_markets(load_markets_snapshot(default_snapshot())):
            run = GatedSampleDryRun(tmp_path, shared_data, rut_daily, monkeypatch, cached_until,
                                    now)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.bot.cleanup()


def test_gated_sample_refreshes_the_index_and_enters_on_the_new_session(dry_run):
    # Thursday 2024-11-14 closed every gate; Friday 11-15 opens them (retest) at its close,
    # 21:00 UTC, available 21:15 UTC.
    run = dry_run("2024-11-14", utc("2024-11-15 20:30"))
    with offline_markets(load_markets_snapshot(default_snapshot())):
        run.step(utc("2024-11-15 20:30"))
        assert run.entered() == []  # SampleStrategy wants in; the gate of 11-14 is closed
        assert not run.analysed("BTC/USDT")["r2k_gate"].iloc[-1]

        run.step(utc("2024-11-15 21:16"))  # refresh due right after close + lag
        run.step(utc("2024-11-15 21:16:05"))  # ... installed on the next loop
        assert load_cache(run.cache, "^RUT")["session"].iloc[-1] == pd.Timestamp("2024-11-15")
        assert run.entered() == []  # the 20:00 candle closed at 21:00, before 11-15 was out

        run.step(utc("2024-11-15 22:00:05"))  # the 21:00 candle sees 11-15: gate open
    assert run.entered() == PAIRS
    assert {t.enter_tag for t in Trade.get_trades_proxy()} == {"r2k_retest"}
    last = run.analysed("ETH/USDT").iloc[-1]
    assert last["r2k_session"] == pd.Timestamp("2024-11-15") and last["r2k_gate"]
    assert len(run.yahoo.calls) >= 1
    assert any(m.startswith("Russell gate BTC opened (retest") for m in run.sent)


def test_gated_sample_vetoes_entries_once_the_index_data_is_stale(dry_run):
    # Cache ends Friday 11-15 (gates open, retest) and Yahoo is down. Monday 11-18's session
    # (close 21:00 UTC) is overdue from Tuesday 00:15 UTC (lag 15 min + grace 180 min).
    run = dry_run("2024-11-15", utc("2024-11-18 23:00:05"))
    run.yahoo.fault = ConnectionError("Yahoo unreachable")
    strategy = run.bot.strategy
    with offline_markets(load_markets_snapshot(default_snapshot())):
        run.signal_pairs = {"BTC/USDT"}
        run.step(utc("2024-11-18 23:00:05"))  # within the grace: the data still counts
        assert not strategy.live.state.stale
        assert run.entered() == ["BTC/USDT"]
        assert len(run.yahoo.calls) >= 1  # it tried to refresh

        run.signal_pairs = {"ETH/USDT"}
        run.step(utc("2024-11-19 01:00:05"))
        run.step(utc("2024-11-19 01:00:10"))
        assert strategy.live.state.stale
        assert run.entered() == ["BTC/USDT"]  # ETH wants in, its gate of 11-15 is open: vetoed
        assert not run.analysed("ETH/USDT")["r2k_gate"].iloc[-1]
        assert sum(m.startswith("Russell data stale") for m in run.sent) == 1
        assert _last_moment(run, "ETH/USDT") is None  # even a row analysed while fresh

        run.yahoo.fault = None
        run.step(utc("2024-11-19 01:10:05"))  # catch-up retry
        run.step(utc("2024-11-19 01:10:10"))
        assert not strategy.live.state.stale
        assert sum(m.startswith("Russell data fresh again") for m in run.sent) == 1
        assert _last_moment(run, "ETH/USDT") == SignalDirection.LONG

        run.step(utc("2024-11-19 02:00:05"))  # next candle: fresh data, gate open (11-18)
    assert run.entered() == PAIRS


def _last_moment(run: GatedSampleDryRun, pair: str) -> SignalDirection | None:
    """The strategy's entry decision on the current analysed frame with its last row forced
    to an open-gate long signal (what a frame analysed before the data went stale holds)."""
    frame = run.analysed(pair).copy()
    frame.loc[frame.index[-1], ["enter_long", "enter_tag"]] = (1, "r2k_retest")
    signal, _ = run.bot.strategy.get_entry_signal(pair, "1h", frame)
    return signal
