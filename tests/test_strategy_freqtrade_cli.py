"""RussellRiskOn through the real entry point ``python -m russell_regime.offline freqtrade
backtesting`` (subprocesses, offline markets, file source): freqtrade's result cache never
reuses a result computed with other index data, and missing index data is one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.shared_data, pytest.mark.freqtrade_run]

REPO_ROOT = Path(__file__).resolve().parents[1]
REUSED = "Reusing result of previous backtest"


def _write_index(rows: pd.DataFrame, path: Path) -> Path:
    rows.assign(session=rows["session"].dt.strftime("%Y-%m-%d")).rename(
        columns={"session": "date"}
    ).to_csv(path, index=False)
    return path


def _backtest(tmp_path: Path, shared_data: Path, index_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "FREQTRADE__RUSSELL_REGIME__SOURCE": "file",
        "FREQTRADE__RUSSELL_REGIME__PATH": str(index_path),
    }
    return subprocess.run(
        [
            sys.executable, "-m", "russell_regime.offline", "freqtrade", "backtesting",
            "--config", str(REPO_ROOT / "config.json"),
            "--userdir", str(tmp_path / "user_data"),
            "--datadir", str(shared_data / "binance"),
            "--strategy-path", str(REPO_ROOT / "user_data" / "strategies"),
            "--strategy", "RussellRiskOn",
            "--timerange", "20240301-20240401",
            "--pairs", "BTC/USDT",
            "--cache", "day",
        ],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_changed_index_data_is_never_served_from_the_backtest_cache(
    shared_data, rut_daily, tmp_path
):
    (tmp_path / "user_data" / "backtest_results").mkdir(parents=True)
    index = _write_index(rut_daily, tmp_path / "rut.csv")
    first = _backtest(tmp_path, shared_data, index)
    assert first.returncode == 0, first.stderr[-2000:]
    assert REUSED not in first.stdout + first.stderr
    again = _backtest(tmp_path, shared_data, index)  # same data: freqtrade's cache works
    assert again.returncode == 0 and REUSED in again.stdout + again.stderr
    changed = rut_daily.copy()
    changed.loc[changed.index[-1], "close"] -= 0.04  # one value, after the timerange even
    _write_index(changed, index)
    third = _backtest(tmp_path, shared_data, index)
    assert third.returncode == 0, third.stderr[-2000:]
    assert REUSED not in third.stdout + third.stderr


def test_missing_index_file_is_one_clear_line_without_traceback(shared_data, tmp_path):
    (tmp_path / "user_data").mkdir()
    missing = tmp_path / "nowhere" / "rut.csv"
    out = _backtest(tmp_path, shared_data, missing)
    text = out.stdout + out.stderr
    assert "Traceback" not in text
    assert "Unexpected error" not in text
    assert str(missing) in text  # the clear line names the bad path
    # freqtrade exits 2 on OperationalException; depends on offline.py (H1) passing it on
    assert out.returncode != 0
