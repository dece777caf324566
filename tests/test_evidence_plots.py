"""The evidence pictures: the gate over BTC and the random-gate distribution from small
synthetic inputs (pure helpers, figure contents, PNG written), and the commands writing them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from russell_regime.core.calendar import Availability
from russell_regime.core.gate import GateParams
from russell_regime.evidence.alignment import gate_timeline, open_spells
from russell_regime.evidence.events import describe_sessions
from russell_regime.evidence.plots import (
    equity_figure,
    gate_over_btc_figure,
    plot_gate_over_btc,
    plot_random_gates,
    random_gates_figure,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _daily(closes: np.ndarray, start: str = "2020-01-02") -> pd.DataFrame:
    sessions = pd.bdate_range(start, periods=closes.size)
    c = np.asarray(closes, dtype="float64")
    return pd.DataFrame({"session": sessions, "open": c, "high": c * 1.001, "low": c * 0.999,
                         "close": c, "volume": 1.0})


def _rising_then_falling() -> pd.DataFrame:
    # a slow fall from the high, a breakout to new highs, then a long fall
    closes = np.concatenate([np.linspace(110, 95, 60), np.linspace(101, 130, 30),
                             np.linspace(129, 80, 90)])
    return _daily(closes)


def test_open_spells_of_a_step_series():
    times = pd.date_range("2024-01-01", periods=6, freq="D", tz="UTC")
    state = np.array([False, True, True, False, True, True])
    end = pd.Timestamp("2024-01-10", tz="UTC")
    assert open_spells(times, state, end) == [(times[1], times[3]), (times[4], end)]
    assert open_spells(times, state) == [(times[1], times[3]), (times[4], times[5])]
    assert open_spells(times[:0], state[:0]) == []
    assert open_spells(times, np.zeros(6, bool)) == []


def test_gate_timeline_is_the_daily_gate_with_its_availability():
    daily = _rising_then_falling()
    avail = pd.DatetimeIndex(daily["session"]).tz_localize("UTC") + pd.Timedelta(hours=21)
    params = GateParams(lookback=20)
    timeline = gate_timeline(daily, avail, params)
    assert list(timeline.columns) == ["session", "available_at", "close", "ath", "resistance",
                                      "gate_open", "gate_tag"]
    assert len(timeline) == len(daily)
    assert (timeline["available_at"] == avail).all()
    assert not timeline["gate_open"].iloc[50:60].any()  # over 10 % below the high, no breakout
    assert timeline["gate_open"].iloc[60:90].all()  # the breakout and the run of new highs
    assert (timeline["gate_tag"].iloc[75:90] != "").all()
    assert not timeline["gate_open"].iloc[-1]  # far below the high at the end
    assert timeline["ath"].iloc[-1] == pytest.approx(130.0)


def test_describe_sessions_names_the_events_of_each_session():
    daily = _rising_then_falling()
    sessions = pd.DatetimeIndex(daily["session"])
    labels = describe_sessions(daily, [sessions[70], sessions[89], sessions[5]], [20, 40])
    assert labels[sessions[70]] == "record close; breakout 20, 40"
    assert labels[sessions[89]] == "last record close; breakout 20, 40"
    assert labels[sessions[5]] == ""


def _gate_inputs():
    daily = _rising_then_falling()
    avail = Availability().available_at(daily["session"])
    timeline = gate_timeline(daily, avail, GateParams(lookback=20))
    btc_times = pd.date_range(avail[0].floor("D"), avail[-1].ceil("D"), freq="D")
    btc = pd.Series(np.linspace(10_000, 60_000, btc_times.size), index=btc_times)
    spells = open_spells(timeline["available_at"], timeline["gate_open"].to_numpy(),
                         btc_times[-1])
    marks = [(avail[70], "record close"), (avail[89], "last record close")]
    return btc, timeline, spells, marks


def test_gate_over_btc_figure_has_both_panels_marks_and_legend(tmp_path: Path):
    btc, timeline, spells, marks = _gate_inputs()
    fig = gate_over_btc_figure(btc, timeline, spells, marks, "the gate over BTC")
    top, bottom = fig.axes
    assert top.get_title() == "the gate over BTC"
    assert top.get_yscale() == "log" and "BTC/USDT" in top.get_ylabel()
    assert bottom.get_ylabel() == "Russell 2000" and "date (UTC)" in bottom.get_xlabel()
    texts = [t.get_text() for t in top.texts]
    session_70 = pd.Timestamp(marks[0][0]).strftime("%Y-%m-%d")
    assert f"{session_70}: record close" in texts and len(texts) == 2
    legend = [t.get_text() for t in top.get_legend().get_texts()]
    assert legend == ["btc gate open (long entries allowed)", "BTC/USDT daily close"]
    assert {"Russell 2000 close", "record close so far (ATH)"} <= {
        t.get_text() for t in bottom.get_legend().get_texts()}
    assert len(top.patches) == len(spells) >= 1  # one shaded span per open spell
    path = plot_gate_over_btc(btc, timeline, spells, marks, tmp_path / "sub" / "gate.png",
                              "the gate over BTC")
    assert path.read_bytes()[:8] == PNG_MAGIC


def _control():
    rng = np.random.default_rng(1)
    draws = pd.concat([pd.DataFrame({"draw": np.arange(200), "profit": rng.normal(-1, 0.5, 200),
                                     "gate": gate}) for gate in ("gate", "gate+vix", "gate+lead")],
                      ignore_index=True)
    summary = pd.DataFrame({
        "gate": ["gate", "gate", "gate+vix", "gate+lead"],
        "metric": ["profit", "trades", "profit", "profit"],
        "real": [-0.57, 465.0, -0.52, np.nan], "percentile": [87.0, 5.8, 80.4, np.nan],
        "p_random": [0.132, 0.944, 0.198, np.nan], "n_random": [200, 200, 200, 0],
        "exposure": [0.296, 0.296, 0.228, 0.148],
    })
    return draws, summary


def test_random_gates_figure_one_panel_per_gate_row_with_the_real_value(tmp_path: Path):
    draws, summary = _control()
    fig = random_gates_figure(draws, summary, "profit", "random gates")
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 3  # the three profit rows; the fourth panel of the 2 x 2 grid hidden
    assert shown[0].get_title() == "gate (exposure 29.6%): percentile 87.0, p_random 0.132"
    assert shown[2].get_title() == "gate+lead (exposure 14.8%): percentile –, p_random –"
    assert shown[0].get_xlabel().startswith("profit") and shown[0].get_ylabel() == "random gates"
    legend = [t.get_text() for t in shown[0].get_legend().get_texts()]
    assert legend == ["200 random gates", "random median", "real gate -0.57"]
    real_lines = [ln for ln in shown[0].lines if ln.get_color() == "tab:red"]
    assert real_lines and real_lines[0].get_xdata()[0] == pytest.approx(-0.57)
    assert fig.texts[0].get_text() == "random gates"  # the suptitle
    path = plot_random_gates(draws, summary, "profit", tmp_path / "rg.png", "random gates")
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_equity_figure_labels_runs_dates_and_the_start():
    times = pd.date_range("2024-01-01", periods=30, freq="D", tz="UTC")
    curves = {"gated (defaults)": pd.Series(np.linspace(10_000, 9_000, 30), index=times),
              "ungated (all *_mode=off)": pd.Series(np.linspace(10_000, 7_000, 30), index=times),
              "BTC buy-and-hold": pd.Series(np.linspace(10_000, 20_000, 30), index=times)}
    ax = equity_figure(curves, "RussellRiskOn 2024").axes[0]
    assert ax.get_title() == "Equity: RussellRiskOn 2024"
    assert ax.get_xlabel() == "date (UTC)" and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        *curves, "start (10,000 USDT)"]
    assert ax.lines[1].get_linestyle() == "--"  # the ungated run dashed


# --- the commands write the pictures -----------------------------------------------------------


def _run(shared_data: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "russell_regime", *argv, "--data",
                           str(shared_data), "--no-progress"], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.shared_data
def test_event_study_writes_the_gate_over_btc(shared_data: Path, tmp_path: Path):
    proc = _run(shared_data, tmp_path, "event-study", "--out", "out", "--pairs", "BTC", "ETH",
                "--start", "2020-09-01", "--end", "2021-12-31", "--horizons", "7",
                "--reps", "50", "--draws", "100", "--confirm", "--no-spx",
                "--at", "2020-11-10", "2021-11-08")
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / "out" / "index_gate_btc.png"
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert "index_gate_btc.png" in proc.stdout.replace("\n", "")
    proc = _run(shared_data, tmp_path, "event-study", "--out", "none", "--pairs", "BTC",
                "--start", "2021-01-01", "--end", "2021-03-31", "--horizons", "7",
                "--reps", "20", "--draws", "20", "--confirm", "--no-spx", "--no-plots")
    assert proc.returncode == 0, proc.stderr
    assert not list((tmp_path / "none").glob("*.png"))


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_compare_writes_the_random_gate_histograms(shared_data: Path, tmp_path: Path):
    proc = _run(shared_data, tmp_path, "compare", "--out", "out", "--timerange",
                "20240101-20240401", "--pairs", "BTC", "ETH", "SOL", "--random-gates", "50")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    assert (out / "compare_random_gates.png").read_bytes()[:8] == PNG_MAGIC
    assert (out / "compare_equity.png").is_file()
    draws = pd.read_csv(out / "compare_random_draws.csv")
    assert set(draws["gate"]) == {"gate", "gate+vix", "gate+lead", "gate+value"}
