"""The random-gate control's trade filter models staleness exactly as the strategy does: with a
confirmation series cut short (its data end inside the window), the filter applied to the
ungated run's trades keeps exactly the trades of the real gated backtest, for every stale
policy, for a required and an optional confirmation (freqtrade in-process, shared data)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from russell_regime.core.daily import validate_daily
from russell_regime.evidence.backtest import GATE_OFF, ft_config, run_backtest
from russell_regime.evidence.cli_compare import run_notes, strategy_confirmation, strategy_masks
from russell_regime.evidence.random_gate import signal_slots
from russell_regime.settings import settings_from_config

pytestmark = [pytest.mark.shared_data, pytest.mark.freqtrade_run]

PAIRS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
TIMERANGE = "20210301-20210501"
LEVEL = 21.0  # the VIX crosses it in March 2021: the rule opens and closes before the cut
CUT = pd.Timestamp("2021-03-24")  # the VIX file ends here (close 21.2: last verdict closed)


@pytest.fixture(scope="module")
def short_vix(shared_data: Path, tmp_path_factory) -> Path:
    vix = validate_daily(pd.read_csv(shared_data / "index" / "VIX.csv"), "^VIX")
    path = tmp_path_factory.mktemp("vix") / "VIX_short.csv"
    vix[vix["session"] <= CUT].rename(columns={"session": "date"}).to_csv(path, index=False)
    return path


def _config(shared_data: Path, work: Path, vix: Path, policy: str, required: bool) -> dict:
    section = {"source": "file", "path": str(vix), "rule": "level", "level": LEVEL,
               "required": required}
    return ft_config(shared_data, work, TIMERANGE, PAIRS,
                     regime={"confirmations": {"vix": section}, "stale_policy": policy})


def _keys(trades: pd.DataFrame) -> set[tuple[str, pd.Timestamp]]:
    return {(t.pair, pd.Timestamp(t.open_date)) for t in trades.itertuples()}


@pytest.fixture(scope="module")
def ungated(shared_data: Path, short_vix: Path, tmp_path_factory):
    config = _config(shared_data, tmp_path_factory.mktemp("ungated"), short_vix,
                     "block_entries", True)
    return run_backtest(config, {**GATE_OFF, "vix_mode": "off"})


@pytest.mark.parametrize(("policy", "required"), [
    ("block_entries", True), ("ignore_gate", True), ("last_known", True),
    ("block_entries", False),
])
def test_filter_keeps_exactly_the_gated_backtests_trades(
    shared_data, short_vix, tmp_path, ungated, policy, required
):
    config = _config(shared_data, tmp_path, short_vix, policy, required)
    gated = run_backtest(config)  # the gate as loaded (defaults) AND the VIX rule
    settings = settings_from_config(config)
    timeframe = pd.Timedelta(hours=1)
    grid = pd.date_range(ungated.start, ungated.end - timeframe, freq=timeframe)
    masks = strategy_masks(settings, dict(gated.gate), grid, timeframe,
                           (strategy_confirmation(settings, "vix"),))
    trades = ungated.trades
    slots = signal_slots(trades, grid, timeframe)
    keep = [bool(masks["btc" if p == "BTC/USDT" else "eth" if p == "ETH/USDT" else "alt"][s])
            for p, s in zip(trades["pair"], slots, strict=True)]
    filtered = _keys(trades[keep])
    assert filtered == _keys(gated.trades)
    after = pd.to_datetime(gated.trades["open_date"]) > pd.Timestamp("2021-03-27", tz="UTC")
    before = len(gated.trades) - int(after.sum())
    assert 0 < before < int((pd.to_datetime(trades["open_date"])
                             <= pd.Timestamp("2021-03-27", tz="UTC")).sum())
    if required and policy in ("block_entries", "last_known"):
        assert not after.any()  # blocked as stale / the last verdict (closed) kept
    else:  # the stale VIX counts as open (ignore_gate, or optional)
        assert after.any()
    # the compare table names the stale series with its last session
    note = run_notes(config, ["vix"], gated.start, gated.end)["gated+vix"]
    assert "^VIX (vix) last session 2021-03-24, stale from 2021-03-25 23:30 UTC" in note
    print(policy, required, len(trades), len(gated.trades), len(filtered), int(after.sum()))
