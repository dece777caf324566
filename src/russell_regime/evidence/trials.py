"""The trials of a freqtrade hyperopt run, read from its results file (imperative edge).

freqtrade's hyperopt appends one JSON object per epoch to
``user_data/hyperopt_results/strategy_<Name>_<time>.fthypt``; it is read here with freqtrade's
own reader (``HyperoptTools.load_filtered_results``, no filter). Each epoch has ``loss``,
``params_dict`` and ``results_metrics`` (freqtrade's ``generate_strategy_stats``) with
``starting_balance``, ``backtest_start``, ``backtest_end``, ``total_trades``, ``profit_total``
and the summed absolute profit of the trades closed on each UTC day, ``daily_profit``
``[[date, profit], ...]`` (an epoch without trades has ``daily_profit_list: []`` instead).

:func:`read_trials` turns them into one daily return series per epoch: that day's summed
absolute profit divided by the starting balance, 0 on days without a closed trade, from the
backtest's first to its last UTC day; the series of an epoch therefore sums to its
``profit_total``. Epochs with freqtrade's ``MAX_LOSS`` (fewer trades than
``hyperopt_min_trades``) are trials like any other: they were tried.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import DataValidationError

# freqtrade.optimize.hyperopt.hyperopt_optimizer.MAX_LOSS: the loss of an epoch with fewer
# trades than hyperopt_min_trades (not imported: that module loads the whole optimizer)
MAX_LOSS = 100000
_NAME = re.compile(r"^strategy_(?P<name>.+)_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Trials:
    """Every epoch of one hyperopt results file.

    ``returns``: one row per UTC day (``date``, tz-aware, first to last backtest day), one
    column per epoch (``1..n`` in file order, as ``hyperopt-show -n``), the day's summed
    absolute profit over the starting balance (0 without a closed trade). ``loss``,
    ``trades`` (closed trades), ``profit_total`` (freqtrade's) and ``params`` per epoch;
    ``selected``: the epoch with the lowest loss (the first on ties), freqtrade's best."""

    path: Path
    strategy: str
    returns: pd.DataFrame
    loss: pd.Series
    trades: pd.Series
    profit_total: pd.Series
    params: Mapping[int, Mapping[str, object]]
    selected: int

    @property
    def n_trials(self) -> int:
        return int(self.returns.shape[1])

    @property
    def traded(self) -> int:
        """Epochs with at least one closed trade."""
        return int((self.trades > 0).sum())

    @property
    def max_loss(self) -> int:
        """Epochs with freqtrade's MAX_LOSS (too few trades), counted as trials."""
        return int((self.loss >= MAX_LOSS).sum())


def read_trials(path: Path | str) -> Trials:
    """The trials of the hyperopt results file ``path`` (``.fthypt``).

    One :class:`~russell_regime.errors.DataValidationError` line naming the file and the
    problem when it is not a hyperopt results file, is empty or holds fewer than 2 epochs;
    FileNotFoundError when it does not exist."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    epochs = _load(path)
    if len(epochs) < 2:
        raise DataValidationError(str(path), f"{len(epochs)} epoch{'s' * (len(epochs) != 1)}: "
                                  "overfitting statistics need at least 2 trials")
    columns, loss, trades, profit, params = {}, {}, {}, {}, {}
    starts, ends = [], []
    for number, epoch in enumerate(epochs, start=1):
        metrics = _metrics(path, number, epoch)
        balance = _number(path, number, metrics, "starting_balance")
        if not balance > 0:
            raise DataValidationError(str(path), f"epoch {number}: starting_balance "
                                      f"{balance!r} is not positive")
        starts.append(_day(path, number, metrics, "backtest_start"))
        ends.append(_day(path, number, metrics, "backtest_end"))
        columns[number] = _daily(path, number, metrics) / balance
        loss[number] = _number(path, number, epoch, "loss", nan_ok=True)
        trades[number] = int(_number(path, number, metrics, "total_trades"))
        profit[number] = _number(path, number, metrics, "profit_total")
        params[number] = dict(epoch.get("params_dict") or {})
    days = [min(starts), max(ends)]
    for series in columns.values():
        if len(series):
            days += [series.index.min(), series.index.max()]
    index = pd.date_range(min(days), max(days), freq="D", name="date")
    returns = pd.DataFrame(
        {n: s.reindex(index, fill_value=0.0) for n, s in columns.items()}, index=index,
        dtype="float64",
    )
    returns.columns.name = "epoch"
    loss_series = pd.Series(loss, dtype="float64", name="loss").rename_axis("epoch")
    if loss_series.isna().all():
        raise DataValidationError(str(path), "no epoch has a loss")
    return Trials(
        path=path,
        strategy=_strategy(path, epochs[0]),
        returns=returns,
        loss=loss_series,
        trades=pd.Series(trades, dtype="int64", name="trades").rename_axis("epoch"),
        profit_total=pd.Series(profit, dtype="float64", name="profit_total").rename_axis(
            "epoch"),
        params=params,
        selected=int(loss_series.idxmin()),
    )


def _load(path: Path) -> list:
    """Every epoch of ``path`` by freqtrade's reader (no filter), or one DataValidationError."""
    from freqtrade.exceptions import OperationalException
    from freqtrade.optimize.hyperopt_tools import HyperoptTools

    if path.stat().st_size == 0:
        raise DataValidationError(str(path), "empty file (no hyperopt epoch)")
    freqtrade_log = logging.getLogger("freqtrade")
    level = freqtrade_log.level
    freqtrade_log.setLevel(logging.WARNING)  # its "Reading epochs from ..." lines
    try:
        epochs, _total = HyperoptTools.load_filtered_results(path, {})
    except (AttributeError, TypeError):  # freqtrade reads the first line's "is_best"
        raise DataValidationError(
            str(path), "not a freqtrade hyperopt results file (.fthypt: one JSON object per "
            "epoch and line): its first line is not a JSON object"
        ) from None
    except (ValueError, OperationalException) as exc:
        # a line that is not JSON or not text (ValueError), or objects without freqtrade's
        # epoch keys (OperationalException: "incompatible with this version")
        problem = " ".join(str(exc).split()) or type(exc).__name__
        raise DataValidationError(
            str(path), f"not a freqtrade hyperopt results file (.fthypt: one JSON object per "
            f"epoch and line): {problem}"
        ) from None
    finally:
        freqtrade_log.setLevel(level)
    bad = next((i for i, e in enumerate(epochs, start=1) if not isinstance(e, dict)), None)
    if bad is not None:
        raise DataValidationError(str(path), f"line {bad} is not a hyperopt epoch (a JSON "
                                  "object)")
    return epochs


def _metrics(path: Path, number: int, epoch: dict) -> dict:
    metrics = epoch.get("results_metrics")
    if not isinstance(metrics, dict):
        raise DataValidationError(str(path), f"epoch {number}: no results_metrics (not a "
                                  "freqtrade hyperopt results file)")
    return metrics


def _number(path: Path, number: int, holder: dict, key: str, nan_ok: bool = False) -> float:
    value = holder.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DataValidationError(str(path), f"epoch {number}: {key} is {value!r}, not a number")
    if not nan_ok and not math.isfinite(value):
        raise DataValidationError(str(path), f"epoch {number}: {key} is {value!r}")
    return float(value)


def _day(path: Path, number: int, metrics: dict, key: str) -> pd.Timestamp:
    try:
        return _utc_day(metrics[key])
    except (KeyError, ValueError, TypeError):
        raise DataValidationError(str(path), f"epoch {number}: {key} is "
                                  f"{metrics.get(key)!r}, not a date") from None


def _utc_day(value: object) -> pd.Timestamp:
    """The UTC day (midnight, tz-aware) of a date or time; naive ones are UTC (freqtrade's)."""
    at = pd.Timestamp(value)
    if pd.isna(at):
        raise ValueError(f"{value!r} is not a date")
    at = at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")
    return at.normalize()


def _daily(path: Path, number: int, metrics: dict) -> pd.Series:
    """Summed absolute profit per UTC day of one epoch (``daily_profit``; an epoch without
    trades writes ``daily_profit_list: []``)."""
    rows = metrics.get("daily_profit", metrics.get("daily_profit_list"))
    if not isinstance(rows, list):
        raise DataValidationError(str(path), f"epoch {number}: no results_metrics.daily_profit")
    if not rows:
        return pd.Series([], index=pd.DatetimeIndex([], tz="UTC"), dtype="float64")
    try:
        dates = pd.DatetimeIndex([_utc_day(d) for d, _ in rows])
        values = pd.Series([float(v) for _, v in rows], index=dates, dtype="float64")
    except (ValueError, TypeError) as exc:
        raise DataValidationError(str(path), f"epoch {number}: daily_profit is not "
                                  f"[[date, profit], ...] ({exc})") from None
    if not values.map(math.isfinite).all():
        raise DataValidationError(str(path), f"epoch {number}: daily_profit holds a non-finite "
                                  "profit")
    return values.groupby(level=0).sum()


def _strategy(path: Path, epoch: dict) -> str:
    name = (epoch.get("results_metrics") or {}).get("strategy_name")
    if isinstance(name, str) and name:
        return name
    match = _NAME.match(path.stem)
    return match.group("name") if match else path.stem
