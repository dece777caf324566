"""Shared pieces of the evidence commands (imperative edge): data folder, common options,
loading the index, candles and confirmation series, console and progress display."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..config_file import caller_path
from ..core.calendar import DEFAULT_PUBLICATION_LAG_MINUTES, Availability
from ..core.gate import GateParams
from ..data.sources import read_daily_file
from ..errors import ConfigError
from .alignment import ConfirmationSeries
from .events import DEFAULT_GAP

DEFAULT_OUT = Path("user_data") / "evidence"  # relative to the caller's folder
DEFAULT_CONFIRM = ("vix", "lead", "value")
VIX_CLOSE_OFFSET = 15  # the VIX closes at 16:15 New York, 15 minutes after the NYSE


def default_data_dir() -> Path:
    """``$R2K_SHARED_DATA``, else ``../shared/data`` from the caller's folder (where the
    shared data lie beside a clone of this repo)."""
    return caller_path(Path(os.environ.get("R2K_SHARED_DATA") or "../shared/data"))


# --- shared options --------------------------------------------------------------------------


def data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", type=Path, default=None,
        help="shared data folder with index/ and binance/ (default $R2K_SHARED_DATA, else "
        "../shared/data from here)",
    )


def threshold_options(parser: argparse.ArgumentParser) -> None:
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


def confirmation_options(parser: argparse.ArgumentParser) -> None:
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


def load_confirmations(
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
                is_open = cf.vix_open(read_index(root, "VIX", "^VIX"), params)
                avail = Availability(lag_minutes=lag, close_offset_minutes=VIX_CLOSE_OFFSET)
                note = f"^VIX {params.rule} (level {params.level:g}, window {params.window})"
            elif key == "lead":
                params = cf.LeadParams(args.lead_rule, args.lead_window)
                is_open = cf.lead_open(read_index(root, "RUT", "^RUT"),
                                       read_index(root, "SPX", "^SPX"), params)
                avail = Availability(lag_minutes=lag)
                note = f"^RUT/^SPX {params.rule} (window {params.window})"
            elif key == "value":
                params = cf.ValueParams(args.value_rule, args.value_tolerance, args.value_window)
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


def read_index(root: Path, name: str, ticker: str) -> pd.DataFrame:
    return read_daily_file(root / "index" / f"{name}.csv", ticker)


def gate_params_of(args: argparse.Namespace) -> GateParams:
    return GateParams(margin=args.margin, tolerance=args.tolerance, window=args.window,
                      expiry=args.expiry, basis=args.basis)


def data_dir(args: argparse.Namespace) -> Path:
    root = caller_path(Path(args.data)) if args.data else default_data_dir()
    if not (root / "index").is_dir() or not (root / "binance").is_dir():
        raise ConfigError(f"no shared data at {root} (expected index/ and binance/); use --data")
    return root


def load_index(root: Path, relative: str, ticker: str, availability: Availability):
    daily = read_daily_file(root / relative, ticker)
    return daily, availability.available_at(daily["session"])


def make_console() -> Console:
    return Console(soft_wrap=False, highlight=False, width=200)


def progress_display(enabled: bool, console: Console) -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
        TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
        console=console, disable=not enabled, transient=True,
    )


def read_candles(root: Path, base: str) -> pd.DataFrame:
    path = root / "binance" / f"{base}_USDT-1h.feather"
    if not path.is_file():
        raise ConfigError(f"no 1h candles for {base}: {path}")
    return pd.read_feather(path)
