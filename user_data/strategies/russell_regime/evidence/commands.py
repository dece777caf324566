"""CLI commands ``events``, ``event-study`` and ``compare`` (imperative edge, thin).

Register them with ``add_evidence_commands(subparsers)``; each sets ``func(args) -> int``.
Each command parses its options, loads files, calls the pure analysis (:mod:`.events`,
:mod:`.study`, :mod:`.compare`, :mod:`.multitest`) and writes and prints the result. Data
come from ``--data`` (default ``$R2K_SHARED_DATA`` or ``../shared/data`` beside the repo):
``index/RUT.csv`` (and ``index/SPX.csv`` for the placebo) and ``binance/*-1h.feather``.
Outputs go to ``--out`` (default ``user_data/evidence/``). Nothing touches the network.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..adapter.offline import REPO_ROOT
from ..config_file import caller_path
from ..core.calendar import DEFAULT_PUBLICATION_LAG_MINUTES, Availability
from ..core.gate import GateParams
from ..data.sources import read_daily_file
from ..errors import ConfigError, RegimeError
from .alignment import ConfirmationSeries, confirmed_events
from .compare import (
    COMPARE_COLUMNS,
    GATED_DEFAULTS,
    GATED_OWN,
    UNGATED,
    evaluate_runs,
    gate_note,
    gated_label,
    parse_timerange,
)
from .events import DEFAULT_GAP, ath_events, event_list, russell_events
from .multitest import survival_summary
from .report import StudySettings, print_table, to_markdown, write_outputs
from .study import BASKET, StudyInput, StudyResult, average_paths, run_study

__all__ = [
    "COMPARE_COLUMNS", "GATED_DEFAULTS", "GATED_OWN", "UNGATED", "add_evidence_commands",
    "default_data_dir", "evaluate_runs", "gate_note", "gated_label", "main", "parse_timerange",
]

DEFAULT_OUT = REPO_ROOT / "user_data" / "evidence"
DEFAULT_PAIRS = ("BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "BNB", "LINK", "AVAX", "LTC")
DEFAULT_TIMERANGE = "20180101-20250701"
STRATEGY = "RussellRiskOn"
STRATEGIES = REPO_ROOT / "user_data" / "strategies"
DEFAULT_CONFIRM = ("vix", "lead", "value")
VIX_CLOSE_OFFSET = 15  # the VIX closes at 16:15 New York, 15 minutes after the NYSE


def default_data_dir() -> Path:
    """``$R2K_SHARED_DATA`` or ``<repo>/../shared/data``."""
    return Path(os.environ.get("R2K_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data")


def add_evidence_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``events``, ``event-study`` and ``compare`` to the CLI's subparsers."""
    _add_events(subparsers)
    _add_event_study(subparsers)
    _add_compare(subparsers)


# --- shared options --------------------------------------------------------------------------


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", type=Path, default=None,
        help="shared data folder with index/ and binance/ (default $R2K_SHARED_DATA or "
        "../shared/data beside the repo)",
    )


def _threshold_options(parser: argparse.ArgumentParser) -> None:
    d = GateParams()
    parser.add_argument("--lookback", type=int, nargs="+", default=[252, 756],
                        help="resistance lookbacks in sessions (default 252 756)")
    parser.add_argument("--margin", type=float, default=d.margin, help="breakout margin")
    parser.add_argument("--tolerance", type=float, default=d.tolerance, help="retest tolerance")
    parser.add_argument("--window", type=int, default=d.window, help="retest window, sessions")
    parser.add_argument("--expiry", type=int, default=d.expiry, help="support expiry, sessions")
    parser.add_argument("--basis", choices=("close", "high"), default=d.basis)
    parser.add_argument("--gap", type=int, default=DEFAULT_GAP,
                        help="de-clustering: an event within GAP sessions of the previous one "
                        f"is the same episode (default {DEFAULT_GAP})")
    parser.add_argument("--lag", type=float, default=DEFAULT_PUBLICATION_LAG_MINUTES,
                        help="publication lag after the NYSE close, minutes")
    parser.add_argument("--ticker-file", default="index/RUT.csv",
                        help="index file inside --data (default index/RUT.csv)")


def _confirmation_options(parser: argparse.ArgumentParser) -> None:
    from ..core.confirmations import (
        LEAD_RULES,
        VALUE_RULES,
        VIX_RULES,
        FlowsParams,
        LeadParams,
        ValueParams,
        VixParams,
    )

    vix, lead, value, flows = VixParams(), LeadParams(), ValueParams(), FlowsParams()
    parser.add_argument(
        "--confirm", nargs="*", choices=("vix", "lead", "value", "flows"),
        default=list(DEFAULT_CONFIRM),
        help="confirmations measured as <kind>+<key> (default: vix lead value; flows needs "
        "--flows-file: the shared data hold no ETF flows history); none: --confirm")
    parser.add_argument("--vix-rule", choices=VIX_RULES, default=vix.rule)
    parser.add_argument("--vix-level", type=float, default=vix.level)
    parser.add_argument("--vix-window", type=int, default=vix.window)
    parser.add_argument("--lead-rule", choices=LEAD_RULES, default=lead.rule,
                        help="small caps leading: RUT/SPX ratio rule")
    parser.add_argument("--lead-window", type=int, default=lead.window)
    parser.add_argument("--value-rule", choices=VALUE_RULES, default=value.rule,
                        help="value vs core: IWN near its high, or the IWN/IWM ratio")
    parser.add_argument("--value-tolerance", type=float, default=value.tolerance)
    parser.add_argument("--value-window", type=int, default=value.window)
    parser.add_argument("--flows-file", type=Path, default=None,
                        help="daily flows CSV (date,flow; one row per NYSE session) for "
                        "--confirm flows")
    parser.add_argument("--flows-window", type=int, default=flows.window)
    parser.add_argument("--flows-threshold", type=float, default=flows.threshold)


def _confirmations(
    args: argparse.Namespace, root: Path, lag: float | None = None
) -> tuple[ConfirmationSeries, ...]:
    """Load and evaluate each ``--confirm`` series from ``<data>/index`` (or --flows-file)."""
    from ..core import confirmations as cf

    lag = args.lag if lag is None else lag
    out = []
    try:
        for key in dict.fromkeys(args.confirm or ()):
            if key == "vix":
                params = cf.VixParams(args.vix_rule, args.vix_level, args.vix_window)
                is_open = cf.vix_open(_read_index(root, "VIX", "^VIX"), params)
                avail = Availability(lag_minutes=lag, close_offset_minutes=VIX_CLOSE_OFFSET)
                note = f"^VIX {params.rule} (level {params.level:g}, window {params.window})"
            elif key == "lead":
                params = cf.LeadParams(args.lead_rule, args.lead_window)
                is_open = cf.lead_open(_read_index(root, "RUT", "^RUT"),
                                       _read_index(root, "SPX", "^SPX"), params)
                avail = Availability(lag_minutes=lag)
                note = f"^RUT/^SPX {params.rule} (window {params.window})"
            elif key == "value":
                params = cf.ValueParams(args.value_rule, args.value_tolerance, args.value_window)
                core = None if params.rule == "high" else _read_index(root, "IWM", "IWM")
                is_open = cf.value_open(_read_index(root, "IWN", "IWN"), core, params)
                avail = Availability(lag_minutes=lag)
                note = (f"IWN {params.rule} (tolerance {params.tolerance:g}, window "
                        f"{params.window})" + ("" if core is None else " vs IWM"))
            else:
                if args.flows_file is None:
                    raise ConfigError("--confirm flows needs --flows-file (date,flow CSV): the "
                                      "shared data hold no ETF flows or shares-outstanding "
                                      "history, and none is made up")
                params = cf.FlowsParams(args.flows_window, args.flows_threshold)
                path = caller_path(args.flows_file)
                flows = cf.validate_flows(pd.read_csv(path), "flows", "XNYS")
                is_open = cf.flows_open(flows, params)
                avail = Availability(lag_minutes=lag)
                note = f"flows {path.name} (window {params.window}, > {params.threshold:g})"
            out.append(ConfirmationSeries(key, is_open, avail.available_at(is_open.index), note))
    except ValueError as exc:  # a bad rule parameter: one line naming it
        raise ConfigError(str(exc)) from exc
    return tuple(out)


def _read_index(root: Path, name: str, ticker: str) -> pd.DataFrame:
    return read_daily_file(root / "index" / f"{name}.csv", ticker)


def _params(args: argparse.Namespace) -> GateParams:
    return GateParams(margin=args.margin, tolerance=args.tolerance, window=args.window,
                      expiry=args.expiry, basis=args.basis)


def _data_dir(args: argparse.Namespace) -> Path:
    root = Path(args.data) if args.data else default_data_dir()
    if not (root / "index").is_dir() or not (root / "binance").is_dir():
        raise ConfigError(f"no shared data at {root} (expected index/ and binance/); use --data")
    return root


def _load_index(root: Path, relative: str, ticker: str, availability: Availability):
    daily = read_daily_file(root / relative, ticker)
    return daily, availability.available_at(daily["session"])


def _console() -> Console:
    return Console(soft_wrap=False, highlight=False, width=200)


# --- events ----------------------------------------------------------------------------------


def _add_events(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "events", help="list Russell events (new ATH, breakout, retest)",
        description="De-clustered Russell 2000 events with session date and availability time "
        "(UTC instant from which a strategy may act on them).",
    )
    _data_options(p)
    _threshold_options(p)
    _confirmation_options(p)
    p.add_argument("--since", default="2017-01-01",
                   help="first session to list (default 2017-01-01; 'all' for every session)")
    p.add_argument("--until", default=None, help="last session to list")
    p.add_argument("--raw", action="store_true", help="every raw event, no de-clustering")
    p.add_argument("--csv", type=Path, default=None, help="also write the list to this CSV")
    p.set_defaults(func=_run_events)


def _run_events(args: argparse.Namespace) -> int:
    root = _data_dir(args)
    daily, avail = _load_index(root, args.ticker_file, "^RUT", Availability(lag_minutes=args.lag))
    since = None if not args.since or args.since == "all" else pd.Timestamp(args.since)
    until = pd.Timestamp(args.until) if args.until else None
    events = event_list(daily, avail, args.lookback, _params(args), args.gap, args.raw, since,
                        until)
    confirmations = _confirmations(args, root)
    if confirmations:  # entry: the first 1h candle open at or after the event's availability
        entry = pd.DatetimeIndex(events["available_at"]).ceil("h")
        events = pd.concat([events, confirmed_events(events, entry, confirmations)],
                           ignore_index=True).sort_values(["session", "kind"], kind="stable")
        events = events.reset_index(drop=True)
    shown = events.assign(
        session=pd.DatetimeIndex(events["session"]).strftime("%Y-%m-%d"),
        available_at=pd.DatetimeIndex(events["available_at"]).strftime("%Y-%m-%d %H:%M UTC"),
        last_session=pd.DatetimeIndex(events["last_session"]).strftime("%Y-%m-%d"),
        close=events["close"].round(2), level=events["level"].round(2),
    )
    cols = ["session", "kind", "available_at", "close", "level", "last_session", "n_raw"]
    console = _console()
    title = (f"Russell 2000 events ({'raw' if args.raw else f'de-clustered, gap {args.gap}'}; "
             f"lookbacks {' '.join(map(str, args.lookback))}; margin {args.margin}, "
             f"tolerance {args.tolerance}, window {args.window}, basis {args.basis})")
    print_table(console, shown.astype({"close": str, "level": str, "n_raw": str}), title, cols)
    counts = events.groupby("kind").size()
    console.print("counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for conf in confirmations:
        console.print(f"+{conf.key}: {conf.note}, open at the entry candle")
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        events.to_csv(args.csv, index=False)
        console.print(f"wrote {args.csv}")
    return 0


# --- event study -----------------------------------------------------------------------------


def _add_event_study(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "event-study", help="forward crypto returns after Russell events vs the base rate",
        description="Forward returns (and max gain / max drawdown) of BTC, ETH, each altcoin and "
        "an equal-weight altcoin basket after each Russell event kind, against every session "
        "start in the same period; block-bootstrap CI of the difference, random-date and "
        "S&P 500 ATH placebos, Benjamini-Hochberg adjusted p-values. Entry = open of the first "
        "1h candle opening at or after the event's availability time.",
    )
    _data_options(p)
    _threshold_options(p)
    _confirmation_options(p)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    p.add_argument("--pairs", nargs="+", default=list(DEFAULT_PAIRS), help="base currencies")
    p.add_argument("--horizons", type=int, nargs="+", default=[7, 30, 90, 180, 365],
                   help="horizons in days")
    p.add_argument("--start", default=None, help="first start time considered (UTC date)")
    p.add_argument("--end", default=None, help="last start time considered (UTC date)")
    p.add_argument("--seed", type=int, default=7, help="seed of every random draw")
    p.add_argument("--reps", type=int, default=2000, help="bootstrap replicates")
    p.add_argument("--draws", type=int, default=5000, help="random-date placebo draws")
    p.add_argument("--level", type=float, default=0.90, help="confidence level of the CI")
    p.add_argument("--block", type=int, default=None,
                   help="bootstrap block length in sessions (default: the horizon in sessions)")
    p.add_argument("--at", nargs="*", default=[],
                   help="also report the forward returns after these sessions (YYYY-MM-DD)")
    p.add_argument("--no-spx", action="store_true", help="skip the S&P 500 ATH placebo")
    p.add_argument("--no-plots", action="store_true", help="no PNG plots")
    p.add_argument("--no-progress", action="store_true", help="no progress display")
    p.set_defaults(func=_run_event_study)


def _progress(enabled: bool, console: Console) -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
        TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
        console=console, disable=not enabled, transient=True,
    )


def _run_event_study(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    root = _data_dir(args)
    console = _console()
    settings = StudySettings(tuple(args.horizons), args.seed, args.reps, args.draws, args.level,
                             args.block)
    availability = Availability(lag_minutes=args.lag)
    daily, avail = _load_index(root, args.ticker_file, "^RUT", availability)
    events = russell_events(daily, avail, args.lookback, _params(args), args.gap)
    if not args.no_spx:
        spx, spx_avail = _load_index(root, "index/SPX.csv", "^SPX", availability)
        events = pd.concat([events, ath_events(spx, spx_avail, "spx_ath", args.gap, args.basis)],
                           ignore_index=True)
    candles = {p: _read_candles(root, p) for p in args.pairs}
    inp = StudyInput(
        daily=daily, available_at=avail, events=events, candles=candles, settings=settings,
        start=pd.Timestamp(args.start, tz="UTC") if args.start else None,
        end=pd.Timestamp(args.end, tz="UTC") if args.end else None,
        at=tuple(args.at), paths=not args.no_plots,
        confirmations=_confirmations(args, root),
    )
    with _progress(not args.no_progress, console) as progress:
        task = progress.add_task("forward returns", total=len(args.pairs) + 1)
        result = run_study(inp, lambda _asset: progress.advance(task))

    out = Path(args.out)
    events_out = result.events.drop(columns=["position"]).assign(
        first_candle=result.grid.times(result.events["slot"].to_numpy("int64"))
    )
    tables = {"study": result.table, "events": events_out, "event_returns": result.detail}
    if len(result.at_detail):
        tables["at_dates"] = result.at_detail
    written = write_outputs(out, tables, _study_markdown(result, args), "event_study.md")
    if not args.no_plots:
        written += _study_plots(out, result, daily, candles, args)
    _print_study(console, result, settings)
    console.print(f"events outside the measured period (not measured): {len(result.outside)}; "
                  f"random placebo: {result.n_random} dates (seed {args.seed})")
    for conf in inp.confirmations:
        console.print(f"+{conf.key}: {conf.note}")
    console.print(survival_summary(result.table))
    console.print("wrote " + ", ".join(str(p) for p in written))
    console.print(f"event-study done in {time.monotonic() - t0:.1f} s")
    return 0


def _read_candles(root: Path, base: str) -> pd.DataFrame:
    path = root / "binance" / f"{base}_USDT-1h.feather"
    if not path.is_file():
        raise ConfigError(f"no 1h candles for {base}: {path}")
    return pd.read_feather(path)


STUDY_COLUMNS = ("kind", "horizon_days", "n_events", "n_past_end", "mean", "median", "hit",
                 "max_gain", "max_dd", "base_mean", "base_median", "base_hit", "diff", "ci_low",
                 "ci_high", "p_placebo", "p_bh")
AT_COLUMNS = ["session", "asset", "entry_time", "horizon_days", "status", "ret", "max_gain",
              "max_dd"]


def _print_study(console: Console, result: StudyResult, settings: StudySettings) -> None:
    table, at_detail = result.table, result.at_detail
    for asset in ("BTC", "ETH", BASKET):
        part = table[table["asset"] == asset]
        if len(part):
            print_table(console, part, f"{asset}: forward returns after events vs base rate "
                        f"(CI {settings.level:.0%} block bootstrap of diff)", STUDY_COLUMNS)
    if len(at_detail):
        part = at_detail[at_detail["asset"].isin(["BTC", "ETH", BASKET])]
        print_table(console, part.assign(session=part["session"].astype(str),
                                         entry_time=part["entry_time"].astype(str)),
                    "Forward returns after selected sessions", AT_COLUMNS)


def _study_markdown(result: StudyResult, args: argparse.Namespace) -> str:
    table, at_detail, events = result.table, result.at_detail, result.events
    lines = [
        "# Event study\n",
        f"Data: {args.ticker_file} and Binance 1h {', '.join(args.pairs)} "
        "(shared data folder, read-only). "
        f"Starts from {result.first_start:%Y-%m-%d} to {result.last_start:%Y-%m-%d} "
        f"({result.base_slots.size} sessions). "
        f"Thresholds: lookbacks {args.lookback}, margin {args.margin}, tolerance {args.tolerance},"
        f" window {args.window}, expiry {args.expiry}, basis {args.basis}; de-clustering gap "
        f"{args.gap} sessions; publication lag {args.lag:g} min. Seed {args.seed}, "
        f"{args.reps} bootstrap replicates, {args.draws} placebo draws, CI level {args.level}.\n",
        f"Events outside the measured period (index history before the crypto data, or "
        f"outside --start/--end): {len(result.outside)}.\n",
        survival_summary(table) + " (`p_bh`: Benjamini-Hochberg adjusted `p_placebo` within "
        "its family; the placebo kinds form their own family).\n",
    ]
    for asset in table["asset"].unique():
        lines.append(f"\n## {asset}\n")
        lines.append(to_markdown(table[table["asset"] == asset], STUDY_COLUMNS))
    if len(at_detail):
        lines.append("\n## Selected sessions\n")
        lines.append(to_markdown(
            at_detail.assign(entry_time=at_detail["entry_time"].astype(str)), AT_COLUMNS,
        ))
    lines.append("\n## Events measured\n")
    ev = events.assign(session=pd.DatetimeIndex(events["session"]).strftime("%Y-%m-%d"),
                       available_at=pd.DatetimeIndex(events["available_at"]).strftime(
                           "%Y-%m-%d %H:%M"))
    lines.append(to_markdown(ev, ["kind", "session", "available_at"]))
    return "\n".join(lines)


def _study_plots(out: Path, result: StudyResult, daily, candles, args) -> list[Path]:
    import numpy as np

    from .plots import plot_average_paths, plot_index_events

    written = []
    first = next(iter(result.paths.values()), None)
    days = np.arange(first.shape[1]) if first is not None else np.arange(0)
    for asset, (per_kind, centre, band) in average_paths(result).items():
        for stat, suffix in (("mean", ""), ("median", "_median")):
            written.append(plot_average_paths(
                days, per_kind, centre[stat], asset, out / f"paths_{asset}{suffix}.png", band,
                stat,
            ))
    btc = candles.get("BTC")
    if btc is not None:
        close = pd.Series(btc["close"].to_numpy(), index=pd.DatetimeIndex(btc["date"]))
        close = close.resample("1D").last()
        rut = daily.set_index("session")["close"]
        rut = rut[rut.index >= close.index[0].tz_localize(None) - pd.Timedelta(days=200)]
        marked = result.events[result.events["kind"] != "random"]
        written.append(plot_index_events(
            rut, marked, close, out / "index_events.png",
            f"Russell 2000 events (gap {args.gap}, lookbacks {args.lookback}) and BTC",
        ))
    return written


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
    _data_options(p)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    p.add_argument("--timerange", default=DEFAULT_TIMERANGE,
                   help=f"YYYYMMDD-YYYYMMDD (default {DEFAULT_TIMERANGE})")
    p.add_argument("--pairs", nargs="+", default=None,
                   help="base currencies (default: config.json's whitelist)")
    p.add_argument("--strategy", default=STRATEGY,
                   help=f"a strategy using RussellGateMixin (default {STRATEGY})")
    p.add_argument("--strategy-path", type=Path, default=STRATEGIES,
                   help="folder freqtrade searches for --strategy first (default: the repo's "
                   "user_data/strategies); relative to the caller's folder")
    p.add_argument("--walk-forward", action="store_true", help="walk-forward hyperopt mode")
    p.add_argument("--train-months", type=int, default=12)
    p.add_argument("--test-months", type=int, default=6)
    p.add_argument("--epochs", type=int, default=30, help="hyperopt epochs per window")
    p.add_argument("--loss", default="SharpeHyperOptLoss", help="hyperopt loss class")
    p.add_argument("--seed", type=int, default=7,
                   help="hyperopt random state (window i: +i) and random-gate seed")
    p.add_argument("--random-gates", type=int, default=500,
                   help="same-exposure random gates of the control (0: no control; default 500)")
    _confirmation_options(p)
    p.add_argument("--no-plots", action="store_true", help="no PNG plot")
    p.add_argument("--no-progress", action="store_true", help="no progress display")
    p.set_defaults(func=_run_compare)


def _run_compare(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    root = _data_dir(args)
    console = _console()
    args.strategy_path = caller_path(args.strategy_path)
    pairs = [f"{b}/USDT" for b in args.pairs] if args.pairs else _config_pairs()
    start, end = parse_timerange(args.timerange)
    out = Path(args.out)
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


def _config_pairs() -> list[str]:
    from .backtest import CONFIG

    config = json.loads(Path(CONFIG).read_text(encoding="utf-8"))
    return list(config["exchange"]["pair_whitelist"])


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

    _confirmations(args, root, DEFAULT_PUBLICATION_LAG_MINUTES)  # bad --confirm: fail first
    section = _confirmation_section(args, root)
    config = ft_config(root, work / "ft", timerange(start, end), pairs,
                       strategy=args.strategy, strategy_path=args.strategy_path,
                       regime={"confirmations": section} if section else None)
    off = {f"{key}_mode": "off" for key in section}
    # (name, params, as loaded): the gate without confirmations, every class off, then the
    # gate with each confirmation alone (its rule from the settings, the others off)
    variants = [("gated", off, True), (UNGATED, {**GATE_OFF, **off}, False)]
    variants += [(f"gated+{key}", {k: v for k, v in off.items() if k != f"{key}_mode"}, False)
                 for key in section]
    runs = {}
    with _progress(not args.no_progress, console) as progress:
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
    trades = pd.concat([r.trades.assign(run=n) for n, r in runs.items()], ignore_index=True)
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
    confirmations = _confirmations(args, root, settings.publication_lag_minutes)
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
    with _progress(not args.no_progress, console) as progress:
        task = progress.add_task("walk-forward windows", total=len(windows))
        for i, (train_start, test_start, test_end) in enumerate(windows):
            label = f"{test_start:%Y-%m-%d}..{test_end:%Y-%m-%d}"
            progress.update(task, description=f"window {i + 1}/{len(windows)}: hyperopt "
                            f"{train_start:%Y-%m}..{test_start:%Y-%m}")
            t = time.monotonic()
            params, loss = run_hyperopt(
                root, work / f"hyperopt_{i}", timerange(train_start, test_start), args.epochs,
                args.seed + i, pairs, args.loss, log=out / f"walk_forward_hyperopt_{i}.log",
                strategy=args.strategy, strategy_path=args.strategy_path,
            )
            t_hyper = time.monotonic() - t
            progress.update(task, description=f"window {i + 1}/{len(windows)}: test {label}")
            config = ft_config(root, work / f"test_{i}", timerange(test_start, test_end), pairs,
                               strategy=args.strategy, strategy_path=args.strategy_path)
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


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry (``python -m russell_regime.evidence.commands <command> ...``)."""
    import sys

    parser = argparse.ArgumentParser(prog="russell_regime evidence")
    add_evidence_commands(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except RegimeError as exc:
        print(f"russell_regime {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
