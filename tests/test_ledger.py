"""The decision ledger (data/ledger.py) and its recording by RussellGateMixin in freqtrade's own
dry-run bot (fake clock, fake exchange, fake Yahoo; see test_dryrun_bot)."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from freqtrade.configuration import Configuration
from freqtrade.enums import RunMode
from freqtrade.persistence.usedb_context import enable_database_use
from livefakes import utc
from test_confirm_dryrun import vix_run  # noqa: F401 (fixture)
from test_dryrun_bot import REPO_ROOT, DryRun, no_network  # noqa: F401 (fixture)

from russell_regime.adapter.decisions import entry_outcome
from russell_regime.adapter.live import attempt_outcome
from russell_regime.adapter.offline import default_snapshot, load_markets_snapshot, offline_markets
from russell_regime.data.ledger import SCHEMA_VERSION, Decision, Ledger, Refresh, iso
from russell_regime.errors import ConfigError
from russell_regime.settings import settings_from_config


def decision(**changes) -> Decision:
    row = Decision(
        strategy="S", pair="BTC/USDT", timeframe="1h", candle_close="2024-11-15T22:00:00+00:00",
        decided_at="2024-11-15T22:00:05+00:00", session="2024-11-15",
        available_at="2024-11-15T21:15:00+00:00", close_seen=2300.5, gate=1, stale=0,
        tag="retest", params='{"mode": "any"}', confirmations="{}", entry="allowed",
        pair_class="btc",
    )
    return replace(row, **changes)


def rows(path: Path, table: str = "decisions") -> list[dict]:
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(f"SELECT * FROM {table}")]


# --- the ledger itself --------------------------------------------------------------------


def test_two_writers_on_one_file_never_duplicate_and_a_veto_upgrades(tmp_path):
    path = tmp_path / "sub" / "ledger.sqlite"
    first, second = Ledger(path), Ledger(path)
    first.record_decision(decision())
    assert first.flush()
    second.record_decision(decision(gate=0, entry="blocked"))  # a restart: first row wins
    second.record_decision(decision(candle_close="2024-11-15T23:00:00+00:00"))
    second.record_refresh(Refresh("S", "^RUT", "2024-11-15T21:16:00+00:00", "ok", None,
                                  "2024-11-15"))
    assert second.flush()
    got = rows(path)
    assert len(got) == 2
    assert got[0] == {**decision().__dict__}
    first.record_decision(decision(entry="vetoed"))  # a later veto of the same candle
    assert first.flush()
    second.record_decision(decision())  # and a restart does not undo it
    assert second.flush()
    assert [r["entry"] for r in rows(path)] == ["vetoed", "allowed"]
    assert rows(path, "refreshes") == [{
        "id": 1, "strategy": "S", "ticker": "^RUT", "attempted_at": "2024-11-15T21:16:00+00:00",
        "outcome": "ok", "detail": None, "last_session": "2024-11-15"}]
    assert rows(path, "meta") == [{"key": "schema_version", "value": SCHEMA_VERSION}]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert first.dropped == second.dropped == 0
    first.close()
    second.close()


def test_unwritable_path_is_one_warning_and_never_raises(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    ledger = Ledger(blocker / "ledger.sqlite")  # its folder cannot be created (as root too)
    with caplog.at_level(logging.WARNING, logger="russell_regime.data.ledger"):
        for minute in range(3):
            ledger.record_decision(decision(candle_close=f"2024-11-15T22:0{minute}:00+00:00"))
            assert ledger.flush()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "trading goes on" in warnings[0].getMessage()
    assert ledger.dropped == 3 and ledger.written == 0
    ledger.close()


def test_a_full_queue_drops_rows_counted_and_logged_once(tmp_path, caplog):
    ledger = Ledger(tmp_path / "ledger.sqlite", max_queue=1)
    release, taken = threading.Event(), threading.Event()
    write = ledger._write

    def slow_write(conn, batch):  # the writer is busy (a slow disk)
        taken.set()
        release.wait(10)
        return write(conn, batch)

    ledger._write = slow_write
    ledger.record_decision(decision())
    assert taken.wait(10)  # the writer holds the first row
    with caplog.at_level(logging.WARNING, logger="russell_regime.data.ledger"):
        for minute in range(1, 6):  # one fits in the queue, four are dropped
            ledger.record_decision(decision(candle_close=f"2024-11-15T22:0{minute}:00+00:00"))
    release.set()
    assert ledger.flush()
    full = [r for r in caplog.records if "queue is full" in r.getMessage()]
    assert ledger.dropped == 4 and len(full) == 1
    assert len(rows(tmp_path / "ledger.sqlite")) == 2
    ledger.close()


def test_iso_and_outcomes():
    assert iso(pd.Timestamp("2024-11-15 16:00", tz="America/New_York")) == (
        "2024-11-15T21:00:00+00:00")
    assert iso(pd.NaT) is None
    assert [entry_outcome(s, b) for s, b in ((False, False), (True, True), (True, False))] == [
        "none", "blocked", "allowed"]
    assert attempt_outcome(None) == "ok"
    assert attempt_outcome("RevisionRejected: ^RUT: 3 sessions revised") == "rejected"
    assert attempt_outcome("ConnectionError: Yahoo unreachable") == "failed"


def test_ledger_settings(tmp_path):
    default = settings_from_config({"user_data_dir": str(tmp_path)}).ledger
    assert default.enabled and default.path == tmp_path / "russell_regime" / "ledger.sqlite"
    custom = settings_from_config(
        {"russell_regime": {"ledger": {"enabled": "false", "path": "x/l.sqlite"}}}).ledger
    assert not custom.enabled and custom.path == Path("x/l.sqlite")
    assert settings_from_config({}).ledger.path is None  # no user_data_dir: no ledger
    for bad, says in (({"enabled": "yes"}, "ledger.enabled='yes'"), ("on", "ledger='on'"),
                      ({"file": "x"}, "unknown key 'ledger.file'"), ({"path": ""}, "ledger.path")):
        with pytest.raises(ConfigError, match=says) as info:
            settings_from_config({"russell_regime": {"ledger": bad}})
        assert "\n" not in str(info.value)


# --- in freqtrade's dry-run bot -----------------------------------------------------------


class LedgerDryRun(DryRun):
    """DryRun with a ``ledger`` config section; restartable in the same user_data."""

    def __init__(self, *args, ledger: dict | None = None, **kwargs) -> None:
        self.ledger_section = ledger
        super().__init__(*args, **kwargs)

    def _config(self, tmp_path: Path) -> dict:
        args = {
            "config": [str(REPO_ROOT / "config.json")],
            "user_data_dir": str(tmp_path / "user_data"),
            "strategy": self.strategy_name,
            "strategy_path": str(REPO_ROOT / "user_data" / "strategies"),
            "db_url": "sqlite://",
            "dry_run": True,
        }
        (tmp_path / "user_data").mkdir(exist_ok=True)
        config = Configuration(args, RunMode.DRY_RUN).get_config()
        config["exchange"]["pair_whitelist"] = ["BTC/USDT", "ETH/USDT"]
        config["exchange"]["enable_ws"] = False
        config["fee"] = 0.001
        config.pop("fiat_display_currency", None)
        config["russell_regime"]["cache_dir"] = str(self.cache.parent)
        if self.ledger_section is not None:
            config["russell_regime"]["ledger"] = self.ledger_section
        return config


@pytest.fixture
def ledger_run(tmp_path, shared_data, rut_daily, monkeypatch, no_network):  # noqa: F811
    enable_database_use()
    runs: list[LedgerDryRun] = []

    def start(cached_until: str, now: pd.Timestamp, ledger: dict | None = None) -> LedgerDryRun:
        with offline_markets(load_markets_snapshot(default_snapshot())):
            run = LedgerDryRun(tmp_path, shared_data, rut_daily, monkeypatch, cached_until, now,
                               ledger=ledger)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.close()


def test_dry_run_records_one_row_per_pair_and_candle_across_a_close_and_a_restart(
    ledger_run, tmp_path, rut_daily
):
    path = tmp_path / "user_data" / "russell_regime" / "ledger.sqlite"
    run = ledger_run("2024-11-14", utc("2024-11-15 20:30"))
    with offline_markets(load_markets_snapshot(default_snapshot())):
        run.step(utc("2024-11-15 20:30"))  # candle 19:00-20:00 sees 11-14: every gate closed
        run.step(utc("2024-11-15 21:16"))  # candle 20:00-21:00: still 11-14 (usable 21:15)
        run.step(utc("2024-11-15 21:16:05"))  # same candle, 11-15 installed: no new row
        run.step(utc("2024-11-15 22:00:05"))  # candle 21:00-22:00 sees 11-15: gates open
    strategy = run.bot.strategy
    assert strategy.russell_ledger.flush()
    got = rows(path)
    assert len(got) == 6
    assert len({(r["pair"], r["candle_close"]) for r in got}) == 6
    closes = dict(zip(rut_daily["session"].dt.strftime("%Y-%m-%d"), rut_daily["close"],
                      strict=True))
    for pair in ("BTC/USDT", "ETH/USDT"):
        mine = sorted((r for r in got if r["pair"] == pair), key=lambda r: r["candle_close"])
        assert [(r["candle_close"], r["session"], r["gate"], r["entry"]) for r in mine] == [
            ("2024-11-15T20:00:00+00:00", "2024-11-14", 0, "blocked"),
            ("2024-11-15T21:00:00+00:00", "2024-11-14", 0, "blocked"),
            ("2024-11-15T22:00:00+00:00", "2024-11-15", 1, "allowed"),
        ]
        assert mine[0]["decided_at"] == "2024-11-15T20:30:00+00:00"
        assert mine[2]["available_at"] == "2024-11-15T21:15:00+00:00"
        assert mine[2]["close_seen"] == pytest.approx(closes["2024-11-15"])
        assert mine[0]["close_seen"] == pytest.approx(closes["2024-11-14"])
        assert mine[2]["tag"] == "retest" and mine[2]["stale"] == 0
        assert mine[2]["strategy"] == "RussellRiskOn" and mine[2]["timeframe"] == "1h"
        assert json.loads(mine[2]["params"])["mode"] == strategy.russell_gate_params(
            mine[2]["pair_class"]).mode
        assert json.loads(mine[2]["confirmations"]) == {}
    refreshes = rows(path, "refreshes")
    assert [(r["ticker"], r["outcome"]) for r in refreshes] == [("^RUT", "ok")] * 2
    assert refreshes[-1]["last_session"] == "2024-11-15"
    assert refreshes[-1]["attempted_at"] == "2024-11-15T21:16:00+00:00"
    run.close()

    restarted = ledger_run("2024-11-15", utc("2024-11-15 22:00:10"))  # same user_data
    with offline_markets(load_markets_snapshot(default_snapshot())):
        restarted.step(utc("2024-11-15 22:00:10"))  # the 21:00 candle again
    assert restarted.bot.strategy.russell_ledger.flush()
    assert rows(path) == got  # no duplicate, nothing rewritten


def test_a_stale_veto_turns_the_candles_row_to_vetoed(ledger_run, tmp_path):
    path = tmp_path / "user_data" / "russell_regime" / "ledger.sqlite"
    run = ledger_run("2024-11-15", utc("2024-11-18 20:00:05"))
    strategy = run.bot.strategy
    run.yahoo.fault = ConnectionError("Yahoo unreachable")
    with offline_markets(load_markets_snapshot(default_snapshot())):
        run.step(utc("2024-11-18 20:00:05"))  # fresh: the 19:00 candle enters
        strategy.russell_loop(utc("2024-11-19 01:00:00"))  # stale now, same analysed candle
        frame, _ = strategy.dp.get_analyzed_dataframe("BTC/USDT", "1h")
        frame = frame.copy()
        frame.loc[frame.index[-1], ["enter_long", "enter_tag"]] = (1, "r2k_retest")
        signal, _ = strategy.get_entry_signal("BTC/USDT", "1h", frame)
    assert signal is None
    assert strategy.russell_ledger.flush()
    entries = {r["pair"]: r["entry"] for r in rows(path)
               if r["candle_close"] == "2024-11-18T20:00:00+00:00"}
    assert entries == {"BTC/USDT": "vetoed", "ETH/USDT": "allowed"}
    assert {r["outcome"] for r in rows(path, "refreshes")} == {"failed"}


def test_ledger_disabled_writes_nothing(ledger_run, tmp_path):
    run = ledger_run("2024-11-14", utc("2024-11-15 20:30"), ledger={"enabled": False})
    with offline_markets(load_markets_snapshot(default_snapshot())):
        run.step(utc("2024-11-15 20:30"))
        run.step(utc("2024-11-15 21:16"))
    assert run.bot.strategy.russell_ledger is None
    assert not (tmp_path / "user_data" / "russell_regime").exists()


def test_confirmations_and_their_refreshes_are_recorded(vix_run, tmp_path):  # noqa: F811
    path = tmp_path / "user_data" / "russell_regime" / "ledger.sqlite"
    run = vix_run("2024-11-15", utc("2024-11-19 01:00:05"))
    run.vix.fault = ConnectionError("Yahoo unreachable")
    with offline_markets(load_markets_snapshot(default_snapshot())):
        run.step(utc("2024-11-19 01:00:05"))
        run.step(utc("2024-11-19 01:00:10"))
    assert run.bot.strategy.russell_ledger.flush()
    got = rows(path)
    assert len(got) == 2  # one candle (00:00-01:00) per pair
    for row in got:
        assert json.loads(row["confirmations"]) == {
            "vix": {"session": "2024-11-15", "verdict": 0, "stale": 1}}
        assert (row["gate"], row["stale"], row["entry"]) == (0, 1, "blocked")
    outcomes = {(r["ticker"], r["outcome"]) for r in rows(path, "refreshes")}
    assert outcomes == {("^RUT", "ok"), ("^VIX", "failed")}
