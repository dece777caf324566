"""Benjamini-Hochberg adjusted p-values (pure) and the study table's families."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from russell_regime.evidence.multitest import (
    bh_adjust,
    survival_summary,
    survivors,
    with_bh,
)


def test_bh_matches_a_hand_computed_example():
    # m = 5 finite p-values; sorted 0.005 0.01 0.03 0.04 0.5 -> p * 5 / rank
    # = 0.025 0.025 0.05 0.05 0.5 (already monotone); the NaN is not a test
    p = [0.01, 0.04, 0.03, 0.005, np.nan, 0.5]
    got = bh_adjust(p)
    np.testing.assert_allclose(got, [0.025, 0.05, 0.05, 0.025, np.nan, 0.5])


def test_bh_step_up_takes_the_minimum_over_larger_ranks():
    # 0.02 * 3 / 1 = 0.06 but rank 2 gives 0.021 * 3 / 2 = 0.0315: the step-up keeps 0.0315
    np.testing.assert_allclose(bh_adjust(np.array([0.02, 0.021, 0.9])), [0.0315, 0.0315, 0.9])
    np.testing.assert_allclose(bh_adjust([0.9, 0.95]), [0.95, 0.95])  # capped, monotone
    assert bh_adjust([]).size == 0
    assert np.isnan(bh_adjust([np.nan])).all()


def test_bh_rejects_values_outside_0_1():
    with pytest.raises(ValueError, match="1.5"):
        bh_adjust([0.1, 1.5])


def test_bh_agrees_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    p = np.random.default_rng(3).uniform(0, 0.2, 60) ** 2
    np.testing.assert_allclose(bh_adjust(p), stats.false_discovery_control(p, method="bh"))


def test_with_bh_adjusts_russell_kinds_and_placebos_separately():
    table = pd.DataFrame({
        "kind": ["ath", "ath+vix", "breakout_252", "random", "spx_ath"],
        "p_placebo": [0.01, 0.02, 0.5, 0.01, np.nan],
        "other": 1,
    })
    out = with_bh(table)
    assert list(out.columns) == ["kind", "p_placebo", "p_bh", "other", "bh_family"]
    # russell family: m = 3 -> 0.03, 0.03, 0.5; placebo family: m = 1 -> 0.01 (NaN stays NaN)
    np.testing.assert_allclose(out["p_bh"], [0.03, 0.03, 0.5, 0.01, np.nan])
    assert out["bh_family"].tolist() == ["russell"] * 3 + ["placebo"] * 2
    assert survivors(out, 0.05)["kind"].tolist() == ["ath", "ath+vix"]
    assert survivors(out, 0.02).empty
    line = survival_summary(out)
    assert "russell: 3 tests, 2 with raw p < 0.05, BH survivors 2 at q = 0.05, 2 at q = 0.10" \
        in line
    assert "placebo: 1 tests" in line
