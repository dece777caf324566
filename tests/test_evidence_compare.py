"""``compare`` on a short real timerange: freqtrade in-process, our metrics vs freqtrade's; and
``compare --strategy`` for any strategy using RussellGateMixin."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from freqtrade.templates import sample_strategy

from russell_regime.adapter.params import confirmation_parameter_names
from russell_regime.evidence.backtest import gated_params
from russell_regime.evidence.commands import gate_note, gated_label, main


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_compare_short_timerange(shared_data: Path, tmp_path: Path):
    argv = ["compare", "--data", str(shared_data), "--out", str(tmp_path),
            "--timerange", "20220101-20220401", "--pairs", "BTC", "ETH", "SOL",
            "--no-progress"]
    assert main(argv) == 0
    table = pd.read_csv(tmp_path / "compare.csv")
    # by default also the gate with each confirmation of the shared data (vix, lead, value)
    assert table["run"].tolist() == [
        "gated (defaults)", "ungated (all *_mode=off)", "gated+vix", "gated+lead",
        "gated+value", "BTC buy-and-hold",
    ]
    trades = table.set_index("run")["trades"]
    for key in ("vix", "lead", "value"):  # a confirmation only removes entries
        assert trades[f"gated+{key}"] <= trades["gated (defaults)"]
    table = table[~table["run"].str.startswith("gated+")].reset_index(drop=True)
    strat = table.iloc[:2]
    # every trade is closed at the end, so the marked-to-market total equals freqtrade's
    assert strat["total_return"].tolist() == pytest.approx(
        strat["ft_profit_total"].tolist(), abs=1e-4
    )
    assert ((strat["exposure"] >= 0) & (strat["exposure"] <= 1)).all()
    assert (table["max_drawdown"] <= 0).all()
    # the gate can only remove entries of the base signal
    assert strat.iloc[0]["trades"] <= strat.iloc[1]["trades"]
    assert (tmp_path / "compare.md").is_file() and (tmp_path / "compare_equity.png").is_file()
    # BTC buy-and-hold: bought at the first open (0.1 % fee), marked at the curve's last instant
    bh = table.iloc[2]
    equity = pd.read_csv(tmp_path / "compare_equity.csv", parse_dates=["date"])
    end = pd.Timestamp(equity["date"].iloc[-1])
    btc = pd.read_feather(shared_data / "binance" / "BTC_USDT-1h.feather").set_index("date")
    first = btc.loc[pd.Timestamp("2022-01-01", tz="UTC"), "open"]
    last = btc.loc[end - pd.Timedelta(hours=1), "close"]
    assert bh["total_return"] == pytest.approx(last / first * 0.999 - 1, rel=1e-4)


# --- compare --strategy: any strategy using RussellGateMixin, through the real entry point ----

TEST_STRATEGIES = Path(__file__).resolve().parent / "strategies"
RUNS = ["gated (defaults)", "ungated (all *_mode=off)", "BTC buy-and-hold"]


def _compare(shared_data: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "russell_regime", "compare", "--data", str(shared_data),
         "--out", "out", "--timerange", "20211001-20220101", "--pairs", "BTC", "ETH", "SOL",
         "--no-progress", "--no-plots", "--confirm", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )  # fmt: skip  (--confirm alone: no confirmation runs)


def _tags(out: Path) -> dict[str, set[str]]:
    trades = pd.read_csv(out / "compare_trades.csv")
    return {run: set(group["enter_tag"]) for run, group in trades.groupby("run")}


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_compare_any_mixin_strategy_gated_vs_every_class_off(shared_data, tmp_path):
    """`compare --strategy GatedSample` (freqtrade's SampleStrategy + the mixin): the strategy
    gated vs the same strategy with btc/eth/alt_mode off vs BTC buy-and-hold."""
    proc = _compare(shared_data, tmp_path, "--strategy", "GatedSample",
                    "--strategy-path", str(TEST_STRATEGIES))
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp_path / "out"
    table = pd.read_csv(out / "compare.csv")
    assert table["run"].tolist() == RUNS
    assert "GatedSample 2021-10-01..2022-01-01, 3 pairs, 1h" in (out / "compare.md").read_text()
    gated, ungated = table.iloc[0], table.iloc[1]
    assert 0 < gated["trades"] < ungated["trades"]  # the gate removed entries, nothing else
    tags = _tags(out)
    assert tags[RUNS[1]] == {"r2k_off"}  # every class off: SampleStrategy's own entries
    assert tags[RUNS[0]] <= {"r2k_ath", "r2k_breakout", "r2k_retest", "r2k_all"}
    assert "gate parameters: the defaults" in proc.stdout


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_compare_ungated_run_stays_off_despite_the_strategys_parameter_file(shared_data, tmp_path):
    """freqtrade loads `<Strategy>.json` when the backtest starts (ft_bot_start), after compare
    set its parameters: the ungated run must still have every class off, while the gated run
    is the strategy as freqtrade loads it (the file's gate). Relative --strategy-path is taken
    from the caller's folder."""
    strategies = tmp_path / "mine"
    strategies.mkdir()
    shutil.copy(TEST_STRATEGIES / "GatedSample.py", strategies)
    modes = {f"{cls}_mode": "ath" for cls in ("btc", "eth", "alt")}
    (strategies / "GatedSample.json").write_text(json.dumps(
        {"strategy_name": "GatedSample", "params": {"russell": modes}}
    ))
    proc = _compare(shared_data, tmp_path, "--strategy", "GatedSample",
                    "--strategy-path", "mine")
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = pd.read_csv(tmp_path / "out" / "compare.csv")
    assert table["run"].tolist() == ["gated (own parameters)", *RUNS[1:]]
    tags = _tags(tmp_path / "out")
    assert tags["ungated (all *_mode=off)"] == {"r2k_off"}
    assert tags["gated (own parameters)"] == {"r2k_ath"}
    assert "gate parameters other than the defaults: btc_mode=ath, eth_mode=ath, alt_mode=ath" \
        in proc.stdout
    assert "GatedSample.json exists" in " ".join(proc.stdout.split())


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_compare_refuses_a_strategy_without_the_mixin_and_an_unknown_one(shared_data, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(sample_strategy.__file__, mine / "sample_strategy.py")
    proc = _compare(shared_data, tmp_path, "--strategy", "SampleStrategy",
                    "--strategy-path", "mine")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"russell_regime compare: error: strategy SampleStrategy ({mine / 'sample_strategy.py'})"
        " does not use RussellGateMixin"
    ), last
    assert not (tmp_path / "out" / "compare.csv").exists()

    proc = _compare(shared_data, tmp_path, "--strategy", "NoSuchStrategy",
                    "--strategy-path", "mine")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "russell_regime compare: error: Impossible to load Strategy 'NoSuchStrategy'"
    )


def test_gated_label_and_note_name_the_parameters_in_effect():
    defaults = gated_params()
    assert gated_label(defaults) == "gated (defaults)"
    assert gate_note(defaults) == "gate parameters: the defaults"
    own = {**defaults, "eth_lookback": 500}
    assert gated_label(own) == "gated (own parameters)"
    assert gate_note(own) == "gate parameters other than the defaults: eth_lookback=500"


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
@pytest.mark.parametrize("strategy", [None, "GatedSample"], ids=["RussellRiskOn", "GatedSample"])
def test_walk_forward_hyperopts_the_russell_space_of_the_strategy(shared_data, tmp_path, strategy):
    """--walk-forward (two tiny windows, 3 epochs) for the default strategy and for any mixin
    strategy: each window's hyperopt picks russell parameters, then three out-of-sample runs."""
    chosen = ["--strategy", strategy, "--strategy-path", str(TEST_STRATEGIES)] if strategy else []
    proc = subprocess.run(
        [sys.executable, "-m", "russell_regime", "compare", "--data", str(shared_data),
         "--out", "out", "--timerange", "20210101-20210501", "--pairs", "BTC", "ETH",
         "--walk-forward", "--train-months", "2", "--test-months", "1", "--epochs", "3",
         "--no-progress", "--no-plots", *chosen],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp_path / "out"
    assert f"Walk-forward out-of-sample ({strategy or 'RussellRiskOn'})" in (
        out / "walk_forward.md"
    ).read_text()
    windows = json.loads((out / "walk_forward_params.json").read_text())
    assert [w["window"] for w in windows] == [1, 2]
    # the default confirmations (vix lead value) are in the searched space
    space = set(gated_params()) | set(confirmation_parameter_names())
    for window in windows:
        assert window["params"] and set(window["params"]) <= space
        assert {"vix_mode", "lead_mode", "value_mode"} <= set(window["params"])
    # each window's selection among its 3 epochs: DSR and PBO on the epochs' daily P&L, the
    # same numbers `overfit` gives on the copied results file
    overfit = pd.read_csv(out / "walk_forward_overfit.csv")
    assert overfit["window"].astype(str).tolist() == ["1", "2", "overall"]
    per = overfit.iloc[:2]
    assert (per["trials"] == 3).all() and int(overfit.iloc[2]["trials"]) == 6
    assert per[["dsr", "psr", "pbo"]].apply(lambda c: c.between(0, 1)).all().all()
    assert (per["partitions"] == 16).all() and (per["splits"] == 12870).all()
    assert "DSR" in proc.stdout and "PBO" in proc.stdout
    check = subprocess.run(
        [sys.executable, "-m", "russell_regime", "overfit", "--hyperopt-file",
         str(out / "walk_forward_hyperopt_1.fthypt"), "--out", "of", "--no-plots"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert check.returncode == 0, check.stderr[-2000:]
    alone = pd.read_csv(tmp_path / "of" / "overfit.csv").iloc[0]
    for col in ("dsr", "psr", "pbo"):
        assert alone[col] == pytest.approx(per.iloc[1][col], rel=1e-4, abs=1e-6)
    per_window = pd.read_csv(out / "walk_forward.csv")
    assert per_window.groupby("window")["run"].apply(list).tolist() == [
        ["walk-forward gated", "default gated", "ungated", "BTC buy-and-hold"]
    ] * 2


# --- pairs checked before any backtest; each confirmation run set explicitly ------------------


@pytest.mark.shared_data
def test_compare_checks_every_pair_before_any_backtest(shared_data, tmp_path):
    """`compare --pairs BTC/USDT FOO/USDT` stops at once (no backtest started: none is
    reported, nothing written; far under one backtest's time) with one line naming the bad
    pair and what it lacks, exit 2."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "russell_regime", "compare", "--data", str(shared_data),
         "--pairs", "BTC/USDT", "FOO/USDT", "--timerange", "20240101-20240201", "--no-plots",
         "--no-progress", "--out", "out"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines() == [
        "russell_regime compare: error: --pairs: FOO/USDT: not in the exchange markets snapshot "
        f"and no 1h candles ({shared_data / 'binance' / 'FOO_USDT-1h.feather'} not found)"
    ]
    assert "trades" not in proc.stdout and not (tmp_path / "out").exists()
    assert elapsed < 15, elapsed  # interpreter start and the checks only


def test_pair_names_and_a_timerange_without_candles(shared_data):
    from russell_regime.errors import ConfigError
    from russell_regime.evidence.cli_common import check_pairs, pair_names

    assert pair_names(["btc", "ETH/USDT", "sol/btc"]) == ["BTC/USDT", "ETH/USDT", "SOL/BTC"]
    start, end = pd.Timestamp("2018-01-01", tz="UTC"), pd.Timestamp("2019-01-01", tz="UTC")
    check_pairs(shared_data, ["BTC/USDT"], start, end, {"BTC/USDT"})
    with pytest.raises(ConfigError) as refused:  # AVAX/USDT trades from 2020-09
        check_pairs(shared_data, ["BTC/USDT", "AVAX/USDT", "BTC"], start, end,
                    {"BTC/USDT", "AVAX/USDT"})
    assert str(refused.value) == (
        "--pairs: AVAX/USDT: no 1h candles in 2018-01-01..2019-01-01 "
        f"({shared_data / 'binance' / 'AVAX_USDT-1h.feather'} holds 2020-09-22..2025-06-30); "
        "'BTC' is not BASE/QUOTE (e.g. BTC/USDT)"
    )


def test_each_confirmation_run_sets_its_own_parameters_and_lead_names_gspc():
    """gated+<key> sets <key>_mode (its rule) and thresholds itself, so a <Strategy>.json with
    e.g. lead_mode off cannot make it the plain gated run; the lead series is the default
    confirmation's ^RUT / ^GSPC (index/SPX.csv is that S&P 500 series)."""
    from russell_regime.evidence.cli_common import LEAD_VERSUS
    from russell_regime.evidence.cli_compare import confirmation_values
    from russell_regime.settings import settings_from_config

    assert confirmation_values("lead", {"rule": "high", "window": 20}) == {
        "lead_mode": "high", "lead_window": 20}
    assert confirmation_values("flows", {"window": 10, "threshold": 0.0}) == {
        "flows_mode": "on", "flows_window": 10}
    default = settings_from_config({"russell_regime": {"confirmations": {"lead": {}}}})
    assert default.confirmations["lead"].tickers == ("^RUT", LEAD_VERSUS)


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_confirmation_runs_differ_despite_a_parameter_file_turning_them_off(shared_data, tmp_path):
    """The reported identical gated+lead and gated+value rows: a hyperopted RussellRiskOn.json
    with lead_mode and value_mode off made both runs the plain gated one. Now each run sets
    its confirmation itself: Q4 2021 lead removes entries of the gate."""
    from russell_regime.shipped import example_strategies

    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(example_strategies() / "RussellRiskOn.py", mine)
    (mine / "RussellRiskOn.json").write_text(json.dumps({
        "strategy_name": "RussellRiskOn",
        "params": {"russell": {"lead_mode": "off", "value_mode": "off"}}}))
    proc = _compare(shared_data, tmp_path, "lead", "--strategy-path", "mine",
                    "--random-gates", "10")
    assert proc.returncode == 0, proc.stderr[-2000:]
    trades = pd.read_csv(tmp_path / "out" / "compare.csv").set_index("run")["trades"]
    assert trades["gated+lead"] < trades["gated (defaults)"]
    assert "+lead: ^RUT/^GSPC (rule ma" in proc.stdout  # the series the run used
