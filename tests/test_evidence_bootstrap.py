"""Block bootstrap and placebo: structure, known limits, reproducibility with a seed."""

from __future__ import annotations

import numpy as np
import pytest

from russell_regime.evidence.bootstrap import (
    block_bootstrap_diff,
    circular_block_indices,
    percentile_ci,
    placebo_means,
    placebo_pvalue,
    rng_for,
)


def test_circular_blocks_are_consecutive_and_wrap():
    idx = circular_block_indices(10, 4, np.random.default_rng(1), reps=50)
    assert idx.shape == (50, 10)
    assert ((idx >= 0) & (idx < 10)).all()
    # inside each block of 4 the positions step by +1 modulo n
    for row in idx:
        for start in range(0, 10, 4):
            block = row[start : start + 4]
            assert ((np.diff(block) % 10) == 1).all()


def test_block_of_one_is_iid_and_block_longer_than_n_is_clipped():
    idx = circular_block_indices(5, 1, np.random.default_rng(0), reps=3)
    assert idx.shape == (3, 5)
    long = circular_block_indices(5, 50, np.random.default_rng(0), reps=2)
    assert long.shape == (2, 5)
    with pytest.raises(ValueError):
        circular_block_indices(0, 3, np.random.default_rng(0), reps=1)


def test_bootstrap_diff_known_limits():
    values = np.arange(20, dtype=float)
    # every start is an event -> event mean == base mean in every replicate
    diffs = block_bootstrap_diff(values, np.ones(20, bool), 5, 200, np.random.default_rng(0))
    assert np.allclose(diffs, 0.0)
    # constant values -> difference 0 whenever an event is drawn, NaN otherwise
    ev = np.zeros(20, bool)
    ev[3] = True
    d = block_bootstrap_diff(np.full(20, 2.5), ev, 4, 300, np.random.default_rng(0))
    assert np.isnan(d).any() and np.allclose(d[np.isfinite(d)], 0.0)


def test_bootstrap_centres_on_the_observed_difference():
    rng = np.random.default_rng(5)
    values = rng.normal(0, 1, 400)
    ev = np.zeros(400, bool)
    ev[::20] = True
    values[ev] += 2.0
    observed = values[ev].mean() - values.mean()
    diffs = block_bootstrap_diff(values, ev, 10, 2000, np.random.default_rng(1))
    lo, hi = percentile_ci(diffs, 0.90)
    assert lo < observed < hi
    assert np.nanmean(diffs) == pytest.approx(observed, abs=0.1)


def test_reproducible_with_seed_and_independent_of_call_order():
    values = np.linspace(-1, 1, 50)
    ev = np.zeros(50, bool)
    ev[[3, 17, 40]] = True
    a = block_bootstrap_diff(values, ev, 5, 100, rng_for(7, "bootstrap", "ath", "BTC", 30))
    _ = rng_for(7, "something else").random(10)
    b = block_bootstrap_diff(values, ev, 5, 100, rng_for(7, "bootstrap", "ath", "BTC", 30))
    c = block_bootstrap_diff(values, ev, 5, 100, rng_for(8, "bootstrap", "ath", "BTC", 30))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c, equal_nan=True)


def test_bootstrap_rejects_nan_values():
    with pytest.raises(ValueError):
        block_bootstrap_diff(np.array([1.0, np.nan]), np.array([True, False]), 1, 5,
                             np.random.default_rng(0))


def test_placebo_means_and_pvalue():
    values = np.arange(10, dtype=float)
    draws = placebo_means(values, 10, 20, np.random.default_rng(0))
    assert np.allclose(draws, 4.5)  # every value once
    draws = placebo_means(values, 1, 5000, np.random.default_rng(0))
    assert set(np.unique(draws)) <= set(values)
    assert placebo_pvalue(9.0, draws) == pytest.approx(
        (1 + np.count_nonzero(draws >= 9.0)) / 5001
    )
    assert placebo_pvalue(9.0, draws) == pytest.approx(0.1, abs=0.02)
    assert placebo_pvalue(100.0, draws) == pytest.approx(1 / 5001)
    assert np.isnan(placebo_pvalue(np.nan, draws))
    big = placebo_means(np.arange(1000.0), 3, 500, np.random.default_rng(2))
    again = placebo_means(np.arange(1000.0), 3, 500, np.random.default_rng(2))
    np.testing.assert_array_equal(big, again)
    with pytest.raises(ValueError):
        placebo_means(values, 11, 5, np.random.default_rng(0))


def test_percentile_ci():
    assert percentile_ci(np.arange(101.0), 0.90) == pytest.approx((5.0, 95.0))
    lo, hi = percentile_ci(np.array([np.nan]), 0.9)
    assert np.isnan(lo) and np.isnan(hi)
