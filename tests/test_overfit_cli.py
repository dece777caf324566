"""``russell-regime overfit`` through the real entry point, on the ``.fthypt`` file of a real
freqtrade hyperopt run (offline, seeded, a short timerange) made once for this module by the
repo's own :func:`russell_regime.evidence.backtest.run_hyperopt`; and its error paths."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from russell_regime.evidence.overfit import deflated_sharpe, pbo_cscv, sharpe
from russell_regime.evidence.trials import MAX_LOSS, read_trials

TIMERANGE = "20220101-20220501"  # 121 days of 1h candles
PAIRS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
EPOCHS = 10


@pytest.fixture(scope="module")
def hyperopt_run(shared_data, tmp_path_factory):
    """(results file, best params, best loss) of a real 10-epoch hyperopt of RussellRiskOn's
    russell space."""
    from russell_regime.evidence.backtest import run_hyperopt

    user_dir = tmp_path_factory.mktemp("hyperopt")
    result = run_hyperopt(shared_data, user_dir, TIMERANGE, EPOCHS, seed=7, pairs=PAIRS)
    files = sorted((user_dir / "hyperopt_results").glob("strategy_RussellRiskOn_*.fthypt"))
    assert files == [result.results_file], files
    return result.results_file, result.params, result.loss


def raw_epochs(path: Path) -> list[dict]:
    """The file's epochs read independently (json, one object per line)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "russell_regime", "overfit", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
@pytest.mark.compat  # freqtrade's results file on the oldest and newest release
def test_read_trials_of_a_real_hyperopt_run(hyperopt_run):
    path, best_params, best_loss = hyperopt_run
    raw = raw_epochs(path)
    trials = read_trials(path)
    assert trials.strategy == "RussellRiskOn" and len(raw) == EPOCHS == trials.n_trials
    assert trials.returns.columns.tolist() == list(range(1, EPOCHS + 1))
    metrics = [e["results_metrics"] for e in raw]
    first = pd.Timestamp(metrics[0]["backtest_start"], tz="UTC").normalize()
    last = pd.Timestamp(metrics[0]["backtest_end"], tz="UTC").normalize()
    assert trials.returns.index.equals(pd.date_range(first, last, freq="D", name="date"))
    # every epoch's daily returns sum to freqtrade's profit_total
    assert trials.returns.sum().to_numpy() == pytest.approx(
        [m["profit_total"] for m in metrics], abs=1e-9)
    assert trials.trades.tolist() == [m["total_trades"] for m in metrics]
    assert trials.traded >= 2, "the fixture's hyperopt should give at least 2 epochs with trades"
    # MAX_LOSS epochs (no trade: hyperopt_min_trades 1) are counted as trials
    assert trials.max_loss == sum(e["loss"] == MAX_LOSS for e in raw)
    assert trials.max_loss == (trials.trades == 0).sum()
    # one epoch's days as freqtrade lists them, over the starting balance, zero elsewhere
    traded = next(n for n, m in enumerate(metrics, start=1) if m["total_trades"] > 0)
    listed = {pd.Timestamp(day, tz="UTC"): value / metrics[traded - 1]["starting_balance"]
              for day, value in metrics[traded - 1]["daily_profit"]}
    column = trials.returns[traded]
    assert column[list(listed)].to_numpy() == pytest.approx(list(listed.values()))
    assert (column.drop(list(listed)) == 0).all()
    # selected: the lowest loss = freqtrade's best (the last epoch it flagged is_best)
    assert trials.selected == max(n for n, e in enumerate(raw, start=1) if e["is_best"])
    assert trials.loss[trials.selected] == pytest.approx(best_loss) == trials.loss.min()
    assert {k: trials.params[trials.selected][k] for k in best_params} == best_params


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
@pytest.mark.compat  # freqtrade's results file on the oldest and newest release
def test_overfit_command_on_a_real_hyperopt_run(hyperopt_run, tmp_path):
    path = hyperopt_run[0]
    proc = run("--hyperopt-file", str(path), "--out", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp_path / "out"
    row = pd.read_csv(out / "overfit.csv").iloc[0]
    trials = read_trials(path)
    matrix = trials.returns.to_numpy()
    dsr = deflated_sharpe(trials.returns[trials.selected].to_numpy(),
                          [sharpe(matrix[:, i]) for i in range(matrix.shape[1])])
    pbo = pbo_cscv(matrix, 16)
    assert row["file"] == str(path) and row["strategy"] == "RussellRiskOn"
    assert (row["trials"], row["trials_traded"], row["trials_max_loss"], row["days"]) == (
        EPOCHS, trials.traded, trials.max_loss, len(trials.returns))
    assert (row["selected_epoch"], row["partitions"], row["splits"]) == (
        trials.selected, 16, math.comb(16, 8))
    assert row["rows_used"] == 16 * (len(trials.returns) // 16)
    for key in ("sharpe", "sharpe_annual", "sharpe_variance", "threshold", "threshold_annual",
                "skew", "kurtosis", "psr", "dsr"):
        assert row[key] == pytest.approx(getattr(dsr, key), rel=1e-5, abs=1e-12), key
    assert row["sharpe_annual"] == pytest.approx(row["sharpe"] * math.sqrt(365), rel=1e-5)
    assert row["pbo"] == pytest.approx(pbo.pbo, rel=1e-5)
    assert row["median_logit"] == pytest.approx(pbo.median_logit, rel=1e-5, abs=1e-12)
    logits = pd.read_csv(out / "overfit_logits.csv")
    assert len(logits) == math.comb(16, 8) and logits["split"].tolist()[:2] == [1, 2]
    assert logits["in_sample_blocks"].iloc[0] == "1-2-3-4-5-6-7-8"
    assert (logits["logit"] <= 0).mean() == pytest.approx(row["pbo"], rel=1e-5)
    assert set(logits["selected_epoch"]) <= set(range(1, EPOCHS + 1))
    assert np.isfinite(logits[["is_sharpe", "oos_sharpe", "logit"]].to_numpy()).all()
    # the two sentences, from the numbers, in the console and overfit.md
    dsr_line = f"DSR {row['dsr']:.2f}: after {EPOCHS} trials the selected Sharpe ratio"
    pbo_line = f"PBO {row['pbo']:.2f}: the in-sample best fell to or below"
    markdown = (out / "overfit.md").read_text()
    for line in (dsr_line, pbo_line):
        assert line in proc.stdout and line in markdown
    assert (out / "overfit_logits.png").stat().st_size > 0

    proc = run("--hyperopt-file", str(path), "--out", "two", "--partitions", "2", "--no-plots",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    row = pd.read_csv(tmp_path / "two" / "overfit.csv").iloc[0]
    assert (row["partitions"], row["splits"]) == (2, 2)
    assert len(pd.read_csv(tmp_path / "two" / "overfit_logits.csv")) == 2
    assert not (tmp_path / "two" / "overfit_logits.png").exists()


# --- error paths: one line, exit 2, nothing written --------------------------------------------


def handmade(path: Path, days: int) -> Path:
    """A small valid results file: 3 epochs over ``days`` days."""
    end = pd.Timestamp("2024-01-01") + pd.Timedelta(days=days - 1)
    lines = []
    for n in range(3):
        metrics = {"starting_balance": 1000.0, "backtest_start": "2024-01-01 00:00:00",
                   "backtest_end": f"{end:%Y-%m-%d} 23:00:00", "total_trades": 1,
                   "profit_total": 0.001 * n, "daily_profit": [["2024-01-02", float(n)]]}
        lines.append(json.dumps({"loss": -n, "params_dict": {}, "results_metrics": metrics,
                                 "is_best": True}))
    path.write_text("\n".join(lines) + "\n")
    return path


def last_line(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr.strip().splitlines()[-1]


def test_partitions_must_be_even(tmp_path):
    handmade(tmp_path / "h.fthypt", 60)
    proc = run("--hyperopt-file", "h.fthypt", "--partitions", "3", "--out", "out", cwd=tmp_path)
    assert proc.returncode == 2
    assert last_line(proc) == ("russell_regime overfit: error: argument --partitions: '3' is "
                               "not even (allowed: an even whole number, 2..20)")
    assert not (tmp_path / "out").exists()


def test_a_file_with_too_few_days_for_the_partitions(tmp_path):
    path = handmade(tmp_path / "h.fthypt", 20)
    proc = run("--hyperopt-file", "h.fthypt", "--out", "out", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"russell_regime overfit: error: --partitions 16: {path} covers 20 days; 16 blocks of "
        "at least 2 days need 32 (use fewer partitions)"]
    assert not (tmp_path / "out").exists()
    proc = run("--hyperopt-file", "h.fthypt", "--out", "out", "--partitions", "10",
               "--no-plots", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert pd.read_csv(tmp_path / "out" / "overfit.csv")["splits"].tolist() == [252]


def test_a_file_that_is_not_a_hyperopt_results_file(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("date,close\n2024-01-01,1\n")
    proc = run("--hyperopt-file", "prices.csv", "--out", "out", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()  # the reason after ':' is the JSON parser's
    assert len(lines) == 1 and lines[0].startswith(
        f"russell_regime overfit: error: {path}: not a freqtrade hyperopt results file "
        "(.fthypt: one JSON object per epoch and line): ")
    assert not (tmp_path / "out").exists()


def test_a_missing_file(tmp_path):
    proc = run("--hyperopt-file", "missing.fthypt", cwd=tmp_path)
    assert proc.returncode == 2
    assert last_line(proc) == (
        "russell_regime overfit: error: argument --hyperopt-file: 'missing.fthypt' is not an "
        f"existing file ({tmp_path / 'missing.fthypt'}) (allowed: an existing file)")
