"""The ``events`` and ``event-study`` commands (imperative edge): options, loading, the pure
event study (:mod:`.events`, :mod:`.study`), then tables, markdown, plots and printing."""

from __future__ import annotations

import argparse
import errno
import os
import time
from pathlib import Path

import pandas as pd
from rich.console import Console

from .. import arguments as arg
from ..config_file import caller_path
from ..core.calendar import Availability
from . import cli_common as common
from .alignment import confirmed_events
from .cli_common import DEFAULT_OUT
from .events import ath_events, event_list, russell_events
from .multitest import survival_summary
from .report import StudySettings, print_table, to_markdown, write_outputs
from .study import BASKET, StudyInput, StudyResult, average_paths, run_study

DEFAULT_PAIRS = ("BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "BNB", "LINK", "AVAX", "LTC")


def add_events_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``events`` and ``event-study``."""
    _add_events(subparsers)
    _add_event_study(subparsers)


# --- events ----------------------------------------------------------------------------------


def _add_events(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "events", help="list Russell events (new ATH, breakout, retest)",
        description="De-clustered Russell 2000 events with session date and availability time "
        "(UTC instant from which a strategy may act on them).",
    )
    common.data_options(p)
    common.threshold_options(p)
    common.confirmation_options(p)
    p.add_argument("--since", type=arg.iso_date_or_all, default="2017-01-01",
                   help="first session to list, YYYY-MM-DD (default 2017-01-01; 'all' for "
                   "every session)")
    p.add_argument("--until", type=arg.iso_date, default=None,
                   help="last session to list, YYYY-MM-DD, not before --since")
    p.add_argument("--raw", action="store_true", help="every raw event, no de-clustering")
    p.add_argument("--csv", type=arg.output_file, default=None,
                   help="also write the list to this CSV")
    p.set_defaults(func=_run_events)
    arg.add_check(p, arg.ordered("--since", "--until", strict=False))


def _run_events(args: argparse.Namespace) -> int:
    root = common.data_dir(args)
    availability = Availability(lag_minutes=args.lag)
    daily, avail = common.load_index(root, args.ticker_file, "^RUT", availability)
    since = None if not args.since or args.since == "all" else pd.Timestamp(args.since)
    until = pd.Timestamp(args.until) if args.until else None
    events = event_list(daily, avail, args.lookback, common.gate_params_of(args), args.gap,
                        args.raw, since, until)
    confirmations = common.load_confirmations(args, root)
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
    console = common.make_console()
    title = (f"Russell 2000 events ({'raw' if args.raw else f'de-clustered, gap {args.gap}'}; "
             f"lookbacks {' '.join(map(str, args.lookback))}; margin {args.margin}, "
             f"tolerance {args.tolerance}, window {args.window}, basis {args.basis})")
    print_table(console, shown.astype({"close": str, "level": str, "n_raw": str}), title, cols)
    counts = events.groupby("kind").size()
    console.print("counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if not len(events):
        console.print(_no_events_line(daily, since, until, args.ticker_file))
    for conf in confirmations:
        console.print(f"+{conf.key}: {conf.note}, open at the entry candle")
    if args.csv:
        path = caller_path(args.csv)
        if path.parent.exists() and not path.parent.is_dir():  # mkdir says "File exists"
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path.parent))
        path.parent.mkdir(parents=True, exist_ok=True)
        events.to_csv(path, index=False)
        console.print(f"wrote {path}")
    return 0


def _no_events_line(daily: pd.DataFrame, since: pd.Timestamp | None,
                    until: pd.Timestamp | None, ticker_file: str) -> str:
    """One line saying why the event list is empty: the period against the file's sessions."""
    first, last = pd.Timestamp(daily["session"].iloc[0]), pd.Timestamp(daily["session"].iloc[-1])
    period = (f"{'the first session' if since is None else f'{since:%Y-%m-%d}'}.."
              f"{'the last session' if until is None else f'{until:%Y-%m-%d}'}")
    span = f"{ticker_file} holds sessions {first:%Y-%m-%d}..{last:%Y-%m-%d}"
    if (since is not None and since > last) or (until is not None and until < first):
        return f"no events: {period} lies outside the index data ({span})"
    return f"no events in {period} with these thresholds ({span})"


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
    common.data_options(p)
    common.threshold_options(p)
    common.confirmation_options(p)
    p.add_argument("--out", type=arg.folder, default=DEFAULT_OUT, help="output folder")
    p.add_argument("--pairs", nargs="+", default=list(DEFAULT_PAIRS), help="base currencies")
    p.add_argument("--horizons", type=arg.int_in(1, arg.MAX_HORIZON_DAYS, "a whole number of "
                   "days"), nargs="+", default=[7, 30, 90, 180, 365],
                   help=f"horizons in days, 1..{arg.MAX_HORIZON_DAYS}")
    p.add_argument("--start", type=arg.iso_date, default=None,
                   help="first start time considered (UTC date YYYY-MM-DD)")
    p.add_argument("--end", type=arg.iso_date, default=None,
                   help="last start time considered (UTC date YYYY-MM-DD, after --start)")
    p.add_argument("--seed", type=arg.int_in(0, arg.MAX_SEED), default=7,
                   help=f"seed of every random draw, 0..{arg.MAX_SEED}")
    p.add_argument("--reps", type=arg.int_in(1, arg.MAX_RESAMPLES), default=2000,
                   help=f"bootstrap replicates, 1..{arg.MAX_RESAMPLES}")
    p.add_argument("--draws", type=arg.int_in(1, arg.MAX_RESAMPLES), default=5000,
                   help=f"random-date placebo draws, 1..{arg.MAX_RESAMPLES}")
    p.add_argument("--level", type=arg.float_in(0, 1, low_open=True, high_open=True),
                   default=0.90, help="confidence level of the CI, between 0 and 1")
    p.add_argument("--block", type=arg.int_in(1, arg.MAX_SESSIONS, "a whole number of "
                   "sessions"), default=None,
                   help=f"bootstrap block length in sessions, 1..{arg.MAX_SESSIONS} "
                   "(default: the horizon in sessions)")
    p.add_argument("--at", type=arg.iso_date, nargs="*", default=[],
                   help="also report the forward returns after these sessions (YYYY-MM-DD)")
    p.add_argument("--no-spx", action="store_true", help="skip the S&P 500 ATH placebo")
    p.add_argument("--no-plots", action="store_true", help="no PNG plots")
    p.add_argument("--no-progress", action="store_true", help="no progress display")
    p.set_defaults(func=_run_event_study)
    arg.add_check(p, arg.ordered("--start", "--end"))


def _run_event_study(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    root = common.data_dir(args)
    console = common.make_console()
    settings = StudySettings(tuple(args.horizons), args.seed, args.reps, args.draws, args.level,
                             args.block)
    availability = Availability(lag_minutes=args.lag)
    daily, avail = common.load_index(root, args.ticker_file, "^RUT", availability)
    events = russell_events(daily, avail, args.lookback, common.gate_params_of(args), args.gap)
    if not args.no_spx:
        spx, spx_avail = common.load_index(root, "index/SPX.csv", "^SPX", availability)
        events = pd.concat([events, ath_events(spx, spx_avail, "spx_ath", args.gap, args.basis)],
                           ignore_index=True)
    candles = {p: common.read_candles(root, p) for p in args.pairs}
    inp = StudyInput(
        daily=daily, available_at=avail, events=events, candles=candles, settings=settings,
        start=pd.Timestamp(args.start, tz="UTC") if args.start else None,
        end=pd.Timestamp(args.end, tz="UTC") if args.end else None,
        at=tuple(args.at), paths=not args.no_plots,
        confirmations=common.load_confirmations(args, root),
    )
    with common.progress_display(not args.no_progress, console) as progress:
        task = progress.add_task("forward returns", total=len(args.pairs) + 1)
        result = run_study(inp, lambda _asset: progress.advance(task))

    out = caller_path(Path(args.out))
    events_out = result.events.drop(columns=["position"]).assign(
        first_candle=result.grid.times(result.events["slot"].to_numpy("int64"))
    )
    tables = {"study": result.table, "events": events_out, "event_returns": result.detail}
    if len(result.at_detail):
        tables["at_dates"] = result.at_detail
    written = write_outputs(out, tables, _study_markdown(result, args), "event_study.md")
    if not args.no_plots:
        written += _study_plots(out, result, daily, candles, args, avail)
    _print_study(console, result, settings)
    console.print(f"events outside the measured period (not measured): {len(result.outside)}; "
                  f"random placebo: {result.n_random} dates (seed {args.seed})")
    for conf in inp.confirmations:
        console.print(f"+{conf.key}: {conf.note}")
    console.print(survival_summary(result.table))
    console.print("wrote " + ", ".join(str(p) for p in written))
    console.print(f"event-study done in {time.monotonic() - t0:.1f} s")
    return 0


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


def _study_plots(out: Path, result: StudyResult, daily, candles, args,
                 avail: pd.DatetimeIndex) -> list[Path]:
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
        kinds = result.events["kind"]
        marked = result.events[(kinds != "random") & ~kinds.str.contains("+", regex=False)]
        written.append(plot_index_events(
            rut, marked, close, out / "index_events.png",
            f"Russell 2000 events (gap {args.gap}, lookbacks {args.lookback}) and BTC",
        ))
        written.append(_gate_plot(out / "index_gate_btc.png", daily, avail, close, args))
    return written


def _gate_plot(path: Path, daily: pd.DataFrame, avail: pd.DatetimeIndex, btc: pd.Series,
               args: argparse.Namespace) -> Path:
    """BTC/USDT under the btc class's gate (the thresholds of the command line, otherwise the
    strategy's defaults) with the ``--at`` sessions marked."""
    from .alignment import gate_timeline, open_spells
    from .events import describe_sessions
    from .plots import plot_gate_over_btc

    params = common.gate_params_of(args)
    timeline = gate_timeline(daily, avail, params)
    first, last = btc.index[0], btc.index[-1] + pd.Timedelta(days=1)
    shown = timeline[(timeline["available_at"] >= first - pd.Timedelta(days=7))
                     & (timeline["available_at"] < last)].reset_index(drop=True)
    spells = open_spells(shown["available_at"], shown["gate_open"].to_numpy(), last)
    by_session = pd.Series(avail, index=pd.DatetimeIndex(daily["session"]).normalize())
    labels = describe_sessions(daily, args.at, args.lookback, params)
    marks = [(by_session[day], text) for day, text in labels.items() if day in by_session.index]
    share = float(shown["gate_open"].mean()) if len(shown) else float("nan")
    title = (f"BTC/USDT and the btc gate: open on {share:.0%} of the sessions shown\n"
             f"(mode {params.mode}, lookback {params.lookback}, "
             f"ath_fresh {params.ath_fresh}, max_drawdown {params.max_drawdown:g}, tolerance "
             f"{params.tolerance:g}, window {params.window}, expiry {params.expiry}, basis "
             f"{params.basis}; the Russell 2000 below)")
    return plot_gate_over_btc(btc, shown, spells, marks, path, title)
