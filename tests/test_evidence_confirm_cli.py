"""`events`, `event-study` and `compare` through the real entry point (subprocess): the
`<kind>+<confirmation>` kinds, Benjamini-Hochberg p-values and the random-gate control."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from russell_regime.core.calendar import Availability
from russell_regime.evidence.multitest import bh_adjust


def _run(cwd: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "russell_regime", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.shared_data
def test_events_with_vix_keep_the_events_whose_vix_was_calm_at_the_entry(shared_data, tmp_path):
    proc = _run(tmp_path, "events", "--data", str(shared_data), "--since", "2017-01-01",
                "--confirm", "vix", "--csv", "ev.csv")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "+vix: ^VIX level (level 20, window 50)" in proc.stdout
    events = pd.read_csv(tmp_path / "ev.csv", parse_dates=["session", "available_at"])
    plain = events[~events["kind"].str.contains("+", regex=False)]
    vix = events[events["kind"].str.endswith("+vix")]
    assert len(vix) and set(vix["kind"]) <= {f"{k}+vix" for k in plain["kind"]}
    # by hand from VIX.csv: the VIX close of the last session published (16:15 New York +
    # 15 min) at or before the entry candle (the first full hour at or after available_at)
    raw = pd.read_csv(shared_data / "index" / "VIX.csv", parse_dates=["date"])
    vix_avail = Availability(close_offset_minutes=15).available_at(raw["date"])
    expected = []
    for ev in plain.itertuples():
        entry = pd.Timestamp(ev.available_at).ceil("h")
        row = int(np.searchsorted(vix_avail, entry, side="right")) - 1
        if raw["close"].iloc[row] < 20:
            expected.append((ev.kind + "+vix", ev.session))
    got = list(zip(vix["kind"], vix["session"], strict=True))
    assert sorted(got) == sorted(expected)
    assert 0 < len(expected) < len(plain)  # the confirmation removes some events, not all


@pytest.mark.shared_data
def test_event_study_reports_confirmed_kinds_and_bh_adjusted_p_values(shared_data, tmp_path):
    proc = _run(tmp_path, "event-study", "--data", str(shared_data), "--out", "out",
                "--pairs", "BTC", "SOL", "--start", "2019-01-01", "--end", "2022-06-30",
                "--horizons", "7", "30", "--reps", "50", "--draws", "300", "--no-plots",
                "--no-progress", "--confirm", "vix", "lead")
    assert proc.returncode == 0, proc.stderr[-2000:]
    study = pd.read_csv(tmp_path / "out" / "study.csv")
    kinds = set(study["kind"])
    assert {"ath", "ath+vix", "ath+lead", "breakout_252+vix", "random", "spx_ath"} <= kinds
    assert not any(k.startswith(("random+", "spx_ath+")) for k in kinds)
    # a confirmed kind has at most the events of its kind
    n = study.set_index(["kind", "asset", "horizon_days"])["n_events"]
    assert (n.loc["ath+vix"] <= n.loc["ath"]).all()
    # p_bh: BH within the Russell family (every non-placebo row), and within the placebos
    russell = ~study["kind"].isin(["random", "spx_ath"])
    np.testing.assert_allclose(study.loc[russell, "p_bh"],
                               bh_adjust(study.loc[russell, "p_placebo"].to_numpy()),
                               atol=2e-6)  # the CSV keeps 6 significant digits
    assert (study["p_bh"] >= study["p_placebo"]).all()
    tests = int(russell.sum())
    assert f"multiple testing (Benjamini-Hochberg): russell: {tests} tests" in proc.stdout
    assert "p_bh" in (tmp_path / "out" / "event_study.md").read_text()


@pytest.mark.shared_data
def test_confirm_flows_needs_a_flows_file_and_uses_it(shared_data, tmp_path):
    proc = _run(tmp_path, "events", "--data", str(shared_data), "--confirm", "flows")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "--flows-file" in proc.stderr and "no ETF flows" in proc.stderr
    sessions = pd.read_csv(shared_data / "index" / "IWM.csv", parse_dates=["date"])["date"]
    sessions = sessions[(sessions >= "2020-06-01") & (sessions <= "2021-12-31")]
    flows = pd.DataFrame({"date": sessions.dt.strftime("%Y-%m-%d"),
                          "flow": np.where(sessions < "2021-01-01", 1.0, -1.0)})
    flows.to_csv(tmp_path / "flows.csv", index=False)
    proc = _run(tmp_path, "events", "--data", str(shared_data), "--since", "2020-06-01",
                "--confirm", "flows", "--flows-file", "flows.csv", "--flows-window", "5",
                "--csv", "ev.csv")
    assert proc.returncode == 0, proc.stderr[-2000:]
    events = pd.read_csv(tmp_path / "ev.csv", parse_dates=["session"])
    confirmed = events[events["kind"].str.endswith("+flows")]
    # inflows during 2020 (after 5 sessions of history), outflows in 2021
    assert len(confirmed) and (confirmed["session"] < "2021-01-01").all()
    assert (events.loc[~events["kind"].str.contains("+", regex=False), "session"]
            >= "2021-01-01").any()
    flows["flow"] = flows["flow"].astype(object)
    flows.loc[flows.index[3], "flow"] = "x"
    flows.to_csv(tmp_path / "flows.csv", index=False)
    proc = _run(tmp_path, "events", "--data", str(shared_data), "--confirm", "flows",
                "--flows-file", "flows.csv")
    assert proc.returncode == 2 and "'x'" in proc.stderr


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_compare_random_gate_control(shared_data, tmp_path):
    proc = _run(tmp_path, "compare", "--data", str(shared_data), "--out", "out",
                "--timerange", "20211001-20220101", "--pairs", "BTC", "ETH", "SOL",
                "--no-progress", "--no-plots", "--random-gates", "40", "--confirm", "vix")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp_path / "out"
    control = pd.read_csv(out / "compare_random_gates.csv")
    assert control["gate"].unique().tolist() == ["gate", "gate+vix"]
    assert (control["n_random"] == 40).all()
    assert control["p_random"].between(1 / 41, 1).all()
    assert control["percentile"].between(0, 100).all()
    # the gate as a filter on the ungated trades reproduces the gated backtest here (no slot
    # contention with 3 pairs): same trades, same profit
    trades = pd.read_csv(out / "compare_trades.csv")
    gated = trades[trades["run"] == "gated (defaults)"]
    real = control[control["gate"] == "gate"].set_index("metric")["real"]
    assert real["trades"] == len(gated)
    assert real["profit"] == pytest.approx(gated["profit_ratio"].sum(), abs=1e-5)  # CSV: 6 digits
    vix = control[control["gate"] == "gate+vix"].set_index("metric")["real"]
    assert vix["trades"] <= real["trades"]
    # the freqtrade backtest with the VIX confirmation (the mixin's own alignment) took exactly
    # the trades the control's gate+vix mask keeps (this module's alignment)
    table = pd.read_csv(out / "compare.csv")
    assert table["run"].tolist() == ["gated (defaults)", "ungated (all *_mode=off)",
                                     "gated+vix", "BTC buy-and-hold"]
    assert vix["trades"] == len(trades[trades["run"] == "gated+vix"]) < len(gated)
    assert vix["profit"] == pytest.approx(
        trades.loc[trades["run"] == "gated+vix", "profit_ratio"].sum(), abs=1e-5)
    draws = pd.read_csv(out / "compare_random_draws.csv")
    assert len(draws) == 80
    again = _run(tmp_path, "compare", "--data", str(shared_data), "--out", "again",
                 "--timerange", "20211001-20220101", "--pairs", "BTC", "ETH", "SOL",
                 "--no-progress", "--no-plots", "--random-gates", "40", "--confirm", "vix")
    assert again.returncode == 0
    pd.testing.assert_frame_equal(draws, pd.read_csv(tmp_path / "again" /
                                                     "compare_random_draws.csv"))


# --- multiple comparisons (SPA, StepM) of the gate variants vs ungated; compare_run.json ------

RUN_KEYS = {"strategy", "timerange", "start", "end", "pairs", "timeframe", "config", "gate",
            "price_basis", "confirmations", "seed", "random_gates", "spa_reps", "spa_block",
            "created", "russell_regime_version"}


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_compare_multiple_comparisons_of_the_gate_variants(shared_data, tmp_path):
    """SPA and StepM of every gate variant that ran (the gate, the gate with vix / lead /
    value) vs ungated, printed and written; the numbers are superiority() of the equity curves
    compare wrote (read back: 6 significant digits, so a p-value may move by one replication)."""
    import json

    from russell_regime.evidence.backtest import gated_params
    from russell_regime.evidence.superiority import (
        SUPERIORITY_COLUMNS,
        daily_returns_table,
        superiority,
    )

    proc = _run(tmp_path, "compare", "--data", str(shared_data), "--out", "out",
                "--timerange", "20211001-20220101", "--pairs", "BTC", "ETH", "SOL",
                "--no-progress", "--no-plots", "--random-gates", "0", "--spa-reps", "200",
                "--spa-block", "6", "--seed", "11")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp_path / "out"
    spa = pd.read_csv(out / "compare_spa.csv")
    assert list(spa.columns) == list(SUPERIORITY_COLUMNS)
    runs = pd.read_csv(out / "compare.csv")["run"].tolist()
    variants = ["gated (defaults)", "gated+vix", "gated+lead", "gated+value"]
    assert [r for r in runs if r.startswith("gated")] == variants
    assert spa["variant"].tolist() == variants  # one row per variant that ran, no ungated/BH
    assert (spa["benchmark"] == "ungated (all *_mode=off)").all()
    for col in ("spa_p_consistent", "spa_p_lower", "spa_p_upper"):
        assert spa[col].between(0, 1).all() and spa[col].nunique() == 1
    assert spa[["reps", "block_size", "seed", "n_variants"]].iloc[0].tolist() == [200, 6, 11, 4]
    text = " ".join(proc.stdout.split())
    p = spa["spa_p_consistent"].iloc[0]
    assert (f"Multiple comparisons vs ungated (all *_mode=off): SPA p = {p:.3f} (Hansen 2005), "
            "StepM at 5 % (Romano & Wolf 2005)") in text
    winners = spa.loc[spa["beats_benchmark_stepm"], "variant"].tolist()
    verdict = (f"StepM: {', '.join(winners)} beat" if winners else
               "no gate variant beats ungated (all *_mode=off) after accounting for 4 variants")
    assert verdict in text
    assert "# Multiple comparisons" in (out / "compare_spa.md").read_text()
    # the wiring: the same analysis on compare_equity.csv read back
    equity = pd.read_csv(out / "compare_equity.csv", parse_dates=["date"]).set_index("date")
    returns = daily_returns_table({c: equity[c] for c in
                                   ["ungated (all *_mode=off)", *variants]})
    direct = superiority(returns, "ungated (all *_mode=off)", variants, block_size=6, reps=200,
                         seed=11)
    assert spa["n_days"].tolist() == direct["n_days"].tolist() == [len(equity) - 1] * 4
    for col in ("spa_p_consistent", "spa_p_lower", "spa_p_upper"):
        assert spa[col].tolist() == pytest.approx(direct[col].tolist(), abs=1 / 200 + 1e-9)
    assert spa["beats_benchmark_stepm"].tolist() == direct["beats_benchmark_stepm"].tolist()
    assert spa["mean_diff_annual"].tolist() == pytest.approx(
        direct["mean_diff_annual"].tolist(), abs=1e-3)
    assert spa["sharpe"].tolist() == pytest.approx(direct["sharpe"].tolist(), abs=1e-2)
    # compare_run.json: what redraws the gate without a backtest
    record = json.loads((out / "compare_run.json").read_text())
    assert set(record) == RUN_KEYS
    assert record["gate"] == gated_params()  # RussellRiskOn's defaults
    assert record["price_basis"] == "close"  # the shipped config's (the report redraws with it)
    assert set(record["confirmations"]) == {"vix", "lead", "value"}
    assert record["confirmations"]["vix"]["path"] == str(shared_data / "index" / "VIX.csv")
    assert record["pairs"] == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    assert (record["strategy"], record["timerange"], record["timeframe"]) == (
        "RussellRiskOn", "20211001-20220101", "1h")
    assert (record["start"], record["end"]) == ("2021-10-01T00:00:00+00:00",
                                                "2022-01-01T00:00:00+00:00")
    assert (record["seed"], record["random_gates"], record["spa_reps"],
            record["spa_block"]) == (11, 0, 200, 6)
    assert pd.Timestamp(record["created"]).tzinfo is not None


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_compare_spa_reps_0_skips_the_multiple_comparisons(shared_data, tmp_path):
    import json

    proc = _run(tmp_path, "compare", "--data", str(shared_data), "--out", "out",
                "--timerange", "20211001-20211101", "--pairs", "BTC", "--no-progress",
                "--no-plots", "--random-gates", "0", "--spa-reps", "0", "--confirm")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp_path / "out"
    assert (out / "compare.csv").is_file()
    assert not (out / "compare_spa.csv").exists() and not (out / "compare_spa.md").exists()
    assert "Multiple comparisons" not in proc.stdout
    record = json.loads((out / "compare_run.json").read_text())
    assert set(record) == RUN_KEYS
    assert (record["spa_reps"], record["confirmations"], record["pairs"]) == (0, {}, ["BTC/USDT"])


@pytest.mark.shared_data
def test_compare_spa_options_are_checked_before_any_backtest(shared_data, tmp_path):
    proc = _run(tmp_path, "compare", "--data", str(shared_data), "--spa-reps", "-1")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "russell_regime compare: error: argument --spa-reps: '-1' is out of range (allowed: a "
        "whole number, 0..20000)")
    proc = _run(tmp_path, "compare", "--data", str(shared_data), "--out", "out",
                "--timerange", "20211001-20211101", "--pairs", "BTC", "--spa-block", "20")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "russell_regime compare: error: --spa-block 20: the timerange 20211001-20211101 has 31 "
        "days, fewer than two blocks (allowed: 1..15)"]
    assert "trades" not in proc.stdout and not (tmp_path / "out").exists()
