"""The ``compare`` command (imperative edge): freqtrade backtests of the gate, every class off
and the gate with each confirmation, BTC buy-and-hold, the same-exposure random-gate control
(:mod:`.random_gate`), and ``--walk-forward``."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from ..config_file import caller_path, default_config_path
from ..core.calendar import DEFAULT_PUBLICATION_LAG_MINUTES
from ..data.sources import read_daily_file
from ..errors import ConfigError
from . import cli_common as common
from .cli_common import DEFAULT_OUT
from .compare import (
    COMPARE_COLUMNS,
    UNGATED,
    evaluate_runs,
    gate_note,
    gated_label,
    parse_timerange,
)
from .report import print_table, to_markdown, write_outputs

DEFAULT_TIMERANGE = "20180101-20250701"
STRATEGY = "RussellRiskOn"


def add_compare_command(subparsers: argparse._SubParsersAction) -> None:
    """Add ``compare``."""
    _add_compare(subparsers)


# --- compare ---------------------------------------------------------------------------------


def _add_compare(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "compare", help="backtest a gated strategy (default RussellRiskOn) gated vs every "
        "class off (and BTC buy-and-hold)",
        description="freqtrade backtests (in-process, offline markets) of a strategy using "
        "RussellGateMixin (--strategy, default RussellRiskOn) with its gate as loaded (its "
        "defaults, or its <Strategy>.json) and with every class off (the same strategy with "
        "btc_mode, eth_mode and alt_mode = off), plus BTC buy-and-hold, on the same pairs and "
        "timerange, and the gate with each --confirm (vix lead value by default, from the "
        "shared data's index files; the other confirmations off); then the same-exposure "
        "random-gate control: where the gate (and the gate "
        "with each --confirm) falls among random gates open as often, in spells as long, "
        "applied to the ungated run's trades. --walk-forward: hyperopt the russell space on "
        "rolling training windows and report only the out-of-sample windows.",
    )
    common.data_options(p)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"output folder (default {DEFAULT_OUT} here)")
    p.add_argument("--config", type=Path, default=None,
                   help="freqtrade config (default: config.json here, else the shipped "
                   "example config)")
    p.add_argument("--timerange", default=DEFAULT_TIMERANGE,
                   help=f"YYYYMMDD-YYYYMMDD (default {DEFAULT_TIMERANGE})")
    p.add_argument("--pairs", nargs="+", default=None,
                   help="base currencies (default: the config's whitelist)")
    p.add_argument("--strategy", default=STRATEGY,
                   help=f"a strategy using RussellGateMixin (default {STRATEGY})")
    p.add_argument("--strategy-path", type=Path, default=None,
                   help="folder freqtrade searches for --strategy first (default: the shipped "
                   "example strategy's folder); relative to the caller's folder")
    p.add_argument("--walk-forward", action="store_true", help="walk-forward hyperopt mode")
    p.add_argument("--train-months", type=int, default=12)
    p.add_argument("--test-months", type=int, default=6)
    p.add_argument("--epochs", type=int, default=30, help="hyperopt epochs per window")
    p.add_argument("--loss", default="SharpeHyperOptLoss", help="hyperopt loss class")
    p.add_argument("--seed", type=int, default=7,
                   help="hyperopt random state (window i: +i) and random-gate seed")
    p.add_argument("--random-gates", type=int, default=500,
                   help="same-exposure random gates of the control (0: no control; default 500)")
    common.confirmation_options(p)
    p.add_argument("--no-plots", action="store_true", help="no PNG plot")
    p.add_argument("--no-progress", action="store_true", help="no progress display")
    p.set_defaults(func=_run_compare)


def _run_compare(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    root = common.data_dir(args)
    console = common.make_console()
    if args.strategy_path is not None:
        args.strategy_path = caller_path(args.strategy_path)
    args.config = default_config_path() if args.config is None else caller_path(args.config)
    pairs = [f"{b}/USDT" for b in args.pairs] if args.pairs else _config_pairs(args.config)
    start, end = parse_timerange(args.timerange)
    out = caller_path(Path(args.out))
    work = Path(tempfile.mkdtemp(prefix="r2k-compare-"))
    try:
        if args.walk_forward:
            _walk_forward(args, root, pairs, start, end, out, work, console)
        else:
            _compare_once(args, root, pairs, start, end, out, work, console)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    console.print(f"compare done in {time.monotonic() - t0:.1f} s")
    return 0


def _config_pairs(config_file: Path) -> list[str]:
    from ..config_file import read_config

    try:
        return list(read_config(config_file)["exchange"]["pair_whitelist"])
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"config {config_file}: no exchange.pair_whitelist; pass --pairs") \
            from exc


def _confirmation_section(args: argparse.Namespace, root: Path) -> dict[str, dict]:
    """The ``confirmations`` settings for ``--confirm`` on the shared data's files (source
    file), with the rule options of the command line."""
    index = root / "index"
    section: dict[str, dict] = {}
    for key in dict.fromkeys(args.confirm or ()):
        if key == "vix":
            section[key] = {"ticker": "^VIX", "source": "file", "path": str(index / "VIX.csv"),
                            "rule": args.vix_rule, "level": args.vix_level,
                            "window": args.vix_window}
        elif key == "lead":
            section[key] = {"ticker": "^RUT", "versus": "^SPX", "source": "file",
                            "path": str(index / "RUT.csv"),
                            "versus_path": str(index / "SPX.csv"), "rule": args.lead_rule,
                            "window": args.lead_window}
        elif key == "value":
            section[key] = {"ticker": "IWN", "versus": "IWM", "source": "file",
                            "path": str(index / "IWN.csv"), "versus_path": str(index / "IWM.csv"),
                            "rule": args.value_rule, "tolerance": args.value_tolerance,
                            "window": args.value_window}
        else:
            section[key] = {"ticker": "IWM", "source": "file",
                            "path": str(caller_path(args.flows_file)),
                            "window": args.flows_window, "threshold": args.flows_threshold}
    return section


def _compare_once(args, root, pairs, start, end, out, work, console) -> None:
    from .backtest import GATE_OFF, ft_config, load_candles, run_backtest, timerange

    # a bad --confirm fails before any backtest
    common.load_confirmations(args, root, DEFAULT_PUBLICATION_LAG_MINUTES)
    section = _confirmation_section(args, root)
    config = ft_config(root, work / "ft", timerange(start, end), pairs,
                       strategy=args.strategy, strategy_path=args.strategy_path,
                       regime={"confirmations": section} if section else None,
                       config_file=args.config)
    off = {f"{key}_mode": "off" for key in section}
    # (name, params, as loaded): the gate without confirmations, every class off, then the
    # gate with each confirmation alone (its rule from the settings, the others off)
    variants = [("gated", off, True), (UNGATED, {**GATE_OFF, **off}, False)]
    variants += [(f"gated+{key}", {k: v for k, v in off.items() if k != f"{key}_mode"}, False)
                 for key in section]
    runs = {}
    with common.progress_display(not args.no_progress, console) as progress:
        task = progress.add_task("freqtrade backtests", total=len(variants))
        for name, params, as_loaded in variants:
            progress.update(task, description=f"backtest: {name}")
            t = time.monotonic()
            run = run_backtest(config, params or None)
            if as_loaded:  # the strategy's own gate parameters
                name = gated_label(dict(run.gate))
                if run.param_file is not None:
                    console.print(f"[yellow]warning: {run.param_file} exists; freqtrade loads "
                                  "its parameters for every run (the ungated run then sets "
                                  "every *_mode=off)[/yellow]")
            runs[name] = run
            console.print(f"{name}: {len(run.trades)} trades, {time.monotonic() - t:.0f} s")
            progress.advance(task)
    gated = next(iter(runs.values()))
    candles = load_candles(root, pairs)
    table, curves = evaluate_runs(runs, candles, float(config["dry_run_wallet"]),
                                  float(config.get("fee") or 0.001))
    title = (f"{gated.strategy} {start:%Y-%m-%d}..{end:%Y-%m-%d}, {len(pairs)} pairs, "
             f"{config['timeframe']}")
    note = gate_note(dict(gated.gate))
    print_table(console, table, title, COMPARE_COLUMNS)
    console.print(note)
    md = f"# Compare\n\n{title}\n\n{note}\n\n" + to_markdown(table, COMPARE_COLUMNS)
    equity = pd.DataFrame(curves)
    frames = [r.trades.assign(run=n) for n, r in runs.items()]
    # a run without trades takes no part in the dtypes (pandas 2 warns that 3 would let it)
    trades = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    keep = ["run", "pair", "open_date", "close_date", "open_rate", "close_rate", "amount",
            "profit_ratio", "profit_abs", "exit_reason", "enter_tag"]
    written = write_outputs(out, {
        "compare": table,
        "compare_equity": equity.reset_index(names="date"),
        "compare_trades": trades[[c for c in keep if c in trades.columns]],
    }, md, "compare.md")
    if not args.no_plots:
        from .plots import plot_equity

        written.append(plot_equity(curves, out / "compare_equity.png", title))
    if args.random_gates > 0:
        written += _random_gate_control(args, root, config, runs, out, console)
    console.print("wrote " + ", ".join(str(p) for p in written))


CONTROL_COLUMNS = ("gate", "metric", "real", "random_mean", "random_median", "random_p05",
                   "random_p95", "percentile", "p_random", "n_random", "exposure")


def _control_display(table: pd.DataFrame) -> pd.DataFrame:
    """Values as text: 4 significant digits, percentile with one decimal, exposure in %."""
    out = table.copy().astype(object)
    for col in ("real", "random_mean", "random_median", "random_p05", "random_p95"):
        out[col] = [f"{v:+.4g}" if pd.notna(v) else "–" for v in table[col]]
    out["percentile"] = [f"{v:.1f}" if pd.notna(v) else "–" for v in table["percentile"]]
    out["p_random"] = [f"{v:.3f}" if pd.notna(v) else "–" for v in table["p_random"]]
    out["exposure"] = [f"{100 * v:.1f}%" for v in table["exposure"]]
    out["n_random"] = table["n_random"].astype(str)
    return out


def _random_gate_control(args, root, config, runs, out, console) -> list[Path]:
    """The same-exposure random-gate control (:mod:`.random_gate`) of the gated run's gate
    and of the gate with each ``--confirm``, on the ungated run's trades."""
    from freqtrade.exchange import timeframe_to_seconds

    from ..core.gate import pair_class
    from ..settings import settings_from_config
    from .alignment import class_gate_masks
    from .random_gate import ControlInput, gate_control

    t = time.monotonic()
    settings = settings_from_config(config)
    availability = settings.availability
    daily = read_daily_file(Path(settings.path), settings.ticker)
    avail = availability.available_at(daily["session"])
    gated_name = next(iter(runs))
    gated, ungated = runs[gated_name], runs[UNGATED]
    timeframe = pd.Timedelta(seconds=timeframe_to_seconds(config["timeframe"]))
    grid = pd.date_range(ungated.start, ungated.end - timeframe, freq=timeframe)
    classes = {p: pair_class(p) for p in config["exchange"]["pair_whitelist"]}
    confirmations = common.load_confirmations(args, root, settings.publication_lag_minutes)
    variants = {"gate": ()} | {f"gate+{c.key}": (c,) for c in confirmations}
    summaries, draws = [], []
    for label, confs in variants.items():
        masks = class_gate_masks(daily, avail, dict(gated.gate), grid, timeframe, confs,
                                 settings.price_basis)
        inp = ControlInput(grid, masks, ungated.trades, classes, timeframe, args.random_gates,
                           args.seed)
        summary, drawn = gate_control(inp, label)
        summaries.append(summary)
        draws.append(drawn)
    table = pd.concat(summaries, ignore_index=True)
    real = table.set_index(["gate", "metric"])["real"]
    checks = []
    for label in variants:
        run = runs.get(gated_name if label == "gate" else "gated" + label[len("gate"):])
        if run is None:
            continue
        checks.append(f"{label}: backtest {len(run.trades)} trades, profit "
                      f"{run.trades['profit_ratio'].sum():+.4f}; as a filter on the ungated "
                      f"trades {int(real[(label, 'trades')])} trades, profit "
                      f"{real[(label, 'profit')]:+.4f}")
    check = ("backtest vs filter (profit = sum of trade returns): " + "; ".join(checks))
    title = (f"Same-exposure random-gate control: {args.random_gates} random gates per row "
             f"(seed {args.seed}), on the {len(ungated.trades)} trades of the ungated run")
    shown = _control_display(table)
    print_table(console, shown, title, CONTROL_COLUMNS)
    console.print(check)
    for conf in confirmations:
        console.print(f"+{conf.key}: {conf.note}")
    console.print(f"random-gate control in {time.monotonic() - t:.1f} s")
    md = (f"# Random-gate control\n\n{title}\n\n{check}\n\n"
          + to_markdown(shown, CONTROL_COLUMNS))
    return write_outputs(out, {"compare_random_gates": table,
                               "compare_random_draws": pd.concat(draws, ignore_index=True)},
                         md, "compare_random_gates.md")


def _ungated() -> dict[str, object]:
    from .backtest import ungated_params

    return ungated_params()


def _walk_forward(args, root, pairs, start, end, out, work, console) -> None:
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
