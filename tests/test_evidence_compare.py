"""``compare`` on a short real timerange: freqtrade in-process, our metrics vs freqtrade's."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from russell_regime.evidence.commands import main


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_compare_short_timerange(shared_data: Path, tmp_path: Path):
    argv = ["compare", "--data", str(shared_data), "--out", str(tmp_path),
            "--timerange", "20220101-20220401", "--pairs", "BTC", "ETH", "SOL",
            "--no-progress"]
    assert main(argv) == 0
    table = pd.read_csv(tmp_path / "compare.csv")
    assert table["run"].tolist() == [
        "gated (defaults)", "ungated (all *_mode=off)", "BTC buy-and-hold"
    ]
    strat = table.iloc[:2]
    # every trade is closed at the end, so the marked-to-market total equals freqtrade's
    assert strat["total_return"].tolist() == pytest.approx(
        strat["ft_profit_total"].tolist(), abs=1e-4
    )
    assert ((strat["exposure"] >= 0) & (strat["exposure"] <= 1)).all()
    assert (table["max_drawdown"] <= 0).all()
    # the gate can only remove entries of the base signal
    assert strat.iloc[0]["trades"] <= strat.iloc[1]["trades"]
    assert (tmp_path / "compare.md").is_file() and (tmp_path / "compare_equity.png").is_file()
    # BTC buy-and-hold: bought at the first open (0.1 % fee), marked at the curve's last instant
    bh = table.iloc[2]
    equity = pd.read_csv(tmp_path / "compare_equity.csv", parse_dates=["date"])
    end = pd.Timestamp(equity["date"].iloc[-1])
    btc = pd.read_feather(shared_data / "binance" / "BTC_USDT-1h.feather").set_index("date")
    first = btc.loc[pd.Timestamp("2022-01-01", tz="UTC"), "open"]
    last = btc.loc[end - pd.Timedelta(hours=1), "close"]
    assert bh["total_return"] == pytest.approx(last / first * 0.999 - 1, rel=1e-4)
