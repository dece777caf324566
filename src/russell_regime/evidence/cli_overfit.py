"""The ``overfit`` command (imperative edge): the Deflated Sharpe Ratio and the Probability of
Backtest Overfitting (:mod:`.overfit`) of the epochs of one freqtrade hyperopt results file
(:mod:`.trials`)."""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .. import arguments as arg
from ..config_file import caller_path
from ..errors import ConfigError
from .cli_common import DEFAULT_OUT, make_console
from .metrics import PERIODS_PER_YEAR
from .overfit import (
    DeflatedSharpe,
    Overfitting,
    deflated_sharpe,
    dsr_sentence,
    fitted_partitions,
    pbo_cscv,
    pbo_sentence,
    sharpe,
)
from .report import print_table, to_markdown, write_outputs
from .trials import Trials, read_trials

DEFAULT_PARTITIONS = 16
# C(S, S/2) splits: S = 20 gives 184,756 (seconds), S = 24 already 2.7 million (a minute and a
# 2.7-million-row logits file), S = 32 six hundred million: not computable here
MAX_PARTITIONS = 20

# overfit.csv, in order
COLUMNS = (
    "file", "strategy", "trials", "trials_traded", "trials_max_loss", "days", "start", "end",
    "selected_epoch", "selected_trades", "sharpe", "sharpe_annual", "sharpe_variance",
    "sharpe_variance_annual", "threshold", "threshold_annual", "skew", "kurtosis", "psr",
    "dsr", "pbo", "partitions", "splits", "rows_used", "median_logit", "prob_oos_loss",
)


def add_overfit_command(subparsers: argparse._SubParsersAction) -> None:
    """Add ``overfit``."""
    p = subparsers.add_parser(
        "overfit", help="Deflated Sharpe Ratio and Probability of Backtest Overfitting of a "
        "freqtrade hyperopt run",
        description="Reads every epoch of a freqtrade hyperopt results file (.fthypt) as one "
        "trial (its daily profit over the starting balance) and reports the Deflated Sharpe "
        "Ratio of the epoch freqtrade selected (lowest loss) given all the trials, and the "
        "Probability of Backtest Overfitting by combinatorially symmetric cross-validation "
        "(--partitions blocks of days). See docs/overfitting.md.",
    )
    p.add_argument("--hyperopt-file", type=arg.existing_file, required=True,
                   help="a hyperopt results file, e.g. user_data/hyperopt_results/"
                   "strategy_RussellRiskOn_<time>.fthypt; relative to the caller's folder")
    p.add_argument("--partitions", type=partitions, default=DEFAULT_PARTITIONS,
                   help=f"CSCV blocks S, an even whole number 2..{MAX_PARTITIONS} (default "
                   f"{DEFAULT_PARTITIONS}: C(16, 8) = 12,870 splits); each block needs at "
                   "least 2 days")
    p.add_argument("--out", type=arg.folder, default=DEFAULT_OUT,
                   help=f"output folder (default {DEFAULT_OUT} here)")
    p.add_argument("--no-plots", action="store_true", help="no PNG plot")
    p.set_defaults(func=_run_overfit)


def partitions(text: str) -> int:
    """``--partitions``: an even whole number in ``2..MAX_PARTITIONS``."""
    what = "an even whole number"
    value = arg.int_in(2, MAX_PARTITIONS, what)(text)
    if value % 2:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not even (allowed: {what}, 2..{MAX_PARTITIONS})")
    return value


def _run_overfit(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    console = make_console()
    path = caller_path(Path(args.hyperopt_file))
    trials = read_trials(path)
    days = len(trials.returns)
    if days < 2 * args.partitions:
        raise ConfigError(
            f"--partitions {args.partitions}: {path} covers {days} days; {args.partitions} "
            f"blocks of at least 2 days need {2 * args.partitions} (use fewer partitions)"
        )
    dsr, pbo = assess(trials, args.partitions)
    row = overfit_row(trials, dsr, pbo)
    title = (f"{trials.strategy}: {trials.n_trials} hyperopt epochs in {path.name}, "
             f"{row['start']}..{row['end']} ({days} days)")
    shown = display(row)
    sentences = [dsr_sentence(dsr), pbo_sentence(pbo)]
    if trials.traded < 2:
        sentences.append(f"warning: only {trials.traded} of {trials.n_trials} epochs closed a "
                         "trade; the others are flat series (Sharpe ratio 0)")
    print_table(console, shown, title)
    for line in sentences:
        console.print(line)
    out = caller_path(Path(args.out))
    md = (f"# Overfitting\n\n{title}\n\n" + to_markdown(shown) + "\n"
          + "\n\n".join(sentences) + "\n")
    written = write_outputs(out, {
        "overfit": pd.DataFrame([row], columns=list(COLUMNS)),
        "overfit_logits": logits_table(trials, pbo),
    }, md, "overfit.md")
    if not args.no_plots:
        written.append(plot_logits(pbo, out / "overfit_logits.png", title))
    console.print("wrote " + ", ".join(str(p) for p in written))
    console.print(f"overfit done in {time.monotonic() - t0:.1f} s")
    return 0


def assess(trials: Trials, partitions: int = DEFAULT_PARTITIONS,
           periods_per_year: int = PERIODS_PER_YEAR, fit: bool = False
           ) -> tuple[DeflatedSharpe, Overfitting | None]:
    """DSR of the selected epoch among every epoch's daily Sharpe ratio, and PBO (CSCV with
    ``partitions`` blocks) of the epochs' daily returns. ``fit``: fewer partitions where the
    days are too few for ``partitions`` blocks of 2 days (:func:`.overfit.fitted_partitions`),
    None for the PBO when not even 2 fit; otherwise too few days raise ConfigError."""
    matrix = trials.returns.to_numpy(dtype="float64")
    sharpes = [sharpe(matrix[:, i]) for i in range(matrix.shape[1])]
    selected = trials.returns[trials.selected].to_numpy(dtype="float64")
    if fit:
        partitions = fitted_partitions(matrix.shape[0], partitions)
    pbo = pbo_cscv(matrix, partitions) if partitions else None
    return deflated_sharpe(selected, sharpes, periods_per_year), pbo


def overfit_row(trials: Trials, dsr: DeflatedSharpe, pbo: Overfitting) -> dict[str, object]:
    """The one row of ``overfit.csv`` (:data:`COLUMNS`)."""
    index = trials.returns.index
    return {
        "file": str(trials.path), "strategy": trials.strategy, "trials": trials.n_trials,
        "trials_traded": trials.traded, "trials_max_loss": trials.max_loss,
        "days": len(index), "start": f"{index[0]:%Y-%m-%d}", "end": f"{index[-1]:%Y-%m-%d}",
        "selected_epoch": trials.selected,
        "selected_trades": int(trials.trades[trials.selected]),
        "sharpe": dsr.sharpe, "sharpe_annual": dsr.sharpe_annual,
        "sharpe_variance": dsr.sharpe_variance,
        "sharpe_variance_annual": dsr.sharpe_variance_annual,
        "threshold": dsr.threshold, "threshold_annual": dsr.threshold_annual,
        "skew": dsr.skew, "kurtosis": dsr.kurtosis, "psr": dsr.psr, "dsr": dsr.dsr,
        "pbo": pbo.pbo, "partitions": pbo.partitions, "splits": pbo.n_splits,
        "rows_used": pbo.n_obs, "median_logit": pbo.median_logit,
        "prob_oos_loss": pbo.prob_oos_loss,
    }


_LABELS = (
    ("trials", "trials (epochs)", "{}"),
    ("trials_traded", "epochs with trades", "{}"),
    ("trials_max_loss", "epochs with freqtrade's MAX_LOSS", "{}"),
    ("days", "days", "{}"),
    ("selected_epoch", "selected epoch (lowest loss)", "{}"),
    ("selected_trades", "its trades", "{}"),
    ("sharpe_annual", "its Sharpe ratio (a year)", "{:+.2f}"),
    ("sharpe_variance_annual", "variance of the trials' Sharpe ratios (a year)", "{:.3g}"),
    ("threshold_annual", "expected maximum Sharpe of the trials (a year)", "{:.2f}"),
    ("skew", "skewness of its daily returns", "{:+.2f}"),
    ("kurtosis", "kurtosis of its daily returns", "{:.2f}"),
    ("psr", "PSR (true Sharpe > 0)", "{:.3f}"),
    ("dsr", "DSR (true Sharpe > expected maximum)", "{:.3f}"),
    ("pbo", "PBO", "{:.3f}"),
    ("partitions", "CSCV blocks S", "{}"),
    ("splits", "splits C(S, S/2)", "{:,}"),
    ("rows_used", "days used by CSCV", "{}"),
    ("median_logit", "median logit", "{:+.3f}"),
    ("prob_oos_loss", "share of splits lost out of sample", "{:.3f}"),
)


def display(row: dict[str, object]) -> pd.DataFrame:
    """``statistic, value`` rows of ``row`` as text (one line per number, for the console and
    ``overfit.md``)."""
    return pd.DataFrame(
        [{"statistic": label, "value": "–" if _missing(row[key]) else form.format(row[key])}
         for key, label, form in _LABELS], dtype=object,
    )


def _missing(value: object) -> bool:
    return isinstance(value, float) and not np.isfinite(value)


def logits_table(trials: Trials, pbo: Overfitting) -> pd.DataFrame:
    """One row per CSCV split: its in-sample blocks (1 = oldest), the in-sample best epoch, its
    daily Sharpe ratio in and out of sample, and the logit of its out-of-sample rank."""
    half = pbo.partitions // 2
    blocks = ["-".join(str(b + 1) for b in combo)
              for combo in itertools.combinations(range(pbo.partitions), half)]
    epochs = np.asarray(trials.returns.columns)[pbo.selected]
    return pd.DataFrame({
        "split": np.arange(1, pbo.n_splits + 1), "in_sample_blocks": blocks,
        "selected_epoch": epochs, "is_sharpe": pbo.is_sharpe, "oos_sharpe": pbo.oos_sharpe,
        "logit": pbo.logits,
    })


def plot_logits(pbo: Overfitting, path: Path, title: str) -> Path:
    """Histogram of the CSCV logits (those <= 0, the overfit splits, in red) saved as a PNG."""
    from .plots import _save, plt

    logits = pbo.logits
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=90)
    values = np.unique(logits)  # few: ranks are 1, 1.5, ..., N
    if values.size <= 60:  # one bar per value: edges half-way between them
        pad = float(np.diff(values).min()) / 2 if values.size > 1 else 0.1
        bins = np.concatenate([[values[0] - pad], (values[1:] + values[:-1]) / 2,
                               [values[-1] + pad]])
    else:
        bins = np.linspace(float(values[0]), float(values[-1]), 41)
    ax.hist(logits[logits <= 0], bins=bins, color="tab:red", alpha=0.75, edgecolor="white",
            label=f"logit <= 0: {pbo.oos_below_median} splits (PBO {pbo.pbo:.2f})")
    ax.hist(logits[logits > 0], bins=bins, color="tab:gray", alpha=0.75, edgecolor="white",
            label=f"logit > 0: {pbo.n_splits - pbo.oos_below_median} splits")
    ax.axvline(0.0, color="black", lw=1.0, ls="--")
    ax.set_xlabel("logit of the in-sample best trial's out-of-sample rank "
                  "(< 0: below the median)")
    ax.set_ylabel("splits")
    ax.set_title(f"CSCV, S = {pbo.partitions} ({pbo.n_splits:,} splits): {title}", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    return _save(fig, path)
