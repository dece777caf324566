"""The decision ledger end to end: freqtrade's dry-run bot (fake clock, exchange and Yahoo; see
test_ledger / test_dryrun_bot) over three US closes with a Yahoo outage, a restart mid-session
and an upstream revision of a close the bot had used; then the real ``ledger verify`` /
``ledger report`` / ``status`` entry points (subprocesses) on the ledger it wrote, checked
against the final (revised) index file, before and after a row is tampered with."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from freqtrade.persistence.usedb_context import enable_database_use
from livefakes import utc
from test_confirm_dryrun import vix_run  # noqa: F401 (fixture)
from test_dryrun_bot import no_network  # noqa: F401 (fixture)
from test_ledger import LedgerDryRun, rows

from russell_regime.adapter.offline import default_snapshot, load_markets_snapshot, offline_markets

PAIRS = ("BTC/USDT", "ETH/USDT")
REVISED_SESSION = "2024-11-19"
OLD_CLOSE, NEW_CLOSE = 2324.830078125, 2318.0  # ^RUT 2024-11-19, and Yahoo's later revision


def closes(*texts: str) -> set[tuple[str, str]]:
    """(pair, candle_close ISO) of every pair for these UTC candle closes."""
    return {(pair, utc(t).isoformat()) for pair in PAIRS for t in texts}


# What each injected event makes of the rows (candle closes, UTC).
LATE = closes("2024-11-18 22:00", "2024-11-18 23:00", "2024-11-19 00:00", "2024-11-19 01:00",
              "2024-11-19 02:00")  # Yahoo down from the 11-18 close: the bot keeps 11-15
STALE = closes("2024-11-19 01:00", "2024-11-19 02:00")  # ... past the 180 min grace
REVISED = closes("2024-11-19 22:00", "2024-11-20 03:00", "2024-11-20 09:00", "2024-11-20 14:00",
                 "2024-11-20 15:00", "2024-11-20 17:00")  # saw 11-19 before its revision
TAMPERED = ("ETH/USDT", "2024-11-18T19:00:00+00:00")


@pytest.fixture
def revised_daily(rut_daily) -> pd.DataFrame:
    daily = rut_daily.copy()
    at = daily["session"] == pd.Timestamp(REVISED_SESSION)
    assert daily.loc[at, "close"].iloc[0] == pytest.approx(OLD_CLOSE)
    daily.loc[at, "close"] = NEW_CLOSE  # inside the day's low/high: a valid row
    return daily


@pytest.fixture
def revised_csv(tmp_path, rut_csv) -> Path:
    """The final index data: the real ^RUT file with Yahoo's revised 2024-11-19 close."""
    frame = pd.read_csv(rut_csv)
    frame.loc[frame["date"] == REVISED_SESSION, "close"] = NEW_CLOSE
    path = tmp_path / "rut_final.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def bot(tmp_path, shared_data, monkeypatch, no_network):  # noqa: F811
    """``start(daily, cached_until, now)``: a dry-run bot on tmp_path's user_data serving
    ``daily`` from the fake Yahoo; ``steps(run, *times)`` runs one bot loop per instant."""
    enable_database_use()
    markets = load_markets_snapshot(default_snapshot())
    runs: list[LedgerDryRun] = []

    def start(daily: pd.DataFrame, cached_until: str, now: str) -> LedgerDryRun:
        with offline_markets(markets):
            run = LedgerDryRun(tmp_path, shared_data, daily, monkeypatch, cached_until, utc(now))
        runs.append(run)
        return run

    def steps(run: LedgerDryRun, *times: str) -> None:
        with offline_markets(markets):
            for when in times:
                run.step(utc(when))
        assert run.bot.strategy.russell_ledger.flush()

    yield start, steps
    for run in runs:
        run.close()


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "russell_regime", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def line(text: str, start: str) -> str:
    return next(x for x in text.splitlines() if x.startswith(start))


def test_days_of_dry_run_with_outage_restart_and_revision_verify_and_report(
    bot, tmp_path, rut_daily, revised_daily, revised_csv
):
    start, steps = bot
    ledger = tmp_path / "user_data" / "russell_regime" / "ledger.sqlite"
    run = start(rut_daily, "2024-11-15", "2024-11-18 18:00:05")
    steps(run, "2024-11-18 18:00:05", "2024-11-18 19:00:05", "2024-11-18 20:00:05",
          "2024-11-18 21:00:05")
    # (1) Yahoo fails from Monday's close (21:15 UTC) to Tuesday 02:30: the bot keeps 11-15,
    # goes stale at 00:15 (grace 180 min), and catches up 10 minutes after Yahoo is back.
    run.yahoo.fault = ConnectionError("Yahoo unreachable")
    steps(run, "2024-11-18 21:16", "2024-11-18 22:00:05", "2024-11-18 23:00:05",
          "2024-11-19 00:00:05", "2024-11-19 01:00:05", "2024-11-19 02:00:05")
    run.yahoo.fault = None
    steps(run, "2024-11-19 02:30:05", "2024-11-19 02:30:10", "2024-11-19 03:00:05",
          "2024-11-19 09:00:05", "2024-11-19 15:00:05", "2024-11-19 21:00:05",
          "2024-11-19 21:16", "2024-11-19 21:16:05", "2024-11-19 22:00:05",
          "2024-11-20 03:00:05", "2024-11-20 09:00:05", "2024-11-20 14:00:05")
    refreshes = rows(ledger, "refreshes")
    failed = [r for r in refreshes if r["outcome"] == "failed"]
    assert len(failed) == 6 and {r["last_session"] for r in failed} == {"2024-11-15"}
    assert all("Yahoo unreachable" in r["detail"] for r in failed)
    assert refreshes[len(failed) + 4]["outcome"] == "ok"  # the catch-up at 02:30:05
    assert refreshes[len(failed) + 4]["last_session"] == "2024-11-18"

    # (3) Restart mid-session (Wednesday 09:00 New York) on the same user_data: the candle the
    # first bot recorded is decided again, and its row stays as it was.
    before = rows(ledger)
    run.close()
    run = start(rut_daily, "2024-11-19", "2024-11-20 14:00:10")
    steps(run, "2024-11-20 14:00:10")
    assert rows(ledger) == before
    steps(run, "2024-11-20 15:00:05")
    assert len(rows(ledger)) == len(before) + 2

    # (2) Yahoo revises Tuesday's close after the bot used it; its next refresh (the refetch
    # window) installs the revision, so candles from the 18:00 refresh on see the new close.
    run.yahoo.daily = revised_daily
    steps(run, "2024-11-20 17:00:05", "2024-11-20 21:00:05", "2024-11-20 21:16",
          "2024-11-20 21:16:05", "2024-11-20 22:00:05", "2024-11-21 03:00:05")
    got = rows(ledger)
    assert len(got) == 44 and len({(r["pair"], r["candle_close"]) for r in got}) == 44
    seen = {(r["pair"], r["candle_close"]): (r["session"], r["close_seen"]) for r in got}
    assert {k for k, (s, c) in seen.items() if s == REVISED_SESSION and c == OLD_CLOSE} == REVISED
    assert seen[("BTC/USDT", "2024-11-20T21:00:00+00:00")] == (REVISED_SESSION, NEW_CLOSE)
    assert {(r["pair"], r["candle_close"]) for r in got if r["stale"]} == STALE

    # The real entry point, against the final (revised) data.
    verify = ("ledger", "verify", "--ledger", str(ledger), "--source", "file",
              "--path", str(revised_csv))
    out = cli(tmp_path, *verify, "--json")
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    result = json.loads(out.stdout)
    assert result["counts"] == {"agree": 22, "revised upstream": 12, "late data": 10,
                                "mismatch": 0}
    assert result["ok"] and result["rows"] == 44
    by_class: dict[str, dict[tuple[str, str], dict]] = {}
    for r in result["not_agree"]:
        by_class.setdefault(r["class"], {})[(r["pair"], r["candle_close"])] = r
    assert set(by_class) == {"late data", "revised upstream"}
    assert set(by_class["late data"]) == LATE and set(by_class["revised upstream"]) == REVISED
    for key, r in by_class["late data"].items():
        hours = int(key[1][11:13])  # 22, 23, 0, 1, 2 -> 45 min after 21:15, ...
        assert r["late_minutes"] == 45 + 60 * ((hours - 22) % 24)
        assert r["detail"].startswith("saw 2024-11-15, a backtest sees 2024-11-18")
        assert r["detail"].endswith("(stale)") == (key in STALE)
    for r in by_class["revised upstream"].values():
        assert r["detail"] == ("session 2024-11-19 close 2324.83 -> 2318 (-0.2938%); "
                               "gate unchanged")
    text = cli(tmp_path, *verify)
    assert text.returncode == 0 and "result    ok: no mismatch" in text.stdout
    meta = {r["key"]: r["value"] for r in rows(ledger, "meta")}
    kept = json.loads(meta["last_verify"])
    assert kept["exit_code"] == 0 and kept["counts"] == result["counts"]
    assert meta["last_verify_at"] == kept["at"]

    report = cli(tmp_path, "ledger", "report", "--ledger", str(ledger))
    assert report.returncode == 0, report.stderr
    assert "period    2024-11-18 18:00 -> 2024-11-21 03:00 UTC" in report.stdout
    assert "entries   allowed 40, blocked 4, vetoed 0, none 0" in report.stdout
    for pair in PAIRS:
        assert f"pair      {pair}: 22 candle(s)" in report.stdout
        assert (f"stale     {pair}: 2024-11-19 01:00 -> 2024-11-19 02:00 UTC (2 candle(s), 1h)"
                in report.stdout)

    config = tmp_path / "status.json"
    config.write_text(json.dumps({"user_data_dir": str(tmp_path / "user_data"),
                                  "russell_regime": {"source": "file",
                                                     "path": str(revised_csv)}}))
    status = cli(tmp_path, "status", "--config", str(config), "--now", "2024-11-21T03:30")
    assert status.returncode == 0, status.stderr
    assert line(status.stdout, "ledger") == f"ledger    {ledger} (44 decisions)"
    assert line(status.stdout, "decision  ETH") == (
        "decision  ETH/USDT (RussellRiskOn 1h): candle 2024-11-21 03:00 UTC, gate open, "
        "entry allowed (session 2024-11-20)")
    assert line(status.stdout, "verify").endswith(
        "ok (exit 0), agree 22, revised upstream 12, late data 10, mismatch 0")

    # A row changed by hand is a mismatch, named; exit 1; status shows the failed verify.
    with sqlite3.connect(ledger) as db:
        db.execute("UPDATE decisions SET gate = 1 - gate WHERE pair = ? AND candle_close = ?",
                   TAMPERED)
    db.close()
    out = cli(tmp_path, *verify, "--json")
    assert out.returncode == 1, out.stderr
    result = json.loads(out.stdout)
    assert result["counts"] == {"agree": 21, "revised upstream": 12, "late data": 10,
                                "mismatch": 1}
    assert [(r["pair"], r["candle_close"]) for r in result["not_agree"]
            if r["class"] == "mismatch"] == [TAMPERED]
    text = cli(tmp_path, *verify)
    assert text.returncode == 1
    named = line(text.stdout, "ETH/USDT  1h         2024-11-18T19:00")
    assert "mismatch" in named and "gate recorded 0, a backtest computes 1" in named
    status = cli(tmp_path, "status", "--config", str(config), "--now", "2024-11-21T03:30")
    assert line(status.stdout, "verify").endswith(
        "MISMATCH (exit 1), agree 21, revised upstream 12, late data 10, mismatch 1")


def test_a_stale_confirmation_closes_the_gate_and_verify_accepts_it(
    vix_run, tmp_path, rut_csv  # noqa: F811
):
    # (4) ^VIX (required) is unreachable: its 11-15 value goes stale on 11-19 while ^RUT
    # catches up to 11-18 (open gate): the 02:00 candle is recorded with the gate closed by the
    # stale confirmation, which verify accepts; the 01:00 candle still saw ^RUT 11-15.
    ledger = tmp_path / "user_data" / "russell_regime" / "ledger.sqlite"
    run = vix_run("2024-11-15", utc("2024-11-19 01:00:05"))
    run.vix.fault = ConnectionError("Yahoo unreachable")
    with offline_markets(load_markets_snapshot(default_snapshot())):
        for when in ("2024-11-19 01:00:05", "2024-11-19 01:00:10", "2024-11-19 02:00:05"):
            run.step(utc(when))
    assert run.bot.strategy.russell_ledger.flush()
    got = {r["candle_close"]: r for r in rows(ledger) if r["pair"] == "BTC/USDT"}
    last = got["2024-11-19T02:00:00+00:00"]
    assert (last["session"], last["gate"], last["stale"], last["entry"]) == (
        "2024-11-18", 0, 1, "blocked")
    assert json.loads(last["confirmations"])["vix"]["verdict"] == 0
    out = cli(tmp_path, "ledger", "verify", "--ledger", str(ledger), "--source", "file",
              "--path", str(rut_csv), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["counts"] == {"agree": 2, "revised upstream": 0, "late data": 2,
                                "mismatch": 0}
    assert {r["candle_close"] for r in result["not_agree"]} == {"2024-11-19T01:00:00+00:00"}
