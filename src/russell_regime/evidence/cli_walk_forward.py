"""``compare --walk-forward`` (imperative edge): hyperopt the russell space of the strategy on
rolling training windows, backtest each chosen parameter set on the following test window, and
report only the out-of-sample windows (per window and chained)."""

from __future__ import annotations

import json
import time

import pandas as pd

from ..errors import ConfigError
from . import cli_common as common
from .compare import COMPARE_COLUMNS, evaluate_runs
from .report import print_table, to_markdown, write_outputs


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
    candles = load_candles(root, pairs)
    rows, chosen = [], []
    oos: dict[str, list[pd.Series]] = {}
    out.mkdir(parents=True, exist_ok=True)
    with common.progress_display(not args.no_progress, console) as progress:
        task = progress.add_task("walk-forward windows", total=len(windows))
        for i, (train_start, test_start, test_end) in enumerate(windows):
            label = f"{test_start:%Y-%m-%d}..{test_end:%Y-%m-%d}"
            progress.update(task, description=f"window {i + 1}/{len(windows)}: hyperopt "
                            f"{train_start:%Y-%m}..{test_start:%Y-%m}")
            t = time.monotonic()
            params, loss = run_hyperopt(
                root, work / f"hyperopt_{i}", timerange(train_start, test_start), args.epochs,
                args.seed + i, pairs, args.loss, log=out / f"walk_forward_hyperopt_{i}.log",
                strategy=args.strategy, strategy_path=args.strategy_path, config_file=args.config,
            )
            t_hyper = time.monotonic() - t
            progress.update(task, description=f"window {i + 1}/{len(windows)}: test {label}")
            config = ft_config(root, work / f"test_{i}", timerange(test_start, test_end), pairs,
                               strategy=args.strategy, strategy_path=args.strategy_path,
                               config_file=args.config)
            runs = {
                "walk-forward gated": run_backtest(config, {**gated_params(), **params}),
                "default gated": run_backtest(config, gated_params()),
                "ungated": run_backtest(config, _ungated()),
            }
            table, curves = evaluate_runs(runs, candles, float(config["dry_run_wallet"]),
                                          float(config.get("fee") or 0.001))
            for rec in table.to_dict("records"):
                train = f"{train_start:%Y-%m-%d}..{test_start:%Y-%m-%d}"
                rows.append({"window": i + 1, "train": train, "test": label, **rec})
            for name, curve in curves.items():
                oos.setdefault(name, []).append(curve)
            chosen.append({"window": i + 1, "train_loss": loss, "params": params})
            pd.DataFrame(rows).to_csv(out / "walk_forward.csv", index=False, float_format="%.6g")
            console.print(f"window {i + 1}: {label} hyperopt {t_hyper:.0f} s, loss {loss:.3f}; "
                          + "; ".join(f"{r['run']} {100 * r['total_return']:+.1f}%"
                                      for r in table.to_dict("records")))
            (out / "walk_forward_params.json").write_text(
                json.dumps(chosen, indent=2, default=str), encoding="utf-8")
            progress.advance(task)
    per_window = pd.DataFrame(rows)
    total = chained_summary(per_window, oos, float(config["dry_run_wallet"]))
    title = (f"Walk-forward out-of-sample ({args.strategy}) "
             f"{windows[0][1]:%Y-%m-%d}..{windows[-1][2]:%Y-%m-%d} "
             f"(train {args.train_months} m, test {args.test_months} m, {args.epochs} epochs, "
             f"{args.loss}, seed {args.seed})")
    cols = [c for c in COMPARE_COLUMNS if not c.startswith("ft_") and c in total.columns]
    md = (f"# Walk-forward\n\n{title}\n\n## Chained out-of-sample\n\n" + to_markdown(total, cols)
          + "\n## Per window\n\n" + to_markdown(per_window, ["window", "train", "test", *cols]))
    written = write_outputs(out, {"walk_forward": per_window, "walk_forward_total": total}, md,
                            "walk_forward.md")
    print_table(console, per_window, "per test window", ["window", "test", *cols])
    print_table(console, total, title + " — chained", cols)
    console.print("wrote " + ", ".join(str(p) for p in written))
