"""`hyperopt --spaces russell` with confirmations configured (VIX, small caps leading, value vs
core; real files): their parameters are optimised next to the 24 gate names, exported to
<Strategy>.json and loaded back by a backtest. Without confirmations the space is unchanged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ftharness import TEST_STRATEGIES
from russell_regime.adapter.offline import run_freqtrade
from russell_regime.adapter.params import confirmation_parameter_names, parameter_names

pytestmark = [pytest.mark.shared_data, pytest.mark.freqtrade_run]

REPO_ROOT = Path(__file__).resolve().parents[1]
KEYS = ("vix", "lead", "value")


def _section(shared_data: Path) -> dict:
    index = shared_data / "index"
    return {"russell_regime": {
        "source": "file", "path": str(index / "RUT.csv"),
        "confirmations": {
            "vix": {"source": "file", "path": str(index / "VIX.csv"), "rule": "ma",
                    "window": 20},
            "lead": {"ticker": "IWM", "versus": "SPY", "source": "file",
                     "path": str(index / "IWM.csv"), "versus_path": str(index / "SPY.csv")},
            "value": {"source": "file", "path": str(index / "IWN.csv"),
                      "versus_path": str(index / "IWM.csv"), "rule": "ratio_ma"},
        },
    }}


def test_hyperopt_tunes_export_and_reload_the_confirmation_parameters(
    shared_data, tmp_path, caplog, capsys
):
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    shutil.copy(TEST_STRATEGIES / "OwnHooks.py", strategies)
    extra = tmp_path / "confirmations.json"
    extra.write_text(json.dumps(_section(shared_data)))
    common = [
        "--config", str(REPO_ROOT / "config.json"), "--config", str(extra),
        "--userdir", str(tmp_path), "--datadir", str(shared_data / "binance"),
        "--strategy", "OwnHooks", "--strategy-path", str(strategies),
        "--timerange", "20210101-20210201", "--pairs", "BTC/USDT", "ETH/USDT",
    ]
    argv = ["hyperopt", *common, "--spaces", "russell", "--hyperopt-loss", "SharpeHyperOptLoss",
            "-e", "2", "-j", "1", "--random-state", "5", "--no-color"]
    assert run_freqtrade(argv) == 0
    exported = json.loads((strategies / "OwnHooks.json").read_text())["params"]["russell"]
    names = [n for k in KEYS for n in confirmation_parameter_names(k)]
    assert set(exported) == set(parameter_names()) | set(names)
    assert exported["vix_mode"] in ("off", "level", "ma")
    assert exported["value_mode"] in ("off", "high", "ratio_ma", "ratio_change")
    assert 5 <= exported["lead_window"] <= 200

    capsys.readouterr()
    assert run_freqtrade(["hyperopt-show", "--userdir", str(tmp_path), "--best",
                          "--no-color"]) == 0
    shown = capsys.readouterr().out
    assert all(f'"{name}"' in shown for name in names)

    caplog.clear()
    with caplog.at_level("INFO"):
        assert run_freqtrade(["backtesting", *common, "--export", "none"]) == 0
    assert f"Strategy Parameter: vix_mode = {exported['vix_mode']}" in caplog.text
    assert f"Strategy Parameter: lead_window = {exported['lead_window']}" in caplog.text


def test_no_confirmation_parameters_without_confirmations(rut_csv):
    import sys

    if str(TEST_STRATEGIES) not in sys.path:
        sys.path.append(str(TEST_STRATEGIES))
    from freqtrade.enums import RunMode
    from OwnHooks import OwnHooks

    plain = OwnHooks({"runmode": RunMode.BACKTEST,
                      "russell_regime": {"source": "file", "path": str(rut_csv)}})
    plain.ft_load_hyper_params()
    assert {n for n, _ in plain.enumerate_parameters("russell")} == set(parameter_names())
    assert not hasattr(plain, "vix_mode")
