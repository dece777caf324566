"""PNG plots of the event study (matplotlib, Agg backend; I/O edge)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

KIND_STYLE = {
    "ath": ("tab:green", "o"),
    "breakout_252": ("tab:orange", "^"),
    "retest_252": ("tab:purple", "s"),
    "breakout_756": ("tab:red", "^"),
    "retest_756": ("tab:brown", "s"),
    "spx_ath": ("tab:gray", "x"),
    "random": ("tab:cyan", "."),
}


def _style(kind: str, i: int) -> tuple[str, str]:
    return KIND_STYLE.get(kind, (f"C{i % 10}", "o"))


def plot_average_paths(
    days: np.ndarray,
    paths: Mapping[str, np.ndarray],
    base: np.ndarray,
    asset: str,
    path: Path,
    base_band: tuple[np.ndarray, np.ndarray] | None = None,
    stat: str = "mean",
) -> Path:
    """``stat`` (mean or median) cumulative return after each event kind (``paths[kind]`` =
    events x days, normalised to 1 at entry) against the base rate (``base``: the same
    statistic over every start)."""
    reduce = {"mean": np.nanmean, "median": np.nanmedian}[stat]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=90)
    if base_band is not None:
        ax.fill_between(days, 100 * (base_band[0] - 1), 100 * (base_band[1] - 1),
                        color="black", alpha=0.08, label="base rate 25–75 %")
    ax.plot(days, 100 * (base - 1), color="black", lw=2, ls="--", label=f"base rate ({stat})")
    for i, (kind, p) in enumerate(paths.items()):
        color, _ = _style(kind, i)
        n = int(np.isfinite(p[:, 0]).sum()) if p.size else 0
        if n == 0:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN days past the data
            line = reduce(p, axis=0)
        lw = 1.2 if kind in ("spx_ath", "random") else 1.8
        ax.plot(days, 100 * (line - 1), color=color, lw=lw, label=f"{kind} (n={n})")
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xlabel("days after the event became available")
    ax.set_ylabel(f"{stat} cumulative return, %")
    ax.set_title(f"{asset}: {stat} path after Russell 2000 events vs base rate")
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_index_events(
    index: pd.Series, events: pd.DataFrame, btc: pd.Series, path: Path, title: str
) -> Path:
    """The index (log scale) with events marked by kind, BTC (log) on a second axis.

    ``index``: close by session (naive dates); ``events``: kind, session;
    ``btc``: close by UTC date.
    """
    fig, ax = plt.subplots(figsize=(10, 5), dpi=90)
    ax.plot(index.index, index.to_numpy(), color="black", lw=1.0, label="Russell 2000")
    ax.set_yscale("log")
    _plain_log_ticks(ax)
    ax.set_ylabel("Russell 2000 (log)")
    ax.set_xlabel("date (index sessions; BTC by UTC day)")
    kinds = list(dict.fromkeys(events["kind"]))
    for i, kind in enumerate(kinds):
        sessions = pd.DatetimeIndex(events.loc[events["kind"] == kind, "session"])
        level = index.reindex(sessions).to_numpy()
        color, marker = _style(kind, i)
        offset = 1.0 + 0.025 * (i + 1)
        ax.scatter(sessions, level * offset, color=color, marker=marker, s=28, zorder=3,
                   label=kind)
    ax2 = ax.twinx()
    ax2.plot(btc.index.tz_localize(None), btc.to_numpy(), color="tab:orange", lw=0.8, alpha=0.6,
             label="BTC/USDT")
    ax2.set_yscale("log")
    _plain_log_ticks(ax2)
    ax2.set_ylabel("BTC/USDT (log)", color="tab:orange")
    lines, labels = ax.get_legend_handles_labels()
    lines2, labels2 = ax2.get_legend_handles_labels()
    ax.legend(lines + lines2, labels + labels2, fontsize=7, loc="upper left", ncol=2)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_equity(curves: Mapping[str, pd.Series], path: Path, title: str) -> Path:
    """:func:`equity_figure` saved as a PNG at ``path``."""
    return _save(equity_figure(curves, title), path)


def equity_figure(curves: Mapping[str, pd.Series], title: str) -> plt.Figure:
    """Equity curves (log scale) of several runs on one axis: the first run (the gate) bold,
    the ungated run dashed, buy-and-hold thin and grey, the starting equity as a line."""
    fig, ax = plt.subplots(figsize=(10, 5.2), dpi=90)
    start = None
    for i, (name, curve) in enumerate(curves.items()):
        style = {"lw": 1.2, "color": f"C{i}"}
        if i == 0:
            style["lw"] = 2.0
        elif name.startswith("ungated"):
            style["ls"] = "--"
        elif "buy-and-hold" in name:
            style = {"lw": 0.9, "color": "dimgray", "alpha": 0.8}
        ax.plot(curve.index.tz_localize(None), curve.to_numpy(), label=name, **style)
        if start is None and len(curve):
            start = float(curve.iloc[0])
    if start is not None:
        ax.axhline(start, color="black", lw=0.6, ls=":", label=f"start ({start:,.0f} USDT)")
    ax.set_yscale("log")
    _plain_log_ticks(ax)
    ax.set_ylabel("equity, USDT (log scale; daily mark-to-market)")
    ax.set_xlabel("date (UTC)")
    ax.set_title(f"Equity: {title}")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    return fig

METRIC_LABELS = {
    "trades": "trades kept",
    "profit": "profit: summed profit_ratio of the kept trades",
    "profit_per_1k_open": "profit per 1000 open pair-candles",
    "profit_per_1k_in_trade": "profit per 1000 hours in trades",
}


def plot_random_gates(
    draws: pd.DataFrame, summary: pd.DataFrame, metric: str, path: Path, title: str
) -> Path:
    """:func:`random_gates_figure` saved as a PNG at ``path``."""
    return _save(random_gates_figure(draws, summary, metric, title), path)


def random_gates_figure(
    draws: pd.DataFrame, summary: pd.DataFrame, metric: str, title: str
) -> plt.Figure:
    """One histogram per gate row of the random gates' ``metric`` with the real gate's value as
    a vertical line, its percentile and ``p_random`` in the panel title.

    ``draws``: ``gate`` and ``metric`` per random gate (:func:`.random_gate.gate_control`);
    ``summary``: ``gate, metric, real, percentile, p_random, n_random, exposure`` rows.
    """
    rows = summary[summary["metric"] == metric].reset_index(drop=True)
    n = max(len(rows), 1)
    ncols = 2 if n > 1 else 1
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.4 * nrows + 0.6), dpi=90,
                             squeeze=False)
    for ax, row in zip(axes.flat, rows.itertuples(index=False), strict=False):
        values = draws.loc[draws["gate"] == row.gate, metric].to_numpy(dtype="float64")
        values = values[np.isfinite(values)]
        if values.size:
            ax.hist(values, bins=min(40, max(10, values.size // 10)), color="tab:gray",
                    alpha=0.7, label=f"{values.size} random gates")
            ax.axvline(float(np.median(values)), color="black", lw=1, ls=":",
                       label="random median")
        if np.isfinite(row.real):
            ax.axvline(float(row.real), color="tab:red", lw=2.2,
                       label=f"real gate {row.real:+.3g}")
        pct = "–" if pd.isna(row.percentile) else f"{row.percentile:.1f}"
        p = "–" if pd.isna(row.p_random) else f"{row.p_random:.3f}"
        ax.set_title(f"{row.gate} (exposure {100 * row.exposure:.1f}%): "
                     f"percentile {pct}, p_random {p}", fontsize=9)
        ax.set_xlabel(METRIC_LABELS.get(metric, metric))
        ax.set_ylabel("random gates")
        ax.legend(fontsize=7, loc="upper left")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(rows):]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=10)
    return fig


def _naive(times) -> pd.DatetimeIndex:
    t = pd.DatetimeIndex(times)
    return t.tz_convert("UTC").tz_localize(None) if t.tz is not None else t


def plot_gate_over_btc(
    btc: pd.Series,
    timeline: pd.DataFrame,
    spells: Sequence[tuple[pd.Timestamp, pd.Timestamp]],
    marks: Sequence[tuple[pd.Timestamp, str]],
    path: Path,
    title: str,
) -> Path:
    """:func:`gate_over_btc_figure` saved as a PNG at ``path``."""
    return _save(gate_over_btc_figure(btc, timeline, spells, marks, title), path)


def gate_over_btc_figure(
    btc: pd.Series,
    timeline: pd.DataFrame,
    spells: Sequence[tuple[pd.Timestamp, pd.Timestamp]],
    marks: Sequence[tuple[pd.Timestamp, str]],
    title: str,
) -> plt.Figure:
    """BTC/USDT close (log) over the gate's open spells, the Russell 2000 below with its
    record high and resistance; ``marks`` (instant, label) drawn as labelled vertical lines.

    ``btc``: close by UTC time; ``timeline``: ``available_at, close, ath, resistance`` per
    session (:func:`.alignment.gate_timeline`); ``spells``: ``(start, stop)`` of the open gate.
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7.5), dpi=90, sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    x_btc = _naive(btc.index)
    x_rut = _naive(timeline["available_at"])
    for ax in (top, bottom):
        for i, (start, stop) in enumerate(spells):
            ax.axvspan(_naive([start])[0], _naive([stop])[0], color="tab:green", alpha=0.18,
                       lw=0, label="btc gate open (long entries allowed)" if i == 0 else None)
    top.plot(x_btc, btc.to_numpy(), color="tab:orange", lw=1.1, label="BTC/USDT daily close")
    top.set_yscale("log")
    _plain_log_ticks(top)
    top.set_ylabel("BTC/USDT (log scale)")
    bottom.plot(x_rut, timeline["close"].to_numpy(), color="black", lw=1.0,
                label="Russell 2000 close")
    bottom.plot(x_rut, timeline["ath"].to_numpy(), color="tab:blue", lw=1.0, ls="--",
                label="record close so far (ATH)")
    bottom.plot(x_rut, timeline["resistance"].to_numpy(), color="tab:red", lw=0.9, ls=":",
                label="resistance (highest close of the previous 252 sessions)")
    bottom.set_ylabel("Russell 2000")
    levels = timeline[["close", "ath"]].to_numpy(dtype="float64")
    if np.isfinite(levels).any():  # headroom for the legend above the lines
        lo, hi = float(np.nanmin(levels)), float(np.nanmax(levels))
        bottom.set_ylim(lo - 0.05 * (hi - lo), hi + 0.35 * (hi - lo))
    btc_at = btc.copy()
    btc_at.index = x_btc
    for i, (when, label) in enumerate(sorted(marks)):
        x = _naive([when])[0]
        for ax in (top, bottom):
            ax.axvline(x, color="tab:purple", lw=1.0, ls="--", alpha=0.8)
        y = btc_at.asof(x) if len(btc_at) and x >= btc_at.index[0] else np.nan
        text = f"{x:%Y-%m-%d}" + (f": {label}" if label else "")
        left = i % 2 == 0
        top.annotate(
            text, xy=(x, y), xycoords="data",
            xytext=(-12 if left else 12, 0), textcoords="offset points",
            ha="right" if left else "left", va="center", fontsize=8.5,
            bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "tab:purple", "alpha": 0.9},
            arrowprops={"arrowstyle": "-", "color": "tab:purple"},
        )
        top.plot([x], [y], marker="o", color="tab:purple", ms=5, zorder=4)
    top.set_title(title, fontsize=10)
    top.legend(fontsize=8, loc="upper left")
    bottom.legend(fontsize=8, loc="upper left", ncol=2)
    bottom.set_xlabel("date (UTC); the gate changes when a session's close becomes available")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    return fig


def _plain_log_ticks(ax: plt.Axes) -> None:
    """Tick labels of a log axis as plain numbers with thousands separators (minor ticks
    labelled at 2, 3 and 5 times a power of ten only)."""

    def minor(v: float, _pos: int) -> str:
        if v <= 0:
            return ""
        lead = round(v / 10 ** np.floor(np.log10(v)), 6)
        return f"{v:,.0f}" if lead in (2.0, 3.0, 5.0) else ""

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(minor))


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
