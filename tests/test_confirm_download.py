"""`download --ticker ^VIX` fills the cache a confirmation series reads, with the VIX's own
publication time: at 16:20 New York (after ^RUT's 16:15, before the VIX's 16:30) the day's VIX
session is not yet available and is not written."""

from __future__ import annotations

import pandas as pd
import pytest

import russell_regime.cli.download as cli_download
from russell_regime.cli import main
from russell_regime.data.cache import cache_file, load_cache

pytestmark = [pytest.mark.shared_data]


def _at(monkeypatch, now: str) -> None:
    class Clock:
        class Timestamp:
            @staticmethod
            def now(tz=None):
                return pd.Timestamp(now, tz="UTC")

    monkeypatch.setattr(cli_download, "pd", Clock)


@pytest.mark.parametrize(("ticker", "now", "newest"), [
    ("^VIX", "2024-07-01 20:20", "2024-06-28"),  # VIX usable at 20:30 UTC (16:15 NY + 15 min)
    ("^VIX", "2024-07-01 20:31", "2024-07-01"),
    ("^RUT", "2024-07-01 20:20", "2024-07-01"),  # the index: 16:00 NY + 15 min = 20:15 UTC
])
def test_download_uses_the_tickers_publication_time(shared_data, tmp_path, monkeypatch, ticker,
                                                     now, newest):
    _at(monkeypatch, now)
    path = shared_data / "index" / ("VIX.csv" if ticker == "^VIX" else "RUT.csv")
    argv = ["download", "--ticker", ticker, "--source", "file", "--path", str(path),
            "--cache-dir", str(tmp_path), "--no-progress"]
    assert main(argv) == 0
    cached = load_cache(cache_file(tmp_path, ticker), ticker)
    assert cached["session"].iloc[-1] == pd.Timestamp(newest)
