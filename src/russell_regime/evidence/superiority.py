"""Multiple comparisons of gate variants against one benchmark run (pure, seeded).

Having backtested several gate variants (the gate, the gate with each confirmation), does any
of them beat the benchmark (the ungated run) once the search over variants is accounted for?

* Hansen's SPA test (Hansen 2005, "A test for superior predictive ability"): the null is that
  no variant has a higher mean daily return than the benchmark; its p-value is family-level
  (one for all the variants together). ``lower``/``consistent``/``upper`` are arch's three
  re-centrings of the variants that look worse than the benchmark (never / only those
  clearly worse, by Hansen's ``sqrt(2 log log T)`` bound / all); ``consistent`` is Hansen's
  recommended one.
* Romano-Wolf StepM (Romano & Wolf 2005, "Stepwise multiple testing as formalized data
  snooping"): the set of variants whose mean daily return beats the benchmark's, with the
  family-wise error rate held at ``size``.

Both come from :mod:`arch.bootstrap` (``SPA``, ``StepM``) on losses = minus the daily simple
returns (lower = better), with the stationary bootstrap (Politis & Romano 1994) of mean block
length ``block_size`` days, ``reps`` replications and the integer ``seed`` (numpy's
``default_rng``): the same inputs give the same table. Note: arch 8 bases the test statistic
on the mean loss differentials themselves; its ``studentize`` flag (left at its default) only
names the method in arch's summary, and the differentials' long-run variance is used for the
``consistent`` re-centring. The variants here are subsets of one strategy's entries with
similar volatility, so no single noisy variant dominates the maximum.

A variant whose daily returns equal the benchmark's on every day (a gate open throughout the
sample takes the ungated run's trades) differs nowhere, so it cannot beat the benchmark; it is
left out of the bootstrap (``identical_to_benchmark``), because arch would count its
identically zero differential as a tie at the observed maximum and report an SPA p-value of 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .metrics import PERIODS_PER_YEAR, sharpe

MIN_BLOCK_DAYS = 5
SUPERIORITY_COLUMNS = (
    "variant", "benchmark", "mean_diff_annual", "sharpe", "benchmark_sharpe",
    "beats_benchmark_stepm", "identical_to_benchmark", "spa_p_consistent", "spa_p_lower",
    "spa_p_upper", "size", "n_variants", "n_days", "block_size", "reps", "seed",
)


def daily_returns_table(curves: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Daily simple returns of equity curves, one column per curve (in ``curves``' order), on
    the same days for every column.

    The curves (as :func:`.compare.evaluate_runs` returns them: marked at every 00:00 UTC,
    first point the starting balance at the timerange's start) are aligned on the instants
    every curve has a finite value at (an inner join, nothing filled). A return is
    ``E_t / E_prev - 1`` between consecutive common instants, indexed by ``t``: the first
    common instant (the starting balance) gives no return, and an instant missing from any
    curve (a gap) is spanned by one return over the whole gap, never split or filled.
    """
    if not curves:
        raise ValueError("no equity curve")
    frame = pd.concat({name: pd.Series(c, dtype="float64") for name, c in curves.items()},
                      axis=1, join="inner")
    frame = frame[np.isfinite(frame.to_numpy()).all(axis=1)].sort_index()
    return (frame / frame.shift(1) - 1.0).iloc[1:]


def default_block_size(n_days: int) -> int:
    """Mean block length (days) of the stationary bootstrap: ``ceil(n_days ** (1/3))``, at
    least :data:`MIN_BLOCK_DAYS`.

    ``T^(1/3)`` is the rate of the MSE-optimal block length for a mean (Hall, Horowitz & Jing
    1995; Politis & White 2004): 14 days on 7.5 years of daily returns, where arch's own default
    ``sqrt(T)`` (52 days) would leave about 50 blocks to resample. The floor of 5 days keeps a
    trade (held one to three days) and its neighbours in one block on short samples."""
    return max(MIN_BLOCK_DAYS, math.ceil(round(n_days ** (1.0 / 3.0), 9)))


def superiority(
    returns: pd.DataFrame,
    benchmark: str,
    variants: Sequence[str],
    block_size: int | None = None,
    reps: int = 1000,
    seed: int = 7,
    size: float = 0.05,
) -> pd.DataFrame:
    """SPA and StepM of ``variants`` against ``benchmark`` (columns of ``returns``, daily
    simple returns on the same days, as :func:`daily_returns_table` makes them).

    One row per variant, in the given order, columns :data:`SUPERIORITY_COLUMNS`:
    ``mean_diff_annual`` = mean daily return difference variant - benchmark x 365
    (:data:`.metrics.PERIODS_PER_YEAR`, arithmetic); ``sharpe`` / ``benchmark_sharpe`` as
    :func:`.metrics.sharpe`; ``beats_benchmark_stepm`` = in StepM's superior set at ``size``;
    ``identical_to_benchmark`` = the same return every day (left out of the tests, see the
    module doc); ``spa_p_*`` = the family's SPA p-values, the same on every row (one test of
    all the variants; 1.0 when every variant is identical to the benchmark); then the
    settings (``n_variants`` counts every variant; ``block_size``: None takes
    :func:`default_block_size`).
    Raises ValueError for an unknown or repeated column, the benchmark among the variants,
    non-finite returns, fewer than two blocks of days, ``reps < 1`` or ``size`` outside (0, 1).
    """
    from arch.bootstrap import SPA, StepM

    variants = list(variants)
    if not variants:
        raise ValueError("no variant to compare")
    if len(set(variants)) != len(variants):
        raise ValueError(f"variants repeated: {variants}")
    if benchmark in variants:
        raise ValueError(f"the benchmark {benchmark!r} cannot be a variant")
    missing = [c for c in [benchmark, *variants] if c not in returns.columns]
    if missing:
        raise ValueError(f"no returns for {missing}")
    data = returns[[benchmark, *variants]].astype("float64")
    if not np.isfinite(data.to_numpy()).all():
        raise ValueError("returns must be finite")
    n_days = len(data)
    block = default_block_size(n_days) if block_size is None else int(block_size)
    if block < 1 or n_days < 2 * block:
        raise ValueError(f"{n_days} days of returns are fewer than two blocks of {block} days")
    if reps < 1:
        raise ValueError(f"reps must be at least 1, got {reps}")
    if not 0.0 < size < 1.0:
        raise ValueError(f"size must be in (0, 1), got {size}")
    diffs = data[variants].sub(data[benchmark], axis=0)
    identical = {name for name in variants if (diffs[name] == 0.0).all()}
    tested = [name for name in variants if name not in identical]
    p, superior = {"lower": 1.0, "consistent": 1.0, "upper": 1.0}, set()
    if tested:
        bench_loss = -data[benchmark]
        model_losses = -data[tested]
        options = {"block_size": block, "reps": int(reps), "bootstrap": "stationary",
                   "seed": int(seed)}
        spa = SPA(bench_loss, model_losses, **options)
        spa.compute()
        p = spa.pvalues
        stepm = StepM(bench_loss, model_losses, size=size, **options)
        stepm.compute()
        superior = set(stepm.superior_models)
    diff = diffs.mean()
    bench_sharpe = sharpe(data[benchmark])
    rows = [{
        "variant": name,
        "benchmark": benchmark,
        "mean_diff_annual": float(diff[name]) * PERIODS_PER_YEAR,
        "sharpe": sharpe(data[name]),
        "benchmark_sharpe": bench_sharpe,
        "beats_benchmark_stepm": name in superior,
        "identical_to_benchmark": name in identical,
        "spa_p_consistent": float(p["consistent"]),
        "spa_p_lower": float(p["lower"]),
        "spa_p_upper": float(p["upper"]),
        "size": float(size),
        "n_variants": len(variants),
        "n_days": n_days,
        "block_size": block,
        "reps": int(reps),
        "seed": int(seed),
    } for name in variants]
    return pd.DataFrame(rows, columns=list(SUPERIORITY_COLUMNS))


def superiority_title(table: pd.DataFrame) -> str:
    """``Multiple comparisons vs <benchmark>: SPA p = <consistent> (Hansen 2005), StepM at
    <size> % (Romano & Wolf 2005)`` for a :func:`superiority` table."""
    first = table.iloc[0]
    return (f"Multiple comparisons vs {first['benchmark']}: SPA p = "
            f"{first['spa_p_consistent']:.3f} (Hansen 2005), StepM at "
            f"{100 * first['size']:g} % (Romano & Wolf 2005)")


def superiority_verdict(table: pd.DataFrame) -> str:
    """One sentence read off a :func:`superiority` table: the variants StepM keeps, or that
    none beats the benchmark after accounting for the number of variants."""
    first = table.iloc[0]
    n = int(first["n_variants"])
    family = f"{n} variant{'s' if n != 1 else ''}"
    spa = (f"SPA p = {first['spa_p_consistent']:.3f} (lower {first['spa_p_lower']:.3f}, "
           f"upper {first['spa_p_upper']:.3f}), {int(first['n_days'])} days, mean block "
           f"{int(first['block_size'])} days, {int(first['reps'])} bootstrap replications, "
           f"seed {int(first['seed'])}")
    same = table.loc[table["identical_to_benchmark"].astype(bool), "variant"].tolist()
    if same:
        spa += f"; the same return as {first['benchmark']} every day: {', '.join(same)}"
    winners = table.loc[table["beats_benchmark_stepm"].astype(bool), "variant"].tolist()
    if not winners:
        return f"no gate variant beats {first['benchmark']} after accounting for {family}: {spa}"
    verb = "beats" if len(winners) == 1 else "beat"
    return (f"StepM: {', '.join(winners)} {verb} {first['benchmark']} at a family-wise error "
            f"rate of {100 * first['size']:g} % over {family}: {spa}. {WINNER_CAVEAT}")


# A gate variant "beats" ungated on mean daily return when it simply holds fewer of the
# ungated run's (losing) trades; SPA and StepM cannot tell that from good timing.
WINNER_CAVEAT = ("Beating the ungated run can come from trading less alone: whether the gate's "
                 "timing adds anything is what the same-exposure random-gate control measures.")
