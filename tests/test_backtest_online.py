"""The online main job (`backtest` without --data) when the network is not there.

The index download falls back to a cache that covers the timerange; otherwise, and when the
candle download fails, the job stops with one line saying to pass --data. No network: the
index download and freqtrade are replaced by fakes.
"""

from __future__ import annotations

import pandas as pd
import pytest

from russell_regime.cli.backtest import cache_covers, timerange_end
from russell_regime.cli.main import main
from russell_regime.errors import SourceError

TODAY = pd.Timestamp("2026-11-26")


@pytest.mark.parametrize(
    ("last", "timerange", "covers"),
    [
        ("2024-01-31", "20240101-20240201", True),
        ("2024-01-26", "20240101-20240201", False),
        ("2024-01-27", "20240101-20240201", True),  # 5 days of slack
        ("2026-11-25", "20240101-", True),  # open end = today
        ("2026-11-10", "20240101-", False),
        ("2026-11-24", "20240101-20301231", True),  # end in the future: today counts
        (None, "20240101-20240201", False),
    ],
)
def test_cache_covers_the_timerange(last, timerange, covers) -> None:
    session = None if last is None else pd.Timestamp(last)
    assert cache_covers(session, timerange_end(timerange, TODAY), TODAY) is covers


def _offline_everything(monkeypatch, candles_exit: int = 0) -> list[str]:
    calls: list[str] = []

    def no_index(*args, **kwargs):
        raise SourceError("^RUT", "Yahoo request failed: DNSError: Could not resolve host")

    def fake_freqtrade(argv, command=None, prog=None):
        calls.append(argv[0])
        return candles_exit if argv[0] == "download-data" else 0

    monkeypatch.setattr("russell_regime.data.download.download", no_index)
    monkeypatch.setattr("russell_regime.adapter.ftrun.run_command", fake_freqtrade)
    monkeypatch.setattr("russell_regime.cli.backtest._finish", lambda code, holder: code)
    return calls


def _cache_until(rut_csv, tmp_path, last: str) -> None:
    daily = pd.read_csv(rut_csv)
    daily = daily[daily["date"] <= last]
    (tmp_path / "rut.csv").write_text(daily.to_csv(index=False))
    cache = tmp_path / "data" / "russell"
    argv = ["download", "--no-progress", "--source", "file", "--path", str(tmp_path / "rut.csv")]
    assert main([*argv, "--cache-dir", str(cache)]) == 0


def test_offline_with_a_covering_cache_uses_it(rut_csv, tmp_path, monkeypatch, capsys):
    _cache_until(rut_csv, tmp_path, "2024-01-31")
    calls = _offline_everything(monkeypatch)
    capsys.readouterr()
    code = main(["backtest", "--timerange", "20240101-20240201", "--userdir", str(tmp_path)])
    assert code == 0
    assert calls == ["download-data", "backtesting"]
    err = capsys.readouterr().err
    assert "index download failed" in err and "using the cache, last session 2024-01-31" in err


@pytest.mark.parametrize("last", [None, "2023-06-30"])
def test_offline_without_a_covering_cache_says_to_pass_data(
    rut_csv, tmp_path, monkeypatch, capsys, last
):
    if last:
        _cache_until(rut_csv, tmp_path, last)
    calls = _offline_everything(monkeypatch)
    capsys.readouterr()
    code = main(["backtest", "--timerange", "20240101-20240201", "--userdir", str(tmp_path)])
    assert code == 2
    assert calls == []
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert "index download failed" in err and "pass --data DIR" in err
    assert ("no cache" if last is None else "the cache ends 2023-06-30") in err


def test_failed_candle_download_says_to_pass_data(rut_csv, tmp_path, monkeypatch, capsys):
    _cache_until(rut_csv, tmp_path, "2024-01-31")
    calls = _offline_everything(monkeypatch, candles_exit=2)
    capsys.readouterr()
    code = main(["backtest", "--timerange", "20240101-20240201", "--userdir", str(tmp_path)])
    assert code == 2
    assert calls == ["download-data"]
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "candle download failed" in last and "pass --data DIR" in last
