"""freqtrade's own commands on GatedSample (SampleStrategy + RussellGateMixin), offline through
the ``russell_regime.offline`` wrapper: hyperopt of the russell space, lookahead-analysis,
recursive-analysis."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from russell_regime.adapter.offline import run_freqtrade

pytestmark = [pytest.mark.shared_data, pytest.mark.freqtrade_run]

REPO_ROOT = Path(__file__).resolve().parents[1]
STRATEGIES = REPO_ROOT / "tests" / "strategies"


def _common(shared_data: Path, user_dir: Path) -> list[str]:
    return [
        "--config", str(REPO_ROOT / "config.json"),
        "--userdir", str(user_dir),
        "--datadir", str(shared_data / "binance"),
        "--strategy", "GatedSample",
        "--strategy-path", str(STRATEGIES),
    ]


@pytest.fixture
def file_source(shared_data: Path, monkeypatch) -> None:
    monkeypatch.setenv("FREQTRADE__RUSSELL_REGIME__SOURCE", "file")
    monkeypatch.setenv("FREQTRADE__RUSSELL_REGIME__PATH", str(shared_data / "index" / "RUT.csv"))


def test_hyperopt_of_the_russell_space_runs_on_sample_strategy(shared_data, tmp_path,
                                                               file_source):
    argv = [
        "hyperopt", *_common(shared_data, tmp_path),
        "--timerange", "20240101-20240501", "--pairs", "BTC/USDT", "ETH/USDT", "SOL/USDT",
        "--spaces", "russell", "--hyperopt-loss", "SharpeHyperOptLoss",
        "-e", "3", "-j", "1", "--random-state", "7", "--disable-param-export", "--no-color",
    ]
    assert run_freqtrade(argv) == 0
    results = list((tmp_path / "hyperopt_results").glob("strategy_GatedSample_*.fthypt"))
    assert len(results) == 1
    epochs = [json.loads(line) for line in results[0].read_text().splitlines() if line.strip()]
    assert len(epochs) == 3
    names = {f"{c}_{p}" for c in ("btc", "eth", "alt") for p in (
        "mode", "ath_fresh", "max_drawdown", "lookback", "margin", "tolerance", "window",
        "expiry")}
    for epoch in epochs:
        assert set(epoch["params_dict"]) == names  # the russell space only, all 24 names
    # each epoch's gate follows its own parameters: different gates, different results
    assert len({json.dumps(e["params_dict"], sort_keys=True) for e in epochs}) == 3
    outcomes = {(e["results_metrics"]["total_trades"], e["results_metrics"]["profit_total"])
                for e in epochs}
    assert len(outcomes) > 1 and max(trades for trades, _ in outcomes) > 0
    assert not (STRATEGIES / "GatedSample.json").exists()


def test_lookahead_analysis_finds_no_bias_in_gated_sample(shared_data, tmp_path, file_source,
                                                           lookahead_pricing):
    export = tmp_path / "lookahead.csv"
    argv = [
        "lookahead-analysis", *_common(shared_data, tmp_path),
        "--timerange", "20240701-20241001", "--pairs", "BTC/USDT", "ETH/USDT", "SOL/USDT",
        "--minimum-trade-amount", "4", "--targeted-trade-amount", "8",
        "--lookahead-analysis-exportfilename", str(export), "--no-color",
    ]
    assert run_freqtrade(argv) == 0
    table = pd.read_csv(export)
    assert list(table["strategy"]) == ["GatedSample"]
    assert not table["has_bias"].astype(str).str.lower().eq("true").any()
    assert int(table["total_signals"].iloc[0]) >= 4


def test_lookahead_analysis_reports_the_users_own_bias(shared_data, tmp_path, file_source,
                                                       lookahead_pricing, monkeypatch):
    """The mixin's columns must not stop freqtrade from reporting a bias in the user's code."""
    from freqtrade.templates.sample_strategy import SampleStrategy

    def peeking_entry(self, dataframe, metadata):
        future = dataframe["close"].shift(-3) > dataframe["close"] * 1.02  # looks ahead
        dataframe.loc[future & (dataframe["volume"] > 0), "enter_long"] = 1
        return dataframe

    monkeypatch.setattr(SampleStrategy, "populate_entry_trend", peeking_entry)
    export = tmp_path / "lookahead.csv"
    # gate tags "" / breakout from August, retest first on 2024-10-17: a frame cut before
    # then has fewer tags than the full one
    argv = [
        "lookahead-analysis", *_common(shared_data, tmp_path),
        "--timerange", "20240801-20241101", "--pairs", "BTC/USDT", "ETH/USDT", "SOL/USDT",
        "--minimum-trade-amount", "4", "--targeted-trade-amount", "8",
        "--lookahead-analysis-exportfilename", str(export), "--no-color",
    ]
    assert run_freqtrade(argv) == 0
    table = pd.read_csv(export)
    assert table["has_bias"].astype(str).str.lower().eq("true").all()


def test_recursive_analysis_finds_no_russell_column_varying(shared_data, tmp_path, file_source,
                                                            caplog, capfd):
    argv = [
        "recursive-analysis", *_common(shared_data, tmp_path),
        "--timerange", "20240101-20240301", "--pairs", "BTC/USDT", "--no-color",
    ]
    assert run_freqtrade(argv) == 0
    out = capfd.readouterr()
    text = caplog.text + out.out + out.err
    assert "No lookahead bias on indicators found" in text
    assert not re.search(r"│\s*r2k_", text), "a russell column varies with the startup window"
