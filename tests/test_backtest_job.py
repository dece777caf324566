"""The README's main job: `python -m russell_regime backtest --data DIR`, offline."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from russell_regime.cli import backtest as backtest_job
from russell_regime.cli.main import main


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_main_job_backtests_offline_from_a_data_folder(shared_data: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "russell_regime", "backtest", "--data", str(shared_data),
         "--timerange", "20210101-20210401", "--userdir", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    archives = list((tmp_path / "backtest_results").glob("backtest-result-*.zip"))
    assert len(archives) == 1
    with zipfile.ZipFile(archives[0]) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".json") and "config" not in n)
        stats = json.loads(archive.read(name))["strategy"]["RussellRiskOn"]
    assert stats["total_trades"] > 0
    assert stats["backtest_start"].startswith("2021-01-01")


def test_missing_data_folder_is_one_clear_error(tmp_path: Path, capsys) -> None:
    code = main(["backtest", "--data", str(tmp_path / "nowhere"), "--userdir", str(tmp_path)])
    assert code == 2
    assert "nowhere/binance not found" in capsys.readouterr().err


def test_online_job_downloads_index_and_candles_before_backtesting(tmp_path, monkeypatch):
    calls: list[tuple] = []
    monkeypatch.setattr(
        "russell_regime.data.download.download",
        lambda ticker, source, cache_dir, now, **kw: calls.append(("index", ticker, source)),
    )

    def fake_freqtrade(argv, command=None):
        calls.append(("freqtrade", argv[0], argv))
        return 0 if argv[0] == "download-data" else 3

    monkeypatch.setattr("russell_regime.adapter.ftrun.run_command", fake_freqtrade)
    code = main(["backtest", "--timerange", "20240101-20240201", "--userdir", str(tmp_path)])
    assert code == 3  # the backtest's exit code is passed through
    assert [c[:2] for c in calls] == [
        ("index", "^RUT"), ("freqtrade", "download-data"), ("freqtrade", "backtesting")
    ]
    assert calls[0][2].ticker == "^RUT"
    download_argv = calls[1][2]
    assert download_argv[download_argv.index("--timerange") + 1] == "20240101-"
    assert "--datadir" not in calls[2][2]


def test_backtest_argv_puts_later_configs_last() -> None:
    argv = backtest_job.freqtrade_args(
        [Path("a.json"), Path("b.json")], "20200101-", Path("ud"), Path("d"), ["--export", "none"]
    )
    assert argv[:5] == ["backtesting", "--config", "a.json", "--config", "b.json"]
    assert argv[-2:] == ["--export", "none"]
    assert argv[argv.index("--datadir") + 1] == "d"


def test_an_os_error_is_one_line_and_a_non_zero_exit(shared_data, tmp_path, monkeypatch, capsys):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backtest_job.tempfile, "TemporaryDirectory", disk_full)
    code = main(["backtest", "--data", str(shared_data), "--userdir", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err == "russell_regime backtest: error: [Errno 28] No space left on device"
