"""Shared pieces of the evidence commands (imperative edge): data folder, common options,
loading the index, candles and confirmation series, console and progress display."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Collection, Sequence
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from .. import arguments as arg
from ..config_file import caller_path
from ..core.calendar import DEFAULT_CALENDAR, DEFAULT_PUBLICATION_LAG_MINUTES, Availability
from ..core.daily import stray_note
from ..core.gate import GateParams
from ..data.candles import candle_file
from ..data.sources import read_daily_sessions
from ..errors import ConfigError, DataValidationError, SourceError
from .alignment import ConfirmationSeries
from .events import DEFAULT_GAP

DEFAULT_OUT = Path("user_data") / "evidence"  # relative to the caller's folder
DEFAULT_CONFIRM = ("vix", "lead", "value")
VIX_CLOSE_OFFSET = 15  # the VIX closes at 16:15 New York, 15 minutes after the NYSE
# the lead confirmation's default ``versus`` (Yahoo's S&P 500 ticker); the shared data's
# index/SPX.csv is that series (Yahoo ^SPX, the same index)
LEAD_VERSUS = "^GSPC"


def default_data_dir() -> Path:
    """``$R2K_SHARED_DATA``, else ``../shared/data`` from the caller's folder (where the
    shared data lie beside a clone of this repo)."""
    return caller_path(Path(os.environ.get("R2K_SHARED_DATA") or "../shared/data"))


# --- shared options --------------------------------------------------------------------------


def data_options(parser: argparse.ArgumentParser) -> None:
    """``--data``."""
    parser.add_argument(
        "--data", type=arg.existing_folder, default=None,
        help="shared data folder with index/ and binance/ (default $R2K_SHARED_DATA, else "
        "../shared/data from here)",
    )


SESSIONS = f"sessions, 1..{arg.MAX_SESSIONS}"


def threshold_options(parser: argparse.ArgumentParser) -> None:
    """The gate's thresholds, de-clustering, publication lag and index file (bounds as the
    core checks them; argparse refuses anything else with one line)."""
    d = GateParams()
    sessions = arg.int_in(1, arg.MAX_SESSIONS, "a whole number of sessions")
    parser.add_argument("--lookback", type=sessions, nargs="+", default=[252, 756],
                        help=f"resistance lookbacks in {SESSIONS} (default 252 756)")
    parser.add_argument("--margin", type=arg.fraction, default=d.margin,
                        help="breakout margin, a fraction in [0, 1)")
    parser.add_argument("--tolerance", type=arg.fraction, default=d.tolerance,
                        help="retest tolerance, a fraction in [0, 1)")
    parser.add_argument("--window", type=sessions, default=d.window,
                        help=f"retest window, {SESSIONS}")
    parser.add_argument("--expiry", type=sessions, default=d.expiry,
                        help=f"support expiry, {SESSIONS}")
    parser.add_argument("--basis", choices=("close", "high"), default=d.basis)
    parser.add_argument("--gap", type=arg.int_in(0, arg.MAX_SESSIONS, "a whole number of "
                        "sessions"), default=DEFAULT_GAP,
                        help="de-clustering: an event within GAP sessions of the previous one "
                        f"is the same episode (0..{arg.MAX_SESSIONS}; default {DEFAULT_GAP})")
    parser.add_argument("--lag", type=arg.float_in(0, arg.MAX_LAG_MINUTES, what="number of "
                        "minutes"), default=DEFAULT_PUBLICATION_LAG_MINUTES,
                        help="publication lag after the NYSE close, minutes "
                        f"(0..{arg.MAX_LAG_MINUTES})")
    parser.add_argument("--ticker-file", default="index/RUT.csv",
                        help="index file inside --data (default index/RUT.csv)")


def confirmation_options(parser: argparse.ArgumentParser) -> None:
    """``--confirm`` and each confirmation's rule options (bounds as the core checks them)."""
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
    window = arg.int_in(1, arg.MAX_SESSIONS, "a whole number of sessions")
    parser.add_argument(
        "--confirm", nargs="*", choices=("vix", "lead", "value", "flows"),
        default=list(DEFAULT_CONFIRM),
        help="confirmations measured as <kind>+<key> (default: vix lead value; flows needs "
        "--flows-file: the shared data hold no ETF flows history); none: --confirm")
    parser.add_argument("--vix-rule", choices=VIX_RULES, default=vix.rule)
    parser.add_argument("--vix-level", type=arg.float_in(0, low_open=True), default=vix.level,
                        help="VIX level, > 0")
    parser.add_argument("--vix-window", type=window, default=vix.window, help=SESSIONS)
    parser.add_argument("--lead-rule", choices=LEAD_RULES, default=lead.rule,
                        help=f"small caps leading: ^RUT/{LEAD_VERSUS} ratio rule")
    parser.add_argument("--lead-window", type=window, default=lead.window, help=SESSIONS)
    parser.add_argument("--value-rule", choices=VALUE_RULES, default=value.rule,
                        help="value vs core: IWN near its high, or the IWN/IWM ratio")
    parser.add_argument("--value-tolerance", type=arg.fraction, default=value.tolerance,
                        help="a fraction in [0, 1)")
    parser.add_argument("--value-window", type=window, default=value.window, help=SESSIONS)
    parser.add_argument("--flows-file", type=arg.existing_file, default=None,
                        help="daily flows CSV (date,flow; one row per NYSE session) for "
                        "--confirm flows")
    parser.add_argument("--flows-window", type=window, default=flows.window, help=SESSIONS)
    parser.add_argument("--flows-threshold", type=arg.float_in(), default=flows.threshold,
                        help="a finite number (currency units of the flows)")


def load_confirmations(
    args: argparse.Namespace, root: Path, lag: float | None = None
) -> tuple[ConfirmationSeries, ...]:
    """Load and evaluate each ``--confirm`` series from ``<data>/index`` (or --flows-file);
    any failure (bad rule parameter, series refused) stops: see :func:`load_confirmation`."""
    return tuple(load_confirmation(args, root, key, lag)
                 for key in dict.fromkeys(args.confirm or ()))


def load_confirmation(
    args: argparse.Namespace, root: Path, key: str, lag: float | None = None
) -> ConfirmationSeries:
    """One ``--confirm`` series. A bad rule parameter is a ConfigError; a series that cannot
    be read or is refused (off the calendar beyond the stray-row policy) is the
    DataValidationError / SourceError naming it (callers may skip only what uses it)."""
    from ..core import confirmations as cf

    lag = args.lag if lag is None else lag
    try:
        if key == "vix":
            params = cf.VixParams(args.vix_rule, args.vix_level, args.vix_window)
        elif key == "lead":
            params = cf.LeadParams(args.lead_rule, args.lead_window)
        elif key == "value":
            params = cf.ValueParams(args.value_rule, args.value_tolerance, args.value_window)
        else:
            params = cf.FlowsParams(args.flows_window, args.flows_threshold)
    except ValueError as exc:  # a bad rule parameter: one line naming it
        raise ConfigError(str(exc)) from exc
    if key == "vix":
        is_open = cf.vix_open(read_index(root, "VIX", "^VIX"), params)
        avail = Availability(lag_minutes=lag, close_offset_minutes=VIX_CLOSE_OFFSET)
        note = f"^VIX {params.rule} (level {params.level:g}, window {params.window})"
    elif key == "lead":
        is_open = cf.lead_open(read_index(root, "RUT", "^RUT"),
                               read_index(root, "SPX", LEAD_VERSUS), params)
        avail = Availability(lag_minutes=lag)
        note = f"^RUT/{LEAD_VERSUS} {params.rule} (window {params.window})"
    elif key == "value":
        core = None if params.rule == "high" else read_index(root, "IWM", "IWM")
        is_open = cf.value_open(read_index(root, "IWN", "IWN"), core, params)
        avail = Availability(lag_minutes=lag)
        note = (f"IWN {params.rule} (tolerance {params.tolerance:g}, window "
                f"{params.window})" + ("" if core is None else " vs IWM"))
    else:
        if args.flows_file is None:
            raise ConfigError("--confirm flows needs --flows-file (date,flow CSV): the "
                              "shared data hold no ETF flows or shares-outstanding "
                              "history, and none is made up")
        path = caller_path(args.flows_file)
        try:
            flows = cf.validate_flows(pd.read_csv(path), "flows", DEFAULT_CALENDAR)
        except (OSError, ValueError) as exc:
            if isinstance(exc, DataValidationError):
                raise
            raise SourceError("flows", f"cannot read {path}: {type(exc).__name__}: {exc}") \
                from exc
        is_open = cf.flows_open(flows, params)
        avail = Availability(lag_minutes=lag)
        note = f"flows {path.name} (window {params.window}, > {params.threshold:g})"
    return ConfirmationSeries(key, is_open, avail.available_at(is_open.index), note)


_WARNED: set[Path] = set()  # files whose dropped stray rows were reported in this process


def read_series(path: Path, ticker: str, calendar: str = DEFAULT_CALENDAR) -> pd.DataFrame:
    """The validated daily series of ``path`` on sessions of ``calendar``: stray rows dropped
    by the stray-row policy and named in one ``warning:`` line on stderr (once per file);
    a series off the calendar is DataValidationError naming the first bad date."""
    rows = read_daily_sessions(path, ticker, calendar)
    if rows.dropped and Path(path) not in _WARNED:
        _WARNED.add(Path(path))
        print(f"warning: {stray_note(ticker, calendar, rows.dropped)} ({path})", file=sys.stderr)
    return rows.frame


def read_index(root: Path, name: str, ticker: str) -> pd.DataFrame:
    return read_series(root / "index" / f"{name}.csv", ticker)


def gate_params_of(args: argparse.Namespace) -> GateParams:
    return GateParams(margin=args.margin, tolerance=args.tolerance, window=args.window,
                      expiry=args.expiry, basis=args.basis)


def data_dir(args: argparse.Namespace) -> Path:
    root = caller_path(Path(args.data)) if args.data else default_data_dir()
    if not (root / "index").is_dir() or not (root / "binance").is_dir():
        raise ConfigError(f"no shared data at {root} (expected index/ and binance/); use --data")
    return root


def load_index(root: Path, relative: str, ticker: str, availability: Availability):
    daily = read_series(root / relative, ticker, availability.calendar)
    return daily, availability.available_at(daily["session"])


def make_console() -> Console:
    return Console(soft_wrap=False, highlight=False, width=200)


def progress_display(enabled: bool, console: Console) -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
        TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
        console=console, disable=not enabled, transient=True,
    )


def pair_names(given: Sequence[str]) -> list[str]:
    """``--pairs`` as freqtrade pairs: ``BASE/QUOTE`` as given, a bare ``BASE`` as
    ``BASE/USDT`` (upper case)."""
    return [p.upper() if "/" in p else f"{p.upper()}/USDT" for p in given]


def check_pairs(
    root: Path, pairs: Sequence[str], start: pd.Timestamp, end: pd.Timestamp,
    markets: Collection[str], timeframes: Sequence[str] = ("1h",),
) -> None:
    """Before any backtest: every pair is ``BASE/QUOTE``, in ``markets`` (the exchange markets
    snapshot's symbols) and has candles of each timeframe in ``<root>/binance`` with at least
    one candle in ``[start, end)``; else one ConfigError naming each bad pair and what it
    lacks."""
    problems = []
    for pair in pairs:
        base, _, quote = pair.partition("/")
        if not base or not quote or "/" in quote:
            problems.append(f"{pair!r} is not BASE/QUOTE (e.g. BTC/USDT)")
            continue
        lacks = [] if pair in markets else ["not in the exchange markets snapshot"]
        for tf in dict.fromkeys(timeframes):
            path = candle_file(root / "binance", pair, tf)
            if not path.is_file():
                lacks.append(f"no {tf} candles ({path} not found)")
                continue
            dates = pd.to_datetime(pd.read_feather(path, columns=["date"])["date"], utc=True)
            if not len(dates) or dates.iloc[-1] < start or dates.iloc[0] >= end:
                held = (f"{dates.iloc[0]:%Y-%m-%d}..{dates.iloc[-1]:%Y-%m-%d}" if len(dates)
                        else "none")
                lacks.append(f"no {tf} candles in {start:%Y-%m-%d}..{end:%Y-%m-%d} ({path} "
                             f"holds {held})")
        if lacks:
            problems.append(f"{pair}: {' and '.join(lacks)}")
    if problems:
        raise ConfigError(f"--pairs: {'; '.join(problems)}")


def read_candles(root: Path, base: str) -> pd.DataFrame:
    path = candle_file(root / "binance", f"{base}/USDT")
    if not path.is_file():
        raise ConfigError(f"no 1h candles for {base}: {path}")
    return pd.read_feather(path)
