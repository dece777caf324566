"""Event-study and comparison tables: assembly (pure) and writing (CSV, markdown, rich).

:func:`study_table` is the event study's arithmetic in one place: for each event kind, asset
and horizon it compares the events' forward metrics with the base rate (every start in the
same period whose horizon fits), bootstraps the difference and runs the random-date placebo.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from .bootstrap import block_bootstrap_diff, percentile_ci, placebo_means, placebo_pvalue, rng_for
from .forward import NO_DATA, OK, PAST_END, STATUS_NAMES, Forward, summarize

SESSIONS_PER_YEAR = 252


@dataclass(frozen=True)
class StudySettings:
    """Horizons (days), bootstrap and placebo settings of :func:`study_table`."""

    horizons: tuple[int, ...] = (7, 30, 90, 180, 365)
    seed: int = 7
    reps: int = 2000
    draws: int = 5000
    level: float = 0.90
    block: int | None = None  # None: the horizon in sessions (>= 5)

    def block_for(self, days: int) -> int:
        """Block length (in starts = sessions) used for a horizon of ``days``."""
        if self.block is not None:
            return int(self.block)
        return max(5, int(round(days * SESSIONS_PER_YEAR / 365)))


def study_table(
    forwards: Mapping[str, Forward],
    slots: np.ndarray,
    base: np.ndarray,
    events: pd.DataFrame,
    settings: StudySettings,
) -> pd.DataFrame:
    """One row per (kind, asset, horizon).

    ``forwards[asset]`` has one row per entry of ``slots`` (increasing grid slots) and one
    column per horizon; ``base`` marks the slots that make the base rate (all sessions);
    ``events`` has ``kind`` and ``slot`` (a slot of ``slots``). Events whose horizon runs past
    the end are excluded (``n_past_end``), as are those before the asset's data (``n_no_data``).
    """
    rows = []
    slot_row = {int(s): i for i, s in enumerate(slots)}
    base = np.asarray(base, dtype=bool)
    for kind, group in events.groupby("kind", sort=False):
        ev_rows = np.array([slot_row[int(s)] for s in group["slot"]], dtype=np.int64)
        is_event = np.zeros(len(slots), dtype=bool)
        is_event[ev_rows] = True
        for asset, fw in forwards.items():
            for col, days in enumerate(settings.horizons):
                status = fw.status[:, col]
                ok = status == OK
                ev_ok = ev_rows[ok[ev_rows]]
                use = base & ok
                row = {
                    "kind": kind,
                    "asset": asset,
                    "horizon_days": int(days),
                    "n_events": int(ev_ok.size),
                    "n_past_end": int((status[ev_rows] == PAST_END).sum()),
                    "n_no_data": int((status[ev_rows] == NO_DATA).sum()),
                }
                ev = summarize(fw.ret[ev_ok, col])
                bs = summarize(fw.ret[use, col])
                row |= {
                    "mean": ev["mean"], "median": ev["median"], "hit": ev["hit"],
                    "max_gain": _mean(fw.gain[ev_ok, col]), "max_dd": _mean(fw.dd[ev_ok, col]),
                    "base_n": bs["n"], "base_mean": bs["mean"], "base_median": bs["median"],
                    "base_hit": bs["hit"], "base_max_gain": _mean(fw.gain[use, col]),
                    "base_max_dd": _mean(fw.dd[use, col]),
                    "diff": ev["mean"] - bs["mean"],
                }
                row |= _uncertainty(
                    fw.ret[use, col], is_event[use], settings, days, (kind, asset, days)
                )
                rows.append(row)
    return pd.DataFrame(rows)


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if np.size(values) else np.nan


def _uncertainty(
    values: np.ndarray, is_event: np.ndarray, settings: StudySettings, days: int, key: tuple
) -> dict[str, float]:
    out = {"ci_low": np.nan, "ci_high": np.nan, "boot_no_event": np.nan, "p_placebo": np.nan}
    k = int(is_event.sum())
    if k == 0 or values.size < 2:
        return out
    diffs = block_bootstrap_diff(
        values, is_event, settings.block_for(days), settings.reps,
        rng_for(settings.seed, "bootstrap", *key),
    )
    out["ci_low"], out["ci_high"] = percentile_ci(diffs, settings.level)
    out["boot_no_event"] = float(np.isnan(diffs).mean())
    draws = placebo_means(values, k, settings.draws, rng_for(settings.seed, "placebo", *key))
    out["p_placebo"] = placebo_pvalue(float(values[is_event].mean()), draws)
    return out


def event_detail(
    forwards: Mapping[str, Forward],
    slots: np.ndarray,
    events: pd.DataFrame,
    entry_times: Mapping[str, pd.DatetimeIndex],
    horizons: Sequence[int],
) -> pd.DataFrame:
    """One row per (event, asset, horizon): ret, max_gain, max_dd, status and the entry time.

    ``events`` has ``kind, session, available_at, slot``; ``entry_times[asset]`` holds the
    entry candle's open time per slot row (NaT when none).
    """
    slot_row = {int(s): i for i, s in enumerate(slots)}
    rows = []
    for ev in events.itertuples(index=False):
        r = slot_row[int(ev.slot)]
        for asset, fw in forwards.items():
            for col, days in enumerate(horizons):
                rows.append({
                    "kind": ev.kind,
                    "session": pd.Timestamp(ev.session).date(),
                    "available_at": ev.available_at,
                    "asset": asset,
                    "entry_time": entry_times[asset][r],
                    "horizon_days": int(days),
                    "status": STATUS_NAMES[int(fw.status[r, col])],
                    "ret": fw.ret[r, col],
                    "max_gain": fw.gain[r, col],
                    "max_dd": fw.dd[r, col],
                })
    return pd.DataFrame(rows)


# --- formatting ------------------------------------------------------------------------------

PCT_COLUMNS = (
    "mean", "median", "hit", "max_gain", "max_dd", "base_mean", "base_median", "base_hit",
    "base_max_gain", "base_max_dd", "diff", "ci_low", "ci_high", "ret", "total_return", "cagr",
    "max_drawdown", "exposure", "ft_profit_total", "ft_max_drawdown", "avg_trade", "win_rate",
)

SHARE_COLUMNS = ("hit", "base_hit", "exposure", "win_rate")


def fmt_value(column: str, value: object) -> str:
    """Percentages for return-like columns, 2 decimals for ratios, plain otherwise."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if isinstance(value, (float, np.floating)):
        if column in SHARE_COLUMNS:
            return f"{100.0 * value:.0f}%"
        if column == "avg_trade":
            return f"{100.0 * value:+.2f}%"
        if column in PCT_COLUMNS:
            return f"{100.0 * value:+.1f}%"
        if column.startswith("p_"):
            return f"{value:.3f}"
        return f"{value:.2f}"
    return str(value)


def to_markdown(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> str:
    """A GitHub markdown table of ``frame`` with :func:`fmt_value` formatting."""
    cols = list(columns or frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for rec in frame[cols].itertuples(index=False):
        cells = (fmt_value(c, v) for c, v in zip(cols, rec, strict=True))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def rich_table(frame: pd.DataFrame, title: str, columns: Sequence[str] | None = None) -> Table:
    """A rich Table of ``frame`` with :func:`fmt_value` formatting."""
    cols = list(columns or frame.columns)
    table = Table(title=title, show_lines=False, header_style="bold")
    for c in cols:
        table.add_column(c, justify="left" if frame[c].dtype == object else "right")
    for rec in frame[cols].itertuples(index=False):
        table.add_row(*(fmt_value(c, v) for c, v in zip(cols, rec, strict=True)))
    return table


def write_outputs(
    out_dir: Path, tables: Mapping[str, pd.DataFrame], markdown: str | None = None,
    markdown_name: str = "summary.md",
) -> list[Path]:
    """Write each table to ``<out_dir>/<name>.csv`` and ``markdown`` to ``markdown_name``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        path = out_dir / f"{name}.csv"
        frame.to_csv(path, index=False, float_format="%.6g")
        written.append(path)
    if markdown is not None:
        path = out_dir / markdown_name
        path.write_text(markdown, encoding="utf-8")
        written.append(path)
    return written


def print_table(
    console: Console, frame: pd.DataFrame, title: str, columns: Sequence[str] | None = None
) -> None:
    console.print(rich_table(frame, title, columns))
