"""A freqtrade user's first steps with the installed plugin, from a folder outside this repo.

Each test runs the commands a user types (``freqtrade ...``, ``russell-regime ...``: the console
scripts of the interpreter running the suite) in a fresh bot made with ``freqtrade
create-userdir`` in a temporary folder, with a strategy from ``freqtrade new-strategy`` gated by
adding the mixin. Nothing here reads this repo's files at run time: the bot's config is the
example config the installed package ships, copied as a user would.

CI runs them in venvs where freqtrade was installed first and the built wheel second (oldest
and newest supported freqtrade, marker ``compat``), and in the main venv (the wheel, not an
editable install). ``R2K_REQUIRE_INSTALLED=1`` (CI) makes an editable or source-tree import of
``russell_regime`` a failure: the point is to test what a wheel carries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from installs import REPO_ROOT, built_wheel, package_location

pytestmark = [pytest.mark.compat, pytest.mark.install]

BIN = Path(sys.executable).parent
TIMERANGE = "20240101-20240401"
PAIRS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
STRATEGY = "MyGated"


def run(argv: list[str], cwd: Path, timeout: int = 600, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("FREQTRADE__", "R2K_CALLER_DIR"))}
    return subprocess.run(argv, cwd=cwd, env={**clean, **env}, capture_output=True, text=True,
                          timeout=timeout)


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, (proc.args, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


@pytest.fixture(scope="module")
def installed() -> Path:
    """Where russell_regime is imported from, seen from outside the repo."""
    where = package_location(cwd=Path("/"))
    if os.environ.get("R2K_REQUIRE_INSTALLED") == "1":
        assert where["installed"], f"russell_regime imports from the checkout: {where['file']}"
    return where["file"]


@pytest.fixture(scope="module")
def bot(tmp_path_factory, installed) -> Path:
    """A bot folder as a user makes it: create-userdir, new-strategy + the mixin, a config."""
    from russell_regime.shipped import example_config

    bot = tmp_path_factory.mktemp("bot")
    ok(run([str(BIN / "freqtrade"), "create-userdir", "--userdir", "user_data"], bot))
    ok(run([str(BIN / "freqtrade"), "new-strategy", "--userdir", "user_data",
            "--strategy", STRATEGY, "--template", "full"], bot))
    path = bot / "user_data" / "strategies" / f"{STRATEGY}.py"
    text = path.read_text()
    line = f"class {STRATEGY}(IStrategy):"
    assert line in text
    path.write_text(text.replace(
        line, f"from russell_regime import RussellGateMixin\n\n\n"
        f"class {STRATEGY}(RussellGateMixin, IStrategy):", 1))
    (bot / "config.json").write_text(example_config().read_text())
    return bot


def ft_args(shared: Path, *extra: str) -> list[str]:
    return ["--config", "config.json", "--strategy", STRATEGY, "--timeframe", "1h",
            "--timerange", TIMERANGE, "--datadir", str(shared / "binance"), "--pairs", *PAIRS,
            *extra]


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_first_steps_download_backtest_hyperopt_lookahead_from_a_fresh_bot(bot, shared_data):
    """download into the bot's cache, then backtest, hyperopt -j 2 and lookahead-analysis
    through ``russell-regime offline``: every command exits 0 and the gate is in force."""
    rr = str(BIN / "russell-regime")
    out = ok(run([rr, "download", "--source", "file",
                  "--path", str(shared_data / "index" / "RUT.csv")], bot))
    cache = bot / "user_data" / "data" / "russell" / "^RUT.feather"
    assert cache.is_file(), out.stdout + out.stderr

    results = bot / "bt"
    results.mkdir()
    backtest = ok(run([rr, "offline", "backtesting", *ft_args(
        shared_data, "--cache", "none", "--export", "trades", "--backtest-directory",
        str(results))], bot))
    assert f"Using resolved strategy {STRATEGY}" in backtest.stdout + backtest.stderr
    from freqtrade.data.btanalysis import load_backtest_stats

    stats = load_backtest_stats(results)
    trades = stats["strategy"][STRATEGY]["trades"]
    assert trades, "no trade: the test would not show the gate"
    assert all(t["enter_tag"].startswith("r2k_") for t in trades)  # every entry went through it

    hyper = ok(run([rr, "offline", "hyperopt", *ft_args(
        shared_data, "--spaces", "russell", "-j", "2", "-e", "4",
        "--hyperopt-loss", "SharpeHyperOptLoss", "--random-state", "3")], bot))
    assert "btc_mode" in hyper.stdout
    exported = json.loads((bot / "user_data" / "strategies" / f"{STRATEGY}.json").read_text())
    assert "btc_mode" in exported["params"]["russell"]
    # lookahead-analysis on the strategy's own defaults (the backtest's trades): 4 random
    # epochs may export a gate that hardly trades in 3 months ("too few trades caught")
    (bot / "user_data" / "strategies" / f"{STRATEGY}.json").unlink()

    # lookahead-analysis forces market orders; before 2026.9 freqtrade does not set the
    # price_side they need itself and refuses the config's "same" (conftest.lookahead_pricing)
    look = ok(run([rr, "offline", "lookahead-analysis", *ft_args(
        shared_data, "--minimum-trade-amount", "5", "--targeted-trade-amount", "8")], bot,
        FREQTRADE__ENTRY_PRICING__PRICE_SIDE="other", FREQTRADE__EXIT_PRICING__PRICE_SIDE="other"))
    row = next(line for line in look.stdout.splitlines() if f"{STRATEGY}.py" in line)
    cells = [c.strip() for c in row.strip("│┃| ").split("│")]
    assert cells[2] == "No", row  # has_bias


@pytest.mark.freqtrade_run
def test_list_strategies_has_no_load_failed_row_in_a_bot_or_in_this_repo(bot):
    for cwd, userdir in ((bot, "user_data"), (REPO_ROOT, "user_data")):
        for extra in ([], ["--recursive-strategy-search"]):
            proc = ok(run([str(BIN / "freqtrade"), "list-strategies", "--userdir", userdir,
                           *extra], cwd))
            assert "LOAD FAILED" not in proc.stdout, (cwd, extra, proc.stdout)
            assert "OK" in proc.stdout
    listed = ok(run([str(BIN / "freqtrade"), "list-strategies", "--userdir", "user_data"],
                    bot)).stdout
    assert STRATEGY in listed and "russell: 24" in listed


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_main_job_from_the_install_in_a_bot_folder(bot, shared_data):
    """``russell-regime backtest --data DIR --config CFG --userdir UD --strategy NAME``: the
    bot's own strategy, its config and user_data, markets from the shipped snapshot."""
    proc = ok(run([str(BIN / "russell-regime"), "backtest", "--data", str(shared_data),
                   "--config", "config.json", "--userdir", "user_data", "--strategy", STRATEGY,
                   "--timerange", "20240101-20240301", "--", "--timeframe", "1h",
                   "--pairs", *PAIRS], bot))
    lines = proc.stdout.splitlines()
    summary = lines[lines.index("== russell_regime backtest summary =="):]
    assert summary[1] == f"strategy: {STRATEGY}"
    assert any(line.startswith("trades: ") for line in summary)


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_main_job_from_an_empty_folder_uses_the_shipped_example(tmp_path, shared_data):
    """No config.json, no strategy: the shipped example config and RussellRiskOn, one note."""
    (tmp_path / "user_data").mkdir()
    proc = ok(run([str(BIN / "russell-regime"), "backtest", "--data", str(shared_data),
                   "--timerange", "20240101-20240201"], tmp_path))
    assert "using the shipped example config" in proc.stderr
    assert "strategy: RussellRiskOn" in proc.stdout


def test_offline_help_and_both_spellings(tmp_path):
    for argv in ([str(BIN / "russell-regime"), "offline", "--help"],
                 [sys.executable, "-m", "russell_regime", "offline", "--help"],
                 [sys.executable, "-m", "russell_regime.offline", "--help"]):
        proc = ok(run(argv, tmp_path))
        assert "<freqtrade command>" in proc.stdout
    missing = run([str(BIN / "russell-regime"), "offline", "--snapshot", "nope.json",
                   "list-exchanges"], tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines()[-1].startswith(
        f"russell_regime offline: error: {tmp_path / 'nope.json'}: cannot read markets "
        "snapshot")


def test_pip_keeps_the_installed_freqtrade(tmp_path):
    """Installing the wheel into an environment whose freqtrade is in the supported range
    plans no freqtrade install (pip's own resolver, offline: --no-index)."""
    wheel = built_wheel(tmp_path)
    report = tmp_path / "report.json"
    ok(run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index",
                   "--report", str(report), str(wheel)], tmp_path))
    planned = {item["metadata"]["name"].lower()
               for item in json.loads(report.read_text())["install"]}
    assert "freqtrade" not in planned, planned
    assert planned <= {"russell-regime"}, planned


def test_wheel_and_sdist_carry_what_they_need(tmp_path):
    wheel = built_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    for needed in ("russell_regime/resources/markets/binance_spot.json",
                   "russell_regime/resources/config.json",
                   "russell_regime/resources/strategies/RussellRiskOn.py"):
        assert needed in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in meta
    assert "Description-Content-Type: text/markdown" in meta
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    (dep,) = [d for d in project["dependencies"] if d.startswith("freqtrade")]
    from packaging.requirements import Requirement

    shipped = [Requirement(line.split(":", 1)[1]) for line in meta.splitlines()
               if line.startswith("Requires-Dist: freqtrade") and "extra ==" not in line]
    assert [str(r.specifier) for r in shipped] == [str(Requirement(dep).specifier)]
    assert not shipped[0].extras  # no [plot]: plotly is not in freqtrade's stock image
    assert all(s.operator in (">=", "<") for s in shipped[0].specifier)  # a range, not a pin

    import tarfile

    subprocess.run([sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path),
                    str(REPO_ROOT)], check=True, capture_output=True, timeout=600)
    (sdist,) = tmp_path.glob("russell_regime-*.tar.gz")
    with tarfile.open(sdist) as tf:
        members = {m.split("/", 1)[1] for m in tf.getnames() if "/" in m}
    for needed in ("tests/conftest.py", "tests/ftharness.py", "tests/installs.py",
                   "tests/strategies/GatedSample.py", "LICENSE", "README.md"):
        assert needed in members, needed
