"""PNG plots of the ``correlation`` command (matplotlib, Agg backend; I/O edge): the rolling
correlation per asset and window, and the cross-correlation per lag with its bands."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from .plots import _save, plt

WINDOW_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown")


def rolling_figure(rolling: pd.DataFrame, periods: pd.DataFrame, assets: Sequence[str],
                   boundaries: Sequence[str], title: str) -> plt.Figure:
    """One panel per asset: the rolling correlation of each window (``rolling``: ``session,
    asset, window, corr``), each period's correlation as a flat black segment over the
    sessions it holds (``periods``: ``asset, period, first_session, last_session, corr``;
    the ``all`` row left out), and the period ``boundaries`` inside the sessions shown as
    vertical lines."""
    fig, axes = plt.subplots(len(assets), 1, figsize=(11, 2.6 * len(assets) + 0.8), dpi=90,
                             sharex=True, sharey=True, squeeze=False)
    windows = sorted(rolling["window"].unique())
    days = pd.DatetimeIndex(rolling["session"])
    boundaries = [b for b in boundaries if not len(days)
                  or days.min() < pd.Timestamp(b) <= days.max()]  # inside the sessions shown
    for ax, asset in zip(axes[:, 0], assets, strict=True):
        mine = rolling[rolling["asset"] == asset]
        for i, window in enumerate(windows):
            part = mine[mine["window"] == window]
            ax.plot(pd.DatetimeIndex(part["session"]), part["corr"].to_numpy(dtype="float64"),
                    color=WINDOW_COLORS[i % len(WINDOW_COLORS)], lw=1.0 + 0.4 * i,
                    label=f"last {window} sessions")
        rows = periods[(periods["asset"] == asset) & (periods["period"] != "all")]
        first = True
        for row in rows.itertuples(index=False):
            if pd.isna(row.first_session) or not np.isfinite(row.corr):
                continue
            ax.hlines(row.corr, pd.Timestamp(row.first_session), pd.Timestamp(row.last_session),
                      color="black", lw=2.0, ls="--",
                      label="whole-period correlation" if first else None)
            first = False
        for when in boundaries:
            ax.axvline(pd.Timestamp(when), color="dimgray", lw=1.0, ls=":")
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_ylabel(f"{asset}\ncorrelation")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5, loc="lower right", ncol=len(windows) + 1)
        for when in boundaries:
            ax.annotate(f"{pd.Timestamp(when):%Y-%m-%d}", xy=(pd.Timestamp(when), 1.0),
                        xycoords=("data", "axes fraction"), xytext=(3, -11),
                        textcoords="offset points", fontsize=7.5, color="dimgray")
    values = rolling["corr"].to_numpy(dtype="float64")
    low = float(np.nanmin(values)) if np.isfinite(values).any() else 0.0
    axes[0, 0].set_ylim(min(-0.6, np.floor(low * 5) / 5 - 0.1), 1.0)
    axes[-1, 0].set_xlabel("session (each return: previous session's close to this one's, "
                           "crypto priced at the same instants)")
    fig.suptitle(title, fontsize=10)
    return fig


def plot_rolling(rolling: pd.DataFrame, periods: pd.DataFrame, assets: Sequence[str],
                 boundaries: Sequence[str], path: Path, title: str) -> Path:
    """:func:`rolling_figure` saved as a PNG at ``path``."""
    return _save(rolling_figure(rolling, periods, assets, boundaries, title), path)


def lags_figure(lags: pd.DataFrame, assets: Sequence[str], title: str) -> plt.Figure:
    """One panel per asset: ``corr`` per ``lag`` as bars (lag 0 dark, significant non-zero
    lags red), the plain ``band`` shaded and the ``band_robust`` dashed (``lags``:
    :data:`.correlation.LAG_COLUMNS`)."""
    n = len(assets)
    ncols = min(n, 3) if n != 4 else 2
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.4 * ncols, 3.4 * nrows + 0.8), dpi=90,
                             sharey=True, squeeze=False)
    for ax, asset in zip(axes.flat, assets, strict=False):
        mine = lags[lags["asset"] == asset].sort_values("lag")
        k = mine["lag"].to_numpy(dtype="int64")
        corr = mine["corr"].to_numpy(dtype="float64")
        significant = mine["significant"].to_numpy(dtype=bool)
        colors = np.where(k == 0, "black", np.where(significant, "tab:red", "tab:gray"))
        edges = np.concatenate([k - 0.5, [k[-1] + 0.5]]) if k.size else k
        band = mine["band"].to_numpy(dtype="float64")
        robust = mine["band_robust"].to_numpy(dtype="float64")
        if k.size:
            ax.fill_between(edges, np.append(-band, -band[-1]), np.append(band, band[-1]),
                            step="post", color="tab:blue", alpha=0.15, lw=0,
                            label="±1.96/√n (independent pairs)")
            for sign in (1, -1):
                ax.stairs(sign * robust, edges, color="tab:blue", ls="--", lw=1.0,
                          label="robust 95 % band" if sign == 1 else None)
        ax.bar(k, corr, color=colors, width=0.7)
        ax.axhline(0, color="grey", lw=0.6)
        hits = int((significant & (k != 0)).sum())
        zero = corr[k == 0]
        zero_text = f"lag 0 {zero[0]:+.2f}" if zero.size and np.isfinite(zero[0]) else "lag 0 –"
        ax.set_title(f"{asset}: {zero_text}; {hits} of {int((k != 0).sum())} other lags "
                     "significant after BH" if np.isfinite(corr).any()
                     else f"{asset}: no session with both returns", fontsize=9)
        if k.size:
            ax.set_xlim(k[0] - 0.7, k[-1] + 0.7)
        ax.set_xlabel("lag k, sessions (k > 0: the Russell leads)")
        ax.set_ylabel("corr(R2K[t], asset[t+k])")
        ax.grid(alpha=0.3, axis="y")
        handles, _ = ax.get_legend_handles_labels()
        handles += [Patch(color=c, label=t) for c, t in (
            ("black", "lag 0 (same interval)"), ("tab:red", "significant after BH"),
            ("tab:gray", "not significant"))]
        ax.legend(handles=handles, fontsize=7, loc="upper left")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=10)
    return fig


def plot_lags(lags: pd.DataFrame, assets: Sequence[str], path: Path, title: str) -> Path:
    """:func:`lags_figure` saved as a PNG at ``path``."""
    return _save(lags_figure(lags, assets, title), path)
