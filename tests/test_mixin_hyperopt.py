"""Any strategy on RussellGateMixin (not RussellRiskOn): `hyperopt --spaces russell` exports the
parameters to <Strategy>.json, `hyperopt-show` prints them, and a backtest loads them."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from ftharness import TEST_STRATEGIES
from russell_regime.adapter.offline import run_freqtrade
from russell_regime.adapter.params import parameter_names

pytestmark = [pytest.mark.shared_data, pytest.mark.freqtrade_run]

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def file_source(shared_data: Path, monkeypatch) -> None:
    monkeypatch.setenv("FREQTRADE__RUSSELL_REGIME__SOURCE", "file")
    monkeypatch.setenv("FREQTRADE__RUSSELL_REGIME__PATH", str(shared_data / "index" / "RUT.csv"))


def test_hyperopt_export_show_and_reload_for_any_mixin_strategy(
    shared_data, tmp_path, file_source, caplog, capsys
):
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    shutil.copy(TEST_STRATEGIES / "OwnHooks.py", strategies)
    common = [
        "--config", str(REPO_ROOT / "config.json"), "--userdir", str(tmp_path),
        "--datadir", str(shared_data / "binance"), "--strategy", "OwnHooks",
        "--strategy-path", str(strategies), "--timerange", "20210101-20210201",
        "--pairs", "BTC/USDT", "ETH/USDT",
    ]
    argv = ["hyperopt", *common, "--spaces", "russell", "--hyperopt-loss", "SharpeHyperOptLoss",
            "-e", "3", "-j", "1", "--random-state", "3", "--no-color"]
    assert run_freqtrade(argv) == 0
    exported = json.loads((strategies / "OwnHooks.json").read_text())
    assert exported["strategy_name"] == "OwnHooks"
    assert set(exported["params"]["russell"]) == set(parameter_names())

    capsys.readouterr()
    assert run_freqtrade(["hyperopt-show", "--userdir", str(tmp_path), "--best",
                          "--no-color"]) == 0
    shown = capsys.readouterr().out
    assert "russell_params = {" in shown  # (--print-json lists freqtrade's own spaces only)
    assert all(f'"{name}"' in shown for name in parameter_names())

    caplog.clear()
    with caplog.at_level("INFO"):
        assert run_freqtrade(["backtesting", *common, "--export", "none"]) == 0
    mode = exported["params"]["russell"]["btc_mode"]
    assert f"Strategy Parameter: btc_mode = {mode}" in caplog.text  # loaded from the file


def test_builtins_registered_by_freqtrades_pickle_magic_are_unregistered_in_its_cloudpickle():
    """The cause of the -j 2 crash, on the installed release: freqtrade's hyperopt registers
    ``builtins`` for pickling by value (through the mixin's base ``object``), in the cloudpickle
    its optimizer uses (joblib's vendored copy before 2026.9); the mixin's undo acts on that
    same module, and a pandas object pickles again."""
    import builtins

    import pandas as pd
    from freqtrade.optimize.hyperopt import hyperopt_optimizer
    from freqtrade.templates.sample_strategy import SampleStrategy

    from russell_regime import RussellGateMixin
    from russell_regime.adapter.mixin import _keep_builtins_pickled_by_reference

    class GatedSample(RussellGateMixin, SampleStrategy):  # as tests/strategies/GatedSample.py
        pass

    pickler = hyperopt_optimizer.cloudpickle
    before = set(pickler.list_registry_pickle_by_value())
    try:
        optimizer = hyperopt_optimizer.HyperOptimizer.__new__(hyperopt_optimizer.HyperOptimizer)
        optimizer.hyperopt_pickle_magic(GatedSample.__bases__)
        assert "builtins" in pickler.list_registry_pickle_by_value()
        _keep_builtins_pickled_by_reference()
        assert "builtins" not in pickler.list_registry_pickle_by_value()
        frame = pd.DataFrame({"close": [1.0, 2.0, 3.0]})
        assert pickler.loads(pickler.dumps(frame.iloc[slice(0, 2)])).equals(frame.iloc[:2])
    finally:
        for name in set(pickler.list_registry_pickle_by_value()) - before:
            pickler.unregister_pickle_by_value(sys.modules[name] if name != "builtins"
                                               else builtins)


@pytest.mark.compat
def test_parallel_hyperopt_of_a_mixin_strategy_runs(shared_data, tmp_path):
    """freqtrade registers every module on the strategy's base chain for pickling by value; via a
    mixin that reached ``builtins`` and every worker task failed to pickle (-j 2 crashed)."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "FREQTRADE__RUSSELL_REGIME__SOURCE": "file",
        "FREQTRADE__RUSSELL_REGIME__PATH": str(shared_data / "index" / "RUT.csv"),
    }
    argv = [
        sys.executable, "-m", "russell_regime.offline", "freqtrade", "hyperopt",
        "--config", str(REPO_ROOT / "config.json"), "--userdir", str(tmp_path),
        "--datadir", str(shared_data / "binance"), "--strategy", "GatedSample",
        "--strategy-path", str(TEST_STRATEGIES), "--timerange", "20240101-20240201",
        "--pairs", "BTC/USDT", "ETH/USDT", "--spaces", "russell",
        "--hyperopt-loss", "SharpeHyperOptLoss", "-e", "2", "-j", "2",
        "--disable-param-export", "--no-color",
    ]
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "PicklingError" not in output
    assert "2 epochs saved" in output
