"""The main job's closing summary: the pure formatter, and a real run that prints it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from russell_regime.cli.summary import HEADER, gate_lines, report_within, summary_lines

INDEX = {
    "ticker": "^RUT", "source": "file RUT.csv", "sessions": 9523,
    "first": pd.Timestamp("1987-09-10"), "last": pd.Timestamp("2025-06-30"),
}
REPORT = {
    "BTC/USDT": {"pair_class": "btc", "candles": 100, "gate_open": 25, "signals": 10, "blocked": 6},
    "ETH/USDT": {"pair_class": "eth", "candles": 100, "gate_open": 50, "signals": 4, "blocked": 1},
    "SOL/USDT": {"pair_class": "alt", "candles": 100, "gate_open": 10, "signals": 3, "blocked": 3},
    "XRP/USDT": {"pair_class": "alt", "candles": 300, "gate_open": 30, "signals": 3, "blocked": 0},
}
RESULT = {
    "total_trades": 7, "profit_total": -0.0123, "profit_total_abs": -123.4,
    "stake_currency": "USDT", "backtest_start": "2021-01-01 00:00:00",
    "backtest_end": "2021-04-01 00:00:00",
}


def test_summary_lines_state_index_gate_shares_blocked_entries_and_result() -> None:
    assert summary_lines(INDEX, REPORT, RESULT, strategy="GatedSample") == [
        HEADER,
        "strategy: GatedSample",
        "backtest: 2021-01-01 00:00:00 .. 2021-04-01 00:00:00",
        "index data: ^RUT from file RUT.csv, 9523 sessions 1987-09-10 .. 2025-06-30",
        "gate open (share of candles): btc 25.0 % (1 pair), eth 50.0 % (1 pair), "
        "alt 10.0 % (2 pairs)",
        "entries blocked by the gate: 10 of 20 base signals (50.0 %)",
        "trades: 7, total profit: -1.23 % (-123.40 USDT)",
    ]


def test_summary_without_report_or_index_says_so() -> None:
    lines = summary_lines(None, {}, {"total_trades": 0})
    assert "index data: none loaded" in lines
    assert not any(line.startswith("strategy:") for line in lines)  # no name given, no line
    assert "gate: not reported by this strategy" in lines
    assert lines[-1] == "trades: 0, total profit: +0.00 % (+0.00)"


def test_stale_candles_and_zero_signals_are_reported() -> None:
    report = {"BTC/USDT": {"pair_class": "btc", "candles": 200, "gate_open": 0, "signals": 0,
                           "blocked": 0, "stale": 50}}
    assert gate_lines(report) == [
        "gate open (share of candles): btc 0.0 % (1 pair)",
        "entries blocked by the gate: 0 of 0 base signals (n/a)",
        "candles on stale data (index or a required confirmation): 50 of 200 (25.0 %); they "
        "follow stale_policy",
    ]


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_main_job_ends_with_its_summary(shared_data: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "russell_regime", "backtest", "--data", str(shared_data),
         "--timerange", "20210101-20210401", "--userdir", str(tmp_path),
         "--", "--pairs", "BTC/USDT", "ETH/USDT", "SOL/USDT"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout.splitlines()
    summary = out[out.index(HEADER):]
    assert summary[1] == "strategy: RussellRiskOn"  # the default --strategy
    assert summary[2].startswith("backtest: 2021-01-01")
    assert re.fullmatch(
        r"index data: \^RUT from file .*RUT\.csv, \d+ sessions 1987-09-10 \.\. \d{4}-\d\d-\d\d",
        summary[3],
    )
    shares = re.findall(r"(btc|eth|alt) ([\d.]+) % \((\d+) pairs?\)", summary[4])
    assert [(c, n) for c, _, n in shares] == [("btc", "1"), ("eth", "1"), ("alt", "1")]
    assert all(0 <= float(share) <= 100 for _, share, _ in shares)
    blocked, signals = map(int, re.match(r"entries blocked by the gate: (\d+) of (\d+)",
                                         summary[5]).groups())
    assert 0 <= blocked <= signals
    archive = next((tmp_path / "backtest_results").glob("backtest-result-*.zip"))
    with zipfile.ZipFile(archive) as zipped:
        name = next(n for n in zipped.namelist() if n.endswith(".json") and "config" not in n)
        stats = json.loads(zipped.read(name))["strategy"]["RussellRiskOn"]
    trades = re.match(r"trades: (\d+), total profit: ([-+][\d.]+) %", summary[-1])
    assert int(trades.group(1)) == stats["total_trades"] > 0
    assert float(trades.group(2)) == pytest.approx(100 * stats["profit_total"], abs=0.005)


def test_report_within_recounts_the_kept_candles_only() -> None:
    """The mixin counts every candle it analysed; the summary recounts over those ``keep``
    leaves (the main job: freqtrade's cut of the startup candles)."""
    dates = pd.date_range("2021-01-01", periods=6, freq="h", tz="UTC")
    per = {"date": dates.tz_localize(None).to_numpy(),
           "gate_open": [True, True, True, False, True, False],
           "signals": [True, True, False, True, True, False],
           "blocked": [False, False, False, True, False, False],
           "stale": [True, False, False, False, False, False]}
    report = {"BTC/USDT": {"pair_class": "btc", "candles": 6, "gate_open": 4, "signals": 4,
                           "blocked": 1, "stale": 1, "per_candle": per},
              "ETH/USDT": {"pair_class": "eth", "candles": 3, "gate_open": 1}}
    kept = report_within(report, lambda frame: frame[frame["date"] >= dates[2]])
    assert kept == {
        "BTC/USDT": {"pair_class": "btc", "candles": 4, "gate_open": 2, "signals": 2,
                     "blocked": 1, "stale": 0},
        "ETH/USDT": {"pair_class": "eth", "candles": 3, "gate_open": 1},  # no per-candle info
    }


def test_summary_names_the_parameter_file_freqtrade_loaded() -> None:
    lines = summary_lines(INDEX, REPORT, RESULT, strategy="RussellRiskOn",
                          params_file="user_data/strategies/RussellRiskOn.json")
    assert lines[1:3] == [
        "strategy: RussellRiskOn",
        "parameters: from user_data/strategies/RussellRiskOn.json (hyperopt export), not the "
        "defaults",
    ]
    assert not any(line.startswith("parameters:") for line in summary_lines(INDEX, REPORT, RESULT))


def _job_in_process(monkeypatch, capsys, argv: list[str]) -> tuple[list[str], object]:
    """Run the main job in this process; (its summary lines, freqtrade's Backtesting)."""
    from russell_regime.cli import backtest as job
    from russell_regime.cli.main import main

    held: dict = {}
    finish = job._finish

    def keep_holder(code: int, holder: dict) -> int:
        held.update(holder)
        return finish(code, holder)

    monkeypatch.setattr(job, "_finish", keep_holder)
    assert main(["backtest", *argv]) == 0
    out = capsys.readouterr().out.splitlines()
    return out[out.index(HEADER):], held["backtesting"]


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_gate_share_and_signals_count_the_timerange_not_the_startup_candles(
    shared_data, tmp_path, monkeypatch, capsys
):
    """December 2021: RussellRiskOn's 500 startup candles (from mid-November, the Russell still
    near its high) have the gate open far more often than December itself. The summary's share,
    signals and blocked entries are those of the timerange's candles only (recounted here from
    the per-candle flags by date), not of every candle the strategy analysed."""
    summary, backtesting = _job_in_process(monkeypatch, capsys, [
        "--data", str(shared_data), "--timerange", "20211201-20220101", "--userdir",
        str(tmp_path), "--", "--pairs", "BTC/USDT", "--export", "none"])
    per = backtesting.strategylist[0].russell_report["BTC/USDT"]["per_candle"]
    dates = pd.to_datetime(per["date"], utc=True)
    inside = (dates >= pd.Timestamp("2021-12-01", tz="UTC")) & (
        dates <= pd.Timestamp("2022-01-01", tz="UTC"))
    assert inside.sum() == 31 * 24 + 1 < len(dates)  # freqtrade's startup candles came first
    share, every = per["gate_open"][inside].mean(), per["gate_open"].mean()
    assert abs(share - every) > 0.05  # the startup period's gate differs
    assert summary[4] == f"gate open (share of candles): btc {100 * share:.1f} % (1 pair)"
    signals, blocked = int(per["signals"][inside].sum()), int(per["blocked"][inside].sum())
    assert signals < int(per["signals"].sum())
    assert summary[5].startswith(f"entries blocked by the gate: {blocked} of {signals} ")
    assert not any(line.startswith("parameters:") for line in summary)  # no .json: defaults


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_main_job_says_when_freqtrade_loads_a_hyperopted_parameter_file(
    shared_data, tmp_path, monkeypatch, capsys
):
    """A ``<Strategy>.json`` beside the strategy (a hyperopt export) is loaded by freqtrade
    for the backtest: the summary names it, relative to the caller's folder."""
    from russell_regime.shipped import example_strategies

    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(example_strategies() / "RussellRiskOn.py", mine)
    (mine / "RussellRiskOn.json").write_text(json.dumps(
        {"strategy_name": "RussellRiskOn", "params": {"russell": {"btc_mode": "ath"}}}))
    monkeypatch.delenv("R2K_CALLER_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    summary, backtesting = _job_in_process(monkeypatch, capsys, [
        "--data", str(shared_data), "--timerange", "20211201-20211215", "--userdir",
        str(tmp_path), "--strategy-path", "mine", "--", "--pairs", "BTC/USDT",
        "--export", "none"])
    assert backtesting.strategylist[0].btc_mode.value == "ath"  # freqtrade did load it
    assert summary[2] == ("parameters: from mine/RussellRiskOn.json (hyperopt export), not the "
                          "defaults")
