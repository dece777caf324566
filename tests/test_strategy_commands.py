"""freqtrade's own commands on RussellRiskOn, offline: hyperopt, lookahead/recursive analysis."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from russell_regime.adapter.offline import run_freqtrade

pytestmark = [pytest.mark.shared_data, pytest.mark.freqtrade_run]

REPO_ROOT = Path(__file__).resolve().parents[1]


def _common(shared_data: Path, user_dir: Path) -> list[str]:
    return [
        "--config", str(REPO_ROOT / "config.json"),
        "--userdir", str(user_dir),
        "--datadir", str(shared_data / "binance"),
        "--strategy", "RussellRiskOn",
        "--strategy-path", str(REPO_ROOT / "user_data" / "strategies"),
    ]


@pytest.fixture
def file_source(shared_data: Path, monkeypatch) -> None:
    monkeypatch.setenv("FREQTRADE__RUSSELL_REGIME__SOURCE", "file")
    monkeypatch.setenv("FREQTRADE__RUSSELL_REGIME__PATH", str(shared_data / "index" / "RUT.csv"))


def test_short_hyperopt_of_the_russell_space_writes_results(shared_data, tmp_path, file_source):
    argv = [
        "hyperopt", *_common(shared_data, tmp_path),
        "--timerange", "20210101-20210301", "--pairs", "BTC/USDT", "ETH/USDT", "SOL/USDT",
        "--spaces", "russell", "--hyperopt-loss", "SharpeHyperOptLoss",
        "-e", "3", "-j", "1", "--random-state", "7", "--disable-param-export", "--no-color",
    ]
    assert run_freqtrade(argv) == 0
    results = list((tmp_path / "hyperopt_results").glob("strategy_RussellRiskOn_*.fthypt"))
    assert len(results) == 1
    epochs = [json.loads(line) for line in results[0].read_text().splitlines() if line.strip()]
    assert len(epochs) == 3
    params = epochs[0]["params_dict"]
    assert {"btc_mode", "eth_lookback", "alt_tolerance", "alt_expiry"} <= set(params)
    assert not any(key.startswith("ema_") for key in params), "only the russell space is searched"
    assert not (REPO_ROOT / "user_data" / "strategies" / "RussellRiskOn.json").exists()


def test_lookahead_analysis_reports_no_bias(shared_data, tmp_path, file_source,
                                           lookahead_pricing):
    export = tmp_path / "lookahead.csv"
    argv = [
        "lookahead-analysis", *_common(shared_data, tmp_path),
        "--timerange", "20201101-20210201", "--pairs", "BTC/USDT", "ETH/USDT", "SOL/USDT",
        "--minimum-trade-amount", "4", "--targeted-trade-amount", "8",
        "--lookahead-analysis-exportfilename", str(export), "--no-color",
    ]
    assert run_freqtrade(argv) == 0
    table = pd.read_csv(export)
    assert list(table["strategy"]) == ["RussellRiskOn"]
    assert not table["has_bias"].astype(str).str.lower().eq("true").any()
    assert int(table["total_signals"].iloc[0]) >= 4


def test_recursive_analysis_finds_no_variance_and_no_bias(shared_data, tmp_path, file_source,
                                                          caplog, capfd):
    argv = [
        "recursive-analysis", *_common(shared_data, tmp_path),
        "--timerange", "20210101-20210301", "--pairs", "BTC/USDT", "--no-color",
    ]
    assert run_freqtrade(argv) == 0
    out = capfd.readouterr()
    text = caplog.text + out.out + out.err
    assert "No lookahead bias on indicators found" in text
    assert "No variance on indicator(s) found" in text
    assert not re.search(r"│\s*r2k_", text), "a russell column varies with the startup window"
