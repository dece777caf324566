"""Event extraction and de-clustering on hand-made daily frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from russell_regime.core.calendar import Availability
from russell_regime.evidence.bootstrap import rng_for
from russell_regime.evidence.events import (
    ath_events,
    decluster,
    episodes,
    in_window,
    random_events,
    raw_events,
    russell_events,
)


def _daily(closes: list[float], start: str = "2024-01-02") -> pd.DataFrame:
    sessions = pd.bdate_range(start, periods=len(closes))
    c = np.asarray(closes, dtype=float)
    return pd.DataFrame(
        {"session": sessions, "open": c, "high": c, "low": c, "close": c, "volume": 0.0}
    )


def test_decluster_chains_events_within_gap():
    # gaps:          2   3   10  1   4  (gap=3: 2 and 3 join, 10 splits, 1 joins, 4 splits)
    pos = np.array([0, 2, 5, 15, 16, 20])
    assert decluster(pos, 3).tolist() == [0, 0, 0, 1, 1, 2]
    assert decluster(pos, 0).tolist() == [0, 1, 2, 3, 4, 5]
    assert decluster(pos, 100).tolist() == [0] * 6
    assert decluster(np.array([], dtype=int), 5).tolist() == []


def test_decluster_rejects_bad_input():
    with pytest.raises(ValueError, match="increasing"):
        decluster(np.array([3, 3]), 2)
    with pytest.raises(ValueError, match="gap"):
        decluster(np.array([1, 2]), -1)


def test_raw_ath_events_and_levels():
    daily = _daily([10, 11, 10, 12, 12, 13])
    raw = raw_events(daily, lookbacks=[2])
    ath = raw[raw["kind"] == "ath"]
    # strictly above every earlier close: sessions 1, 3, 5 (12 == 12 is not new)
    assert ath["position"].tolist() == [1, 3, 5]
    assert ath["level"].tolist() == [10.0, 11.0, 12.0]
    brk = raw[raw["kind"] == "breakout_2"]
    # close > max of the previous 2 closes (from session 2 on): 3 (12>11), 5 (13>12)
    assert brk["position"].tolist() == [3, 5]
    assert brk["level"].tolist() == [11.0, 12.0]


def test_episodes_keep_first_event_with_size_and_last_session():
    daily = _daily([1, 2, 3, 2, 2, 2, 2, 2, 4, 5])
    ep = episodes(raw_events(daily, [3]), gap=2)
    ath = ep[ep["kind"] == "ath"]
    # raw ATH at 1, 2, 8, 9 -> episodes {1, 2} and {8, 9}
    assert ath["position"].tolist() == [1, 8]
    assert ath["n_raw"].tolist() == [2, 2]
    assert list(pd.DatetimeIndex(ath["last_session"])) == [
        daily["session"][2], daily["session"][9]
    ]


def test_russell_events_attach_availability():
    daily = _daily([1, 2, 3, 1, 1, 1, 1, 1, 1, 1, 4])
    avail = Availability().available_at(daily["session"])
    ev = russell_events(daily, avail, [3], gap=2)
    first = ev[ev["kind"] == "ath"].iloc[0]
    assert first["session"] == daily["session"][1]
    # 2024-01-03 is a regular EST session: close 21:00 UTC + 15 min
    assert first["available_at"] == pd.Timestamp("2024-01-03 21:15", tz="UTC")
    spx = ath_events(daily, avail, "spx_ath", gap=2)
    assert spx["position"].tolist() == [1, 10]
    assert set(spx["kind"]) == {"spx_ath"}
    late = in_window(ev, pd.Timestamp("2024-01-10", tz="UTC"), None)
    assert (pd.DatetimeIndex(late["available_at"]) >= pd.Timestamp("2024-01-10", tz="UTC")).all()


def test_random_events_reproducible_with_seed():
    pool = np.arange(100, 200)
    a = random_events(pool, 7, rng_for(3, "random-events"))
    b = random_events(pool, 7, rng_for(3, "random-events"))
    c = random_events(pool, 7, rng_for(4, "random-events"))
    assert a.tolist() == b.tolist()
    assert a.tolist() != c.tolist()
    assert len(set(a.tolist())) == 7 and np.all(np.diff(a) > 0)
    assert np.isin(a, pool).all()
    assert random_events(pool[:3], 7, rng_for(3)).size == 3
