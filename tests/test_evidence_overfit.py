"""Overfitting statistics (pure, :mod:`russell_regime.evidence.overfit`): known answers of the
Deflated Sharpe Ratio and of PBO by CSCV; and reading a hyperopt results file
(:mod:`russell_regime.evidence.trials`) on small hand-made files."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from russell_regime.errors import ConfigError, DataValidationError
from russell_regime.evidence.metrics import PERIODS_PER_YEAR
from russell_regime.evidence.overfit import (
    EULER_GAMMA,
    deflated_sharpe,
    dsr_sentence,
    expected_max_sharpe,
    fitted_partitions,
    moments,
    pbo_cscv,
    pbo_sentence,
    probabilistic_sharpe,
    sharpe,
    split_matrix,
)
from russell_regime.evidence.trials import MAX_LOSS, read_trials

# --- Sharpe, PSR, expected maximum, DSR --------------------------------------------------------


def test_sharpe_per_period_and_flat_series():
    assert sharpe([1.0, 2.0, 3.0]) == pytest.approx(2.0)  # mean 2, sd (ddof=1) 1
    assert sharpe([-1.0, 1.0, -3.0, 3.0, 5.0]) == pytest.approx(1 / math.sqrt(10))
    assert sharpe(np.zeros(30)) == 0.0  # a trial that never traded
    assert sharpe(np.full(30, 0.1)) == 0.0  # constant: no deviation (only rounding)
    assert sharpe([0.5]) == 0.0 and sharpe([]) == 0.0


def test_moments_are_the_sample_skewness_and_ordinary_kurtosis():
    r = np.random.default_rng(3).lognormal(0.0, 0.6, 500) - 1.2
    skew, kurt = moments(r)
    assert skew == pytest.approx(stats.skew(r))
    assert kurt == pytest.approx(stats.kurtosis(r, fisher=False))
    assert moments(np.zeros(10)) == (0.0, 3.0)


def test_deflated_sharpe_paper_example():
    """Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", section 4: annualised
    SR 2.5, N = 100 trials whose annualised Sharpe ratios vary with variance 0.5, T = 1250
    daily returns, skewness -3, kurtosis 10: threshold 0.1132 a day, DSR 0.9004."""
    sr, variance = 2.5 / math.sqrt(250), 0.5 / 250
    threshold = expected_max_sharpe(100, variance)
    assert threshold == pytest.approx(0.1132, abs=5e-5)
    assert probabilistic_sharpe(sr, 1250, -3.0, 10.0, threshold) == pytest.approx(0.9004,
                                                                                  abs=5e-5)


def test_expected_max_sharpe():
    assert expected_max_sharpe(1, 0.3) == 0.0 and expected_max_sharpe(0, 0.3) == 0.0
    assert expected_max_sharpe(50, 0.0) == 0.0
    # the False Strategy Theorem's formula, by hand, and its scaling with sqrt(V)
    n, v = 30, 0.004
    z = ((1 - EULER_GAMMA) * stats.norm.ppf(1 - 1 / n)
         + EULER_GAMMA * stats.norm.ppf(1 - 1 / (n * math.e)))
    assert expected_max_sharpe(n, v) == pytest.approx(math.sqrt(v) * z)
    assert expected_max_sharpe(n, 4 * v) == pytest.approx(2 * expected_max_sharpe(n, v))
    values = [expected_max_sharpe(k, v) for k in (2, 5, 10, 100, 1000)]
    assert values == sorted(values) and values[0] > 0  # more trials, a higher lucky maximum
    # close to the simulated mean maximum of N standard normals (the theorem's approximation)
    draws = np.random.default_rng(5).standard_normal((20_000, 100)).max(axis=1)
    assert expected_max_sharpe(100, 1.0) == pytest.approx(draws.mean(), rel=0.02)
    with pytest.raises(ValueError):
        expected_max_sharpe(10, -1.0)


def test_probabilistic_sharpe():
    for skew, kurt in ((0.0, 3.0), (-2.0, 9.0), (1.0, 5.0)):
        for n in (2, 30, 1000):
            assert probabilistic_sharpe(0.1, n, skew, kurt, 0.1) == pytest.approx(0.5)
    # normal returns: Phi(sr sqrt(n - 1) / sqrt(1 + sr^2 / 2)); symmetric around 0
    sr, n = 0.08, 250
    expected = stats.norm.cdf(sr * math.sqrt(n - 1) / math.sqrt(1 + sr * sr / 2))
    assert probabilistic_sharpe(sr, n, 0.0, 3.0) == pytest.approx(expected)
    assert probabilistic_sharpe(-sr, n, 0.0, 3.0) == pytest.approx(1 - expected)
    # monotone in n: more evidence, further from 1/2 on the side of the estimate
    up = [probabilistic_sharpe(0.05, n, -1.0, 6.0) for n in (10, 100, 1000, 10_000)]
    down = [probabilistic_sharpe(-0.05, n, -1.0, 6.0) for n in (10, 100, 1000, 10_000)]
    assert up == sorted(up) and up[0] > 0.5 and down == sorted(down, reverse=True)
    # negative skewness and fat tails widen the estimate's error: a lower PSR
    assert probabilistic_sharpe(0.1, 250, -2.0, 10.0) < probabilistic_sharpe(0.1, 250, 0.0, 3.0)
    assert math.isnan(probabilistic_sharpe(0.1, 1, 0.0, 3.0))


def test_dsr_of_a_single_trial_is_its_psr():
    rng = np.random.default_rng(11)
    for r in (rng.normal(0.001, 0.02, 400), rng.lognormal(0, 0.5, 300) - 1.1, np.zeros(50)):
        d = deflated_sharpe(r, [sharpe(r)])
        skew, kurt = moments(r)
        assert d.n_trials == 1 and d.threshold == 0.0 and d.sharpe_variance == 0.0
        assert d.dsr == d.psr == probabilistic_sharpe(sharpe(r), r.size, skew, kurt, 0.0)
        assert d.sharpe_annual == pytest.approx(d.sharpe * math.sqrt(PERIODS_PER_YEAR))
    assert PERIODS_PER_YEAR == 365  # crypto trades every day (evidence/metrics.py)


def test_dsr_deflates_by_the_expected_maximum_of_the_trials():
    rng = np.random.default_rng(12)
    trials = rng.normal(0.0005, 0.02, (500, 40))
    sharpes = [sharpe(trials[:, i]) for i in range(40)]
    best = int(np.argmax(sharpes))
    d = deflated_sharpe(trials[:, best], sharpes, periods_per_year=252)
    variance = float(np.var(sharpes, ddof=1))
    assert d.sharpe_variance == pytest.approx(variance)
    assert d.sharpe_variance_annual == pytest.approx(variance * 252)
    assert d.threshold == pytest.approx(expected_max_sharpe(40, variance))
    assert d.threshold_annual == pytest.approx(d.threshold * math.sqrt(252))
    skew, kurt = moments(trials[:, best])
    assert d.psr == pytest.approx(probabilistic_sharpe(d.sharpe, 500, skew, kurt))
    assert d.dsr == pytest.approx(probabilistic_sharpe(d.sharpe, 500, skew, kurt, d.threshold))
    assert d.dsr < d.psr  # the best of 40 noise trials looks good alone, not after 40 tries
    assert dsr_sentence(d).startswith(f"DSR {d.dsr:.2f}: after 40 trials the selected Sharpe")


# --- PBO by CSCV -------------------------------------------------------------------------------


def test_pbo_by_hand_two_blocks_two_trials():
    """S = 2, trials A and B on 4 days: blocks {1, 2} and {3, 4}; each split selects the
    in-sample best and ranks it out of sample among 2 (w = 1/3 or 2/3, logit -+ln 2)."""
    a = [1.0, 3.0, 1.0, 2.0]  # Sharpe: block 1 2/sqrt(2) = 1.41, block 2 1.5/sqrt(0.5) = 2.12
    b = [0.0, 2.0, 2.0, 6.0]  # block 1 1/sqrt(2) = 0.71, block 2 4/sqrt(8) = 1.41
    kept = pbo_cscv(np.column_stack([a, b]), partitions=2)
    assert (kept.n_splits, kept.n_obs, kept.n_dropped, kept.block_rows) == (2, 4, 0, 2)
    assert kept.selected.tolist() == [0, 0]  # A best in sample, and best out of sample
    assert kept.logits == pytest.approx([math.log(2), math.log(2)])
    assert kept.pbo == 0.0 and kept.oos_below_median == 0 and kept.prob_oos_loss == 0.0
    assert kept.is_sharpe == pytest.approx([math.sqrt(2), 1.5 / math.sqrt(0.5)])
    assert kept.oos_sharpe == pytest.approx([1.5 / math.sqrt(0.5), math.sqrt(2)])

    b = [0.0, 2.0, 4.0, 5.0]  # block 2: 4.5/sqrt(0.5) = 6.36 > A's 2.12: the order flips
    flips = pbo_cscv(np.column_stack([a, b]), partitions=2)
    assert flips.selected.tolist() == [0, 1]  # A in block 1, B in block 2: each loses the other
    assert flips.logits == pytest.approx([-math.log(2), -math.log(2)])
    assert flips.pbo == 1.0 and flips.median_logit == pytest.approx(-math.log(2))

    # a fifth, oldest day is dropped (blocks of 2): a day that would flip block 1 changes nothing
    first = pbo_cscv(np.column_stack([[100.0, *a], [-100.0, *b]]), partitions=2)
    assert first.n_dropped == 1 and first.logits == pytest.approx(flips.logits)


def test_pbo_ties_take_the_average_rank():
    x = np.random.default_rng(1).normal(size=(20, 1))
    same = pbo_cscv(np.column_stack([x, x]), partitions=4)  # identical trials: rank 1.5 of 2
    assert same.logits == pytest.approx(np.zeros(6)) and same.pbo == 1.0  # logit 0 counts
    flat = pbo_cscv(np.zeros((20, 3)), partitions=4)  # nobody traded: Sharpe 0 everywhere
    assert flat.logits == pytest.approx(np.zeros(6))


def test_pbo_matches_a_split_by_split_computation():
    """The vectorised sums give what :func:`sharpe` and scipy's average ranks give split by
    split (S = 6: 20 splits, 7 trials, 3 oldest of 39 rows dropped)."""
    rng = np.random.default_rng(21)
    x = rng.standard_t(4, size=(39, 7)) * 0.01 + rng.normal(0, 0.002, 7)
    got = pbo_cscv(x, partitions=6)
    blocks = np.split(x[3:], 6)
    assert got.n_splits == math.comb(6, 3) == len(split_matrix(6))
    for k, chosen in enumerate(itertools.combinations(range(6), 3)):
        inside = np.vstack([blocks[i] for i in chosen])
        outside = np.vstack([blocks[i] for i in range(6) if i not in chosen])
        sr_in = [sharpe(inside[:, j]) for j in range(7)]
        sr_out = [sharpe(outside[:, j]) for j in range(7)]
        best = int(np.argmax(sr_in))
        w = stats.rankdata(sr_out)[best] / 8
        assert got.selected[k] == best
        assert got.is_sharpe[k] == pytest.approx(sr_in[best])
        assert got.oos_sharpe[k] == pytest.approx(sr_out[best])
        assert got.logits[k] == pytest.approx(math.log(w / (1 - w)))
    assert got.pbo == pytest.approx(np.mean(got.logits <= 0))


def test_pbo_of_iid_noise_is_about_one_half():
    """No skill: the in-sample best's out-of-sample rank is uniform, PBO 1/2 on average (the
    splits of one sample are correlated, so one seed alone scatters widely)."""
    values = [pbo_cscv(np.random.default_rng(seed).normal(0, 0.01, (160, 10)), 8).pbo
              for seed in range(100)]
    assert 0.35 <= float(np.mean(values)) <= 0.65


def test_pbo_of_centred_noise_is_near_one():
    """Noise with every trial's full-sample mean exactly 0: the in-sample best is the
    out-of-sample worst by construction (its two halves' means cancel)."""
    for seed in range(5):
        x = np.random.default_rng(seed).normal(0, 0.01, (365, 20))
        assert pbo_cscv(x - x.mean(axis=0), 16).pbo >= 0.9


def test_pbo_of_a_dominant_trial_is_near_zero():
    for seed in range(5):
        x = np.random.default_rng(seed).normal(0, 0.01, (365, 20))
        x[:, 7] += 0.005  # half a standard deviation a day: best in and out of sample
        result = pbo_cscv(x, 16)
        assert result.pbo <= 0.05 and (result.selected == 7).mean() > 0.95
        assert pbo_sentence(result).startswith(f"PBO {result.pbo:.2f}: the in-sample best")


def test_pbo_cost_at_the_default_partitions():
    x = np.random.default_rng(2).normal(0, 0.01, (365, 100))
    result = pbo_cscv(x, 16)
    assert result.n_splits == 12_870 and result.logits.shape == (12_870,)
    assert (result.n_obs, result.n_dropped, result.block_rows) == (352, 13, 22)


def test_pbo_refuses_what_cscv_cannot_split():
    x = np.zeros((40, 3))
    for bad in (3, 0):
        with pytest.raises(ConfigError, match="even"):
            pbo_cscv(x, bad)
    with pytest.raises(ValueError, match="22 partitions need at least 44 rows"):
        pbo_cscv(x, 22)  # blocks of 1 row have no standard deviation
    assert pbo_cscv(x, 20).block_rows == 2
    with pytest.raises(ValueError, match="at least 2 trials"):
        pbo_cscv(np.zeros((40, 1)), 4)
    with pytest.raises(ValueError, match="finite"):
        pbo_cscv(np.full((40, 2), np.nan), 4)


# --- reading a hyperopt results file (hand-made; the real one: test_overfit_cli.py) -----------


def epoch(loss: float, daily: dict[str, float] | None, *, balance: float = 1000.0,
          start: str = "2024-01-01 00:00:00", end: str = "2024-01-10 23:00:00") -> dict:
    """An epoch as freqtrade writes it, with only the keys read (``daily=None``: no trades,
    written as ``daily_profit_list: []`` as freqtrade does)."""
    metrics = {"starting_balance": balance, "backtest_start": start, "backtest_end": end,
               "strategy_name": "Handmade", "total_trades": 0 if daily is None else len(daily),
               "profit_total": sum((daily or {}).values()) / balance}
    if daily is None:
        metrics["daily_profit_list"] = []
    else:
        metrics["daily_profit"] = [[day, value] for day, value in daily.items()]
    return {"loss": loss, "params_dict": {"btc_window": 20}, "results_metrics": metrics,
            "is_best": False, "fthypt_fileversion": 2}


def write(path: Path, epochs: list) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in epochs))
    return path


def test_read_trials_of_a_handmade_file(tmp_path):
    path = write(tmp_path / "strategy_Handmade_2024-02-01_10-00-00.fthypt", [
        epoch(0.5, {"2024-01-02": 10.0, "2024-01-05": -4.0}),
        epoch(MAX_LOSS, None),  # too few trades: still a trial
        epoch(-1.2, {"2024-01-10": 30.0}, balance=2000.0),
        epoch(-1.2, {"2024-01-03": 1.0}),  # as low a loss, later: freqtrade keeps the first
    ])
    trials = read_trials(path)
    assert trials.strategy == "Handmade" and trials.path == path
    assert trials.returns.index.equals(
        pd.date_range("2024-01-01", "2024-01-10", freq="D", tz="UTC", name="date"))
    assert trials.returns.columns.tolist() == [1, 2, 3, 4]
    assert trials.returns.loc["2024-01-02", 1] == pytest.approx(0.01)
    assert trials.returns.loc["2024-01-05", 1] == pytest.approx(-0.004)
    assert trials.returns.loc["2024-01-10", 3] == pytest.approx(0.015)
    assert (trials.returns[2] == 0).all() and (trials.returns != 0).sum().tolist() == [2, 0, 1, 1]
    assert trials.returns.sum().to_numpy() == pytest.approx(trials.profit_total.to_numpy())
    assert trials.selected == 3 and trials.loss.tolist() == [0.5, MAX_LOSS, -1.2, -1.2]
    assert (trials.n_trials, trials.traded, trials.max_loss) == (4, 3, 1)
    assert trials.trades.tolist() == [2, 0, 1, 1] and trials.params[2] == {"btc_window": 20}


def test_max_loss_is_freqtrades():
    from freqtrade.optimize.hyperopt.hyperopt_optimizer import MAX_LOSS as FT_MAX_LOSS

    assert MAX_LOSS == FT_MAX_LOSS


@pytest.mark.parametrize(("content", "problem"), [
    ("", "empty file (no hyperopt epoch)"),
    (json.dumps(epoch(0.1, {})) + "\n", "1 epoch: overfitting statistics need at least 2 trials"),
    ("date,close\n2024-01-01,1\n", "not a freqtrade hyperopt results file"),
    ("[1, 2]\n[3, 4]\n", "not a freqtrade hyperopt results file"),
    ('{"strategy": {"x": 1}}\n', "not a freqtrade hyperopt results file"),
    ('{"loss": 1, "is_best": false}\n{"loss": 2, "is_best": true}\n',
     "epoch 1: no results_metrics"),
], ids=["empty", "one-epoch", "csv", "json-lists", "backtest-json", "no-metrics"])
def test_read_trials_refuses_with_one_line(tmp_path, content, problem):
    path = tmp_path / "bad.fthypt"
    path.write_text(content)
    with pytest.raises(DataValidationError) as refused:
        read_trials(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: ") and problem in message and "\n" not in message


def test_read_trials_of_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_trials(tmp_path / "nothing.fthypt")


def test_fitted_partitions_keep_two_rows_per_block_and_stay_even():
    assert fitted_partitions(365, 16) == 16
    assert fitted_partitions(31, 16) == 14  # 14 blocks of 2 days (31 // 2 = 15, even: 14)
    assert fitted_partitions(29, 16) == 14
    assert fitted_partitions(4, 16) == 2
    assert fitted_partitions(3, 16) == 0
    for rows in range(4, 80):
        s = fitted_partitions(rows, 16)
        assert s % 2 == 0 and rows // s >= 2 and (s == 16 or rows // (s + 2) < 2)
