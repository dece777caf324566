"""``russell-regime correlation`` through the real entry point (subprocess): the files and
their columns on the shared data, the rows per asset, returns checked by hand against the raw
files, the printed verdicts, and bad input refused in one line with exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from russell_regime.core.calendar import Availability
from russell_regime.evidence.correlation import (
    LAG_COLUMNS,
    PERIOD_COLUMNS,
    ROLLING_COLUMNS,
    verdict,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
START, END = "2021-01-01", "2022-12-31"


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "russell_regime", "correlation", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def run(shared_data: Path, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    cwd = tmp_path_factory.mktemp("correlation")
    proc = _run(cwd, "--data", str(shared_data), "--out", "out", "--pairs", "BTC", "ETH", "SOL",
                "--start", START, "--end", END, "--windows", "20", "60", "--max-lag", "3",
                "--reps", "100")
    return proc, cwd / "out"


def _sessions(shared_data: Path) -> pd.DatetimeIndex:
    raw = pd.read_csv(shared_data / "index" / "RUT.csv", parse_dates=["date"])
    days = pd.DatetimeIndex(raw["date"])
    return days[(days >= START) & (days <= END)]


@pytest.mark.shared_data
def test_writes_every_table_with_its_columns_and_rows_per_asset(run, shared_data):
    proc, out = run
    assert proc.returncode == 0, proc.stderr[-2000:]
    sessions = _sessions(shared_data)
    assets = ["BTC", "ETH", "SOL", "ALT"]  # ALT = SOL, the only alt given
    rolling = pd.read_csv(out / "correlation.csv", parse_dates=["session"])
    assert list(rolling.columns) == list(ROLLING_COLUMNS)
    for asset in assets:  # every coin has data before 2021: one row per session and window
        for window in (20, 60):
            mine = rolling[(rolling["asset"] == asset) & (rolling["window"] == window)]
            assert list(mine["session"]) == list(sessions), (asset, window)
            assert mine["corr"].iloc[:window - 1].isna().all()
            assert mine["corr"].iloc[window - 1:].notna().all()
    periods = pd.read_csv(out / "correlation_periods.csv")
    assert list(periods.columns) == list(PERIOD_COLUMNS)
    assert periods.groupby("asset").size().to_dict() == {a: 4 for a in assets}
    before = periods[periods["period"] == "before 2020"]
    assert (before["n"] == 0).all() and before["corr"].isna().all()
    both = periods[periods["period"].isin(["2020-2021", "2022+"])].groupby("asset")["n"].sum()
    assert (both == len(sessions)).all()
    lags = pd.read_csv(out / "correlation_lags.csv")
    assert list(lags.columns) == list(LAG_COLUMNS)
    for asset in assets:
        assert lags.loc[lags["asset"] == asset, "lag"].tolist() == [-3, -2, -1, 0, 1, 2, 3]
    md = (out / "correlation.md").read_text()
    assert "## Periods" in md and "## Lags" in md and "| asset | lag | corr |" in md
    for name in ("correlation_rolling.png", "correlation_lags.png"):
        assert (out / name).read_bytes()[:8] == PNG_MAGIC


@pytest.mark.shared_data
def test_prints_the_verdict_of_the_written_lags_for_every_asset(run):
    proc, out = run
    lags = pd.read_csv(out / "correlation_lags.csv")
    printed = proc.stdout.splitlines()
    for asset in ("BTC", "ETH", "SOL", "ALT"):
        line = verdict(lags, asset)
        assert line in printed, (line, proc.stdout[-3000:])
        assert any(w in line for w in ("moves with", "moves against", "no same-session"))
        assert any(w in line for w in ("leads", "no lead or lag survives"))


@pytest.mark.shared_data
def test_returns_match_the_raw_files_at_the_availability_instants(run, shared_data):
    proc, out = run
    returns = pd.read_csv(out / "correlation_returns.csv", parse_dates=["session"])
    raw = pd.read_csv(shared_data / "index" / "RUT.csv", parse_dates=["date"])
    close = raw.set_index("date")["close"]
    btc = pd.read_feather(shared_data / "binance" / "BTC_USDT-1h.feather")
    btc_close = pd.Series(btc["close"].to_numpy(), index=pd.DatetimeIndex(btc["date"]))
    avail = Availability().available_at(pd.DatetimeIndex(raw["date"]))
    avail_of = pd.Series(avail, index=pd.DatetimeIndex(raw["date"]))
    mondays = returns[returns["session"].dt.day_of_week == 0].head(3)
    checked = 0
    for row in mondays.to_dict("records"):
        prev = close.index[close.index.get_loc(row["session"]) - 1]  # the Friday (or earlier)
        assert row["R2K"] == pytest.approx(np.log(close[row["session"]] / close[prev]), rel=1e-5)
        # the 1h candle that CLOSED at the NYSE close: opened one hour before it
        end_open = avail_of[row["session"]].floor("h") - pd.Timedelta(hours=1)
        start_open = avail_of[prev].floor("h") - pd.Timedelta(hours=1)
        assert end_open + pd.Timedelta(hours=1) <= avail_of[row["session"]]
        want = np.log(btc_close[end_open] / btc_close[start_open])
        assert row["BTC"] == pytest.approx(want, rel=1e-5)
        checked += 1
    assert checked == 3
    last = returns.tail(20)  # the last 20-session rolling value, by hand from the returns
    rolling = pd.read_csv(out / "correlation.csv")
    got = rolling[(rolling["asset"] == "BTC") & (rolling["window"] == 20)]["corr"].iloc[-1]
    assert got == pytest.approx(np.corrcoef(last["R2K"], last["BTC"])[0, 1], abs=1e-4)


@pytest.mark.shared_data
@pytest.mark.parametrize(("argv", "named"), [
    (["--windows", "1"], "argument --windows: '1' is out of range"),
    (["--windows", "60", "2521"], "argument --windows: '2521' is out of range"),
    (["--max-lag", "-1"], "argument --max-lag: '-1' is out of range"),
    (["--max-lag", "x"], "argument --max-lag: 'x' is not a whole number"),
    (["--pairs", "BTC", "FOO"], "argument --pairs: 'FOO' has no 1h candles"),
    (["--pairs", "BTC/EUR"], "argument --pairs: 'BTC/EUR' is not a base currency"),
    (["--start", "2023-01-01", "--end", "2022-01-01"], "argument --end: '2022-01-01'"),
])
def test_bad_input_is_one_line_and_exit_2(shared_data, tmp_path, argv, named):
    proc = _run(tmp_path, "--data", str(shared_data), "--out", "out", "--no-plots", *argv)
    assert proc.returncode == 2, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith("russell_regime correlation: error: "), errors[0]
    assert named in errors[0] and "(allowed: " in errors[0], errors[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not (tmp_path / "out").exists()
