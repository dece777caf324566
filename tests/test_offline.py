"""Offline freqtrade: markets snapshot, patch, refresh, and a real backtest with no network."""

from __future__ import annotations

import json
import os
import socket
import textwrap
from pathlib import Path

import pytest

from russell_regime.adapter.offline import (
    SnapshotError,
    default_snapshot,
    load_markets_snapshot,
    main,
    offline_markets,
    refresh_snapshot,
    run_freqtrade,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = REPO_ROOT / "config.json"


def _market(symbol: str) -> dict:
    base, quote = symbol.split("/")
    return {
        "id": f"{base}{quote}",
        "symbol": symbol,
        "base": base,
        "quote": quote,
        "type": "spot",
        "spot": True,
        "active": True,
        "precision": {"amount": 0.001, "price": 0.01},
        "limits": {"amount": {"min": 0.001, "max": None}, "cost": {"min": 5.0, "max": None}},
        "info": {},
    }


# (a) -----------------------------------------------------------------------------------------


def test_load_snapshot_rejects_non_dict(tmp_path: Path) -> None:
    path = tmp_path / "markets.json"
    path.write_text(json.dumps([_market("BTC/USDT")]))
    with pytest.raises(SnapshotError, match=r"markets\.json.*expected a JSON object.*list"):
        load_markets_snapshot(path)


def test_load_snapshot_rejects_market_without_symbol(tmp_path: Path) -> None:
    market = _market("BTC/USDT")
    del market["symbol"]
    path = tmp_path / "markets.json"
    path.write_text(json.dumps({"BTC/USDT": market}))
    with pytest.raises(SnapshotError, match=r"markets\.json.*'BTC/USDT' lacks symbol"):
        load_markets_snapshot(path)


def test_load_snapshot_rejects_bad_json_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SnapshotError, match=r"bad\.json.*not valid JSON"):
        load_markets_snapshot(bad)
    with pytest.raises(SnapshotError, match=r"absent\.json.*cannot read"):
        load_markets_snapshot(tmp_path / "absent.json")


# (b) -----------------------------------------------------------------------------------------


def test_shipped_snapshot_covers_config_whitelist() -> None:
    config = json.loads(CONFIG.read_text())
    markets = load_markets_snapshot(default_snapshot())
    whitelist = config["exchange"]["pair_whitelist"]
    assert len(whitelist) == 10
    assert set(whitelist) <= set(markets)
    for pair in whitelist:
        m = markets[pair]
        assert m["spot"] is True and m["type"] == "spot" and m["active"] is True
        assert m["quote"] == config["stake_currency"] == "USDT"
        assert m["id"] == pair.replace("/", "")
        assert 0 < m["precision"]["amount"] <= 1 and 0 < m["precision"]["price"] < 1
        assert m["limits"]["cost"]["min"] in (5.0, 10.0)


def test_offline_markets_patch_is_restored() -> None:
    from freqtrade.exchange.exchange import Exchange

    original = Exchange.__dict__["_load_async_markets"]
    with offline_markets({"BTC/USDT": _market("BTC/USDT")}):
        assert Exchange.__dict__["_load_async_markets"] is not original
    assert Exchange.__dict__["_load_async_markets"] is original


# (c) -----------------------------------------------------------------------------------------


class FakeCcxt:
    def __init__(self, symbols: list[str]) -> None:
        self.markets = {s: _market(s) for s in symbols}
        self.calls = 0

    def load_markets(self) -> dict:
        self.calls += 1
        return self.markets


def test_refresh_snapshot_keeps_only_requested_pairs(tmp_path: Path) -> None:
    api = FakeCcxt(["BTC/USDT", "ETH/USDT", "XRP/USDT", "ETH/BTC"])
    out = tmp_path / "sub" / "snap.json"
    out.parent.mkdir()
    out.write_text('{"OLD/USDT": 1}')  # replaced, not appended to
    assert refresh_snapshot("binance", ["ETH/USDT", "BTC/USDT"], out, api=api) == out
    assert api.calls == 1
    text = out.read_text()
    assert list(json.loads(text)) == ["BTC/USDT", "ETH/USDT"]  # sorted keys
    assert load_markets_snapshot(out)["ETH/USDT"]["base"] == "ETH"
    assert sorted(os.listdir(out.parent)) == ["snap.json"]  # no temp file left behind


def test_refresh_snapshot_names_missing_pair_and_keeps_old_file(tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    out.write_text("previous")
    api = FakeCcxt(["BTC/USDT"])
    with pytest.raises(SnapshotError, match=r"binance.*DOGE/USDT"):
        refresh_snapshot("binance", ["BTC/USDT", "DOGE/USDT"], out, api=api)
    assert out.read_text() == "previous"
    assert os.listdir(tmp_path) == ["snap.json"]


# (d) + (e) -----------------------------------------------------------------------------------

STRATEGY = """
    import talib.abstract as ta
    from pandas import DataFrame

    from freqtrade.strategy import IStrategy


    class OfflineEmaCross(IStrategy):
        INTERFACE_VERSION = 3
        timeframe = "1h"
        minimal_roi = {"0": 10.0}
        stoploss = -0.10
        startup_candle_count = 30
        process_only_new_candles = True

        def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
            dataframe["fast"] = ta.EMA(dataframe, timeperiod=9)
            dataframe["slow"] = ta.EMA(dataframe, timeperiod=21)
            return dataframe

        def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
            up = (dataframe["fast"] > dataframe["slow"]) & (
                dataframe["fast"].shift(1) <= dataframe["slow"].shift(1)
            )
            dataframe.loc[up & (dataframe["volume"] > 0), "enter_long"] = 1
            return dataframe

        def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
            down = (dataframe["fast"] < dataframe["slow"]) & (
                dataframe["fast"].shift(1) >= dataframe["slow"].shift(1)
            )
            dataframe.loc[down, "exit_long"] = 1
            return dataframe
"""


def _tree_state(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Make every network connect / name lookup fail loudly (and record the attempt)."""
    attempts: list[object] = []

    real_connect = socket.socket.connect

    def refuse(self: socket.socket, address: object, *args: object) -> None:
        if self.family == socket.AF_UNIX:  # local IPC (multiprocessing) is fine
            return real_connect(self, address, *args)
        attempts.append(address)
        raise OSError(f"test forbids network access (tried {address!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse)

    def refuse_dns(host: object, *args: object, **kwargs: object) -> None:
        attempts.append(host)
        raise OSError(f"test forbids name resolution (tried {host!r})")

    monkeypatch.setattr(socket, "getaddrinfo", refuse_dns)
    return attempts


@pytest.mark.freqtrade_run
def test_backtesting_runs_offline_on_shared_data(
    shared_data: Path, tmp_path: Path, no_network: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    from freqtrade.data.btanalysis import load_backtest_stats

    datadir = shared_data / "binance"
    before = _tree_state(datadir)
    strategy_dir = tmp_path / "strategies"
    strategy_dir.mkdir()
    (strategy_dir / "offline_ema_cross.py").write_text(textwrap.dedent(STRATEGY))
    userdir = tmp_path / "user_data"
    userdir.mkdir()
    results = tmp_path / "backtest_results"
    results.mkdir()
    monkeypatch.chdir(tmp_path)

    code = run_freqtrade(
        [
            "backtesting",
            "--config", str(CONFIG),
            "--userdir", str(userdir),
            "--datadir", str(datadir),
            "--strategy-path", str(strategy_dir),
            "--strategy", "OfflineEmaCross",
            "--timeframe", "1h",
            "--timerange", "20240101-20240201",
            "--pairs", "BTC/USDT", "ETH/USDT",
            "--export", "trades",
            "--backtest-directory", str(results),
            "--cache", "none",
        ],
        default_snapshot(),
    )  # fmt: skip

    assert code == 0
    assert no_network == []
    stats = load_backtest_stats(results)
    strat = stats["strategy"]["OfflineEmaCross"]
    assert strat["total_trades"] > 0
    assert {t["pair"] for t in strat["trades"]} <= {"BTC/USDT", "ETH/USDT"}
    assert _tree_state(datadir) == before  # nothing written into the shared data


@pytest.mark.freqtrade_run
def test_cli_runs_test_pairlist_offline(
    tmp_path: Path, no_network: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """config.json + the shipped snapshot pass freqtrade's exchange validation offline."""
    monkeypatch.chdir(tmp_path)  # config's relative datadir gets created under cwd
    userdir = tmp_path / "user_data"
    userdir.mkdir()
    code = main(["freqtrade", "test-pairlist", "--config", str(CONFIG), "--userdir", str(userdir)])
    assert code == 0
    assert no_network == []


def test_run_freqtrade_reports_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """freqtrade exits with None (0) on a configuration error; run_freqtrade returns 2."""
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "config.json"
    config = json.loads(CONFIG.read_text())
    config["max_open_trades"] = "five"
    bad.write_text(json.dumps(config))
    userdir = tmp_path / "user_data"
    userdir.mkdir()
    assert run_freqtrade(["show-config", "--config", str(bad), "--userdir", str(userdir)]) == 2
