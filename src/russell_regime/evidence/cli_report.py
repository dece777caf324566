"""The ``report`` command (imperative edge): one self-contained HTML page (``report.html``) of a
compare run: runs ``compare`` through the real parser first (or reads an existing compare
output folder with ``--from``), loads its files, renders the figures to PNG bytes in memory
(matplotlib Agg, no temporary file) and writes the page :func:`.html_report.render_report`
builds."""

from __future__ import annotations

import argparse
import io
import json
import shlex
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from .. import arguments as arg
from ..config_file import caller_path
from ..errors import ConfigError, RegimeError
from . import cli_common as common
from .cli_common import DEFAULT_OUT
from .html_report import Overfit, ReportInput, instant_text, render_report

REPORT_NAME = "report.html"
FIGURE_DPI = 100
# options forwarded to compare (flag, dest); with --from none of them may be given
COMPARE_OPTIONS = (("--strategy", "strategy"), ("--strategy-path", "strategy_path"),
                   ("--config", "config"), ("--timerange", "timerange"), ("--pairs", "pairs"),
                   ("--confirm", "confirm"), ("--random-gates", "random_gates"),
                   ("--seed", "seed"), ("--spa-reps", "spa_reps"), ("--spa-block", "spa_block"))


def add_report_command(subparsers: argparse._SubParsersAction) -> None:
    """Add ``report``."""
    from .cli_compare import STRATEGY, _timerange

    p = subparsers.add_parser(
        "report", help="one self-contained HTML report (report.html) of compare for a "
        "strategy: tables, equity, the gate over BTC, random gates, SPA/StepM, overfitting",
        description="Run compare (the same options; default strategy "
        f"{STRATEGY}) and write one self-contained HTML file, report.html, in --out: the "
        "summary, gated vs ungated vs buy-and-hold, equity curves, the btc gate over the BTC "
        "price, the same-exposure random-gate control, SPA/StepM against the ungated run, "
        "the deflated Sharpe ratio and PBO of a hyperopt (--hyperopt-file) and the caveats. "
        "--from DIR renders an existing compare output folder instead, without any backtest.",
    )
    common.data_options(p)
    p.add_argument("--from", dest="from_dir", type=arg.existing_folder, default=None,
                   metavar="DIR", help="an existing compare output folder (with compare.csv): "
                   "render it, run no backtest")
    p.add_argument("--out", type=arg.folder, default=None,
                   help=f"output folder of compare and report.html (default: the --from "
                   f"folder, else {DEFAULT_OUT} here)")
    p.add_argument("--strategy", default=None,
                   help=f"a strategy using RussellGateMixin (default {STRATEGY})")
    p.add_argument("--strategy-path", type=arg.existing_folder, default=None,
                   help="folder freqtrade searches for --strategy first")
    p.add_argument("--config", type=arg.existing_file, default=None,
                   help="freqtrade config (default: config.json here, else the shipped "
                   "example config)")
    p.add_argument("--timerange", type=_timerange, default=None,
                   help="YYYYMMDD-YYYYMMDD, end after start (default: compare's)")
    p.add_argument("--pairs", nargs="+", default=None,
                   help="pairs BASE/QUOTE or base currencies (default: the config's whitelist)")
    p.add_argument("--confirm", nargs="*", choices=("vix", "lead", "value"), default=None,
                   help="confirmations measured as gated+<key> (default: vix lead value; "
                   "none: --confirm)")
    p.add_argument("--random-gates", type=arg.int_in(0, arg.MAX_RANDOM_GATES), default=None,
                   help=f"same-exposure random gates, 0..{arg.MAX_RANDOM_GATES} (default: "
                   "compare's, 500)")
    p.add_argument("--seed", type=arg.int_in(0, arg.MAX_SEED), default=None,
                   help=f"random-gate seed, 0..{arg.MAX_SEED} (default: compare's, 7)")
    p.add_argument("--spa-reps", type=arg.int_in(0, arg.MAX_RESAMPLES), default=None,
                   help=f"SPA / StepM bootstrap replications, 0..{arg.MAX_RESAMPLES} (0: none; "
                   "default: compare's, 1000)")
    p.add_argument("--spa-block", type=arg.int_in(1, arg.MAX_HORIZON_DAYS, "days"),
                   default=None, help="SPA / StepM mean block in days, "
                   f"1..{arg.MAX_HORIZON_DAYS} (default: compare's rule)")
    p.add_argument("--hyperopt-file", type=arg.existing_file, default=None,
                   help="a freqtrade hyperopt results file (.fthypt): deflated Sharpe ratio "
                   "and PBO of its epochs")
    p.add_argument("--no-progress", action="store_true", help="no progress display")
    p.set_defaults(func=_run_report)
    arg.add_check(p, _from_alone)


def _from_alone(args: argparse.Namespace) -> str | None:
    """With --from no compare option: they would be silently ignored."""
    if args.from_dir is None:
        return None
    given = [flag for flag, dest in COMPARE_OPTIONS if getattr(args, dest) is not None]
    if given:
        return (f"argument --from: {' '.join(given)} would be ignored (allowed: --from renders "
                "an existing compare folder; drop --from to run compare with these options)")
    return None


def compare_argv(args: argparse.Namespace, out: Path) -> list[str]:
    """The ``compare`` command line for the report's options: every compare option given
    (else compare's default), ``--out`` = ``out``."""
    argv = ["compare", "--out", str(out)]
    if args.data is not None:
        argv += ["--data", str(args.data)]
    for flag, dest in COMPARE_OPTIONS:
        value = getattr(args, dest)
        if value is None:
            continue
        argv += [flag, *map(str, value)] if isinstance(value, list) else [flag, str(value)]
    if args.no_progress:
        argv.append("--no-progress")
    return argv


def _run_report(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    console = common.make_console()
    if args.from_dir is not None:
        folder = caller_path(args.from_dir)
        if not (folder / "compare.csv").is_file():
            raise ConfigError(f"--from {folder}: no compare.csv there (not a compare output "
                              "folder; run russell-regime compare --out DIR first)")
        out = caller_path(args.out) if args.out is not None else folder
    else:
        out = caller_path(args.out if args.out is not None else DEFAULT_OUT)
        _run_compare(args, out)
        folder = out
    trials = _read_hyperopt(args.hyperopt_file)  # a bad file: one line before any figure
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    inp = load_report_input(folder, args, command_line(args), made, trials)
    page = render_report(inp)
    out.mkdir(parents=True, exist_ok=True)
    path = out / REPORT_NAME
    path.write_text(page, encoding="utf-8")
    console.print(f"wrote {path} ({len(page.encode('utf-8')) / 1024:.0f} kB) in "
                  f"{time.monotonic() - t0:.1f} s")
    return 0


def _run_compare(args: argparse.Namespace, out: Path) -> None:
    """``compare`` with the report's options through the real parser and its own ``func``."""
    from ..arguments import run_checks
    from ..cli.main import build_parser

    compare_args = build_parser().parse_args(compare_argv(args, out))
    run_checks(compare_args)
    code = int(compare_args.func(compare_args))
    if code != 0:
        raise ConfigError(f"compare ended with exit code {code}; no report")


def command_line(args: argparse.Namespace) -> str:
    """The command as a user types it, with the options given (for the summary)."""
    words = ["russell-regime", "report"]
    for flag, dest in (("--from", "from_dir"), ("--data", "data"), *COMPARE_OPTIONS,
                       ("--hyperopt-file", "hyperopt_file"), ("--out", "out")):
        value = getattr(args, dest)
        if value is None:
            continue
        words += [flag, *map(str, value)] if isinstance(value, list) else [flag, str(value)]
    return " ".join(shlex.quote(w) for w in words)


# --- loading ---------------------------------------------------------------------------------


def load_report_input(folder: Path, args: argparse.Namespace, command: str, made: str,
                      trials=None) -> ReportInput:
    """Every input of the page from the compare folder ``folder`` (files absent: their
    sections say so), the figures rendered, ``trials`` (:func:`.trials.read_trials`) turned
    into the overfitting rows."""
    reasons: dict[str, str] = {}
    figures: dict[str, bytes] = {}
    run = _read_json(folder / "compare_run.json")
    title, gate_note = _compare_md(folder / "compare.md")
    compare = _read_csv(folder / "compare.csv")
    control = _read_csv(folder / "compare_random_gates.csv")
    draws = _read_csv(folder / "compare_random_draws.csv")
    spa = _read_csv(folder / "compare_spa.csv")
    curves = _equity_curves(folder / "compare_equity.csv")
    label = _label(run, title)
    if curves:
        figures["equity"] = _equity_png(curves, label)
    if control is not None and draws is not None and len(draws):
        figures["random-gates"] = _random_gates_png(draws, control, run)
    elif control is not None:
        reasons["random-gates"] = "compare_random_draws.csv missing"
    try:
        params = btc_gate_params(run, compare)
        if params is None:
            reasons["gate"] = ("compare_run.json missing (the gated run's parameters are not "
                               "the defaults, and no other file names them)")
        else:
            figures["gate"] = _gate_png(args, params, run, curves)
    except RegimeError as exc:
        reasons["gate"] = str(exc)
    overfit = None
    if trials is not None:
        overfit = overfit_rows(trials, str(caller_path(args.hyperopt_file)))
    data_end = None
    if curves:
        last = max(c.index[-1] for c in curves.values() if len(c))
        data_end = f"{last:%Y-%m-%d %H:%M} UTC"
    return ReportInput(
        folder=str(folder), command=command, made=made, run=run, title=title,
        gate_note=gate_note, compare=compare, control=control, spa=spa, overfit=overfit,
        figures=figures, reasons=reasons, data_end=data_end,
    )


def _read_csv(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.is_file() else None


def _read_json(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigError(f"{path}: not JSON ({exc})") from exc
    return value if isinstance(value, dict) else None


def _compare_md(path: Path) -> tuple[str | None, str | None]:
    """compare.md's title line and gate line (the lines after ``# Compare``)."""
    if not path.is_file():
        return None, None
    lines = [s.strip() for s in path.read_text(encoding="utf-8").splitlines()]
    lines = [s for s in lines if s and not s.startswith(("#", "|"))]
    title = lines[0] if lines else None
    note = next((s for s in lines[1:] if s.startswith("gate parameters")), None)
    return title, note


def _label(run: dict | None, title: str | None) -> str:
    if run is not None:
        return (f"{run.get('strategy', '?')} {instant_text(run.get('start'))}.."
                f"{instant_text(run.get('end'))}, {len(run.get('pairs') or [])} pairs, "
                f"{run.get('timeframe', '')}")
    return title or "compare"


def _equity_curves(path: Path) -> dict[str, pd.Series]:
    if not path.is_file():
        return {}
    frame = pd.read_csv(path)
    index = pd.DatetimeIndex(pd.to_datetime(frame.pop("date"), utc=True))
    return {str(c): pd.Series(frame[c].to_numpy(dtype="float64"), index=index).dropna()
            for c in frame.columns}


def btc_gate_params(run: dict | None, compare: pd.DataFrame | None):
    """The btc class's :class:`core.gate.GateParams` of the gated run: compare_run.json's
    ``gate`` (``btc_<threshold>`` names; basis ``price_basis``, default close), else the
    defaults when compare.csv's gated run is ``gated (defaults)``; None when unknown. A
    parameter out of its range is a ConfigError."""
    from dataclasses import fields

    from ..core.gate import GateParams
    from .compare import GATED_DEFAULTS

    if run is not None and isinstance(run.get("gate"), dict):
        gate = run["gate"]
        values = {f.name: gate[f"btc_{f.name}"] for f in fields(GateParams)
                  if f"btc_{f.name}" in gate}
        try:
            return GateParams(**values, basis=_price_basis(run))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"compare_run.json: gate parameters: {exc}") from exc
    if compare is not None and len(compare) and compare["run"].iloc[0] == GATED_DEFAULTS:
        return GateParams()
    return None


def _price_basis(run: dict) -> str:
    """The gate's price basis: compare_run.json's ``price_basis`` (compare records it), else
    (a record written before it did) the ``russell_regime`` section of the freqtrade config it
    names (if still there), else close."""
    from ..config_file import SECTION, read_config

    if run.get("price_basis"):
        return str(run["price_basis"])
    config = Path(str(run.get("config") or ""))
    if run.get("config") and config.is_file():
        try:
            section = read_config(config).get(SECTION) or {}
        except RegimeError:
            return "close"
        if isinstance(section, dict) and section.get("price_basis"):
            return str(section["price_basis"])
    return "close"


# --- figures ---------------------------------------------------------------------------------


def figure_png(fig) -> bytes:
    """A matplotlib figure as PNG bytes (``FIGURE_DPI``), closed afterwards."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        fig.tight_layout()
        fig.savefig(buffer, format="png", dpi=FIGURE_DPI)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def _equity_png(curves: dict[str, pd.Series], label: str) -> bytes:
    from .plots import equity_figure

    return figure_png(equity_figure(curves, label))


def _random_gates_png(draws: pd.DataFrame, control: pd.DataFrame, run: dict | None) -> bytes:
    from .plots import random_gates_figure

    n = run.get("random_gates") if run else None
    seed = run.get("seed") if run else None
    count = f"{n} " if n is not None else ""
    seeded = f" (seed {seed})" if seed is not None else ""
    return figure_png(random_gates_figure(
        draws, control, "profit",
        f"Summed trade return (profit) of {count}same-exposure random gates{seeded} vs the "
        "real gate, on the ungated run's trades"))


def _gate_png(args: argparse.Namespace, params, run: dict | None,
              curves: dict[str, pd.Series]) -> bytes:
    """The btc class's gate (:class:`core.gate.GateParams` ``params``) over BTC/USDT's daily
    close in the compare timerange, from the index file and the candles of ``--data``."""
    from ..core.calendar import Availability
    from .alignment import gate_timeline, open_spells
    from .plots import gate_over_btc_figure

    root = common.data_dir(args)
    start, end = _span(run, curves)
    daily, avail = common.load_index(root, "index/RUT.csv", "^RUT", Availability())
    candles = common.read_candles(root, "BTC")
    close = pd.Series(candles["close"].to_numpy(dtype="float64"),
                      index=pd.DatetimeIndex(pd.to_datetime(candles["date"], utc=True)))
    close = close[(close.index >= start) & (close.index < end)].resample("1D").last().dropna()
    if not len(close):
        raise ConfigError(f"no BTC/USDT candles in {start:%Y-%m-%d}..{end:%Y-%m-%d} in {root}")
    timeline = gate_timeline(daily, avail, params)
    first, last = close.index[0], close.index[-1] + pd.Timedelta(days=1)
    shown = timeline[(timeline["available_at"] >= first - pd.Timedelta(days=7))
                     & (timeline["available_at"] < last)].reset_index(drop=True)
    spells = open_spells(shown["available_at"], shown["gate_open"].to_numpy(), last)
    share = float(shown["gate_open"].mean()) if len(shown) else float("nan")
    title = (f"BTC/USDT and the btc gate: open on {share:.0%} of the sessions shown\n"
             f"(mode {params.mode}, lookback {params.lookback}, ath_fresh {params.ath_fresh}, "
             f"max_drawdown {params.max_drawdown:g}, tolerance {params.tolerance:g}, window "
             f"{params.window}, expiry {params.expiry}, basis {params.basis})")
    return figure_png(gate_over_btc_figure(close, shown, spells, [], title))


def _span(run: dict | None, curves: dict[str, pd.Series]) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The compare timerange: compare_run.json's start/end, else the equity curves' span."""
    from .compare import parse_timerange

    if run is not None and run.get("start") and run.get("end"):
        return _utc(run["start"]), _utc(run["end"])
    if run is not None and run.get("timerange"):
        return parse_timerange(str(run["timerange"]))
    dated = [c for c in curves.values() if len(c)]
    if not dated:
        raise ConfigError("no timerange: compare_run.json and compare_equity.csv missing")
    return (min(c.index[0] for c in dated),
            max(c.index[-1] for c in dated) + pd.Timedelta(days=1))


def _utc(text: object) -> pd.Timestamp:
    stamp = pd.Timestamp(text)
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


# --- overfitting -----------------------------------------------------------------------------


def _read_hyperopt(path: Path | None):
    """:func:`.trials.read_trials` of ``--hyperopt-file`` (None without one)."""
    if path is None:
        return None
    from .trials import read_trials

    return read_trials(caller_path(path))


DSR_LEVEL = 0.95


def overfit_rows(trials, source: str) -> Overfit:
    """The deflated Sharpe ratio of the selected epoch (freqtrade's best: lowest loss) among
    every epoch, and the PBO of every epoch (:mod:`.overfit`, 16 blocks of days; fewer, even,
    when there are fewer than 32 days), as the overfitting section's rows and sentence."""
    from .cli_overfit import DEFAULT_PARTITIONS, assess

    returns = trials.returns
    selected = trials.selected
    dsr, pbo = assess(trials, DEFAULT_PARTITIONS, fit=True)
    rows = [
        ("epochs tried", f"{dsr.n_trials:,}", "every epoch of the file counts as a trial"),
        ("days", f"{dsr.n_obs:,}", "daily returns of each epoch (closed trades' profit over "
         "the starting balance)"),
        ("selected epoch", f"{selected} (loss {trials.loss[selected]:.4g})",
         "freqtrade's best: the lowest loss"),
        ("Sharpe ratio of the selected epoch", f"{dsr.sharpe_annual:.2f}",
         "annualised (x sqrt 365)"),
        ("best Sharpe ratio expected by luck", f"{dsr.threshold_annual:.2f}",
         f"the expected best of {dsr.n_trials} epochs without skill, annualised"),
        ("PSR", _share(dsr.psr), "probability that the selected epoch's true Sharpe ratio "
         "is above 0"),
        ("DSR", _share(dsr.dsr), "probability that it is above the best expected by luck "
         f"(convincing from {DSR_LEVEL:.2f})"),
    ]
    if pbo is not None:
        rows += [
            ("PBO", _share(pbo.pbo), f"share of the {pbo.n_splits:,} splits of "
             f"{pbo.partitions} blocks of days in which the in-sample best epoch is at or "
             "below the out-of-sample median (0.5 or more: the selection adds nothing)"),
            ("out-of-sample loss", _share(pbo.prob_oos_loss), "share of splits in which the "
             "in-sample best epoch has a negative Sharpe ratio out of sample"),
        ]
    else:
        rows.append(("PBO", "–", f"not computed: {len(returns)} days are too few for two "
                     "blocks of two days"))
    sentence = _overfit_sentence(dsr, pbo)
    return Overfit(pd.DataFrame(rows, columns=["measure", "value", "meaning"]), sentence,
                   source)


def _share(value: float) -> str:
    return "–" if value != value else f"{value:.2f}"


def _overfit_sentence(dsr, pbo) -> str:
    n = dsr.n_trials
    if dsr.dsr == dsr.dsr and dsr.dsr >= DSR_LEVEL:
        first = (f"After allowing for the {n} epochs tried, the selected epoch's Sharpe ratio "
                 f"is probably not luck (DSR {dsr.dsr:.2f})")
    else:
        first = (f"After allowing for the {n} epochs tried, the selected epoch's Sharpe ratio "
                 f"could well be luck (DSR {_share(dsr.dsr)}, below {DSR_LEVEL:.2f})")
    if pbo is None:
        return first + "."
    verdict = ("the hyperopt's choice is likely overfitted" if pbo.pbo >= 0.5
               else "the hyperopt's choice mostly holds up out of sample")
    return (f"{first}; the best epoch of one half of the days falls in the bottom half in the "
            f"other half {100 * pbo.pbo:.0f}% of the time (PBO): {verdict}.")
