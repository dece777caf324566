"""The ``correlation`` command (imperative edge): does the Russell 2000 lead, lag or move with
crypto? Loads the index and the 1h candles, calls the pure :mod:`.correlation`, writes the
tables, the markdown and the plots, and prints one verdict line per asset."""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import pandas as pd

from .. import arguments as arg
from ..config_file import caller_path
from ..core.calendar import Availability
from ..errors import ConfigError
from . import cli_common as common
from .cli_common import DEFAULT_OUT
from .cli_events import DEFAULT_PAIRS
from .correlation import (
    BASKET,
    BOOT_BLOCK,
    BOUNDARIES,
    LAG_COLUMNS,
    MAX_STALE,
    MIN_SHARE,
    PERIOD_COLUMNS,
    CorrelationResult,
    Q,
    basket_members,
    correlation_study,
    session_returns,
)
from .report import print_table, to_markdown, write_outputs

MIN_WINDOW = 10  # a correlation of fewer sessions is mostly noise
MAX_LAG = 60  # sessions (about three months)
PLOT_ASSETS = ("BTC", "ETH", BASKET)
INDEX_FILE = "index/RUT.csv"


def add_correlation_command(subparsers: argparse._SubParsersAction) -> None:
    """Add ``correlation``."""
    p = subparsers.add_parser(
        "correlation", help="does the Russell 2000 lead, lag or move with crypto?",
        description="Correlation of Russell 2000 session returns (close to close, log) with "
        "BTC, ETH, each altcoin and the equal-weight altcoin basket ALT over the same "
        "wall-clock intervals: crypto priced at each session's availability time (the close "
        "of the last 1h candle closed by then: the candle closing at the NYSE close). Rolling "
        "correlation, correlation per period (before 2020, 2020-2021, 2022+, all) with Fisher "
        "and block-bootstrap intervals, and the cross-correlation at lags -max_lag..max_lag "
        "with Benjamini-Hochberg over the non-zero lags.",
    )
    common.data_options(p)
    p.add_argument("--out", type=arg.folder, default=DEFAULT_OUT,
                   help=f"output folder (default {DEFAULT_OUT} here)")
    p.add_argument("--windows", nargs="+", default=[60, 250],
                   type=arg.int_in(MIN_WINDOW, arg.MAX_SESSIONS, "a whole number of sessions"),
                   help=f"rolling windows in sessions, {MIN_WINDOW}..{arg.MAX_SESSIONS} "
                   "(default 60 250)")
    p.add_argument("--max-lag", type=arg.int_in(0, MAX_LAG, "a whole number of sessions"),
                   default=10, help=f"largest lead/lag in sessions, 0..{MAX_LAG} (default 10)")
    p.add_argument("--pairs", nargs="+", type=base_currency, default=list(DEFAULT_PAIRS),
                   help="base currencies with <BASE>_USDT-1h.feather in --data/binance "
                   f"(default {' '.join(DEFAULT_PAIRS)}); the alts among them form {BASKET}")
    p.add_argument("--start", type=arg.iso_date, default=None,
                   help="first session measured, YYYY-MM-DD (default: the first with crypto)")
    p.add_argument("--end", type=arg.iso_date, default=None,
                   help="last session measured, YYYY-MM-DD, after --start")
    p.add_argument("--seed", type=arg.int_in(0, arg.MAX_SEED), default=7,
                   help=f"seed of the block bootstrap, 0..{arg.MAX_SEED}")
    p.add_argument("--reps", type=arg.int_in(0, arg.MAX_RESAMPLES), default=1000,
                   help=f"block-bootstrap replicates per asset and period, "
                   f"0..{arg.MAX_RESAMPLES} (0: no bootstrap interval; default 1000)")
    p.add_argument("--no-plots", action="store_true", help="no PNG plot")
    p.set_defaults(func=run_correlation)
    arg.add_check(p, arg.ordered("--start", "--end"))
    arg.add_check(p, pairs_with_candles)


_BASE = re.compile(r"[A-Za-z0-9]+")


def base_currency(text: str) -> str:
    """A base currency (``BTC``) or a ``BASE/USDT`` pair; returned as the upper-case base."""
    base, slash, quote = text.strip().partition("/")
    if not _BASE.fullmatch(base) or (slash and quote.upper() != "USDT"):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a base currency (allowed: letters and digits, e.g. BTC, or "
            "BASE/USDT)")
    return base.upper()


def pairs_with_candles(args: argparse.Namespace) -> str | None:
    """``--pairs`` each need ``<data>/binance/<BASE>_USDT-1h.feather`` (checked when the data
    folder exists; a missing folder is reported when the command runs)."""
    root = caller_path(Path(args.data)) if args.data else common.default_data_dir()
    folder = root / "binance"
    if not folder.is_dir():
        return None
    missing = [p for p in dict.fromkeys(args.pairs)
               if not (folder / f"{p}_USDT-1h.feather").is_file()]
    if not missing:
        return None
    held = sorted(f.name.removesuffix("_USDT-1h.feather")
                  for f in folder.glob("*_USDT-1h.feather"))
    return (f"argument --pairs: {', '.join(repr(p) for p in missing)} "
            f"{'has' if len(missing) == 1 else 'have'} no 1h candles in {folder} (allowed: "
            f"{', '.join(held) or 'none there'})")


def run_correlation(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    root = common.data_dir(args)
    console = common.make_console()
    pairs = list(dict.fromkeys(args.pairs))
    windows = sorted(set(args.windows))
    daily, avail = common.load_index(root, INDEX_FILE, "^RUT", Availability())
    candles = {p: common.read_candles(root, p) for p in pairs}
    returns = measured(session_returns(daily, avail, candles), args.start, args.end)
    result = correlation_study(returns, windows, args.max_lag, args.seed, args.reps)
    out = caller_path(Path(args.out))
    title = _title(result, pairs)
    written = write_outputs(out, {
        "correlation": result.rolling.assign(
            session=pd.DatetimeIndex(result.rolling["session"]).strftime("%Y-%m-%d")),
        "correlation_periods": _dated(result.periods),
        "correlation_lags": result.lags,
        "correlation_returns": _returns_out(result.returns),
    }, _markdown(result, args, pairs, windows, title), "correlation.md")
    if not args.no_plots:
        from .plots_correlation import plot_lags, plot_rolling

        shown = [a for a in PLOT_ASSETS if a in result.verdicts] or list(result.verdicts)[:3]
        written.append(plot_rolling(result.rolling, result.periods, shown, BOUNDARIES,
                                    out / "correlation_rolling.png",
                                    f"Rolling correlation of Russell 2000 and crypto session "
                                    f"returns\n({title})"))
        written.append(plot_lags(result.lags, shown, out / "correlation_lags.png",
                                 f"Cross-correlation of Russell 2000 and crypto session returns "
                                 f"by lag ({title})\nred: significant after Benjamini-Hochberg "
                                 f"of the robust p-values over the non-zero lags, q = {Q:g}"))
    print_table(console, _display(_dated(result.periods)),
                f"Correlation per period ({title})", PERIOD_COLUMNS)
    for line in result.verdicts.values():
        console.print(line, soft_wrap=True)  # one line each, however long
    console.print("wrote " + ", ".join(str(p) for p in written))
    console.print(f"correlation done in {time.monotonic() - t0:.1f} s")
    return 0


def measured(returns: pd.DataFrame, start: str | None, end: str | None) -> pd.DataFrame:
    """The sessions of ``returns`` from ``start`` to ``end`` (dates, both included) that come
    at or after the first session with a crypto return; ConfigError when none is left."""
    sessions = pd.DatetimeIndex(returns["session"])
    crypto = returns.iloc[:, returns.columns.get_loc("R2K") + 1:].notna().any(axis=1)
    first = sessions[crypto.to_numpy()].min() if crypto.any() else None
    keep = crypto.cumsum().to_numpy() > 0
    if start is not None:
        keep &= sessions >= pd.Timestamp(start)
    if end is not None:
        keep &= sessions <= pd.Timestamp(end)
    if not keep.any():
        held = ("no crypto return at all" if first is None else
                f"sessions with crypto {first:%Y-%m-%d}..{sessions[-1]:%Y-%m-%d}")
        raise ConfigError(f"no session to measure in --start..--end {start or '-'}.."
                          f"{end or '-'} ({held})")
    return returns.loc[keep].reset_index(drop=True)


def _title(result: CorrelationResult, pairs: list[str]) -> str:
    sessions = pd.DatetimeIndex(result.returns["session"])
    alts = basket_members(pairs)
    basket = f"; {BASKET} = {'+'.join(alts)}" if alts else ""
    return f"sessions {sessions[0]:%Y-%m-%d}..{sessions[-1]:%Y-%m-%d}{basket}"


def _dated(periods: pd.DataFrame) -> pd.DataFrame:
    out = periods.copy()
    for col in ("first_session", "last_session"):
        out[col] = pd.DatetimeIndex(out[col]).strftime("%Y-%m-%d")
    return out


def _returns_out(returns: pd.DataFrame) -> pd.DataFrame:
    return returns.assign(
        session=pd.DatetimeIndex(returns["session"]).strftime("%Y-%m-%d"),
        start=pd.DatetimeIndex(returns["start"]).strftime("%Y-%m-%d %H:%M:%S+00:00"),
        available_at=pd.DatetimeIndex(returns["available_at"]).strftime(
            "%Y-%m-%d %H:%M:%S+00:00"),
    )


def _display(table: pd.DataFrame) -> pd.DataFrame:
    """Correlations with 3 decimals, p-values with 3 significant digits, flags as yes/no."""
    out = table.copy().astype(object)
    for col in table.columns:
        values = table[col]
        if col in ("n", "lag"):
            out[col] = values.astype(str)
        elif col == "p" or col.startswith("p_"):
            out[col] = [f"{v:.3g}" if pd.notna(v) else "–" for v in values]
        elif col.startswith("band"):
            out[col] = [f"±{v:.3f}" if pd.notna(v) else "–" for v in values]
        elif values.dtype == bool:
            out[col] = ["yes" if v else "" for v in values]
        elif pd.api.types.is_float_dtype(values):
            out[col] = [f"{v:+.3f}" if pd.notna(v) else "–" for v in values]
        else:
            out[col] = values.fillna("–").astype(str)
    return out


def _markdown(result: CorrelationResult, args: argparse.Namespace, pairs: list[str],
              windows: list[int], title: str) -> str:
    boot = (f"{args.reps} circular block-bootstrap replicates (blocks of {BOOT_BLOCK} "
            f"sessions, seed {args.seed})" if args.reps else "no bootstrap (--reps 0)")
    lines = [
        "# Correlation: Russell 2000 and crypto\n",
        f"Data: {INDEX_FILE} and Binance 1h {', '.join(pairs)} ({title}). Each return covers "
        "one interval: from the previous session's availability (NYSE close + 15 min) to "
        "this session's; the Russell return is close to close (log), each coin is priced "
        "with the close of the last 1h candle closed by then (at most "
        f"{MAX_STALE.total_seconds() / 3600:g} h old, else missing), {BASKET} is the "
        "equal-weight basket of the alts priced at both ends.\n",
        f"Rolling windows {', '.join(map(str, windows))} sessions (a window needs "
        f"{MIN_SHARE:.0%} of its sessions with both returns); intervals: Fisher z (assumes "
        f"independent pairs) and {boot}; lags -{args.max_lag}..{args.max_lag} sessions "
        "(k > 0: the Russell leads), band ±1.96/√n and the heteroskedasticity-robust band, "
        f"Benjamini-Hochberg of the robust p-values over the non-zero lags at q = {Q:g}.\n",
        "## Verdicts\n",
        *(f"- {line}" for line in result.verdicts.values()),
        "\n## Periods\n",
        to_markdown(_display(_dated(result.periods)), PERIOD_COLUMNS),
        "\n## Lags\n",
        to_markdown(_display(result.lags), LAG_COLUMNS),
    ]
    return "\n".join(lines)
