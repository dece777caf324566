"""``compare --walk-forward`` (imperative edge): hyperopt the russell space of the strategy on
rolling training windows, backtest each chosen parameter set on the following test window, and
report only the out-of-sample windows (per window and chained).

With ``--confirm`` (default ``vix lead value``, as ``compare``) each confirmation's parameters
are in the searched space (``<key>_mode`` may pick ``off``); the default gated and ungated runs
keep every confirmation off. Each window's hyperopt keeps every epoch (freqtrade's ``.fthypt``,
copied to ``walk_forward_hyperopt_<i>.fthypt``): the selection among them is measured with the
Deflated Sharpe Ratio and the PBO by CSCV (:mod:`.overfit`) on the epochs' daily P&L over the
training window (:mod:`.trials`).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pandas as pd

from ..errors import ConfigError, DataValidationError
from . import cli_common as common
from .compare import COMPARE_COLUMNS, evaluate_runs
from .report import print_table, to_markdown, write_outputs

OVERFIT_COLUMNS = ("window", "train", "trials", "with_trades", "days", "selected_epoch",
                   "sharpe_annual", "threshold_annual", "psr", "dsr", "pbo", "partitions",
                   "splits")


def _ungated() -> dict[str, object]:
    from .backtest import ungated_params

    return ungated_params()


def walk_forward(args, root, pairs, start, end, out, work, console) -> None:
    """Run the walk-forward of ``compare --walk-forward`` into ``out`` (``work``: scratch)."""
    from .backtest import (
        ft_config,
        gated_params,
        load_candles,
        run_backtest,
        run_hyperopt,
        timerange,
        walk_forward_windows,
    )
    from .metrics import chained_summary

    windows = walk_forward_windows(start, end, args.train_months, args.test_months)
    if not windows:
        raise ConfigError("timerange too short for one training and one test window")
    section = _confirmations(args, root, console)
    regime = {"confirmations": section} if section else None
    off = {f"{key}_mode": "off" for key in section}
    candles = load_candles(root, pairs)
    rows, chosen, overfit_rows = [], [], []
    oos: dict[str, list[pd.Series]] = {}
    out.mkdir(parents=True, exist_ok=True)
    partitions = int(args.partitions)
    with common.progress_display(not args.no_progress, console) as progress:
        task = progress.add_task("walk-forward windows", total=len(windows))
        for i, (train_start, test_start, test_end) in enumerate(windows):
            label = f"{test_start:%Y-%m-%d}..{test_end:%Y-%m-%d}"
            train = f"{train_start:%Y-%m-%d}..{test_start:%Y-%m-%d}"
            progress.update(task, description=f"window {i + 1}/{len(windows)}: hyperopt "
                            f"{train_start:%Y-%m}..{test_start:%Y-%m}")
            t = time.monotonic()
            hyper = run_hyperopt(
                root, work / f"hyperopt_{i}", timerange(train_start, test_start), args.epochs,
                args.seed + i, pairs, args.loss, log=out / f"walk_forward_hyperopt_{i}.log",
                strategy=args.strategy, strategy_path=args.strategy_path, config_file=args.config,
                regime=regime,
            )
            t_hyper = time.monotonic() - t
            stats = _window_overfit(hyper.results_file, out / f"walk_forward_hyperopt_{i}.fthypt",
                                    partitions)
            overfit_rows.append({"window": i + 1, "train": train, **stats})
            progress.update(task, description=f"window {i + 1}/{len(windows)}: test {label}")
            config = ft_config(root, work / f"test_{i}", timerange(test_start, test_end), pairs,
                               strategy=args.strategy, strategy_path=args.strategy_path,
                               regime=regime, config_file=args.config)
            runs = {
                "walk-forward gated": run_backtest(config, {**gated_params(), **off,
                                                            **hyper.params}),
                "default gated": run_backtest(config, {**gated_params(), **off}),
                "ungated": run_backtest(config, {**_ungated(), **off}),
            }
            table, curves = evaluate_runs(runs, candles, float(config["dry_run_wallet"]),
                                          float(config.get("fee") or 0.001))
            for rec in table.to_dict("records"):
                rows.append({"window": i + 1, "train": train, "test": label, **rec})
            for name, curve in curves.items():
                oos.setdefault(name, []).append(curve)
            chosen.append({"window": i + 1, "train_loss": hyper.loss, "params": hyper.params})
            pd.DataFrame(rows).to_csv(out / "walk_forward.csv", index=False, float_format="%.6g")
            console.print(
                f"window {i + 1}: {label} hyperopt {t_hyper:.0f} s, loss {hyper.loss:.3f}, "
                f"{_overfit_text(stats)}; "
                + "; ".join(f"{r['run']} {100 * r['total_return']:+.1f}%"
                            for r in table.to_dict("records")))
            (out / "walk_forward_params.json").write_text(
                json.dumps(chosen, indent=2, default=str), encoding="utf-8")
            progress.advance(task)
    per_window = pd.DataFrame(rows)
    wallet = float(config["dry_run_wallet"])
    total = chained_summary(per_window, oos, wallet)
    overfit = pd.DataFrame(overfit_rows)
    overall = overall_overfit(overfit, oos.get("walk-forward gated", []), wallet)
    overfit = pd.concat([overfit, pd.DataFrame([overall])], ignore_index=True)
    confirm = f", confirmations {' '.join(section)} in the space" if section else ""
    title = (f"Walk-forward out-of-sample ({args.strategy}) "
             f"{windows[0][1]:%Y-%m-%d}..{windows[-1][2]:%Y-%m-%d} "
             f"(train {args.train_months} m, test {args.test_months} m, {args.epochs} epochs, "
             f"{args.loss}, seed {args.seed}{confirm})")
    cols = [c for c in COMPARE_COLUMNS if not c.startswith("ft_") and c in total.columns]
    overfit_title = (f"Selection among each window's hyperopt epochs: Deflated Sharpe Ratio "
                     f"and PBO (CSCV, S = {partitions} partitions where the window is long "
                     "enough) on the epochs' daily P&L over the training window")
    shown = _overfit_display(overfit)
    md = (f"# Walk-forward\n\n{title}\n\n## Chained out-of-sample\n\n"
          + to_markdown(total, cols)
          + "\n## Per window\n\n" + to_markdown(per_window, ["window", "train", "test", *cols])
          + f"\n## Overfitting\n\n{overfit_title}\n\n{OVERALL_NOTE}\n\n"
          + to_markdown(shown, OVERFIT_COLUMNS))
    written = write_outputs(out, {"walk_forward": per_window, "walk_forward_total": total,
                                  "walk_forward_overfit": overfit}, md, "walk_forward.md")
    print_table(console, per_window, "per test window", ["window", "test", *cols])
    print_table(console, total, title + " — chained", cols)
    print_table(console, shown, overfit_title, OVERFIT_COLUMNS)
    console.print(OVERALL_NOTE)
    console.print("wrote " + ", ".join(str(p) for p in written))


OVERALL_NOTE = (
    "overall: trials summed over the windows; pbo the share of all windows' splits whose "
    "in-sample best fell to or below the out-of-sample median (the windows' mean); "
    "sharpe_annual and psr of the chained out-of-sample walk-forward gated returns (no choice "
    "was made on those days: dsr = psr)"
)


def _confirmations(args, root: Path, console) -> dict[str, dict]:
    """The ``confirmations`` section of ``--confirm`` (:func:`.cli_compare.
    usable_confirmations`); a confirmation whose series cannot be loaded is left out with a
    warning."""
    from .cli_compare import usable_confirmations

    section, failed = usable_confirmations(args, root)
    for key, why in failed.items():
        console.print(f"warning: confirmation {key} left out of the space: {why}")
    return section


def _window_overfit(results_file: Path | None, copy_to: Path, partitions: int) -> dict:
    """DSR and PBO of one window's hyperopt epochs (``results_file``, copied to ``copy_to``);
    NaN statistics, with the reason, when there are too few epochs or days."""
    from .cli_overfit import assess
    from .trials import read_trials

    if results_file is None:
        return {"note": "freqtrade wrote no results file"}
    shutil.copyfile(results_file, copy_to)
    try:
        trials = read_trials(copy_to)
    except DataValidationError as exc:
        return {"note": str(exc)}
    dsr, pbo = assess(trials, partitions, fit=True)
    return {
        "trials": trials.n_trials, "with_trades": trials.traded, "days": dsr.n_obs,
        "selected_epoch": trials.selected, "sharpe_annual": dsr.sharpe_annual,
        "threshold_annual": dsr.threshold_annual, "psr": dsr.psr, "dsr": dsr.dsr,
        "pbo": pbo.pbo if pbo else float("nan"), "partitions": pbo.partitions if pbo else 0,
        "splits": pbo.n_splits if pbo else 0,
    }


def overall_overfit(per_window: pd.DataFrame, oos_gated: list[pd.Series], wallet: float
                    ) -> dict:
    """The overall row (:data:`OVERALL_NOTE`)."""
    from .metrics import PERIODS_PER_YEAR, chain_curves, daily_returns
    from .overfit import deflated_sharpe

    row: dict = {"window": "overall", "train": "", "trials": int(per_window["trials"].sum())
                 if "trials" in per_window else 0}
    if "pbo" in per_window and per_window["pbo"].notna().any():
        row["pbo"] = float(per_window["pbo"].mean())
    if oos_gated:
        r = daily_returns(chain_curves(oos_gated, wallet)).to_numpy(dtype="float64")
        if r.size > 2:
            psr = deflated_sharpe(r, [0.0], PERIODS_PER_YEAR)
            row |= {"days": int(r.size), "sharpe_annual": psr.sharpe_annual, "psr": psr.psr,
                    "dsr": psr.psr}
    return row


def _overfit_text(stats: dict) -> str:
    if "dsr" not in stats:
        return f"no overfitting statistics ({stats.get('note', '')})"
    return (f"{stats['trials']} trials, selected Sharpe {stats['sharpe_annual']:.2f}, "
            f"DSR {stats['dsr']:.2f}, PBO {stats['pbo']:.2f} (S={stats['partitions']})")


# the overfitting table's numbers as text ("–" where a window has none)
_OVERFIT_FORMATS = {"sharpe_annual": "{:+.2f}", "threshold_annual": "{:+.2f}", "psr": "{:.3f}",
                    "dsr": "{:.3f}", "pbo": "{:.3f}"} | dict.fromkeys(
    ("trials", "with_trades", "days", "selected_epoch", "partitions", "splits"), "{:.0f}")


def _overfit_display(table: pd.DataFrame) -> pd.DataFrame:
    values = table.reindex(columns=list(OVERFIT_COLUMNS))
    out = values.astype(object)
    for col, form in _OVERFIT_FORMATS.items():
        out[col] = [form.format(v) if pd.notna(v) else "–" for v in values[col]]
    return out.fillna("–")
