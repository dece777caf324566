"""Event-study table arithmetic on hand-made data, and the command end-to-end on real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from russell_regime.core.calendar import Availability
from russell_regime.evidence.commands import main
from russell_regime.evidence.forward import forward_metrics
from russell_regime.evidence.report import StudySettings, study_table, to_markdown


def test_study_table_compares_events_with_the_base_rate():
    # one asset, price doubles every 10 slots after slot 50, flat before
    prices = np.concatenate([np.full(50, 100.0), 100.0 * 2 ** (np.arange(1, 51) / 10)])[None, :]
    slots = np.arange(0, 100, 5)
    fw = forward_metrics(prices, slots, [10], max_delay=0)
    events = pd.DataFrame({"kind": "up", "slot": [50, 60, 95]})
    settings = StudySettings(horizons=(10,), reps=200, draws=500, seed=1, block=2)
    table = study_table({"X": fw}, slots, np.ones(slots.size, bool), events, settings)
    row = table.iloc[0]
    assert row["n_events"] == 2 and row["n_past_end"] == 1 and row["n_no_data"] == 0
    assert row["mean"] == pytest.approx(1.0)  # doubling after 50 and 60
    ok = fw.status[:, 0] == 0
    base = fw.ret[ok, 0]
    assert row["base_n"] == ok.sum()
    assert row["base_mean"] == pytest.approx(base.mean())
    assert row["diff"] == pytest.approx(1.0 - base.mean())
    assert row["max_dd"] == pytest.approx(0.0)
    assert row["ci_low"] <= row["diff"] <= row["ci_high"]
    assert row["p_placebo"] < 0.2
    again = study_table({"X": fw}, slots, np.ones(slots.size, bool), events, settings)
    pd.testing.assert_frame_equal(table, again)
    assert "| up |" in to_markdown(table, ["kind", "n_events", "mean"])


STUDY_ARGS = [
    "--pairs", "BTC", "ETH", "SOL", "ADA",
    "--start", "2020-09-01", "--end", "2022-06-30",
    "--horizons", "7", "30",
    "--reps", "200", "--draws", "500",
    "--at", "2021-11-08",
    "--no-progress",
]


@pytest.mark.shared_data
def test_event_study_end_to_end_on_real_data(shared_data: Path, tmp_path: Path):
    out = tmp_path / "a"
    assert main(["event-study", "--data", str(shared_data), "--out", str(out), *STUDY_ARGS]) == 0
    for name in ("study.csv", "events.csv", "event_returns.csv", "at_dates.csv",
                 "event_study.md", "paths_BTC.png", "paths_ALT.png", "index_events.png"):
        assert (out / name).is_file(), name
    study = pd.read_csv(out / "study.csv")
    assert set(study["asset"]) == {"BTC", "ETH", "SOL", "ADA", "ALT"}
    assert {"ath", "breakout_252", "retest_252", "breakout_756", "spx_ath", "random"} <= set(
        study["kind"]
    )

    # the 7-day BTC return after the 2021-11-08 record close, recomputed from the raw candles:
    # entry = open of the first 1h candle opening at or after close + 15 min
    btc = pd.read_feather(shared_data / "binance" / "BTC_USDT-1h.feather")
    avail = Availability().available_at(pd.DatetimeIndex([pd.Timestamp("2021-11-08")]))[0]
    dates = pd.DatetimeIndex(btc["date"])
    entry = btc.iloc[int(np.searchsorted(dates, avail))]
    exit_ = btc.iloc[int(np.searchsorted(dates, entry["date"] + pd.Timedelta(days=7)))]
    at = pd.read_csv(out / "at_dates.csv")
    got = at[(at["asset"] == "BTC") & (at["horizon_days"] == 7)].iloc[0]
    assert got["ret"] == pytest.approx(exit_["open"] / entry["open"] - 1, rel=1e-6)
    assert pd.Timestamp(got["entry_time"]) == entry["date"]

    # same seed -> identical results
    out_b = tmp_path / "b"
    assert main(["event-study", "--data", str(shared_data), "--out", str(out_b), "--no-plots",
                 *STUDY_ARGS]) == 0
    pd.testing.assert_frame_equal(study, pd.read_csv(out_b / "study.csv"))
