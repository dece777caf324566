"""Pure Russell 2000 regime features on a validated daily frame (see ``daily.py``).

All functions are pure (no I/O, no globals), take their thresholds as arguments and return
arrays/frames aligned row for row with the daily frame. Session ``t`` uses only sessions
``<= t``: a feature is known at session ``t``'s close. Definitions (``b`` = the price basis,
``close`` or ``high``; ``c`` = close; ``l`` = low):

* ``ath_t = max(b_0..b_t)``; ``new_ath_t = b_t > max(b_0..b_{t-1})`` (False on the first
  session); ``sessions_since_ath_t = t - max{s <= t : b_s = ath_s}``;
  ``drawdown_t = c_t / ath_t - 1`` (<= 0 on the close basis).
* ``resistance_t(N) = max(b_{t-N}..b_{t-1})`` (NaN until N earlier sessions exist);
  ``breakout_t = c_t > resistance_t * (1 + margin)``.
* Episodes: a breakout with no live episode opens one and fixes its ``level`` to that
  session's resistance (later breakouts extend the episode but keep the level). The episode
  ends when a close falls below ``level * (1 - tolerance)``, when ``window`` sessions pass
  after its last breakout without a retest, or when its support expires.
  ``retest_t``: a session ``t`` with ``0 < t - last_breakout <= window``,
  ``l_t <= level * (1 + tolerance)`` and ``c_t >= level``. ``support_t``: from a retest until
  the episode ends; still on ``expiry`` sessions after the latest retest, off one later.
* ``breakout_active_t``: ``sessions_since_breakout_t <= expiry`` and
  ``c_t >= broken_level_t * (1 - tolerance)`` where ``broken_level`` is the resistance of
  the latest breakout.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PRICE_BASES = ("close", "high")


def _basis(daily: pd.DataFrame, basis: str) -> np.ndarray:
    if basis not in PRICE_BASES:
        raise ValueError(f"price basis must be one of {PRICE_BASES}, got {basis!r}")
    return daily[basis].to_numpy(dtype="float64")


def sessions_since(flag: np.ndarray) -> np.ndarray:
    """Sessions since ``flag`` was last True (0 on a True session, NaN before the first)."""
    n = len(flag)
    idx = np.arange(n, dtype="float64")
    last = np.where(flag, idx, np.nan)
    last = pd.Series(last).ffill().to_numpy()
    return idx - last


def ath_features(daily: pd.DataFrame, basis: str = "close") -> pd.DataFrame:
    """``ath``, ``new_ath``, ``sessions_since_ath``, ``drawdown`` (see the module doc)."""
    b = _basis(daily, basis)
    ath = np.maximum.accumulate(b)
    previous = np.concatenate(([np.inf], ath[:-1]))
    return pd.DataFrame(
        {
            "ath": ath,
            "new_ath": b > previous,
            "sessions_since_ath": sessions_since(b >= ath),
            "drawdown": daily["close"].to_numpy(dtype="float64") / ath - 1.0,
        },
        index=daily.index,
    )


def resistance(daily: pd.DataFrame, lookback: int, basis: str = "close") -> np.ndarray:
    """``max(b_{t-N}..b_{t-1})``, excluding session t; NaN until N earlier sessions exist."""
    if int(lookback) != lookback or lookback < 1:
        raise ValueError(f"resistance lookback must be a positive integer, got {lookback!r}")
    b = pd.Series(_basis(daily, basis))
    return b.shift(1).rolling(int(lookback), min_periods=int(lookback)).max().to_numpy()


def breakout_features(
    daily: pd.DataFrame,
    lookback: int,
    margin: float = 0.0,
    tolerance: float = 0.02,
    expiry: int = 60,
    basis: str = "close",
) -> pd.DataFrame:
    """``resistance``, ``breakout``, ``broken_level``, ``sessions_since_breakout``,
    ``breakout_active`` for one lookback (definitions in the module doc)."""
    _check_fraction("breakout margin", margin)
    _check_fraction("tolerance", tolerance)
    _check_sessions("expiry", expiry)
    res = resistance(daily, lookback, basis)
    close = daily["close"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        breakout = close > res * (1.0 + margin)
    broken_level = pd.Series(np.where(breakout, res, np.nan)).ffill().to_numpy()
    since = sessions_since(breakout)
    with np.errstate(invalid="ignore"):
        active = (since <= expiry) & (close >= broken_level * (1.0 - tolerance))
    return pd.DataFrame(
        {
            "resistance": res,
            "breakout": breakout,
            "broken_level": broken_level,
            "sessions_since_breakout": since,
            "breakout_active": active,
        },
        index=daily.index,
    )


def support_features(
    daily: pd.DataFrame,
    resistance_level: np.ndarray,
    breakout: np.ndarray,
    window: int = 20,
    tolerance: float = 0.02,
    expiry: int = 60,
) -> pd.DataFrame:
    """``support_level``, ``retest``, ``support`` from the episode rules in the module doc.

    ``resistance_level`` and ``breakout`` come from :func:`breakout_features`.
    """
    _check_sessions("retest window", window)
    _check_sessions("expiry", expiry)
    _check_fraction("tolerance", tolerance)
    close = daily["close"].to_numpy(dtype="float64")
    low = daily["low"].to_numpy(dtype="float64")
    n = len(close)
    level_out = np.full(n, np.nan)
    retest = np.zeros(n, dtype=bool)
    support = np.zeros(n, dtype=bool)
    starts = np.flatnonzero(breakout)
    if starts.size:
        _run_episodes(
            close, low, np.asarray(resistance_level, dtype="float64"), np.asarray(breakout),
            int(starts[0]), window, tolerance, expiry, level_out, retest, support,
        )
    return pd.DataFrame(
        {"support_level": level_out, "retest": retest, "support": support}, index=daily.index
    )


def _run_episodes(
    close: np.ndarray,
    low: np.ndarray,
    res: np.ndarray,
    breakout: np.ndarray,
    first: int,
    window: int,
    tolerance: float,
    expiry: int,
    level_out: np.ndarray,
    retest: np.ndarray,
    support: np.ndarray,
) -> None:
    level = np.nan
    last_break = -1
    retested_at = -1
    floor = touch = np.nan
    close_l, low_l, brk_l = close.tolist(), low.tolist(), breakout.tolist()
    for t in range(first, len(close_l)):
        c = close_l[t]
        if brk_l[t]:
            if level != level:  # no live episode: open one at this resistance
                level = float(res[t])
                floor, touch = level * (1.0 - tolerance), level * (1.0 + tolerance)
                retested_at = -1
            last_break = t
        elif level == level:
            if c < floor:
                level = np.nan
            elif t - last_break <= window and low_l[t] <= touch and c >= level:
                retested_at = t
                retest[t] = True
            elif retested_at >= 0 and t - retested_at > expiry:
                level = np.nan
            elif retested_at < 0 and t - last_break > window:
                level = np.nan
        if level == level:
            level_out[t] = level
            support[t] = retested_at >= 0


def regime_features(
    daily: pd.DataFrame,
    lookback: int,
    margin: float = 0.0,
    tolerance: float = 0.02,
    window: int = 20,
    expiry: int = 60,
    basis: str = "close",
) -> pd.DataFrame:
    """Every feature for one parameter set: ATH + breakout + support columns."""
    ath = ath_features(daily, basis)
    brk = breakout_features(daily, lookback, margin, tolerance, expiry, basis)
    sup = support_features(
        daily, brk["resistance"].to_numpy(), brk["breakout"].to_numpy(), window, tolerance, expiry
    )
    return pd.concat([ath, brk, sup], axis=1)


def _check_fraction(name: str, value: float) -> None:
    if not (0.0 <= float(value) < 1.0):
        raise ValueError(f"{name} must be a fraction in [0, 1), got {value!r}")


def _check_sessions(name: str, value: int) -> None:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive whole number of sessions, got {value!r}")
