"""Stray rows through the real entry point (subprocess): one row on a non-session (Labor Day)
in the ^VIX file is dropped and named in one warning by `events` and `compare`; a confirmation
series mostly off the calendar stops only the `compare` run that uses it (the table says why),
the gated / ungated runs still run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.shared_data

LABOR_DAY = "2021-09-06"  # a Monday, no NYSE session
STRAY_WARNING = ("warning: ^VIX: dropped 1 row dated on a non-session of XNYS: "
                 f"{LABOR_DAY} (Mon)")


def _run(cwd: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "russell_regime", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def data(shared_data: Path, tmp_path_factory) -> Path:
    """The shared data with ^VIX holding a Labor Day row and IWN shifted one day late."""
    root = tmp_path_factory.mktemp("data")
    (root / "index").mkdir()
    (root / "binance").symlink_to(shared_data / "binance", target_is_directory=True)
    for name in ("RUT", "SPX", "IWM"):
        (root / "index" / f"{name}.csv").symlink_to(shared_data / "index" / f"{name}.csv")
    vix = pd.read_csv(shared_data / "index" / "VIX.csv")
    stray = vix[vix["date"] == "2021-09-03"].assign(date=LABOR_DAY)
    pd.concat([vix, stray]).sort_values("date").to_csv(root / "index" / "VIX.csv", index=False)
    iwn = pd.read_csv(shared_data / "index" / "IWN.csv")
    iwn["date"] = (pd.to_datetime(iwn["date"]) + pd.Timedelta(days=1)).dt.strftime("%Y-%m-%d")
    iwn.to_csv(root / "index" / "IWN.csv", index=False)
    return root


def test_events_drops_the_stray_vix_row_naming_it_once(data, tmp_path):
    proc = _run(tmp_path, "events", "--data", str(data), "--since", "2021-01-01",
                "--confirm", "vix", "--csv", "ev.csv")
    assert proc.returncode == 0, proc.stderr[-2000:]
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith(STRAY_WARNING), proc.stderr


def test_events_refuses_a_confirmation_series_off_the_calendar_in_one_line(data, tmp_path):
    proc = _run(tmp_path, "events", "--data", str(data), "--confirm", "value")
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr and len(lines) == 1, proc.stderr
    assert "IWN: session" in lines[0] and "not a XNYS session" in lines[0]
    assert "refused:" in lines[0]


@pytest.mark.freqtrade_run
def test_compare_runs_what_it_can_and_says_why_a_run_is_missing(data, tmp_path):
    proc = _run(tmp_path, "compare", "--data", str(data), "--out", "out",
                "--timerange", "20210901-20211001", "--pairs", "BTC", "ETH",
                "--no-progress", "--no-plots", "--random-gates", "20",
                "--confirm", "vix", "value", timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert STRAY_WARNING in proc.stdout + proc.stderr
    table = pd.read_csv(tmp_path / "out" / "compare.csv")
    assert table["run"].tolist() == [
        "gated (defaults)", "ungated (all *_mode=off)", "gated+vix", "gated+value",
        "BTC buy-and-hold",
    ]
    rows = table.set_index("run")
    assert rows.loc["gated+vix", "trades"] >= 0 and pd.isna(rows.loc["gated+value", "trades"])
    note = rows.loc["gated+value", "note"]
    assert note.startswith("not run: IWN: session") and "not a XNYS session" in note
    control = pd.read_csv(tmp_path / "out" / "compare_random_gates.csv")
    assert set(control["gate"]) == {"gate", "gate+vix"}
