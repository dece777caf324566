"""Ledger verification: recorded decisions re-derived with the backtest's alignment rule
(core.ledger_check, pure, on the real ^RUT file) and ``ledger verify`` / ``ledger report``
through the real entry point on SQLite ledgers in the writer's schema."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from russell_regime.core.calendar import Availability
from russell_regime.core.gate import GateParams, daily_gate
from russell_regime.core.ledger_check import (
    AGREE,
    LATE,
    MISMATCH,
    REVISED,
    check_decisions,
    class_counts,
    forward_summary,
    ledger_summary,
    opening_returns,
)

PARAMS = GateParams()
PARAMS_JSON = json.dumps(dataclasses.asdict(PARAMS))
SCHEMA = """
CREATE TABLE decisions(strategy TEXT, pair TEXT, timeframe TEXT, candle_close TEXT,
  decided_at TEXT, session TEXT, available_at TEXT, close_seen REAL, gate INTEGER,
  stale INTEGER, tag TEXT, params TEXT, confirmations TEXT, entry TEXT, pair_class TEXT,
  PRIMARY KEY(strategy, pair, timeframe, candle_close));
CREATE TABLE refreshes(id INTEGER PRIMARY KEY, strategy TEXT, ticker TEXT, attempted_at TEXT,
  outcome TEXT, detail TEXT, last_session TEXT);
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
"""


@pytest.fixture(scope="module")
def rut(rut_csv):
    from russell_regime.core.daily import validate_daily

    daily = validate_daily(pd.read_csv(rut_csv), "^RUT")
    available_at = Availability().available_at(daily["session"])
    gate = daily_gate(daily, PARAMS)["gate_open"].to_numpy(dtype=bool)
    return daily, available_at, gate


def honest_rows(rut, pair: str, start: str, hours: int) -> pd.DataFrame:
    """1h decisions from ``start`` computed independently of ledger_check: for each candle
    close, the last session with available_at < close, its close and gate."""
    daily, available_at, gate = rut
    closes = pd.date_range(start, periods=hours, freq="1h", tz="UTC")
    rows = []
    for close in closes:
        ready = np.flatnonzero(available_at < close)
        i = int(ready[-1])
        rows.append({
            "strategy": "S", "pair": pair, "timeframe": "1h",
            "candle_close": close.isoformat(), "decided_at": (close + pd.Timedelta("5s"))
            .isoformat(), "session": f"{daily['session'].iloc[i]:%Y-%m-%d}",
            "available_at": available_at[i].isoformat(),
            "close_seen": float(daily["close"].iloc[i]), "gate": int(gate[i]), "stale": 0,
            "tag": "", "params": PARAMS_JSON, "confirmations": "{}",
            "entry": "allowed" if gate[i] else "blocked",
            "pair_class": "btc" if pair.startswith("BTC") else "alt",
        })
    return pd.DataFrame(rows)


def _where(frame: pd.DataFrame, close: str) -> int:
    return int(np.flatnonzero(frame["candle_close"] == pd.Timestamp(close).isoformat())[0])


def test_honest_rows_agree_across_sessions_weekends_and_gate_changes(rut):
    rows = honest_rows(rut, "BTC/USDT", "2024-11-01", 24 * 30)
    assert rows["session"].nunique() > 15 and rows["gate"].nunique() == 2  # really varied
    checked = check_decisions(rows, rut[0], rut[1])
    assert class_counts(checked) == {AGREE: len(rows), REVISED: 0, LATE: 0, MISMATCH: 0}
    assert (checked["detail"] == "").all()


def test_the_worked_example_of_the_module_doc(rut):
    # 2024-07-01 is available 20:15 UTC: the 20:00 close sees 06-28, the 21:00 close 07-01
    rows = honest_rows(rut, "BTC/USDT", "2024-07-01T20:00", 2)
    assert list(rows["session"]) == ["2024-06-28", "2024-07-01"]
    assert list(check_decisions(rows, rut[0], rut[1])["class"]) == [AGREE, AGREE]


def test_a_revised_close_is_revised_upstream_with_old_and_new_close(rut):
    rows = honest_rows(rut, "BTC/USDT", "2024-07-01T20:00", 3)
    i = _where(rows, "2024-07-01T21:00Z")
    new_close = rows.loc[i, "close_seen"]
    rows.loc[i, "close_seen"] = 2000.0
    checked = check_decisions(rows, rut[0], rut[1])
    assert list(checked["class"]) == [AGREE, REVISED, AGREE]
    assert not checked.loc[i, "gate_differs"]
    detail = checked.loc[i, "detail"]
    assert "2000 -> 2030.07" in detail and "gate unchanged" in detail
    assert checked.loc[i, "backtest_close"] == new_close


def test_a_revision_that_flips_the_gate_is_reported(rut):
    daily, available_at, gate = rut
    flips = np.flatnonzero(gate[1:] != gate[:-1]) + 1
    session = daily["session"].iloc[flips[-1]]
    at = available_at[flips[-1]]
    rows = honest_rows(rut, "BTC/USDT", (at + pd.Timedelta("45min")).isoformat(), 1)
    assert rows.loc[0, "session"] == f"{session:%Y-%m-%d}"
    rows.loc[0, "close_seen"] *= 1.01
    rows.loc[0, "gate"] = 1 - rows.loc[0, "gate"]  # what the old data gave
    checked = check_decisions(rows, daily, available_at)
    assert checked.loc[0, "class"] == REVISED and checked.loc[0, "gate_differs"]
    assert "gate would differ" in checked.loc[0, "detail"]


def test_an_older_session_is_late_data_with_how_late(rut):
    rows = honest_rows(rut, "BTC/USDT", "2024-07-01T20:00", 3)
    i = _where(rows, "2024-07-01T22:00Z")
    rows.loc[i, ["session", "close_seen", "stale"]] = ["2024-06-28", 2047.68994140625, 1]
    checked = check_decisions(rows, rut[0], rut[1])
    assert checked.loc[i, "class"] == LATE
    # candle close 22:00 - 2024-07-01's available_at 20:15
    assert checked.loc[i, "late"] == pd.Timedelta("1h45min")
    assert "saw 2024-06-28, a backtest sees 2024-07-01" in checked.loc[i, "detail"]
    rows.loc[i, "session"] = None  # no session at all while one was available: late too
    assert check_decisions(rows, rut[0], rut[1]).loc[i, "class"] == LATE


def test_a_tampered_gate_or_a_newer_session_is_a_mismatch(rut):
    rows = honest_rows(rut, "BTC/USDT", "2024-07-01T20:00", 3)
    tampered = rows.copy()
    tampered.loc[1, "gate"] = 1 - tampered.loc[1, "gate"]
    checked = check_decisions(tampered, rut[0], rut[1])
    assert list(checked["class"]) == [AGREE, MISMATCH, AGREE]
    assert "same close" in checked.loc[1, "detail"]
    ahead = rows.copy()  # the 20:00 close saw 07-01, available only at 20:15: lookahead
    ahead.loc[0, ["session", "close_seen"]] = ["2024-07-01", 2030.0699462890625]
    checked = check_decisions(ahead, rut[0], rut[1])
    assert checked.loc[0, "class"] == MISMATCH and "newer" in checked.loc[0, "detail"]
    bad = rows.copy()
    bad.loc[2, "params"] = '{"mode": "nonsense"}'
    assert check_decisions(bad, rut[0], rut[1]).loc[2, "class"] == MISMATCH


def test_a_stale_row_keeps_its_policy_gate(rut):
    rows = honest_rows(rut, "BTC/USDT", "2024-07-01T20:00", 2)
    rows.loc[1, ["stale", "gate"]] = [1, 1]  # ignore_gate opens a stale candle
    assert check_decisions(rows, rut[0], rut[1], stale_policy="ignore_gate").loc[
        1, "class"] == AGREE
    assert check_decisions(rows, rut[0], rut[1], stale_policy="block_entries").loc[
        1, "class"] == MISMATCH


def test_a_closed_confirmation_explains_a_closed_gate(rut):
    rows = honest_rows(rut, "BTC/USDT", "2024-11-01", 24 * 10)
    i = int(np.flatnonzero(rows["gate"] == 1)[0])
    rows.loc[i, "gate"] = 0
    assert check_decisions(rows, rut[0], rut[1]).loc[i, "class"] == MISMATCH
    rows.loc[i, "confirmations"] = json.dumps({"vix": {"session": None, "verdict": 0,
                                                       "stale": 0}})
    assert check_decisions(rows, rut[0], rut[1]).loc[i, "class"] == AGREE


def test_summary_counts_pairs_gate_share_entries_and_stale_spells(rut):
    rows = honest_rows(rut, "BTC/USDT", "2024-11-01", 48)
    rows.loc[5:9, "stale"] = 1
    rows.loc[20, "stale"] = 1
    summary = ledger_summary(rows)
    assert summary["rows"] == 48 and summary["rows_per_pair"] == {"BTC/USDT": 48}
    assert summary["gate_open_share"]["btc"] == pytest.approx(rows["gate"].mean())
    assert summary["entries"]["allowed"] + summary["entries"]["blocked"] == 48
    spells = [(s["start"], s["end"], s["rows"]) for s in summary["stale_spells"]]
    close = pd.to_datetime(rows["candle_close"], utc=True)
    assert spells == [(close[5], close[9], 5), (close[20], close[20], 1)]


# --- the command line ----------------------------------------------------------------------


def write_ledger(path, rows: pd.DataFrame, version: str = "1") -> None:
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (version,))
        db.executemany(
            f"INSERT INTO decisions ({', '.join(rows.columns)}) VALUES "
            f"({', '.join('?' * len(rows.columns))})",
            [tuple(None if pd.isna(v) else v for v in r) for r in
             rows.astype(object).itertuples(index=False)],
        )
    db.close()


def ledger_cli(tmp_path, rut_csv, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "russell_regime", "ledger", *args,
         *(("--source", "file", "--path", str(rut_csv)) if args[0] == "verify" else ())],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def honest(rut, tmp_path):
    rows = pd.concat([honest_rows(rut, "BTC/USDT", "2024-07-01T12:00", 24),
                      honest_rows(rut, "SOL/USDT", "2024-07-01T12:00", 24)], ignore_index=True)
    return rows


def test_verify_an_honest_ledger_exits_0(tmp_path, rut_csv, honest):
    write_ledger(tmp_path / "ledger.sqlite", honest)
    out = ledger_cli(tmp_path, rut_csv, "verify", "--ledger", "ledger.sqlite")
    assert out.returncode == 0, out.stderr
    assert "agree             48" in out.stdout and "mismatch          0" in out.stdout
    assert "result    ok: no mismatch" in out.stdout


def test_verify_names_a_tampered_row_and_exits_1(tmp_path, rut_csv, honest):
    i = _where(honest[honest["pair"] == "SOL/USDT"], "2024-07-02T03:00Z") + 24
    honest.loc[i, "gate"] = 1 - honest.loc[i, "gate"]
    write_ledger(tmp_path / "ledger.sqlite", honest)
    out = ledger_cli(tmp_path, rut_csv, "verify", "--ledger", "ledger.sqlite")
    assert out.returncode == 1, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("SOL/USDT"))
    assert "2024-07-02T03:00:00+00:00" in line and "mismatch" in line
    js = ledger_cli(tmp_path, rut_csv, "verify", "--ledger", "ledger.sqlite", "--json")
    assert js.returncode == 1
    result = json.loads(js.stdout)
    assert result["counts"]["mismatch"] == 1 and not result["ok"]
    assert [(r["pair"], r["candle_close"]) for r in result["not_agree"]] == [
        ("SOL/USDT", "2024-07-02T03:00:00+00:00")]


@pytest.mark.parametrize("case", ["missing", "not sqlite", "version"])
def test_verify_bad_ledger_is_one_error_line_exit_2(tmp_path, rut_csv, honest, case):
    path = tmp_path / "ledger.sqlite"
    if case == "not sqlite":
        path.write_text("hello, not a database\n" * 10)
    elif case == "version":
        write_ledger(path, honest, version="2")
    out = ledger_cli(tmp_path, rut_csv, "verify", "--ledger", str(path))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("russell_regime ledger: error: "), out.stderr
    assert str(path) in lines[0]


def test_verify_default_ledger_is_under_the_userdir(tmp_path, rut_csv, honest):
    (tmp_path / "ud" / "russell_regime").mkdir(parents=True)
    write_ledger(tmp_path / "ud" / "russell_regime" / "ledger.sqlite", honest)
    out = ledger_cli(tmp_path, rut_csv, "verify", "--userdir", "ud")
    assert out.returncode == 0, out.stderr
    assert str(tmp_path / "ud" / "russell_regime" / "ledger.sqlite") in out.stdout


def test_report_prints_the_counts(tmp_path, rut_csv, honest):
    honest.loc[30:33, "stale"] = 1
    write_ledger(tmp_path / "ledger.sqlite", honest)
    out = ledger_cli(tmp_path, rut_csv, "report", "--ledger", "ledger.sqlite")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "period    2024-07-01 12:00 -> 2024-07-02 11:00 UTC" in text
    assert "pair      BTC/USDT: 24 candle(s)" in text and "pair      SOL/USDT: 24 candle(s)" in text
    entries = honest["entry"].value_counts()
    assert (f"entries   allowed {entries.get('allowed', 0)}, blocked {entries.get('blocked', 0)},"
            " vetoed 0, none 0") in text
    assert "gate      alt: open on" in text and "gate      btc: open on" in text
    assert "stale     SOL/USDT: 2024-07-01 18:00 -> 2024-07-01 21:00 UTC (4 candle(s), 3h)" in (
        text)


# --- forward returns after gate openings ----------------------------------------------------------

DATA = "/work/shared/data/binance"


def gate_rows(pair: str, pair_class: str, start: str, gates: list[int],
              strategy: str = "S") -> pd.DataFrame:
    """Hourly decisions of one pair from ``start`` with the given gates (other fields filled)."""
    closes = pd.date_range(start, periods=len(gates), freq="1h", tz="UTC")
    return pd.DataFrame([{
        "strategy": strategy, "pair": pair, "timeframe": "1h", "candle_close": c.isoformat(),
        "decided_at": c.isoformat(), "session": None, "available_at": None, "close_seen": None,
        "gate": g, "stale": 0, "tag": "", "params": PARAMS_JSON, "confirmations": "{}",
        "entry": "allowed" if g else "blocked", "pair_class": pair_class,
    } for c, g in zip(closes, gates, strict=True)])


def hourly(start: str, prices: list[float]) -> pd.Series:
    return pd.Series(prices, index=pd.date_range(start, periods=len(prices), freq="1h",
                                                 tz="UTC"), dtype=float)


def test_forward_returns_after_gate_openings_exact():
    # AAA (btc): gates 1 0 1 1 0 1 0 1 from 00:00 -> openings 02:00, 05:00, 07:00 (the first
    # row's open gate is no opening); opens 100 + i for 240 hours (to 2024-01-10 23:00).
    # BBB (alt): gates 0 1 -> opening 01:00; candles 01:00 and 02:00 missing, so the entry is
    # the 03:00 open; 72 hours of candles (to 2024-01-03 23:00): 7d and 30d not yet.
    # CCC (alt): an opening but no candles at all: not yet at every horizon.
    decisions = pd.concat([
        gate_rows("AAA/USDT", "btc", "2024-01-01T00:00", [1, 0, 1, 1, 0, 1, 0, 1]),
        gate_rows("BBB/USDT", "alt", "2024-01-01T00:00", [0, 1]),
        gate_rows("CCC/USDT", "alt", "2024-01-01T00:00", [0, 0, 1]),
    ], ignore_index=True).sample(frac=1, random_state=3)  # row order must not matter
    bbb = hourly("2024-01-01T00:00", [200.0 + 2 * i for i in range(72)])
    opens = {"AAA/USDT": hourly("2024-01-01T00:00", [100.0 + i for i in range(240)]),
             "BBB/USDT": bbb.drop(bbb.index[1:3])}
    table = opening_returns(decisions, opens)
    assert list(table["pair"]) == ["AAA/USDT"] * 3 + ["BBB/USDT", "CCC/USDT"]
    assert list(table["entry"].iloc[:4]) == [102.0, 105.0, 107.0, 206.0]
    assert pd.isna(table["entry_at"].iloc[4]) and np.isnan(table["entry"].iloc[4])
    assert table["entry_at"].iloc[3] == pd.Timestamp("2024-01-01T03:00Z")
    # 1 day = 24 candles later: AAA 126/102, 129/105, 131/107; BBB (200+2*27)/206
    np.testing.assert_allclose(table["ret_1d"].iloc[:4],
                               [126 / 102 - 1, 129 / 105 - 1, 131 / 107 - 1, 254 / 206 - 1])
    np.testing.assert_allclose(table["ret_7d"].iloc[:3],
                               [270 / 102 - 1, 273 / 105 - 1, 275 / 107 - 1])
    assert table["ret_7d"].iloc[3:].isna().all() and table["ret_30d"].isna().all()

    summary = forward_summary(decisions, opens)
    assert summary["horizons_days"] == [1, 7, 30]
    assert summary["pairs_without_candles"] == ["CCC/USDT"]
    btc, alt = summary["per_class"]["btc"], summary["per_class"]["alt"]
    one = [126 / 102 - 1, 129 / 105 - 1, 131 / 107 - 1]
    assert btc["openings"] == 3 and btc["1d"]["n"] == 3 and btc["1d"]["not_yet"] == 0
    assert btc["1d"]["mean"] == pytest.approx(sum(one) / 3)
    assert btc["1d"]["median"] == pytest.approx(sorted(one)[1])
    assert btc["30d"] == {"n": 0, "mean": None, "median": None, "not_yet": 3}
    assert alt["openings"] == 2
    assert alt["1d"]["n"] == 1 and alt["1d"]["not_yet"] == 1
    assert alt["1d"]["mean"] == pytest.approx(254 / 206 - 1) == alt["1d"]["median"]
    assert alt["7d"] == {"n": 0, "mean": None, "median": None, "not_yet": 2}


def test_openings_are_per_strategy_pair_and_timeframe():
    # two strategies on one pair, interleaved in time: each stream has one opening
    decisions = pd.concat([gate_rows("AAA/USDT", "btc", "2024-01-01T00:00", [0, 1, 1], "S"),
                           gate_rows("AAA/USDT", "btc", "2024-01-01T00:00", [1, 0, 1], "T")])
    table = opening_returns(decisions, {"AAA/USDT": hourly("2024-01-01T00:00",
                                                           [1.0] * 100)})
    assert sorted(zip(table["strategy"], table["candle_close"].dt.hour, strict=True)) == [
        ("S", 1), ("T", 2)]
    assert opening_returns(decisions.iloc[:0], {}).empty


def _real_forward(pair: str, close: str, days: int) -> float:
    candles = pd.read_feather(f"{DATA}/{pair.replace('/', '_')}-1h.feather")
    dates = pd.to_datetime(candles["date"], utc=True)
    entry = candles["open"][dates == pd.Timestamp(close)].item()
    exit_ = candles["open"][dates == pd.Timestamp(close) + pd.Timedelta(days=days)].item()
    return exit_ / entry - 1


def test_report_with_datadir_prints_forward_returns_per_class(tmp_path):
    rows = pd.concat([
        gate_rows("BTC/USDT", "btc", "2024-03-01T00:00", [0, 1, 0]),      # opening 01:00
        gate_rows("BTC/USDT", "btc", "2024-12-20T10:00", [0, 1]),         # opening 11:00
        gate_rows("ETH/USDT", "alt", "2024-06-03T14:00", [0, 1, 1]),      # opening 15:00
        gate_rows("NOPE/USDT", "alt", "2024-06-03T14:00", [0, 1]),        # no candles
    ], ignore_index=True)
    write_ledger(tmp_path / "ledger.sqlite", rows)
    plain = ledger_cli(tmp_path, None, "report", "--ledger", "ledger.sqlite")
    assert plain.returncode == 0, plain.stderr
    assert "forward   forward returns: pass --datadir" in plain.stdout
    out = ledger_cli(tmp_path, None, "report", "--ledger", "ledger.sqlite", "--datadir", DATA)
    assert out.returncode == 0, out.stderr
    lines = {x.split(":")[0]: x for x in out.stdout.splitlines() if x.startswith("forward")}
    btc, alt = lines["forward   btc"], lines["forward   alt"]
    assert btc.startswith("forward   btc: 2 opening(s); 1d mean ")
    assert btc.count("(n 2, not yet 0)") == 3
    assert alt.startswith("forward   alt: 2 opening(s); 1d mean ")
    assert alt.count("(n 1, not yet 1)") == 3
    assert "forward   no 1h candles for NOPE/USDT (counted as not yet)" in out.stdout
    js = ledger_cli(tmp_path, None, "report", "--ledger", "ledger.sqlite", "--datadir", DATA,
                    "--json")
    forward = json.loads(js.stdout)["forward"]
    eth = _real_forward("ETH/USDT", "2024-06-03T15:00Z", 7)
    assert forward["per_class"]["alt"]["7d"]["mean"] == pytest.approx(eth, rel=1e-12)
    assert f"7d mean {eth:+.2%} median {eth:+.2%} (n 1, not yet 1)" in alt
    btc30 = [_real_forward("BTC/USDT", c, 30) for c in ("2024-03-01T01:00Z",
                                                        "2024-12-20T11:00Z")]
    assert forward["per_class"]["btc"]["30d"]["mean"] == pytest.approx(np.mean(btc30),
                                                                      rel=1e-12)
    bad = ledger_cli(tmp_path, None, "report", "--ledger", "ledger.sqlite", "--datadir",
                     "nowhere")
    assert bad.returncode == 2 and "--datadir" in bad.stderr
