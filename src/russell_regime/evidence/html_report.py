"""The ``report`` command's HTML page (pure): one self-contained HTML string from tables that are
already loaded and PNG bytes that are already rendered.

:func:`render_report` takes a :class:`ReportInput` and returns the page: CSS inline, every
picture a base64 ``data:image/png`` URI, no script and no external resource, every text from
the inputs escaped. One ``<section id="...">`` with an ``<h2>`` per entry of :data:`SECTIONS`,
always all of them: a section whose input is missing says ``not available: <why>`` (by default
``<file> missing``), so an old compare folder renders too. No I/O, no clock (the caller gives
the time the report was made).
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from .compare import BUY_AND_HOLD, COMPARE_COLUMNS, UNGATED
from .report import fmt_value
from .superiority import WINNER_CAVEAT

# (id, heading) of every section, in order
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("comparison", "Gated vs ungated vs buy-and-hold"),
    ("equity", "Equity curves"),
    ("gate", "The gate over the BTC price"),
    ("random-gates", "Same-exposure random gates"),
    ("spa", "SPA and StepM: better than the ungated run?"),
    ("overfitting", "Overfitting of the hyperopt"),
    ("caveats", "Caveats"),
)
SECTION_IDS = tuple(sid for sid, _ in SECTIONS)

# the file each section needs, named in its "not available" line
FILES = {
    "summary": "compare_run.json",
    "comparison": "compare.csv",
    "equity": "compare_equity.csv",
    "gate": "compare_run.json",
    "random-gates": "compare_random_gates.csv",
    "spa": "compare_spa.csv",
}

NOT_GIVEN_HYPEROPT = "not given: pass --hyperopt-file (a freqtrade .fthypt results file)"


@dataclass(frozen=True)
class Overfit:
    """What the overfitting section shows: ``rows`` (``measure, value, meaning`` per row, values
    already text), ``sentence`` (one plain sentence), ``source`` (the hyperopt file)."""

    rows: pd.DataFrame
    sentence: str
    source: str


@dataclass(frozen=True)
class ReportInput:
    """Everything the page shows, loaded. ``None``: that input is absent (its section says
    ``not available``; ``reasons[section id]`` replaces the default ``<file> missing``).

    ``folder``: the compare output folder; ``command``: the command line that made the report;
    ``made``: when (text); ``run``: ``compare_run.json``; ``title``, ``gate_note``: compare.md's
    title and gate line (shown when ``run`` is absent); ``compare``: ``compare.csv``;
    ``control``: ``compare_random_gates.csv``; ``spa``: ``compare_spa.csv``; ``overfit``:
    :class:`Overfit` (``None`` with no hyperopt file); ``figures``: PNG bytes by section id
    (``equity``, ``gate``, ``random-gates``); ``data_end``: the last instant of the equity
    curves (text)."""

    folder: str
    command: str
    made: str
    run: Mapping[str, object] | None = None
    title: str | None = None
    gate_note: str | None = None
    compare: pd.DataFrame | None = None
    control: pd.DataFrame | None = None
    spa: pd.DataFrame | None = None
    overfit: Overfit | None = None
    figures: Mapping[str, bytes] = field(default_factory=dict)
    reasons: Mapping[str, str] = field(default_factory=dict)
    data_end: str | None = None


def render_report(inp: ReportInput) -> str:
    """The whole HTML page of ``inp`` (see the module doc)."""
    bodies: dict[str, Callable[[ReportInput], str]] = {
        "summary": _summary, "comparison": _comparison, "equity": _equity, "gate": _gate,
        "random-gates": _random_gates, "spa": _spa, "overfitting": _overfitting,
        "caveats": _caveats,
    }
    strategy = _run_value(inp.run, "strategy") or (inp.title.split()[0] if inp.title
                                                    else "compare")
    nav = " · ".join(f'<a href="#{sid}">{_e(title)}</a>' for sid, title in SECTIONS)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Russell 2000 gate report: {_e(strategy)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>Russell 2000 gate report: {_e(strategy)}</h1>",
        f"<p class=\"meta\">Made {_e(inp.made)} from {_e(inp.folder)}</p>",
        f"<nav>{nav}</nav>",
        "</header>",
        "<main>",
    ]
    for sid, title in SECTIONS:
        parts.append(f'<section id="{sid}">\n<h2>{_e(title)}</h2>\n{bodies[sid](inp)}\n'
                     "</section>")
    parts += ["</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;margin:0;
color:#1d2327;background:#fafafa;line-height:1.45}
header{background:#1f3a5f;color:#fff;padding:1em 2em}
header h1{margin:0 0 .2em;font-size:1.5em}
header .meta{margin:0 0 .5em;opacity:.85;font-size:.9em}
nav a{color:#dbe8ff;font-size:.9em}
main{max-width:1180px;margin:0 auto;padding:0 1.5em 3em}
section{background:#fff;border:1px solid #ddd;border-radius:6px;margin:1.2em 0;
padding:.4em 1.4em 1em}
h2{font-size:1.2em;border-bottom:1px solid #eee;padding-bottom:.3em}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0;display:block;overflow-x:auto}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:right;white-space:nowrap}
th{background:#f0f3f7;white-space:normal;vertical-align:bottom}
td.text,th.text{text-align:left;white-space:normal}
tr.gated td{font-weight:600}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;margin:.5em 0}
dt{font-weight:600}dd{margin:0;word-break:break-word}
img{max-width:100%;height:auto;border:1px solid #eee}
.na{color:#8a4b00;background:#fff6e5;border-left:4px solid #f0a000;padding:.4em .8em}
.plain{font-size:1.02em}
code{background:#f3f3f3;padding:0 .25em;border-radius:3px}
li{margin:.25em 0}
"""


# --- sections --------------------------------------------------------------------------------


def _summary(inp: ReportInput) -> str:
    items: list[tuple[str, str]] = []
    run = inp.run
    if run is not None:
        start, end = run.get("start"), run.get("end")
        span = (f"{instant_text(start)} .. {instant_text(end)}" if start and end
                else run.get("timerange"))
        pairs = run.get("pairs") or []
        confirmations = run.get("confirmations") or []
        items += [
            ("strategy", _text(run.get("strategy"))),
            ("timerange", f"{_text(run.get('timerange'))} ({_text(span)})"),
            ("timeframe", _text(run.get("timeframe"))),
            ("pairs", f"{len(pairs)}: {', '.join(map(str, pairs))}" if pairs else "–"),
            ("gate parameters", _gate_text(run.get("gate"))),
            ("confirmations", _confirmations_text(confirmations)),
            ("random gates", f"{_text(run.get('random_gates'))} (seed {_text(run.get('seed'))})"),
            ("SPA / StepM", f"{_text(run.get('spa_reps'))} bootstrap replications"
             if "spa_reps" in run else "–"),
            ("freqtrade config", _text(run.get("config"))),
            ("compare made", f"{_text(run.get('created'))} by russell_regime "
             f"{_text(run.get('russell_regime_version') or run.get('version'))}"),
        ]
    elif inp.title:
        items.append(("compare", inp.title))
        if inp.gate_note:
            items.append(("gate", inp.gate_note))
    items += [("report made", inp.made), ("by the command", inp.command),
              ("from the folder", inp.folder)]
    body = "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items) + "</dl>"
    if run is None:
        body = _na(inp, "summary") + body
    return body


def _comparison(inp: ReportInput) -> str:
    if inp.compare is None:
        return _na(inp, "comparison")
    frame = inp.compare
    columns = [c for c in COMPARE_COLUMNS if c in frame.columns]
    shown = frame[columns].copy().astype(object)
    for col in columns[1:]:
        shown[col] = [_fmt_cell(col, v) for v in frame[col]]
    if "final_equity" in frame.columns:
        shown["final_equity"] = [_money(v) for v in frame["final_equity"]]
        columns.append("final_equity")
    gated = frame["run"].iloc[0] if len(frame) else None
    classes = ["gated" if r == gated else "" for r in frame["run"]]
    table = html_table(shown, columns, COMPARE_LABELS, row_classes=classes)
    lines = [
        "<p>One freqtrade backtest per run on the same pairs, timerange and stake: the gate "
        "as the strategy loads it (first row), the same strategy with every class off "
        f"({_e(UNGATED)}), the gate with each confirmation, and {_e(BUY_AND_HOLD)} (bought "
        "at the first candle, one fee). Returns are of the whole account; the equity is "
        "marked to market daily. A dash: not defined (no trade, or freqtrade's own figures "
        "for buy-and-hold).</p>",
        table,
    ]
    verdict = _comparison_sentence(frame)
    if verdict:
        lines.append(f'<p class="plain">{_e(verdict)}</p>')
    return "\n".join(lines)


def _comparison_sentence(frame: pd.DataFrame) -> str:
    rows = frame.set_index("run")
    if not len(frame) or UNGATED not in rows.index:
        return ""
    gated = str(frame["run"].iloc[0])
    g, u = rows.loc[gated], rows.loc[UNGATED]
    if not all(_finite(x) for x in (g.get("total_return"), u.get("total_return"),
                                     g.get("max_drawdown"), u.get("max_drawdown"))):
        return ""
    better = ("better than" if g["total_return"] > u["total_return"] else "worse than"
              if g["total_return"] < u["total_return"] else "the same as")
    return (f"The gated run ({gated}) returned {fmt_value('total_return', g['total_return'])} "
            f"against {fmt_value('total_return', u['total_return'])} ungated ({better} "
            f"without the gate), with a worst drawdown of "
            f"{fmt_value('max_drawdown', g['max_drawdown'])} against "
            f"{fmt_value('max_drawdown', u['max_drawdown'])}, while in the market "
            f"{fmt_value('exposure', g.get('exposure'))} of the time against "
            f"{fmt_value('exposure', u.get('exposure'))}.")


def _equity(inp: ReportInput) -> str:
    if "equity" not in inp.figures:
        return _na(inp, "equity")
    return ("<p>Account equity of each run (log scale, daily mark-to-market), the gated run "
            "bold, the ungated run dashed, BTC buy-and-hold grey.</p>\n"
            + _img(inp.figures["equity"], "equity curves of every run"))


def _gate(inp: ReportInput) -> str:
    if "gate" not in inp.figures:
        return _na(inp, "gate")
    return ("<p>Green: the btc class's gate is open (long entries allowed) from the instant a "
            "session's close became available; the Russell 2000 below with its record close "
            "and resistance. Computed from the index file of the data folder with the gated "
            "run's parameters (the stale policy and confirmations are not drawn).</p>\n"
            + _img(inp.figures["gate"], "the btc gate over the BTC/USDT price"))


CONTROL_SHOWN = ("gate", "metric", "real", "random_median", "random_p05", "random_p95",
                 "percentile", "p_random", "n_random", "n_undefined", "exposure")


def _random_gates(inp: ReportInput) -> str:
    parts = ["<p>Does the gate help only because it trades less? Each random gate is open "
             "exactly as often and in spells as long as the real one, at random places; each "
             "is applied as a filter to the ungated run's trades, like the real gate. "
             "<b>percentile</b>: share of random gates below the real gate (50: no better "
             "than chance); <b>p_random</b>: share of random gates at least as good (small: "
             "hard to get by chance).</p>"]
    if inp.control is None:
        return parts[0] + "\n" + _na(inp, "random-gates")
    table = inp.control
    sentence = _control_sentence(table)
    if sentence:
        parts.append(f'<p class="plain">{_e(sentence)}</p>')
    if "random-gates" in inp.figures:
        parts.append(_img(inp.figures["random-gates"],
                          "random-gate distribution of the summed trade return"))
    else:
        why = inp.reasons.get("random-gates") or "compare_random_draws.csv missing"
        parts.append(f'<p class="na">figure not available: {_e(why)}</p>')
    columns = [c for c in CONTROL_SHOWN if c in table.columns]
    shown = table[columns].copy().astype(object)
    for col in columns:
        shown[col] = [_control_cell(col, v) for v in table[col]]
    parts.append(html_table(shown, columns, CONTROL_LABELS))
    return "\n".join(parts)


def _control_sentence(table: pd.DataFrame) -> str:
    rows = table[table["metric"] == "profit"] if "metric" in table.columns else table.iloc[:0]
    said = []
    for row in rows.itertuples(index=False):
        if not _finite(row.percentile):
            continue
        said.append(f"{row.gate} beats {row.percentile:.0f}% of its random gates "
                    f"(p_random {row.p_random:.3f})")
    if not said:
        return ""
    return "Summed trade return: " + "; ".join(said) + "."


SPA_SHOWN = ("variant", "mean_diff_annual", "sharpe", "benchmark_sharpe",
             "beats_benchmark_stepm", "spa_p_consistent", "spa_p_lower", "spa_p_upper")
SPA_LABELS = {"variant": "gate variant", "mean_diff_annual": "mean return vs ungated, per year",
              "sharpe": "Sharpe", "benchmark_sharpe": "ungated Sharpe",
              "beats_benchmark_stepm": "StepM: better", "spa_p_consistent": "SPA p",
              "spa_p_lower": "SPA p (lower)", "spa_p_upper": "SPA p (upper)"}


def _spa(inp: ReportInput) -> str:
    intro = ("<p>Having tried several gate variants (the gate, the gate with each "
             "confirmation), does any of them beat the ungated run by more than luck? Hansen's "
             "SPA test gives one p-value for the whole family (small: some variant has a "
             "higher mean daily return than the ungated run); Romano-Wolf StepM names the "
             "variants that do, at a family-wise error rate of 5 %. Both on the daily returns "
             "of the equity curves, with a stationary block bootstrap.</p>")
    if inp.spa is None:
        return intro + "\n" + _na(inp, "spa")
    frame = inp.spa
    columns = [c for c in SPA_SHOWN if c in frame.columns]
    shown = frame[columns].copy().astype(object)
    for col in columns:
        shown[col] = [_spa_cell(col, v) for v in frame[col]]
    parts = [intro, f'<p class="plain">{_e(spa_sentence(frame))}</p>',
             html_table(shown, columns, SPA_LABELS, text_columns=("variant",))]
    settings = [f"{label} {_text(frame[col].iloc[0])}" for col, label in (
        ("n_days", "days"), ("block_size", "mean block (days)"), ("reps", "replications"),
        ("seed", "seed"), ("size", "StepM size")) if col in frame.columns and len(frame)]
    if settings:
        parts.append(f"<p>{_e('; '.join(settings))}.</p>")
    return "\n".join(parts)


def spa_sentence(frame: pd.DataFrame) -> str:
    """One plain sentence read off a ``compare_spa.csv`` table (:mod:`.superiority`): the
    variants StepM finds better than the ungated run, or that none is."""
    if not len(frame) or "variant" not in frame.columns:
        return "No gate variant was compared."
    first = frame.iloc[0]
    p = first.get("spa_p_consistent")
    spa = f" (SPA p-value of the family {p:.3f})" if _finite(p) else ""
    n = len(frame)
    tried, are = (f"the {n} variants tried", "are") if n > 1 else ("the one variant tried", "is")
    flags = frame["beats_benchmark_stepm"] if "beats_benchmark_stepm" in frame.columns \
        else pd.Series(False, index=frame.index)
    winners = [str(v) for v, f in zip(frame["variant"], flags, strict=True) if _truthy(f)]
    if winners:
        verb = "beats" if len(winners) == 1 else "beat"
        return (f"{', '.join(winners)} {verb} the ungated run even after allowing for "
                f"{tried}{spa}. {WINNER_CAVEAT}")
    return (f"No gate variant beats the ungated run once {tried} {are} allowed for{spa}: the "
            "differences in the table may be luck.")


def _overfitting(inp: ReportInput) -> str:
    over = inp.overfit
    if over is None:
        reason = inp.reasons.get("overfitting", NOT_GIVEN_HYPEROPT)
        return f'<p class="na">{_e(reason)}</p>'
    return "\n".join([
        f"<p>From the hyperopt results {_e(over.source)}: the deflated Sharpe ratio (DSR) "
        "discounts the chosen epoch's Sharpe ratio for the number of epochs tried; the "
        "probability of backtest overfitting (PBO, combinatorially symmetric cross-validation) "
        "is how often the epoch best in one half of the days ranks below the median in the "
        "other half.</p>",
        f'<p class="plain">{_e(over.sentence)}</p>',
        html_table(over.rows, list(over.rows.columns), {}, text_columns=("meaning",)),
    ])


def _caveats(inp: ReportInput) -> str:
    items = [
        "Fees: every backtest pays the fee of the freqtrade config (or the exchange's, from "
        "the markets snapshot) on entry and exit; no slippage, no funding, and fills at the "
        "candle's open as freqtrade assumes. Buy-and-hold pays one fee.",
        "max_open_trades: the random-gate control filters the ungated run's trades, so it "
        "cannot show a trade the gated backtest took because the gate freed a slot that the "
        "ungated run had filled; the control's filter of the real gate and the gated backtest "
        "may then differ slightly (compare_random_gates.md prints both).",
        "The data end: results stop where the data stop"
        + (f" (the equity curves end {inp.data_end})" if inp.data_end else "")
        + "; nothing here says what happens after.",
        "No look-ahead: the gate uses a session's close only from the instant it became "
        "available (the close plus the publication lag), and each confirmation the same way; "
        "the plugin's causality tests check that for its own data. Your strategy's own "
        "signals are only as free of look-ahead as freqtrade's lookahead-analysis of it shows "
        "(russell-regime offline lookahead-analysis --strategy ...), and that analysis cannot "
        "see bias in external data.",
        "Few episodes: the Russell 2000's regimes of 2018–2025 are a handful of independent "
        "bull and bear spells; a gate that helped there may not help in the next one, and "
        "every test above treats the period as if it were many more.",
    ]
    notes = _stale_notes(inp.compare)
    if notes:
        items += [f"Stale data in {run}: {note}" for run, note in notes]
    elif inp.compare is not None:
        items.append("Stale data: no run used a series that went stale inside the timerange.")
    else:
        items.append(f"Stale data: not available: {FILES['comparison']} missing.")
    return "<ul>" + "".join(f"<li>{_e(text)}</li>" for text in items) + "</ul>"


def _stale_notes(frame: pd.DataFrame | None) -> list[tuple[str, str]]:
    if frame is None or "note" not in frame.columns:
        return []
    return [(str(r), str(n)) for r, n in zip(frame["run"], frame["note"], strict=True)
            if isinstance(n, str) and n.strip()]


# --- tables and cells ------------------------------------------------------------------------

COMPARE_LABELS = {
    "run": "run", "trades": "trades", "total_return": "total return", "cagr": "CAGR",
    "max_drawdown": "max drawdown", "sharpe": "Sharpe", "sortino": "Sortino",
    "calmar": "Calmar", "exposure": "time in market", "avg_trade": "avg trade",
    "win_rate": "win rate", "ft_profit_total": "freqtrade profit",
    "ft_max_drawdown": "freqtrade max drawdown", "final_equity": "final equity",
}
CONTROL_LABELS = {
    "gate": "gate", "metric": "metric", "real": "real gate", "random_median": "random median",
    "random_p05": "random 5%", "random_p95": "random 95%", "percentile": "percentile",
    "p_random": "p_random", "n_random": "random gates", "n_undefined": "undefined",
    "exposure": "gate open",
}


def html_table(
    frame: pd.DataFrame, columns: Sequence[str], labels: Mapping[str, str],
    row_classes: Sequence[str] | None = None, text_columns: Sequence[str] = ("run", "gate",
                                                                              "metric"),
) -> str:
    """An HTML table of ``frame[columns]`` (values shown with ``str``, every cell and header
    escaped); ``labels`` renames headers; ``text_columns`` are left-aligned."""
    def cls(col: str) -> str:
        return ' class="text"' if col in text_columns or col == columns[0] else ""

    head = "".join(f"<th{cls(c)}>{_e(labels.get(c, c))}</th>" for c in columns)
    rows = []
    for i, rec in enumerate(frame[list(columns)].itertuples(index=False)):
        row_cls = row_classes[i] if row_classes is not None else ""
        attr = f' class="{_e(row_cls)}"' if row_cls else ""
        cells = "".join(f"<td{cls(c)}>{_e(_text(v))}</td>" for c, v in zip(columns, rec,
                                                                          strict=True))
        rows.append(f"<tr{attr}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _fmt_cell(column: str, value: object) -> str:
    if column == "trades" and _finite(value):
        return f"{int(value):,}"
    return fmt_value(column, value)


def _control_cell(column: str, value: object) -> str:
    if not _finite(value):
        return "–" if not isinstance(value, str) else value
    if column in ("real", "random_mean", "random_median", "random_p05", "random_p95"):
        return f"{value:+.4g}"
    if column == "percentile":
        return f"{value:.1f}"
    if column == "p_random":
        return f"{value:.3f}"
    if column == "exposure":
        return f"{100 * value:.1f}%"
    if column in ("n_random", "n_undefined"):
        return f"{int(value)}"
    return _text(value)


def _spa_cell(column: str, value: object) -> str:
    if column == "beats_benchmark_stepm":
        return "yes" if _truthy(value) else "no"
    if not _finite(value):
        return _text(value)
    if column == "mean_diff_annual":
        return f"{100 * float(value):+.1f}%"
    if column.startswith("spa_p"):
        return f"{float(value):.3f}"
    return f"{float(value):.2f}"


def _money(value: object) -> str:
    return f"{float(value):,.0f}" if _finite(value) else "–"


def _finite(value: object) -> bool:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return bool(value) and not (isinstance(value, float) and math.isnan(value))


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return str(value)


def _gate_text(gate: object) -> str:
    """``btc: mode any, lookback 252; eth: ...`` from ``{"btc_mode": "any", ...}`` (names
    without a class prefix as ``name=value``)."""
    if not isinstance(gate, Mapping) or not gate:
        return _text(gate)
    groups: dict[str, list[str]] = {}
    for key, value in gate.items():
        cls, sep, name = str(key).partition("_")
        if sep and cls in ("btc", "eth", "alt"):
            groups.setdefault(cls, []).append(f"{name} {value}")
        else:
            groups.setdefault("", []).append(f"{key}={value}")
    return "; ".join(f"{cls}: {', '.join(v)}" if cls else ", ".join(v)
                     for cls, v in groups.items())


def _confirmations_text(confirmations: object) -> str:
    """``vix (rule level, level 20, window 20); ...`` from compare_run.json's section (a
    mapping key -> settings; file paths left out), or the keys of a list."""
    if not confirmations:
        return "none"
    if not isinstance(confirmations, Mapping):
        return ", ".join(map(str, confirmations))
    hidden = {"path", "versus_path", "source"}
    parts = []
    for key, spec in confirmations.items():
        shown = ", ".join(f"{n} {v}" for n, v in spec.items() if n not in hidden) \
            if isinstance(spec, Mapping) else _text(spec)
        parts.append(f"{key} ({shown})" if shown else str(key))
    return "; ".join(parts)


def instant_text(value: object) -> str:
    """An ISO instant as ``YYYY-MM-DD HH:MM UTC`` (``YYYY-MM-DD`` at midnight); anything
    pandas cannot read as given."""
    try:
        stamp = pd.Timestamp(str(value))
    except (TypeError, ValueError):
        return _text(value)
    if pd.isna(stamp):
        return _text(value)
    stamp = stamp.tz_convert("UTC") if stamp.tz is not None else stamp
    return f"{stamp:%Y-%m-%d}" if stamp == stamp.normalize() else f"{stamp:%Y-%m-%d %H:%M} UTC"


def _run_value(run: Mapping[str, object] | None, key: str) -> str | None:
    if run is None or run.get(key) in (None, ""):
        return None
    return str(run[key])


def _na(inp: ReportInput, sid: str) -> str:
    reason = inp.reasons.get(sid) or f"{FILES.get(sid, 'input')} missing"
    return f'<p class="na">not available: {_e(reason)}</p>'


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
