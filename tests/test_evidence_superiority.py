"""SPA and StepM of gate variants vs a benchmark (evidence/superiority.py) on constructed
returns with known answers, and the same numbers as a direct arch call."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from arch.bootstrap import SPA, StepM

from russell_regime.evidence.metrics import daily_returns, sharpe
from russell_regime.evidence.superiority import (
    SUPERIORITY_COLUMNS,
    daily_returns_table,
    default_block_size,
    superiority,
    superiority_title,
    superiority_verdict,
)

T = 500


def _returns(seed: int = 1, **drifts: float) -> pd.DataFrame:
    """A benchmark column ``bench`` and one column per ``drifts`` entry: the benchmark plus
    the drift plus noise whose sample mean is exactly zero (so each variant's mean daily
    difference from the benchmark is exactly its drift)."""
    rng = np.random.default_rng(seed)
    bench = rng.normal(0.0, 0.02, T)
    out = {"bench": bench}
    for name, drift in drifts.items():
        noise = rng.normal(0.0, 0.01, T)
        out[name] = bench + drift + (noise - noise.mean())
    index = pd.date_range("2020-01-02", periods=T, freq="D", tz="UTC")
    return pd.DataFrame(out, index=index)


def test_a_variant_drifting_above_the_benchmark_is_found_and_only_it():
    returns = _returns(good=0.004, noise1=0.0, noise2=0.0, bad=-0.004)
    table = superiority(returns, "bench", ["good", "noise1", "noise2", "bad"], reps=500, seed=3)
    assert list(table.columns) == list(SUPERIORITY_COLUMNS)
    assert table["variant"].tolist() == ["good", "noise1", "noise2", "bad"]
    assert table["spa_p_consistent"].iloc[0] < 0.05
    assert (table["spa_p_lower"] <= table["spa_p_consistent"]).all()
    assert (table["spa_p_consistent"] <= table["spa_p_upper"]).all()
    assert table.set_index("variant")["beats_benchmark_stepm"].to_dict() == {
        "good": True, "noise1": False, "noise2": False, "bad": False}
    # the family's p-values on every row; the differences are the drifts x 365
    assert table["spa_p_consistent"].nunique() == 1
    np.testing.assert_allclose(table["mean_diff_annual"], [0.004 * 365, 0, 0, -0.004 * 365],
                               atol=1e-12)
    for row in table.itertuples():
        assert row.sharpe == pytest.approx(sharpe(returns[row.variant]))
    assert table["benchmark_sharpe"].tolist() == [pytest.approx(sharpe(returns["bench"]))] * 4
    assert table[["n_variants", "n_days", "block_size", "reps", "seed"]].iloc[0].tolist() == [
        4, T, default_block_size(T), 500, 3]
    assert superiority_verdict(table).startswith(
        "StepM: good beats bench at a family-wise error rate of 5 % over 4 variants: SPA p = ")
    assert superiority_verdict(table).endswith("what the same-exposure random-gate control "
                                               "measures.")
    assert superiority_title(table) == (
        f"Multiple comparisons vs bench: SPA p = {table['spa_p_consistent'].iloc[0]:.3f} "
        "(Hansen 2005), StepM at 5 % (Romano & Wolf 2005)")


def test_variants_equal_to_the_benchmark_plus_zero_mean_noise_beat_nothing():
    returns = _returns(seed=2, a=0.0, b=0.0, c=0.0)
    table = superiority(returns, "bench", ["a", "b", "c"], reps=500, seed=3)
    assert table["spa_p_consistent"].iloc[0] > 0.2
    assert not table["beats_benchmark_stepm"].any()
    assert superiority_verdict(table).startswith(
        "no gate variant beats bench after accounting for 3 variants: SPA p = ")


def test_a_worse_variant_is_never_selected():
    returns = _returns(seed=4, bad=-0.002, same=0.0)
    returns["same"] = returns["bench"]  # identical to the benchmark: zero differences
    for seed in range(5):
        table = superiority(returns, "bench", ["bad", "same"], reps=200, seed=seed)
        assert not table["beats_benchmark_stepm"].any()
        assert table["spa_p_consistent"].iloc[0] > 0.2
    assert table["identical_to_benchmark"].tolist() == [False, True]
    # the identical variant is left out of the bootstrap (arch would call its zero
    # differential a tie at the observed maximum, p = 0): the family's p-values are bad's
    alone = superiority(returns, "bench", ["bad"], reps=200, seed=4)
    assert not alone["beats_benchmark_stepm"].any()
    assert alone["spa_p_consistent"].iloc[0] == table["spa_p_consistent"].iloc[0]
    assert superiority_verdict(table).endswith("; the same return as bench every day: same")
    # every variant identical: nothing can beat the benchmark, p = 1
    only = superiority(returns, "bench", ["same"], reps=200, seed=0)
    assert only[["spa_p_lower", "spa_p_consistent", "spa_p_upper"]].iloc[0].tolist() == [1.0] * 3
    assert not only["beats_benchmark_stepm"].any()


def test_seeded_and_the_same_numbers_as_arch():
    returns = _returns(seed=5, x=0.001, y=0.0, z=-0.001)
    variants = ["x", "y", "z"]
    table = superiority(returns, "bench", variants, block_size=7, reps=300, seed=11)
    pd.testing.assert_frame_equal(
        table, superiority(returns, "bench", variants, block_size=7, reps=300, seed=11))
    losses = -returns
    spa = SPA(losses["bench"], losses[variants], block_size=7, reps=300,
              bootstrap="stationary", seed=11)
    spa.compute()
    assert table[["spa_p_lower", "spa_p_consistent", "spa_p_upper"]].iloc[0].tolist() == [
        spa.pvalues["lower"], spa.pvalues["consistent"], spa.pvalues["upper"]]
    stepm = StepM(losses["bench"], losses[variants], size=0.05, block_size=7, reps=300,
                  bootstrap="stationary", seed=11)
    stepm.compute()
    assert table.loc[table["beats_benchmark_stepm"], "variant"].tolist() == list(
        stepm.superior_models)
    other = superiority(returns, "bench", variants, block_size=7, reps=300, seed=12)
    assert other["seed"].iloc[0] == 12  # another seed: another bootstrap, same point values
    assert other["mean_diff_annual"].tolist() == table["mean_diff_annual"].tolist()


def test_daily_returns_table_aligns_on_common_days_and_spans_gaps():
    days = pd.date_range("2021-01-01", periods=6, freq="D", tz="UTC")
    a = pd.Series([100.0, 110.0, 99.0, 99.0, 108.9, 119.79], index=days)
    b = pd.Series([50.0, 50.0, 55.0, np.nan, 60.5, 60.5], index=days)  # NaN: a gap
    c = pd.Series([10.0, 11.0, 12.1, 13.31, 14.641], index=days[1:])  # starts a day later
    table = daily_returns_table({"a": a, "b": b, "c": c})
    assert list(table.columns) == ["a", "b", "c"]
    # common finite instants: days 1, 2, 4, 5; the first gives no return; day 4's return
    # spans the missing day 3
    assert table.index.tolist() == [days[2], days[4], days[5]]
    np.testing.assert_allclose(table["a"], [99 / 110 - 1, 108.9 / 99 - 1, 0.1])
    np.testing.assert_allclose(table["b"], [0.1, 0.1, 0.0])
    np.testing.assert_allclose(table["c"], [0.1, 0.21, 0.1])
    # curves on the same instants: the metrics module's daily returns, column by column
    same = daily_returns_table({"a": a, "a2": a * 3})
    pd.testing.assert_series_equal(same["a"], daily_returns(a), check_names=False)
    pd.testing.assert_series_equal(same["a2"], daily_returns(a), check_names=False)


def test_default_block_size_rule():
    assert [default_block_size(n) for n in (20, 92, 125, 126, 1000, 2738)] == [
        5, 5, 5, 6, 10, 14]


def test_bad_inputs_are_refused():
    returns = _returns(x=0.0)
    with pytest.raises(ValueError, match="cannot be a variant"):
        superiority(returns, "bench", ["bench", "x"])
    with pytest.raises(ValueError, match="no returns for"):
        superiority(returns, "bench", ["nope"])
    with pytest.raises(ValueError, match="fewer than two blocks of 300 days"):
        superiority(returns, "bench", ["x"], block_size=300)
    nan = returns.copy()
    nan.iloc[3, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        superiority(nan, "bench", ["x"])
    with pytest.raises(ValueError, match="no variant"):
        superiority(returns, "bench", [])


def test_gate_variants_are_the_gated_runs_only():
    from russell_regime.evidence.cli_compare import gate_variants
    from russell_regime.evidence.compare import BUY_AND_HOLD, GATED_OWN, UNGATED

    names = [GATED_OWN, UNGATED, "gated+vix", "gated+flows", BUY_AND_HOLD]
    assert gate_variants(names) == [GATED_OWN, "gated+vix", "gated+flows"]
