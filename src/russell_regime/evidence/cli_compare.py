"""The ``compare`` command (imperative edge): freqtrade backtests of the gate, every class off
and the gate with each confirmation, BTC buy-and-hold, the same-exposure random-gate control
(:mod:`.random_gate`), the multiple comparisons of the gate variants vs ungated (SPA, StepM:
:mod:`.superiority`), the run record ``compare_run.json``, and ``--walk-forward``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import tempfile
import time
from dataclasses import fields
from pathlib import Path

import pandas as pd

from .. import arguments as arg
from ..config_file import caller_path, default_config_path
from ..core.calendar import DEFAULT_PUBLICATION_LAG_MINUTES
from ..errors import ConfigError, DataValidationError, SourceError
from . import cli_common as common
from .cli_common import DEFAULT_OUT
from .cli_overfit import DEFAULT_PARTITIONS, MAX_PARTITIONS, partitions
from .compare import (
    BUY_AND_HOLD,
    COMPARE_COLUMNS,
    UNGATED,
    evaluate_runs,
    gate_note,
    gated_label,
    parse_timerange,
)
from .report import print_table, to_markdown, write_outputs
from .superiority import (
    default_block_size,
    superiority,
    superiority_title,
    superiority_verdict,
)

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
    p.add_argument("--out", type=arg.folder, default=DEFAULT_OUT,
                   help=f"output folder (default {DEFAULT_OUT} here)")
    p.add_argument("--config", type=Path, default=None,
                   help="freqtrade config (default: config.json here, else the shipped "
                   "example config)")
    p.add_argument("--timerange", type=_timerange, default=DEFAULT_TIMERANGE,
                   help=f"YYYYMMDD-YYYYMMDD, end after start (default {DEFAULT_TIMERANGE})")
    p.add_argument("--pairs", nargs="+", default=None,
                   help="pairs BASE/QUOTE, or base currencies (BASE: BASE/USDT); each must be "
                   "in the markets snapshot and have candles in --data for the timerange, "
                   "checked before any backtest (default: the config's whitelist)")
    p.add_argument("--strategy", default=STRATEGY,
                   help=f"a strategy using RussellGateMixin (default {STRATEGY})")
    p.add_argument("--strategy-path", type=arg.existing_folder, default=None,
                   help="folder freqtrade searches for --strategy first (default: the shipped "
                   "example strategy's folder); relative to the caller's folder")
    p.add_argument("--walk-forward", action="store_true", help="walk-forward hyperopt mode")
    months = arg.int_in(1, arg.MAX_MONTHS, "a whole number of months")
    p.add_argument("--train-months", type=months, default=12,
                   help=f"walk-forward training window, 1..{arg.MAX_MONTHS} months (default 12)")
    p.add_argument("--test-months", type=months, default=6,
                   help=f"walk-forward test window, 1..{arg.MAX_MONTHS} months (default 6)")
    p.add_argument("--epochs", type=arg.int_in(1, arg.MAX_EPOCHS), default=30,
                   help=f"hyperopt epochs per window, 1..{arg.MAX_EPOCHS} (default 30)")
    p.add_argument("--loss", default="SharpeHyperOptLoss", help="hyperopt loss class")
    p.add_argument("--partitions", type=partitions, default=DEFAULT_PARTITIONS,
                   help="walk-forward: CSCV blocks S of each training window for the PBO of "
                   f"its hyperopt epochs, even, 2..{MAX_PARTITIONS} (default "
                   f"{DEFAULT_PARTITIONS}; fewer where a window has under 2 days per block)")
    p.add_argument("--seed", type=arg.int_in(0, arg.MAX_SEED), default=7,
                   help="hyperopt random state (window i: +i) and random-gate seed, "
                   f"0..{arg.MAX_SEED}")
    p.add_argument("--random-gates", type=arg.int_in(0, arg.MAX_RANDOM_GATES), default=500,
                   help=f"same-exposure random gates of the control, 0..{arg.MAX_RANDOM_GATES}"
                   " (0: no control; default 500): p_random's resolution is then 1e-4 and the "
                   "Monte-Carlo error of a percentile under 0.5 points; more would only cost "
                   "time (about 0.5 ms per gate and row on 7 years of 1h candles)")
    common.confirmation_options(p)
    _spa_options(p)
    p.add_argument("--no-plots", action="store_true", help="no PNG plot")
    p.add_argument("--no-progress", action="store_true", help="no progress display")
    p.set_defaults(func=_run_compare)


def _timerange(text: str) -> str:
    """``--timerange`` read by :func:`.compare.parse_timerange` (both ends, end after start);
    returned as given."""
    try:
        parse_timerange(text)
    except ConfigError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a timerange (allowed: YYYYMMDD-YYYYMMDD, end after start)"
        ) from None
    return text


def _run_compare(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    root = common.data_dir(args)
    console = common.make_console()
    if args.strategy_path is not None:
        args.strategy_path = caller_path(args.strategy_path)
    args.config = default_config_path() if args.config is None else caller_path(args.config)
    pairs = common.pair_names(args.pairs) if args.pairs else _config_pairs(args.config)
    start, end = parse_timerange(args.timerange)
    _check_pairs(root, pairs, start, end, args.config)  # before any backtest: exit 2
    out = caller_path(Path(args.out))
    work = Path(tempfile.mkdtemp(prefix="r2k-compare-"))
    try:
        if args.walk_forward:
            from .cli_walk_forward import walk_forward

            walk_forward(args, root, pairs, start, end, out, work, console)
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


def _check_pairs(root: Path, pairs: list[str], start: pd.Timestamp, end: pd.Timestamp,
                 config_file: Path) -> None:
    """:func:`.cli_common.check_pairs` against the markets snapshot the backtests use, for the
    1h candles of the evaluation and the config's timeframe."""
    from ..adapter.offline import default_snapshot, load_markets_snapshot
    from ..config_file import read_config

    timeframe = read_config(config_file).get("timeframe") or "1h"
    markets = load_markets_snapshot(default_snapshot())
    common.check_pairs(root, pairs, start, end, markets, ("1h", str(timeframe)))


def usable_confirmations(args: argparse.Namespace, root: Path
                         ) -> tuple[dict[str, dict], dict[str, str]]:
    """(section, failed): the ``confirmations`` section of ``--confirm``
    (:func:`_confirmation_section`) without the confirmations whose series cannot be loaded,
    and ``{key: why}`` of those. A bad rule option still fails (exit 2)."""
    failed: dict[str, str] = {}
    for key in dict.fromkeys(args.confirm or ()):
        try:
            common.load_confirmation(args, root, key, DEFAULT_PUBLICATION_LAG_MINUTES)
        except (DataValidationError, SourceError) as exc:
            failed[key] = str(exc)
    section = {key: value for key, value in _confirmation_section(args, root).items()
               if key not in failed}
    return section, failed


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
            section[key] = {"ticker": "^RUT", "versus": common.LEAD_VERSUS, "source": "file",
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


def confirmation_values(key: str, spec: dict) -> dict[str, object]:
    """The strategy parameters (``<key>_mode``, ``<key>_window``...) of confirmation ``key``
    as its ``confirmations`` section ``spec`` says (``mode`` = its rule, ``on`` for flows),
    set explicitly: a ``<Strategy>.json`` with e.g. ``lead_mode: off`` must not turn the
    ``gated+lead`` run into the plain gated one."""
    from ..adapter.params import CONFIRM_PARAMS, ON

    return {f"{key}_{p.threshold}": spec.get("rule", ON) if p.threshold == "mode"
            else spec[p.threshold] for p in CONFIRM_PARAMS[key]}


def _compare_once(args, root, pairs, start, end, out, work, console) -> None:
    from .backtest import GATE_OFF, ft_config, load_candles, run_backtest, timerange

    _check_spa_block(args, start, end)  # before any backtest: exit 2
    # a bad --confirm parameter fails before any backtest; a confirmation series that cannot
    # be loaded stops only the run that uses it (the table says why it is missing)
    section, failed = usable_confirmations(args, root)
    for key, why in failed.items():
        console.print(f"warning: gated+{key} not run: {why}")
    config = ft_config(root, work / "ft", timerange(start, end), pairs,
                       strategy=args.strategy, strategy_path=args.strategy_path,
                       regime={"confirmations": section} if section else None,
                       config_file=args.config)
    off = {f"{key}_mode": "off" for key in section}
    # (name, params, as loaded): the gate without confirmations, every class off, then the
    # gate with each confirmation alone (its rule from the command line, the others off)
    variants = [("gated", off, True), (UNGATED, {**GATE_OFF, **off}, False)]
    variants += [(f"gated+{key}", {**off, **confirmation_values(key, section[key])}, False)
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
    table = with_run_notes(table, run_notes(config, list(section), gated.start, gated.end),
                           failed)
    title = (f"{gated.strategy} {start:%Y-%m-%d}..{end:%Y-%m-%d}, {len(pairs)} pairs, "
             f"{config['timeframe']}")
    note = gate_note(dict(gated.gate))
    print_table(console, table, title, TABLE_COLUMNS)
    console.print(note)
    for line in table["note"]:
        if line:
            console.print(f"warning: {line}")
    md = f"# Compare\n\n{title}\n\n{note}\n\n" + to_markdown(table, TABLE_COLUMNS)
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
    if args.spa_reps > 0:
        written += _multiple_comparisons(args, curves, out, console)
    written.append(_write_run_record(out / "compare_run.json", run_record(
        args, gated, pairs, config, section, dt.datetime.now(dt.UTC))))
    console.print("wrote " + ", ".join(str(p) for p in written))


TABLE_COLUMNS = (*COMPARE_COLUMNS, "note")
_CONFIRMATION_EFFECT = {"block_entries": "entries blocked", "ignore_gate": "counts as open",
                        "last_known": "keeps its last verdict"}


def _series_states(settings, keys: list[str]) -> dict[str, list[tuple[str, object, object]]]:
    """Per run part (``"index"`` and each confirmation key): ``(name, last session, stale
    from)`` of each daily series, loaded as the strategy loads them (offline)."""
    from ..adapter.confirm import Confirmation, FlowsFile
    from ..adapter.provider import RegimeProvider
    from ..core.stalegate import stale_from

    grace = settings.stale_grace_minutes
    provider = RegimeProvider(settings)
    provider.load_offline()
    last = provider.daily["session"].iloc[-1]
    out = {"index": [(settings.ticker, last, stale_from(last, settings.availability, grace))]}
    for key in keys:
        confirmation = Confirmation(settings, settings.confirmations[key])
        confirmation.load_offline()
        out[key] = [
            (f"flows ({key})" if isinstance(series, FlowsFile) else f"{ticker} ({key})", last,
             since)
            for (ticker, last, since), series in zip(confirmation.series_ends(),
                                                     confirmation.series.values(), strict=True)
        ]
    return out


def run_notes(config: dict, keys: list[str], start: pd.Timestamp, end: pd.Timestamp
              ) -> dict[str, str]:
    """Per run name of the compare table: the series it uses that are stale inside
    ``[start, end)``, each named with its last session and the instant it became stale, and
    what the stale policy makes of it ("" when none)."""
    from ..core.refresh import POLICY_EFFECT
    from ..core.stalegate import stale_series_note
    from ..settings import settings_from_config

    settings = settings_from_config(config)
    states = _series_states(settings, keys)
    policy = settings.stale_policy
    effect = POLICY_EFFECT.get(policy, "entries blocked")

    def stale_parts(part: str) -> list[str]:
        return [stale_series_note(name, last, since) for name, last, since in states[part]
                if since is not None and since < end]

    index = stale_parts("index")
    base = f"stale: {'; '.join(index)} ({effect}, stale_policy {policy})" if index else ""
    notes = {"gated": base, UNGATED: base}
    for key in keys:
        parts = stale_parts(key)
        conf = settings.confirmations[key]
        how = (f"{_CONFIRMATION_EFFECT.get(policy, 'entries blocked')}, stale_policy {policy}"
               if conf.required else "optional: counts as open while stale")
        text = f"stale: {'; '.join(parts)} ({how})" if parts else ""
        notes[f"gated+{key}"] = "; ".join(filter(None, [base, text]))
    return notes


def with_run_notes(table: pd.DataFrame, notes: dict[str, str], failed: dict[str, str]
                   ) -> pd.DataFrame:
    """The compare table with a ``note`` column (stale series per run, see :func:`run_notes`)
    and a row per confirmation run that could not be loaded, saying why (pure)."""
    table = table.copy()
    gated_name = table["run"].iloc[0] if len(table) else "gated"
    keyed = {gated_name: notes.get("gated", ""), **notes}
    table["note"] = [keyed.get(run, "") for run in table["run"]]
    missing = pd.DataFrame([{"run": f"gated+{key}", "note": f"not run: {why}"}
                            for key, why in failed.items()])
    if missing.empty:
        return table
    buy_and_hold = table["run"] == BUY_AND_HOLD
    parts = [table[~buy_and_hold], missing.reindex(columns=table.columns), table[buy_and_hold]]
    return pd.concat([p for p in parts if len(p)], ignore_index=True)


CONTROL_COLUMNS = ("gate", "metric", "real", "random_mean", "random_median", "random_p05",
                   "random_p95", "percentile", "p_random", "n_random", "n_undefined",
                   "exposure")  # n_undefined: random gates without a value (no kept trade)


def _control_display(table: pd.DataFrame) -> pd.DataFrame:
    """Values as text: 4 significant digits, percentile with one decimal, exposure in %."""
    out = table.copy().astype(object)
    for col in ("real", "random_mean", "random_median", "random_p05", "random_p95"):
        out[col] = [f"{v:+.4g}" if pd.notna(v) else "–" for v in table[col]]
    out["percentile"] = [f"{v:.1f}" if pd.notna(v) else "–" for v in table["percentile"]]
    out["p_random"] = [f"{v:.3f}" if pd.notna(v) else "–" for v in table["p_random"]]
    out["exposure"] = [f"{100 * v:.1f}%" for v in table["exposure"]]
    out["n_random"] = table["n_random"].astype(str)
    out["n_undefined"] = table["n_undefined"].astype(str)
    return out


def _random_gate_control(args, root, config, runs, out, console) -> list[Path]:
    """The same-exposure random-gate control (:mod:`.random_gate`) of the gated run's gate
    and of the gate with each ``--confirm``, on the ungated run's trades."""
    from freqtrade.exchange import timeframe_to_seconds

    from ..core.gate import pair_class
    from ..settings import settings_from_config
    from .random_gate import ControlInput, gate_control

    t = time.monotonic()
    settings = settings_from_config(config)
    gated_name = next(iter(runs))
    gated, ungated = runs[gated_name], runs[UNGATED]
    timeframe = pd.Timedelta(seconds=timeframe_to_seconds(config["timeframe"]))
    grid = pd.date_range(ungated.start, ungated.end - timeframe, freq=timeframe)
    classes = {p: pair_class(p) for p in config["exchange"]["pair_whitelist"]}
    keys = [key for key in settings.enabled_confirmations if f"gated+{key}" in runs]
    confirmations = tuple(strategy_confirmation(settings, key) for key in keys)
    variants = {"gate": ()} | {f"gate+{c.key}": (c,) for c in confirmations}
    summaries, draws = [], []
    for label, confs in variants.items():
        masks = strategy_masks(settings, dict(gated.gate), grid, timeframe, confs)
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
    drawn = pd.concat(draws, ignore_index=True)
    written = write_outputs(out, {"compare_random_gates": table, "compare_random_draws": drawn},
                            md, "compare_random_gates.md")
    if not args.no_plots:
        from .plots import plot_random_gates

        written.append(plot_random_gates(
            drawn, table, "profit", out / "compare_random_gates.png",
            f"Summed trade return (profit) of {args.random_gates} same-exposure random gates "
            f"(seed {args.seed}) vs the real gate, on the ungated run's "
            f"{len(ungated.trades)} trades"))
    return written


def strategy_confirmation(settings, key: str):
    """Confirmation ``key`` exactly as the strategy sees it (:class:`adapter.confirm.
    Confirmation`: its series loaded offline, sessions every series has, its publication
    times, its configured rule, required or not) as an :class:`.alignment.ConfirmationSeries`
    whose staleness can be modelled."""
    from ..adapter.confirm import Confirmation
    from .alignment import ConfirmationSeries

    confirmation = Confirmation(settings, settings.confirmations[key])
    confirmation.load_offline()
    params = confirmation.conf.params
    is_open = pd.Series(confirmation.open(params), index=confirmation.sessions)
    shown = ", ".join(f"{f.name} {getattr(params, f.name)}" for f in fields(params))
    return ConfirmationSeries(
        key, is_open, confirmation.available_at,
        f"{'/'.join(confirmation.series)} ({shown}; "
        f"{'required' if confirmation.conf.required else 'optional'})",
        required=confirmation.conf.required,
        calendar_ns=confirmation.availability.times_ns(),
    )


def strategy_masks(settings, gate: dict, grid: pd.DatetimeIndex, timeframe: pd.Timedelta,
                   confirmations=()) -> dict:
    """The gate per pair class on ``grid`` as the strategy applies it in a backtest: the index
    as the strategy loads it, the russell parameters ``gate``, every confirmation in
    ``confirmations`` (:func:`strategy_confirmation`) and the stale policy with the staleness
    of every series (:class:`.alignment.StaleModel`)."""
    from ..adapter.provider import RegimeProvider
    from .alignment import StaleModel, class_gate_masks

    provider = RegimeProvider(settings)
    provider.load_offline()
    stale = StaleModel(settings.stale_policy, settings.stale_grace_minutes,
                       settings.availability.times_ns())
    return class_gate_masks(provider.daily, provider.available_at, gate, grid, timeframe,
                            confirmations, settings.price_basis, stale)


# --- multiple comparisons (SPA, StepM) and the run record -------------------------------------

GATE_VARIANT_PREFIX = "gated"
SPA_SHOWN = ("variant", "mean_diff_annual", "sharpe", "benchmark_sharpe",
             "beats_benchmark_stepm")


def _spa_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spa-reps", type=arg.int_in(0, arg.MAX_RESAMPLES), default=1000,
                   help="bootstrap replications of the multiple comparisons of the gate "
                   "variants vs ungated (Hansen's SPA, Romano-Wolf StepM at 5 %%), "
                   f"0..{arg.MAX_RESAMPLES} (0: none; default 1000)")
    p.add_argument("--spa-block", type=arg.int_in(1, arg.MAX_HORIZON_DAYS, "days"),
                   default=None,
                   help="mean block length in days of their stationary bootstrap, "
                   f"1..{arg.MAX_HORIZON_DAYS} (default: the cube root of the number of days, "
                   "rounded up, at least 5)")


def _check_spa_block(args: argparse.Namespace, start: pd.Timestamp, end: pd.Timestamp) -> None:
    """``--spa-block`` needs at least two blocks of days in the timerange."""
    days = (end - start).days
    if args.spa_reps > 0 and args.spa_block is not None and days < 2 * args.spa_block:
        raise ConfigError(f"--spa-block {args.spa_block}: the timerange {args.timerange} has "
                          f"{days} days, fewer than two blocks (allowed: 1..{days // 2})")


def gate_variants(names) -> list[str]:
    """The gate variants among compare's run names, in run order: the gated run (whatever
    its label) and each ``gated+<confirmation>``; never ungated or buy-and-hold (pure)."""
    return [n for n in names if n.startswith(GATE_VARIANT_PREFIX) and n not in
            (UNGATED, BUY_AND_HOLD)]


def _spa_display(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy().astype(object)
    out["mean_diff_annual"] = [f"{100 * v:+.1f}%" for v in table["mean_diff_annual"]]
    for col in ("sharpe", "benchmark_sharpe"):
        out[col] = [f"{v:.2f}" if pd.notna(v) else "–" for v in table[col]]
    out["beats_benchmark_stepm"] = [
        "yes" if beats else "no (identical)" if same else "no"
        for beats, same in zip(table["beats_benchmark_stepm"], table["identical_to_benchmark"],
                               strict=True)]
    return out


def _multiple_comparisons(args, curves, out, console) -> list[Path]:
    """SPA and StepM (:mod:`.superiority`) of the gate variants that ran against the ungated
    run, on their daily equity curves: printed, ``compare_spa.csv`` and ``compare_spa.md``."""
    t = time.monotonic()
    variants = gate_variants(curves)
    returns = common_returns(curves, variants)
    block = args.spa_block or default_block_size(len(returns))
    if len(returns) < 2 * block:
        console.print(f"warning: multiple comparisons not run: {len(returns)} days of returns "
                      f"are fewer than two blocks of {block} days")
        return []
    table = superiority(returns, UNGATED, variants, block, args.spa_reps, args.seed)
    title, verdict = superiority_title(table), superiority_verdict(table)
    shown = _spa_display(table)
    print_table(console, shown, title, SPA_SHOWN)
    console.print(verdict)
    console.print(f"multiple comparisons in {time.monotonic() - t:.1f} s")
    family = pd.DataFrame([{
        "test": "SPA",
        **{c: f"{table[c].iloc[0]:.3f}" for c in ("spa_p_consistent", "spa_p_lower",
                                                  "spa_p_upper")},
        **{c: str(int(table[c].iloc[0])) for c in ("n_variants", "n_days", "block_size", "reps",
                                                   "seed")}}])
    md = (f"# Multiple comparisons\n\n{title}\n\n{verdict}\n\n"
          + to_markdown(shown, SPA_SHOWN) + "\nThe family (SPA):\n\n"
          + to_markdown(family, list(family.columns)))
    return write_outputs(out, {"compare_spa": table}, md, "compare_spa.md")


def common_returns(curves, variants) -> pd.DataFrame:
    """Daily returns of the ungated run and ``variants`` on the days they all have (pure)."""
    from .superiority import daily_returns_table

    return daily_returns_table({name: curves[name] for name in [UNGATED, *variants]})


def run_record(args: argparse.Namespace, gated, pairs: list[str], config: dict,
               confirmations: dict, created: dt.datetime) -> dict[str, object]:
    """What redraws compare's gate without a backtest (``compare_run.json``): the strategy,
    timerange and the gated run's window ``[start, end)`` (ISO, UTC), pairs, timeframe, the
    freqtrade config file, the gated run's russell parameters and the price basis its gate
    reads (``price_basis``), the ``confirmations`` section used, the seed, random gates, SPA
    settings, when (UTC) and the package version (pure)."""
    from .. import __version__
    from ..settings import settings_from_config

    return {
        "strategy": gated.strategy,
        "timerange": args.timerange,
        "start": pd.Timestamp(gated.start).isoformat(),
        "end": pd.Timestamp(gated.end).isoformat(),
        "pairs": list(pairs),
        "timeframe": str(config["timeframe"]),
        "config": str(args.config),
        "gate": {k: _plain(v) for k, v in dict(gated.gate).items()},
        "price_basis": settings_from_config(config).price_basis,
        "confirmations": {k: {n: _plain(v) for n, v in spec.items()}
                          for k, spec in confirmations.items()},
        "seed": int(args.seed),
        "random_gates": int(args.random_gates),
        "spa_reps": int(args.spa_reps),
        "spa_block": args.spa_block,
        "created": created.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "russell_regime_version": __version__,
    }


def _plain(value: object) -> object:
    """A numpy scalar as its Python value (JSON has no numpy types)."""
    return value.item() if hasattr(value, "item") else value


def _write_run_record(path: Path, record: dict[str, object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path
