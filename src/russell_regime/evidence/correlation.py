"""Does the Russell 2000 lead, lag or move with crypto? Correlation on the same wall-clock
intervals (pure: no I/O, no clock).

**Intervals.** Session ``i`` of the index file covers ``[available_at[i-1], available_at[i]]``
(``available_at`` from :class:`core.calendar.Availability`: the NYSE close, 13:00 New York on
early-close days, plus the publication lag). Both returns of a pair cover that interval, so a
Friday-to-Monday pair holds the crypto weekend in the crypto return.

**Price at an instant** (:func:`price_at`): the close of the last candle whose close instant
(open + timeframe) is at or before the instant, when that close is at most ``max_stale``
(default 2 hours) before it; else NaN (a gap in the files). The price is known at the
instant (causal: never a candle still open then). With the default 15-minute lag this is the
1h candle closing exactly at the NYSE close (16:00 New York, 13:00 on early-close days: New
York is a whole number of hours off UTC), so the crypto price is synchronous with the
index close.

**Returns** (:func:`session_returns`): log returns. ``R2K``: ``log(close[i] / close[i-1])``;
each coin: ``log(P(available_at[i]) / P(available_at[i-1]))``; the altcoin basket ``ALT``
(the event study's: every pair whose class is ``alt``, :func:`core.gate.pair_class`): equal
weight at the start of the interval, held to its end, over the alts priced at both ends
(each from its own first candle), i.e. ``log(1 + mean of their simple returns)``.

**Rolling** (:func:`rolling_corr`): Pearson correlation of the last ``window`` sessions, NaN
until ``window`` sessions have passed since the asset's first return and when fewer than
``ceil(MIN_SHARE * window)`` of them hold both returns (a gap in the candles does not blank a
whole window); equal to ``pandas`` ``rolling(window, min_periods).corr`` once full.

**Periods** (:func:`period_table`): Pearson correlation per period of session dates (before
2020, 2020-2021, 2022+ and all), a 95 % Fisher-z interval (``tanh(atanh r +- 1.96 / sqrt(n -
3))``: assumes independent pairs), a seeded circular block-bootstrap percentile interval
(blocks of ``block`` sessions keep volatility clustering), and Spearman's rank correlation
with its Fisher interval (standard error ``sqrt(1.06 / (n - 3))``, Fieller et al. 1957).

**Lags** (:func:`cross_correlation`): ``corr(R2K[t], asset[t + k])`` for ``k`` in
``-max_lag..max_lag`` sessions over the pairs holding both returns: ``k > 0``: the Russell
LEADS the asset by ``k`` sessions; ``k < 0``: the asset leads. ``band`` ``+- 1.96 / sqrt(n)``
is the 95 % range of a sample correlation when there is no cross-correlation and the pairs
are independent (no autocorrelation, constant variance); ``p`` = the two-sided normal
p-value of ``r * sqrt(n)`` (outside the band <=> ``p < 0.05``). Daily returns are not
independent in that sense: their volatility clusters, in both markets at once (March 2020),
which makes that band too narrow. ``p_robust`` is therefore the two-sided normal p-value of
the heteroskedasticity-robust statistic ``sum(u v) / sqrt(sum(u^2 v^2))`` (``u``, ``v`` the
demeaned returns of the pairs; Dalla, Giraitis & Phillips 2022), and ``band_robust`` the
matching 95 % band ``1.96 * sqrt(sum(u^2 v^2) / (sum(u^2) sum(v^2)))`` (equal to ``band``
for independent pairs of constant variance). The ``2 * max_lag`` non-zero lags form one
family: ``p_bh`` (Benjamini-Hochberg of ``p_robust``, :func:`.multitest.bh_adjust`) and
``p_bonferroni``; a non-zero lag is ``significant`` when ``p_bh <= q`` (0.05), lag 0 (one
test decided in advance) when ``p_robust < 0.05``.

**Verdict** (:func:`verdict`), from those columns only: lag 0 significant and positive ->
"moves with the Russell", negative -> "moves against the Russell", else "no same-session
co-movement"; then every significant positive lag -> "the Russell leads <asset>", every
significant negative lag -> "<asset> leads the Russell", none -> "no lead or lag survives BH
at q over m lags", with the number of lags outside the plain and the robust band before the
adjustment.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from ..core.gate import pair_class
from .bootstrap import circular_block_indices, percentile_ci, rng_for
from .multitest import bh_adjust

INDEX = "R2K"
BASKET = "ALT"  # as the event study's basket (study.BASKET)
HOUR = pd.Timedelta(hours=1)
MAX_STALE = pd.Timedelta(hours=2)
MIN_SHARE = 0.9
LEVEL = 0.95
Q = 0.05
BOOT_BLOCK = 20
Z = NormalDist().inv_cdf(0.5 + LEVEL / 2)  # 1.959964
BOUNDARIES = ("2020-01-01", "2022-01-01")
PERIODS: tuple[tuple[str, str | None, str | None], ...] = (
    ("before 2020", None, "2020-01-01"),
    ("2020-2021", "2020-01-01", "2022-01-01"),
    ("2022+", "2022-01-01", None),
    ("all", None, None),
)

ROLLING_COLUMNS = ("session", "asset", "window", "corr")
PERIOD_COLUMNS = ("asset", "period", "first_session", "last_session", "n", "corr",
                  "fisher_low", "fisher_high", "boot_low", "boot_high", "spearman",
                  "spearman_low", "spearman_high")
LAG_COLUMNS = ("asset", "lag", "corr", "n", "band", "p", "outside_band", "band_robust",
               "p_robust", "outside_robust", "p_bh", "p_bonferroni", "significant")


# --- prices and returns ----------------------------------------------------------------------


def _utc(times) -> pd.DatetimeIndex:
    t = pd.DatetimeIndex(times)
    return t.tz_localize("UTC") if t.tz is None else t.tz_convert("UTC")


def price_at(
    candles: pd.DataFrame, times, timeframe: pd.Timedelta = HOUR,
    max_stale: pd.Timedelta = MAX_STALE,
) -> pd.DataFrame:
    """Per instant of ``times`` (UTC): ``price`` = the close of the last candle closing at or
    before it (``candles``: ``date`` = open time, ``close``) and ``price_time`` = that close
    instant (``date + timeframe``); both NaN / NaT when no candle closed within ``max_stale``
    before the instant. Index: ``times``."""
    index = _utc(times)
    times_ns = index.as_unit("ns").asi8
    opens = _utc(candles["date"]).as_unit("ns").asi8
    order = np.argsort(opens, kind="stable")
    closes_at = np.append(opens[order] + pd.Timedelta(timeframe).value, 0)  # [-1]: none
    close = np.append(candles["close"].to_numpy(dtype="float64")[order], np.nan)
    pos = np.searchsorted(closes_at[:-1], times_ns, side="right") - 1  # -1: no candle yet
    when = closes_at[pos]
    fresh = (pos >= 0) & (times_ns - when <= pd.Timedelta(max_stale).value) & np.isfinite(
        close[pos])
    nat = np.iinfo(np.int64).min  # pandas' NaT
    return pd.DataFrame({
        "price": np.where(fresh, close[pos], np.nan),
        "price_time": pd.DatetimeIndex(np.where(fresh, when, nat).view("M8[ns]")).tz_localize(
            "UTC"),
    }, index=index)


def basket_members(pairs: Sequence[str]) -> list[str]:
    """The pairs (base currencies) of the ``ALT`` basket: those whose class is ``alt``."""
    return [p for p in pairs if pair_class(f"{p}/USDT") == "alt"]


def session_returns(
    daily: pd.DataFrame, available_at: pd.DatetimeIndex,
    candles: Mapping[str, pd.DataFrame], timeframe: pd.Timedelta = HOUR,
    max_stale: pd.Timedelta = MAX_STALE,
) -> pd.DataFrame:
    """One row per session but the first: ``session``, ``start`` and ``available_at`` (the
    interval), ``R2K`` and one log return per pair of ``candles`` (``{base: 1h candles}``),
    then ``ALT`` when a pair is an alt (module doc). NaN where a price is missing."""
    times = _utc(available_at)
    close = daily["close"].to_numpy(dtype="float64")
    out = pd.DataFrame({
        "session": pd.DatetimeIndex(daily["session"])[1:],
        "start": times[:-1],
        "available_at": times[1:],
        INDEX: np.log(close[1:] / close[:-1]),
    })
    simple = {}
    for name, frame in candles.items():
        p = price_at(frame, times, timeframe, max_stale)["price"].to_numpy()
        simple[name] = p[1:] / p[:-1] - 1.0
        out[name] = np.log1p(simple[name])
    alts = basket_members(list(candles))
    if alts:
        stack = np.vstack([simple[a] for a in alts])
        usable = np.isfinite(stack)
        count = usable.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(usable, stack, 0.0).sum(axis=0) / count
        out[BASKET] = np.where(count > 0, np.log1p(mean), np.nan)
    return out


def asset_columns(returns: pd.DataFrame) -> list[str]:
    """The asset columns of a :func:`session_returns` frame (every column after ``R2K``)."""
    cols = list(returns.columns)
    return cols[cols.index(INDEX) + 1:]


# --- correlation -----------------------------------------------------------------------------


def _pearson(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """Pearson correlation of the pairs where both are finite, and their number."""
    ok = np.isfinite(x) & np.isfinite(y)
    n = int(ok.sum())
    if n < 3:
        return np.nan, n
    a, b = x[ok] - x[ok].mean(), y[ok] - y[ok].mean()
    den = math.sqrt(float((a * a).sum() * (b * b).sum()))
    return (float((a * b).sum() / den) if den > 0 else np.nan), n


def min_count(window: int) -> int:
    """Pairs a rolling window needs: ``ceil(MIN_SHARE * window)`` (at least 3)."""
    return max(3, math.ceil(MIN_SHARE * int(window) - 1e-9))


def rolling_corr(x: np.ndarray, y: np.ndarray, window: int) -> np.ndarray:
    """Rolling Pearson correlation over the last ``window`` positions (module doc): NaN for
    the first ``window - 1`` positions and where fewer than :func:`min_count` pairs hold
    both values."""
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    window = int(window)
    out = np.full(x.size, np.nan)
    if window < 2 or x.size < window:
        return out
    ok = np.isfinite(x) & np.isfinite(y)
    xs = sliding_window_view(np.where(ok, x, 0.0), window)
    ys = sliding_window_view(np.where(ok, y, 0.0), window)
    mask = sliding_window_view(ok, window)
    count = mask.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        dx = np.where(mask, xs - (xs.sum(axis=1) / count)[:, None], 0.0)
        dy = np.where(mask, ys - (ys.sum(axis=1) / count)[:, None], 0.0)
        sxx, syy = (dx * dx).sum(axis=1), (dy * dy).sum(axis=1)
        r = (dx * dy).sum(axis=1) / np.sqrt(sxx * syy)
    keep = (count >= min_count(window)) & (sxx > 0) & (syy > 0)
    out[window - 1:] = np.where(keep, np.clip(r, -1.0, 1.0), np.nan)
    return out


def asset_span(returns: pd.DataFrame, asset: str) -> pd.DataFrame:
    """The rows of ``returns`` from the asset's first finite return on."""
    finite = np.flatnonzero(np.isfinite(returns[asset].to_numpy(dtype="float64")))
    return returns.iloc[finite[0]:] if finite.size else returns.iloc[:0]


def rolling_table(returns: pd.DataFrame, windows: Sequence[int],
                  assets: Sequence[str] | None = None) -> pd.DataFrame:
    """``session, asset, window, corr``: :func:`rolling_corr` of ``R2K`` with each asset, one
    row per session from the asset's first return, per window."""
    frames = []
    for asset in assets or asset_columns(returns):
        span = asset_span(returns, asset)
        x, y = span[INDEX].to_numpy(dtype="float64"), span[asset].to_numpy(dtype="float64")
        for window in windows:
            frames.append(pd.DataFrame({"session": span["session"].to_numpy(), "asset": asset,
                                        "window": int(window),
                                        "corr": rolling_corr(x, y, window)}))
    if not frames:
        return pd.DataFrame(columns=list(ROLLING_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(ROLLING_COLUMNS)]


def fisher_ci(r: float, n: int, level: float = LEVEL, scale: float = 1.0
              ) -> tuple[float, float]:
    """Fisher-z interval ``tanh(atanh r +- z * sqrt(scale / (n - 3)))`` (independent pairs;
    ``scale`` 1.06 for Spearman); NaN when ``n <= 3`` or ``r`` is NaN."""
    if not np.isfinite(r) or n <= 3:
        return np.nan, np.nan
    z = NormalDist().inv_cdf(0.5 + level / 2)
    centre = math.atanh(min(max(r, -1 + 1e-15), 1 - 1e-15))
    half = z * math.sqrt(scale / (n - 3))
    return math.tanh(centre - half), math.tanh(centre + half)


def bootstrap_corr(x: np.ndarray, y: np.ndarray, block: int, reps: int,
                   rng: np.random.Generator, chunk: int = 200) -> np.ndarray:
    """``reps`` circular block-bootstrap replicates (:func:`.bootstrap.circular_block_indices`)
    of the Pearson correlation of the finite pairs, in time order (NaN for a degenerate
    replicate)."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = np.asarray(x, dtype="float64")[ok], np.asarray(y, dtype="float64")[ok]
    out = np.full(int(reps), np.nan)
    if x.size < 3 or reps < 1:
        return out
    idx = circular_block_indices(x.size, block, rng, int(reps))
    for lo in range(0, int(reps), chunk):
        xs, ys = x[idx[lo:lo + chunk]], y[idx[lo:lo + chunk]]
        dx = xs - xs.mean(axis=1, keepdims=True)
        dy = ys - ys.mean(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[lo:lo + chunk] = (dx * dy).sum(axis=1) / np.sqrt(
                (dx * dx).sum(axis=1) * (dy * dy).sum(axis=1))
    return out


def _in_period(sessions: pd.Series, start: str | None, end: str | None) -> np.ndarray:
    days = pd.DatetimeIndex(sessions)
    keep = np.ones(len(days), dtype=bool)
    if start is not None:
        keep &= np.asarray(days >= pd.Timestamp(start))
    if end is not None:
        keep &= np.asarray(days < pd.Timestamp(end))
    return keep


def period_table(returns: pd.DataFrame, assets: Sequence[str] | None = None,
                 periods=PERIODS, seed: int = 7, reps: int = 1000,
                 block: int = BOOT_BLOCK) -> pd.DataFrame:
    """One row per asset and period (:data:`PERIOD_COLUMNS`, module doc). ``first_session``
    / ``last_session``: the first and last session with both returns (NaT when none);
    ``reps = 0``: no bootstrap (``boot_*`` NaN)."""
    rows = []
    for asset in assets or asset_columns(returns):
        for name, start, end in periods:
            part = returns.loc[_in_period(returns["session"], start, end)]
            x, y = part[INDEX].to_numpy(dtype="float64"), part[asset].to_numpy(dtype="float64")
            ok = np.isfinite(x) & np.isfinite(y)
            r, n = _pearson(x, y)
            lo, hi = fisher_ci(r, n)
            boot = (np.nan, np.nan)
            if reps > 0 and n >= 3:
                boot = percentile_ci(bootstrap_corr(x, y, block, reps,
                                                    rng_for(seed, "corr", asset, name)), LEVEL)
            rho = np.nan
            if n >= 3:
                rho, _ = _pearson(pd.Series(x[ok]).rank().to_numpy(),
                                  pd.Series(y[ok]).rank().to_numpy())
            s_lo, s_hi = fisher_ci(rho, n, scale=1.06)
            sessions = pd.DatetimeIndex(part["session"])[ok]
            rows.append({
                "asset": asset, "period": name,
                "first_session": sessions[0] if n else pd.NaT,
                "last_session": sessions[-1] if n else pd.NaT,
                "n": n, "corr": r, "fisher_low": lo, "fisher_high": hi,
                "boot_low": boot[0], "boot_high": boot[1],
                "spearman": rho, "spearman_low": s_lo, "spearman_high": s_hi,
            })
    return pd.DataFrame(rows, columns=list(PERIOD_COLUMNS))


def _lag_stats(a: np.ndarray, b: np.ndarray) -> tuple[float, int, float, float]:
    """``(r, n, t_robust, band_robust)`` of the pairs where both are finite (module doc)."""
    ok = np.isfinite(a) & np.isfinite(b)
    n = int(ok.sum())
    if n < 3:
        return np.nan, n, np.nan, np.nan
    u, v = a[ok] - a[ok].mean(), b[ok] - b[ok].mean()
    suu, svv, sq = float((u * u).sum()), float((v * v).sum()), float((u * u * v * v).sum())
    if suu <= 0 or svv <= 0 or sq <= 0:
        return np.nan, n, np.nan, np.nan
    cross = float((u * v).sum())
    return cross / math.sqrt(suu * svv), n, cross / math.sqrt(sq), Z * math.sqrt(sq / (suu * svv))


def _two_sided(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2)) if np.isfinite(z) else np.nan


def cross_correlation(x: np.ndarray, y: np.ndarray, max_lag: int, q: float = Q
                      ) -> pd.DataFrame:
    """:data:`LAG_COLUMNS` but ``asset``, one row per ``lag`` in ``-max_lag..max_lag``:
    ``corr(x[t], y[t + lag])`` over the positions where both are finite, the plain band and
    p-value, the heteroskedasticity-robust band and p-value, and the adjusted p-values of
    the family of non-zero lags (module doc)."""
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    size = x.size
    rows = []
    for k in range(-int(max_lag), int(max_lag) + 1):
        if abs(k) >= size:
            a = b = np.empty(0)
        elif k >= 0:
            a, b = x[:size - k], y[k:]
        else:
            a, b = x[-k:], y[:size + k]
        r, n, t, band_robust = _lag_stats(a, b)
        rows.append({"lag": k, "corr": r, "n": n, "band": Z / math.sqrt(n) if n else np.nan,
                     "p": _two_sided(r * math.sqrt(n)), "band_robust": band_robust,
                     "p_robust": _two_sided(t)})
    table = pd.DataFrame(rows)
    others = (table["lag"] != 0).to_numpy()
    p = table["p_robust"].to_numpy(dtype="float64")
    table["p_bh"] = np.nan
    table.loc[others, "p_bh"] = bh_adjust(p[others])
    m = int(np.isfinite(p[others]).sum())
    table["p_bonferroni"] = np.where(others, np.minimum(1.0, p * m), np.nan)
    corr = table["corr"].abs()
    table["outside_band"] = (corr > table["band"]).to_numpy()
    table["outside_robust"] = (corr > table["band_robust"]).to_numpy()
    table["significant"] = np.where(others, table["p_bh"] <= q, table["p_robust"] < 1 - LEVEL)
    return table


def lag_table(returns: pd.DataFrame, max_lag: int, assets: Sequence[str] | None = None,
              q: float = Q) -> pd.DataFrame:
    """:func:`cross_correlation` of ``R2K`` with each asset (rows in session order, so a lag
    is a number of sessions), with an ``asset`` column (:data:`LAG_COLUMNS`)."""
    frames = []
    for asset in assets or asset_columns(returns):
        table = cross_correlation(returns[INDEX].to_numpy(dtype="float64"),
                                  returns[asset].to_numpy(dtype="float64"), max_lag, q)
        frames.append(table.assign(asset=asset))
    if not frames:
        return pd.DataFrame(columns=list(LAG_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(LAG_COLUMNS)]


def _lag_text(row) -> str:
    return f"lag {int(row.lag):+d}: {row.corr:+.2f}, p_bh {row.p_bh:.3f}"


def verdict(lags: pd.DataFrame, asset: str, q: float = Q) -> str:
    """One line saying whether the Russell leads, lags or moves with ``asset``, derived from
    its rows of :func:`lag_table` by the rules of the module doc."""
    lags = lags[lags["asset"] == asset] if "asset" in lags.columns else lags
    zero = lags[lags["lag"] == 0]
    if not len(zero) or not np.isfinite(zero["corr"].iloc[0]):
        n = int(zero["n"].iloc[0]) if len(zero) else 0
        return f"{asset}: too few sessions with both returns to measure (n {n})"
    z = zero.iloc[0]
    if bool(z["significant"]):
        words = "moves with the Russell" if z["corr"] > 0 else "moves against the Russell"
    else:
        words = "no same-session co-movement (inside the band)"
    same = (f"{asset}: {words} (lag 0: {z['corr']:+.2f}, robust band "
            f"±{z['band_robust']:.2f}, n {int(z['n'])})")
    others = lags[lags["lag"] != 0]
    tested = others[np.isfinite(others["p"].to_numpy(dtype="float64"))]
    if not len(tested):
        return f"{same}; no lag other than 0 tested"
    hits = tested[tested["significant"].astype(bool)]
    parts = []
    russell_leads = hits[hits["lag"] > 0]
    asset_leads = hits[hits["lag"] < 0]
    if len(russell_leads):
        parts.append(f"the Russell leads {asset} ("
                     + "; ".join(_lag_text(r) for r in russell_leads.itertuples()) + ")")
    if len(asset_leads):
        parts.append(f"{asset} leads the Russell ("
                     + "; ".join(_lag_text(r) for r in asset_leads.itertuples()) + ")")
    if parts:
        return f"{same}; " + "; ".join(parts) + f" (BH at q = {q:g} over {len(tested)} lags)"
    plain = int(tested["outside_band"].astype(bool).sum())
    robust = int(tested["outside_robust"].astype(bool).sum())
    return (f"{same}; no lead or lag survives BH at q = {q:g} over {len(tested)} lags "
            f"(before adjustment {plain} outside the ±1.96/√n band, {robust} outside the "
            "robust band)")


# --- the whole study -------------------------------------------------------------------------


@dataclass(frozen=True)
class CorrelationResult:
    """Tables of :func:`correlation_study` and one verdict line per asset."""

    returns: pd.DataFrame
    rolling: pd.DataFrame
    periods: pd.DataFrame
    lags: pd.DataFrame
    verdicts: dict[str, str]


def correlation_study(
    returns: pd.DataFrame, windows: Sequence[int], max_lag: int, seed: int = 7,
    reps: int = 1000, block: int = BOOT_BLOCK, q: float = Q,
    assets: Sequence[str] | None = None,
) -> CorrelationResult:
    """Rolling, period and lag tables of every asset column of ``returns``
    (:func:`session_returns`, possibly restricted to a range of sessions) and the verdicts."""
    assets = list(assets or asset_columns(returns))
    lags = lag_table(returns, max_lag, assets, q)
    return CorrelationResult(
        returns=returns,
        rolling=rolling_table(returns, windows, assets),
        periods=period_table(returns, assets, PERIODS, seed, reps, block),
        lags=lags,
        verdicts={a: verdict(lags, a, q) for a in assets},
    )
