"""Statistics of backtest overfitting (pure): the Deflated Sharpe Ratio and the Probability of
Backtest Overfitting by combinatorially symmetric cross-validation.

* :func:`deflated_sharpe`: Bailey & López de Prado (2014), "The Deflated Sharpe Ratio:
  Correcting for Selection Bias, Backtest Overfitting and Non-Normality". The probability
  (:func:`probabilistic_sharpe`) that the selected trial's true Sharpe ratio exceeds the
  Sharpe ratio the best of ``N`` skill-less trials is expected to reach
  (:func:`expected_max_sharpe`).
* :func:`pbo_cscv`: Bailey, Borwein, López de Prado & Zhu (2015), "The Probability of
  Backtest Overfitting". How often the trial that is best in sample ranks at or below the
  median of all trials out of sample, over every way of splitting the sample into two halves
  of blocks.

Every Sharpe ratio here is per period (per day for daily returns), mean over standard
deviation (``ddof=1``), risk-free rate 0; annualised ones are multiplied by
``sqrt(periods_per_year)`` (365: crypto trades every day, as :mod:`.metrics`). Only numpy and
the standard library's normal distribution.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from ..errors import ConfigError
from .metrics import PERIODS_PER_YEAR

EULER_GAMMA = 0.5772156649015329
_NORMAL = NormalDist()
# a standard deviation this small relative to the root mean square of the values is rounding
# noise (sums of squares lose ~1e-8 relative): the series is constant and its Sharpe ratio 0
_FLAT = 1e-5
MAX_SPLIT_CHUNK = 1 << 16  # splits evaluated at once by pbo_cscv (bounds its memory)


def sharpe(returns: Sequence[float] | np.ndarray) -> float:
    """Per-period Sharpe ratio ``mean / std(ddof=1)`` of a 1-D array of returns.

    0.0 when there are fewer than 2 values or the standard deviation is 0 (up to rounding:
    at most 1e-5 of the root mean square, a constant series): a trial that never traded
    (every return 0) has Sharpe 0."""
    r = np.asarray(returns, dtype="float64").ravel()
    if r.size < 2:
        return 0.0
    sd = float(r.std(ddof=1))
    if sd <= _FLAT * math.sqrt(float(np.mean(r * r))):
        return 0.0
    return float(r.mean() / sd)


def moments(returns: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """(skewness, kurtosis) of ``returns``: the sample moments ``m3 / m2**1.5`` and
    ``m4 / m2**2`` (ordinary, not excess, kurtosis: 3 for a normal distribution). A constant
    series gives (0, 3): with a Sharpe ratio of 0 they do not enter the PSR anyway."""
    r = np.asarray(returns, dtype="float64").ravel()
    if r.size < 2:
        return 0.0, 3.0
    d = r - r.mean()
    m2 = float(np.mean(d**2))
    if m2 <= _FLAT**2 * float(np.mean(r * r)):
        return 0.0, 3.0
    return float(np.mean(d**3) / m2**1.5), float(np.mean(d**4) / m2**2)


def probabilistic_sharpe(
    sr: float, n_obs: int, skew: float, kurtosis: float, sr_benchmark: float = 0.0
) -> float:
    """Probabilistic Sharpe Ratio (Bailey & López de Prado): the probability that the true
    per-period Sharpe ratio exceeds ``sr_benchmark``, given the per-period estimate ``sr`` from
    ``n_obs`` returns with skewness ``skew`` and ordinary (non-excess) ``kurtosis``:

    ``PSR = Phi((sr - sr_benchmark) * sqrt(n - 1) / sqrt(1 - skew*sr + (kurtosis - 1)/4*sr^2))``

    NaN when ``n_obs < 2`` or the variance term is not positive (impossible for moments of
    one sample: ``kurtosis >= skew**2 + 1``)."""
    if n_obs < 2:
        return math.nan
    var = 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr * sr
    if not var > 0:
        return math.nan
    z = (sr - sr_benchmark) * math.sqrt(n_obs - 1) / math.sqrt(var)
    return float(_NORMAL.cdf(z))


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """Expected maximum of ``n_trials`` skill-less Sharpe ratios whose variance across trials
    is ``sharpe_variance`` (False Strategy Theorem):

    ``SR0 = sqrt(V) * ((1 - g) * Phi^-1(1 - 1/N) + g * Phi^-1(1 - 1/(N e)))``, ``g`` the
    Euler-Mascheroni constant. Exactly 0.0 for ``N <= 1`` (nothing was selected)."""
    if n_trials <= 1:
        return 0.0
    if not sharpe_variance >= 0:
        raise ValueError(f"sharpe_variance must be >= 0, got {sharpe_variance!r}")
    n = float(n_trials)
    z = ((1.0 - EULER_GAMMA) * _NORMAL.inv_cdf(1.0 - 1.0 / n)
         + EULER_GAMMA * _NORMAL.inv_cdf(1.0 - 1.0 / (n * math.e)))
    return float(math.sqrt(sharpe_variance) * z)


@dataclass(frozen=True)
class DeflatedSharpe:
    """The Deflated Sharpe Ratio of a selected trial (:func:`deflated_sharpe`).

    Per period: ``sharpe``, ``sharpe_variance`` (across the trials), ``threshold`` (their
    expected maximum); ``*_annual``: times ``sqrt(periods_per_year)`` (the variance times
    ``periods_per_year``). ``psr``: PSR against 0; ``dsr``: PSR against ``threshold``."""

    n_trials: int
    n_obs: int
    sharpe: float
    sharpe_annual: float
    sharpe_variance: float
    sharpe_variance_annual: float
    threshold: float
    threshold_annual: float
    skew: float
    kurtosis: float
    psr: float
    dsr: float
    periods_per_year: int


def deflated_sharpe(
    selected_returns: Sequence[float] | np.ndarray,
    trial_sharpes: Sequence[float] | np.ndarray,
    periods_per_year: int = PERIODS_PER_YEAR,
) -> DeflatedSharpe:
    """DSR of the selected trial: its per-period Sharpe, skewness and kurtosis from
    ``selected_returns``; ``V`` the variance (``ddof=1``) of the ``N`` trials' per-period
    Sharpe ratios ``trial_sharpes`` (the selected one among them; 0 for one trial);
    ``threshold = expected_max_sharpe(N, V)``; ``dsr`` the PSR against it, ``psr`` against 0.
    One trial: ``dsr == psr``."""
    r = np.asarray(selected_returns, dtype="float64").ravel()
    trials = np.asarray(trial_sharpes, dtype="float64").ravel()
    if trials.size < 1:
        raise ValueError("trial_sharpes is empty: at least the selected trial is one")
    if not np.isfinite(trials).all():
        raise ValueError("trial_sharpes must be finite")
    sr = sharpe(r)
    skew, kurt = moments(r)
    var = float(trials.var(ddof=1)) if trials.size > 1 else 0.0
    threshold = expected_max_sharpe(int(trials.size), var)
    root = math.sqrt(periods_per_year)
    return DeflatedSharpe(
        n_trials=int(trials.size), n_obs=int(r.size), sharpe=sr, sharpe_annual=sr * root,
        sharpe_variance=var, sharpe_variance_annual=var * periods_per_year,
        threshold=threshold, threshold_annual=threshold * root, skew=skew, kurtosis=kurt,
        psr=probabilistic_sharpe(sr, r.size, skew, kurt, 0.0),
        dsr=probabilistic_sharpe(sr, r.size, skew, kurt, threshold),
        periods_per_year=int(periods_per_year),
    )


@dataclass(frozen=True, eq=False)
class Overfitting:
    """The result of :func:`pbo_cscv` on a T x N matrix.

    ``partitions`` S blocks of ``block_rows`` rows each (``n_obs = S * block_rows`` rows used,
    the oldest ``n_dropped`` rows dropped); ``n_splits = C(S, S/2)``. Per split (arrays of
    length ``n_splits``, splits in lexicographic order of their in-sample blocks):
    ``selected`` the in-sample best trial (column), ``is_sharpe`` / ``oos_sharpe`` its
    per-period Sharpe in and out of sample, ``logits`` ``ln(w / (1 - w))`` of its relative
    out-of-sample rank ``w = rank / (N + 1)`` (1 = worst, ties averaged).
    ``oos_below_median``: splits with logit <= 0; ``pbo = oos_below_median / n_splits``;
    ``prob_oos_loss``: share of splits whose selected trial's out-of-sample Sharpe is < 0."""

    pbo: float
    partitions: int
    n_splits: int
    n_trials: int
    n_obs: int
    n_dropped: int
    block_rows: int
    logits: np.ndarray
    median_logit: float
    oos_below_median: int
    prob_oos_loss: float
    selected: np.ndarray
    is_sharpe: np.ndarray
    oos_sharpe: np.ndarray


def split_matrix(partitions: int) -> np.ndarray:
    """The ``C(S, S/2) x S`` 0/1 matrix of every choice of ``S/2`` in-sample blocks (row ``k``:
    the ``k``-th combination in lexicographic order)."""
    half = partitions // 2
    combos = np.fromiter(
        itertools.chain.from_iterable(itertools.combinations(range(partitions), half)),
        dtype=np.int64,
    ).reshape(-1, half)
    out = np.zeros((combos.shape[0], partitions), dtype="float64")
    np.put_along_axis(out, combos, 1.0, axis=1)
    return out


def fitted_partitions(n_rows: int, wanted: int) -> int:
    """The largest even S <= ``wanted`` whose blocks of ``n_rows`` hold at least 2 rows each
    (e.g. 16 for 365 rows, 14 for 29); 0 when not even 2 blocks fit (fewer than 4 rows)."""
    s = min(int(wanted), int(n_rows) // 2) // 2 * 2
    return s if s >= 2 else 0


def check_partitions(partitions: int, n_rows: int) -> int:
    """Rows per block for ``partitions`` blocks of ``n_rows`` rows; ConfigError (a ValueError)
    unless ``partitions`` is even, >= 2 and every block holds at least 2 rows."""
    if partitions < 2 or partitions % 2:
        raise ConfigError(f"partitions must be an even whole number >= 2, got {partitions}")
    if n_rows < 2 * partitions:
        raise ConfigError(
            f"{partitions} partitions need at least {2 * partitions} rows (2 per block), "
            f"got {n_rows}"
        )
    return n_rows // partitions


def pbo_cscv(matrix: np.ndarray, partitions: int = 16) -> Overfitting:
    """Probability of Backtest Overfitting by combinatorially symmetric cross-validation.

    ``matrix``: T x N per-period returns (rows = periods in time order, columns = trials,
    N >= 2). The rows are cut into ``partitions`` (S, even) contiguous blocks of ``T // S``
    rows (the ``T % S`` oldest rows dropped, so the newest data are kept). For each of the
    ``C(S, S/2)`` choices of S/2 blocks as in-sample (the rest out of sample) the trial with
    the highest in-sample Sharpe ratio (:func:`sharpe`; first column on ties) is selected and
    its out-of-sample Sharpe ranked among all trials' (``w = rank / (N + 1)``, ties averaged);
    the logit is ``ln(w / (1 - w))`` and PBO the share of splits with logit <= 0.

    Cost: per-block sums of ``x`` and ``x**2`` (O(T N)), then one (splits x S) @ (S x N)
    product for every split's in-sample sums: O(C(S, S/2) * S * N) time, evaluated in chunks of
    at most :data:`MAX_SPLIT_CHUNK` splits (memory O(chunk * N)), plus the split matrix built
    with itertools. S = 16 (12,870 splits) on 365 x 100 takes well under a second (about 0.1 s
    on 2 CPUs); every 2 more blocks multiply the splits by about 4 (S = 20: 184,756, seconds;
    S = 24: 2,704,156, about half a minute)."""
    x = np.asarray(matrix, dtype="float64")
    if x.ndim != 2:
        raise ValueError(f"matrix must be 2-D (periods x trials), got {x.ndim}-D")
    n_rows, n_trials = x.shape
    if n_trials < 2:
        raise ValueError(f"PBO needs at least 2 trials (columns), got {n_trials}")
    if not np.isfinite(x).all():
        raise ValueError("matrix must be finite")
    block = check_partitions(int(partitions), n_rows)
    dropped = n_rows - block * partitions
    used = x[dropped:]
    blocks = used.reshape(partitions, block, n_trials)
    sums, squares = blocks.sum(axis=1), (blocks * blocks).sum(axis=1)
    total_s, total_q = sums.sum(axis=0), squares.sum(axis=0)
    half_rows = block * (partitions // 2)
    splits = split_matrix(partitions)
    chosen, is_sr, oos_sr, ranks = [], [], [], []
    rows = np.arange(min(MAX_SPLIT_CHUNK, splits.shape[0]))
    for at in range(0, splits.shape[0], MAX_SPLIT_CHUNK):
        part = splits[at:at + MAX_SPLIT_CHUNK]
        s_in, q_in = part @ sums, part @ squares
        sr_in = _sharpe_from_sums(s_in, q_in, half_rows)
        sr_out = _sharpe_from_sums(total_s - s_in, total_q - q_in, half_rows)
        best = np.argmax(sr_in, axis=1)
        idx = rows[: part.shape[0]]
        value = sr_out[idx, best][:, None]
        rank = (sr_out < value).sum(axis=1) + ((sr_out == value).sum(axis=1) + 1) / 2.0
        chosen.append(best)
        is_sr.append(sr_in[idx, best])
        oos_sr.append(value[:, 0])
        ranks.append(rank)
    rank = np.concatenate(ranks)
    omega = rank / (n_trials + 1.0)
    logits = np.log(omega / (1.0 - omega))
    below = int((logits <= 0).sum())
    oos = np.concatenate(oos_sr)
    return Overfitting(
        pbo=below / logits.size, partitions=int(partitions), n_splits=int(logits.size),
        n_trials=int(n_trials), n_obs=int(block * partitions), n_dropped=int(dropped),
        block_rows=int(block), logits=logits, median_logit=float(np.median(logits)),
        oos_below_median=below, prob_oos_loss=float((oos < 0).mean()),
        selected=np.concatenate(chosen), is_sharpe=np.concatenate(is_sr), oos_sharpe=oos,
    )


def _sharpe_from_sums(s: np.ndarray, q: np.ndarray, n: int) -> np.ndarray:
    """Per-period Sharpe ratios from sums ``s`` and sums of squares ``q`` of ``n`` values;
    0 where the standard deviation is rounding noise (as :func:`sharpe`)."""
    mean = s / n
    var = np.maximum(q - s * mean, 0.0) / (n - 1)
    flat = var <= _FLAT**2 * (q / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = mean / np.sqrt(var)
    return np.where(flat, 0.0, out)


# --- plain sentences -------------------------------------------------------------------------


def dsr_sentence(d: DeflatedSharpe) -> str:
    """One sentence reading ``d``: the selected Sharpe against the expected best of ``N``
    skill-less trials, and the DSR as a probability (nothing but the numbers)."""
    relation = "above" if d.sharpe > d.threshold else "not above"
    return (
        f"DSR {d.dsr:.2f}: after {d.n_trials} trials the selected Sharpe ratio "
        f"({d.sharpe_annual:+.2f} a year) is {relation} the {d.threshold_annual:.2f} a year "
        f"expected from the best of {d.n_trials} trials without skill; the probability that "
        f"its true Sharpe ratio exceeds that is {100 * d.dsr:.0f} %."
    )


def pbo_sentence(o: Overfitting) -> str:
    """One sentence reading ``o``: how often the in-sample best fell to or below the
    out-of-sample median, and how often it lost out of sample."""
    return (
        f"PBO {o.pbo:.2f}: the in-sample best fell to or below the out-of-sample median in "
        f"{100 * o.pbo:.0f} % of {o.n_splits:,} splits (S = {o.partitions}); its out-of-sample "
        f"Sharpe ratio was negative in {100 * o.prob_oos_loss:.0f} % of them."
    )
