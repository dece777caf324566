"""``python -m russell_regime status --now T`` (subprocess, file source): it shows exactly what a
bot would have had at T: the newest session available at T, its gate, staleness at T."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from russell_regime.core.refresh import duration_label


def _status(tmp_path, rows: pd.DataFrame, now: str, confirmations: dict | None = None
            ) -> subprocess.CompletedProcess:
    data = tmp_path / "rut.csv"
    rows.assign(session=rows["session"].dt.strftime("%Y-%m-%d")).rename(
        columns={"session": "date"}
    ).to_csv(data, index=False)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"russell_regime": {
        "source": "file", "path": str(data), "cache_dir": str(tmp_path / "cache"),
        **({"confirmations": confirmations} if confirmations else {}),
    }}))
    return subprocess.run(
        [sys.executable, "-m", "russell_regime", "status", "--config", str(config), "--now", now],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )


def _line(out: str, key: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(key))


def test_status_at_t_ignores_rows_not_yet_available(tmp_path, rut_daily):
    # The file holds 2024-11-18 (available 21:15 UTC) and 11-19; at 20:00 on 11-18 a bot had 11-15.
    rows = rut_daily[rut_daily["session"] <= "2024-11-19"]
    out = _status(tmp_path, rows, "2024-11-18T20:00")
    assert out.returncode == 0, out.stderr
    assert _line(out.stdout, "session") == (
        "session   2024-11-15 (available 2024-11-15 21:15 UTC, age 2d 22h 45m)"
    )
    assert "ignored   2 newer row(s) not available at 2024-11-18 20:00 UTC (up to 2024-11-19)" in (
        out.stdout
    )
    assert _line(out.stdout, "stale").startswith("stale     no")
    for cls in ("btc", "eth", "alt"):
        assert f"gate      {cls} open (retest, mode any) on ^RUT 2024-11-15" in out.stdout
    assert "-" not in _line(out.stdout, "session").split("age")[1]


def test_status_at_a_later_t_shows_the_newest_row(tmp_path, rut_daily):
    # Same file, a later instant: every row is available, none is ignored.
    rows = rut_daily[rut_daily["session"] <= "2024-11-19"]
    later = _status(tmp_path, rows, "2024-11-20T12:00")
    assert later.returncode == 0, later.stderr
    assert _line(later.stdout, "session").startswith("session   2024-11-19 (available")
    assert "ignored" not in later.stdout


def test_status_before_the_first_row_is_available_reports_no_data(tmp_path, rut_daily):
    sessions = rut_daily["session"]
    rows = rut_daily[(sessions >= "2024-11-01") & (sessions <= "2024-11-19")]
    out = _status(tmp_path, rows, "2024-10-31T12:00")
    assert out.returncode == 0, out.stderr
    assert _line(out.stdout, "session") == "session   none"
    assert _line(out.stdout, "stale").startswith("stale     yes -> entries blocked")
    assert "gate      btc no data (closed)" in out.stdout


def test_status_of_stale_data_at_t(tmp_path, rut_daily):
    rows = rut_daily[rut_daily["session"] <= "2024-11-13"]
    out = _status(tmp_path, rows, "2024-11-19T12:00")
    assert out.returncode == 0, out.stderr
    assert _line(out.stdout, "expected") == "expected  2024-11-18 (allowance 180 min)"
    assert _line(out.stdout, "stale").startswith("stale     yes -> entries blocked")


@pytest.mark.parametrize(("minutes", "label"), [
    (0, "0h 00m"), (59.9, "0h 59m"), (61, "1h 01m"), (24 * 60 + 5, "1d 0h 05m"),
    (-30, "-0h 30m"), (-(24 * 60 + 61), "-1d 1h 01m"), (-0.5, "0h 00m"),
])
def test_duration_label_for_any_sign(minutes, label):
    assert duration_label(pd.Timedelta(minutes=minutes)) == label


def test_status_shows_every_configured_confirmation(tmp_path, rut_daily, shared_data):
    """Each confirmation: its series' last session and available_at at T, its rule's verdict
    on the newest session, stale or not and what that does; stray rows dropped are named."""
    vix = pd.read_csv(shared_data / "index" / "VIX.csv")
    cut = vix[vix["date"] <= "2024-11-13"]
    stray = cut[cut["date"] == "2024-08-30"].assign(date="2024-09-02")  # Labor Day
    short = tmp_path / "vix_short.csv"
    pd.concat([cut, stray]).sort_values("date").to_csv(short, index=False)
    rows = rut_daily[rut_daily["session"] <= "2024-11-19"]
    out = _status(tmp_path, rows, "2024-11-19T12:00", {
        "vix": {"source": "file", "path": str(short), "level": 20},
        "value": {"ticker": "IWN", "versus": "IWM", "source": "file", "required": False,
                  "path": str(shared_data / "index" / "IWN.csv"),
                  "versus_path": str(shared_data / "index" / "IWM.csv")},
    })
    assert out.returncode == 0, out.stderr
    close = float(cut[cut["date"] == "2024-11-13"]["close"].iloc[0])
    assert _line(out.stdout, "confirm   vix") == (
        "confirm   vix (required): ^VIX last session 2024-11-13 (available 2024-11-13 21:30 UTC); "
        f"rule level (level 20, window 50): {'open' if close < 20 else 'closed'} on 2024-11-13; "
        "stale yes -> entries blocked (stale_policy block_entries)"
    )
    value = _line(out.stdout, "confirm   value")
    assert value.startswith(
        "confirm   value (optional): IWN last session 2024-11-18 (available 2024-11-18 21:15 UTC); "
        "rule high (tolerance 0.02, window 50): ")  # rule high: the versus series is not used
    assert value.endswith("on 2024-11-18; stale no")
    assert _line(out.stdout, "dropped") == (
        "dropped   ^VIX: 1 stray row(s) not on a XNYS session: 2024-09-02"
    )


# --- the decision ledger in status, and verify's outcome kept in it -------------------------


def _ledger(tmp_path, rut_daily) -> Path:
    """An honest ledger at the default path (``user_data`` under the caller's folder): BTC and
    ETH 1h candles closing 2024-11-18 20:00 (sees 11-15) and 22:00 (sees 11-18)."""
    from russell_regime.adapter.decisions import decision_row
    from russell_regime.core.calendar import Availability
    from russell_regime.core.gate import GateParams, daily_gate
    from russell_regime.data.ledger import Ledger

    path = tmp_path / "user_data" / "russell_regime" / "ledger.sqlite"
    params = GateParams()
    gate = daily_gate(rut_daily, params)["gate_open"].to_numpy(dtype=bool)
    available = Availability().available_at(rut_daily["session"])
    ledger = Ledger(path)
    for close in ("2024-11-18 20:00", "2024-11-18 22:00"):
        at = pd.Timestamp(close, tz="UTC")
        i = int((available < at).sum()) - 1
        for pair in ("BTC/USDT", "ETH/USDT"):
            ledger.record_decision(decision_row(
                strategy="RussellRiskOn", pair=pair, timeframe="1h", candle_close=at,
                decided_at=at + pd.Timedelta(seconds=5), session=rut_daily["session"].iloc[i],
                available_at=available[i], close_seen=rut_daily["close"].iloc[i],
                gate=bool(gate[i]), stale=False, tag=None, params=params, confirmations={},
                entry="allowed" if gate[i] else "blocked", pair_class=pair[:3].lower(),
            ))
    ledger.close()
    return path


def _verify(tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "russell_regime", "ledger", "verify", "--config",
         str(tmp_path / "config.json")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )


def test_status_shows_the_ledgers_last_decisions_and_the_last_verify(tmp_path, rut_daily):
    rows = rut_daily[rut_daily["session"] <= "2024-11-19"]
    before = _status(tmp_path, rows, "2024-11-18T23:00").stdout.splitlines()  # no ledger yet
    assert not [x for x in before if x.startswith(("ledger", "decision", "verify"))]
    path = _ledger(tmp_path, rut_daily)
    out = _status(tmp_path, rows, "2024-11-18T23:00")
    assert out.returncode == 0, out.stderr
    assert _line(out.stdout, "ledger") == f"ledger    {path} (4 decisions)"
    assert [x for x in out.stdout.splitlines() if x.startswith("decision")] == [
        f"decision  {pair} (RussellRiskOn 1h): candle 2024-11-18 22:00 UTC, gate open, "
        "entry allowed (session 2024-11-18)" for pair in ("BTC/USDT", "ETH/USDT")]
    assert _line(out.stdout, "verify") == (
        "verify    never run (python -m russell_regime ledger verify)")
    earlier = _status(tmp_path, rows, "2024-11-18T21:00")  # as of --now: the 20:00 candle
    assert "candle 2024-11-18 20:00 UTC, gate open, entry allowed (session 2024-11-15)" in (
        _line(earlier.stdout, "decision  BTC"))

    verify = _verify(tmp_path)
    assert verify.returncode == 0, verify.stderr
    assert verify.stderr == ""
    after = _status(tmp_path, rows, "2024-11-18T23:00")
    verified = _line(after.stdout, "verify")
    assert verified.endswith(
        " UTC: ok (exit 0), agree 4, revised upstream 0, late data 0, mismatch 0")
    at = pd.Timestamp(verified.split()[1] + " " + verified.split()[2], tz="UTC")
    assert abs(pd.Timestamp.now(tz="UTC") - at) < pd.Timedelta(minutes=5)
    with sqlite3.connect(path) as db:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    db.close()
    kept = json.loads(meta["last_verify"])
    assert meta["last_verify_at"] == kept["at"]
    assert kept["exit_code"] == 0 and kept["rows"] == 4
    assert kept["index"]["ticker"] == "^RUT" and kept["index"]["last_session"] == "2024-11-19"


@pytest.mark.parametrize("case", ["read-only", "locked"])
def test_verify_on_a_ledger_it_cannot_write_warns_once_and_keeps_its_exit_code(
    tmp_path, rut_daily, case
):
    rows = rut_daily[rut_daily["session"] <= "2024-11-19"]
    assert _status(tmp_path, rows, "2024-11-18T23:00").returncode == 0  # writes the config
    path = _ledger(tmp_path, rut_daily)
    holder = None
    if case == "read-only":
        path.chmod(0o444)
    else:  # another writer holds the write lock longer than verify waits (2 s)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    try:
        out = _verify(tmp_path)
    finally:
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()
    assert out.returncode == 0, out.stderr
    assert "result    ok: no mismatch" in out.stdout
    warning = out.stderr.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith(
        f"russell_regime ledger: warning: verify result not recorded in {path} (")
    assert ("the file is read-only" if case == "read-only" else "locked") in warning[0]
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        keys = {k for (k,) in db.execute("SELECT key FROM meta")}
    db.close()
    assert keys == {"schema_version"}
    assert _line(_status(tmp_path, rows, "2024-11-18T23:00").stdout, "verify").endswith(
        "never run (python -m russell_regime ledger verify)")
