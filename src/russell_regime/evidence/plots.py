"""PNG plots of the event study (matplotlib, Agg backend; I/O edge)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

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
    ax.set_ylabel("Russell 2000 (log)")
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
    ax2.set_ylabel("BTC/USDT (log)", color="tab:orange")
    lines, labels = ax.get_legend_handles_labels()
    lines2, labels2 = ax2.get_legend_handles_labels()
    ax.legend(lines + lines2, labels + labels2, fontsize=7, loc="upper left", ncol=2)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_equity(curves: Mapping[str, pd.Series], path: Path, title: str) -> Path:
    """Equity curves (log scale) of several runs on one axis."""
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=90)
    for i, (name, curve) in enumerate(curves.items()):
        ax.plot(curve.index.tz_localize(None), curve.to_numpy(), lw=1.2, color=f"C{i}",
                label=name)
    ax.set_yscale("log")
    ax.set_ylabel("equity, USDT (log)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
