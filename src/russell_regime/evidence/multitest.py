"""Multiple-testing correction (pure): Benjamini-Hochberg adjusted p-values.

:func:`bh_adjust` is the step-up procedure of Benjamini & Hochberg (1995) for ``m`` p-values:
sort them ``p_(1) <= ... <= p_(m)``, ``q_(i) = min_{j >= i} min(1, p_(j) * m / j)``; a test
"survives at q" when its adjusted p-value is <= q (this controls the false discovery rate at q
for independent or positively dependent tests). NaN p-values are not tests: they stay NaN and do
not count in ``m``. Same as ``scipy.stats.false_discovery_control(p, method="bh")``.

:func:`with_bh` adds ``p_bh`` to a study table: one family for every Russell kind (including
``<kind>+<confirmation>``) x asset x horizon, one for the placebo rows (``spx_ath``,
``random``), so the placebos never make the Russell tests look worse or better.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

PLACEBO_KINDS = ("spx_ath", "random")
FAMILY_RUSSELL = "russell"
FAMILY_PLACEBO = "placebo"


def bh_adjust(pvalues: Iterable[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values, same order and shape as the input (NaN kept)."""
    p = np.asarray(list(pvalues) if not isinstance(pvalues, np.ndarray) else pvalues,
                   dtype="float64")
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ((p[ok] < 0) | (p[ok] > 1)).any():
        bad = p[ok][(p[ok] < 0) | (p[ok] > 1)][0]
        raise ValueError(f"p-values must be in [0, 1], got {bad!r}")
    m = int(ok.sum())
    if m == 0:
        return out
    values = p[ok]
    order = np.argsort(values, kind="stable")
    ranked = values[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    result = np.empty(m)
    result[order] = adjusted
    out[ok] = result
    return out


def bh_family(kinds: pd.Series, placebo_kinds: Iterable[str] = PLACEBO_KINDS) -> np.ndarray:
    """``"placebo"`` for placebo kinds, ``"russell"`` otherwise (per row)."""
    placebo = pd.Series(kinds).isin(list(placebo_kinds)).to_numpy()
    return np.where(placebo, FAMILY_PLACEBO, FAMILY_RUSSELL).astype(object)


def with_bh(
    table: pd.DataFrame, column: str = "p_placebo", placebo_kinds: Iterable[str] = PLACEBO_KINDS
) -> pd.DataFrame:
    """``table`` plus ``bh_family`` and ``p_bh`` (BH-adjusted ``column`` within each family),
    ``p_bh`` placed right after ``column``."""
    out = table.copy()
    family = bh_family(out["kind"], placebo_kinds)
    adjusted = np.full(len(out), np.nan)
    for name in (FAMILY_RUSSELL, FAMILY_PLACEBO):
        rows = family == name
        adjusted[rows] = bh_adjust(out[column].to_numpy(dtype="float64")[rows])
    out.insert(out.columns.get_loc(column) + 1, "p_bh", adjusted)
    out["bh_family"] = family
    return out


def survivors(table: pd.DataFrame, q: float, family: str = FAMILY_RUSSELL) -> pd.DataFrame:
    """Rows of ``family`` whose BH-adjusted p-value is <= ``q``."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), got {q!r}")
    rows = (table["bh_family"] == family) & (table["p_bh"] <= q)
    return table.loc[rows]


def survival_summary(table: pd.DataFrame, levels: Iterable[float] = (0.05, 0.10)) -> str:
    """One line: tests per family, raw p < 0.05, and survivors at each BH level."""
    parts = []
    for family in (FAMILY_RUSSELL, FAMILY_PLACEBO):
        mine = table[table["bh_family"] == family]
        tested = int(np.isfinite(mine["p_placebo"].to_numpy(dtype="float64")).sum())
        if not tested:
            continue
        raw = int((mine["p_placebo"] < 0.05).sum())
        counts = ", ".join(f"{len(survivors(table, q, family))} at q = {q:.2f}" for q in levels)
        parts.append(f"{family}: {tested} tests, {raw} with raw p < 0.05, BH survivors {counts}")
    return "multiple testing (Benjamini-Hochberg): " + "; ".join(parts)
