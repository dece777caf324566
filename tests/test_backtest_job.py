"""The README's main job: `python -m russell_regime backtest --data DIR`, offline, for
RussellRiskOn and for any strategy using RussellGateMixin (`--strategy NAME`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from freqtrade.templates import sample_strategy

from russell_regime.cli import backtest as backtest_job
from russell_regime.cli.main import main
from russell_regime.cli.summary import HEADER

TEST_STRATEGIES = Path(__file__).resolve().parent / "strategies"
GATED = "GatedSample"  # tests/strategies: `class GatedSample(RussellGateMixin, SampleStrategy)`
PLAIN = "SampleStrategy"  # freqtrade's own template, no mixin


def _result_stats(userdir: Path, strategy: str) -> dict:
    archives = list((userdir / "backtest_results").glob("backtest-result-*.zip"))
    assert len(archives) == 1
    with zipfile.ZipFile(archives[0]) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".json") and "config" not in n)
        return json.loads(archive.read(name))["strategy"][strategy]


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_main_job_backtests_offline_from_a_data_folder(shared_data: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "russell_regime", "backtest", "--data", str(shared_data),
         "--timerange", "20210101-20210401", "--userdir", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    archives = list((tmp_path / "backtest_results").glob("backtest-result-*.zip"))
    assert len(archives) == 1
    with zipfile.ZipFile(archives[0]) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".json") and "config" not in n)
        stats = json.loads(archive.read(name))["strategy"]["RussellRiskOn"]
    assert stats["total_trades"] > 0
    assert stats["backtest_start"].startswith("2021-01-01")


def test_missing_data_folder_is_one_clear_error(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exited:  # refused by the argument layer
        main(["backtest", "--data", str(tmp_path / "nowhere"), "--userdir", str(tmp_path)])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (f"russell_regime backtest: error: argument --data: '{tmp_path / 'nowhere'}' "
                   "is not an existing folder (allowed: an existing folder)")


def test_data_folder_without_binance_is_one_clear_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "data").mkdir()
    code = main(["backtest", "--data", str(tmp_path / "data"), "--userdir", str(tmp_path)])
    assert code == 2
    assert "data/binance not found" in capsys.readouterr().err


def test_online_job_downloads_index_and_candles_before_backtesting(tmp_path, monkeypatch):
    calls: list[tuple] = []
    monkeypatch.setattr(
        "russell_regime.data.download.download",
        lambda ticker, source, cache_dir, now, **kw: calls.append(("index", ticker, source)),
    )

    def fake_freqtrade(argv, command=None, prog=None):
        assert prog == "russell_regime backtest"  # freqtrade's error lines name the job
        calls.append(("freqtrade", argv[0], argv))
        return 0 if argv[0] == "download-data" else 3

    monkeypatch.setattr("russell_regime.adapter.ftrun.run_command", fake_freqtrade)
    code = main(["backtest", "--timerange", "20240101-20240201", "--userdir", str(tmp_path)])
    assert code == 3  # the backtest's exit code is passed through
    assert [c[:2] for c in calls] == [
        ("index", "^RUT"), ("freqtrade", "download-data"), ("freqtrade", "backtesting")
    ]
    assert calls[0][2].ticker == "^RUT"
    download_argv = calls[1][2]
    assert download_argv[download_argv.index("--timerange") + 1] == "20240101-"
    assert "--datadir" not in calls[2][2]


def test_backtest_argv_puts_later_configs_last() -> None:
    argv = backtest_job.freqtrade_args(
        [Path("a.json"), Path("b.json")], "20200101-", Path("ud"), Path("d"), ["--export", "none"]
    )
    assert argv[:5] == ["backtesting", "--config", "a.json", "--config", "b.json"]
    assert argv[-2:] == ["--export", "none"]
    assert argv[argv.index("--datadir") + 1] == "d"


def test_an_os_error_is_one_line_and_a_non_zero_exit(shared_data, tmp_path, monkeypatch, capsys):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backtest_job.tempfile, "TemporaryDirectory", disk_full)
    code = main(["backtest", "--data", str(shared_data), "--userdir", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err == "russell_regime backtest: error: [Errno 28] No space left on device"


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_main_job_backtests_any_mixin_strategy_named_by_strategy(shared_data, tmp_path):
    """`--strategy` of a strategy freqtrade finds in `--strategy-path`, gated by the mixin: the
    summary names it and counts what the gate removed; every trade went through the gate."""
    proc = subprocess.run(
        [sys.executable, "-m", "russell_regime", "backtest", "--data", str(shared_data),
         "--timerange", "20211001-20220101", "--userdir", str(tmp_path),
         "--strategy", GATED, "--strategy-path", str(TEST_STRATEGIES)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout.splitlines()
    summary = out[out.index(HEADER):]
    assert summary[1] == f"strategy: {GATED}"
    blocked, signals = map(int, re.search(r"entries blocked by the gate: (\d+) of (\d+)",
                                          proc.stdout).groups())
    assert 0 < blocked < signals  # Q4 2021: the gate closes as the Russell leaves its high
    stats = _result_stats(tmp_path, GATED)
    tags = [trade["enter_tag"] for trade in stats["trades"]]
    assert tags and stats["total_trades"] == len(tags)
    # SampleStrategy sets no enter_tag: the mixin's tag names the condition that let it in
    assert all(re.fullmatch(r"r2k_(ath|breakout|retest|all)", tag) for tag in tags), tags
    trades = re.search(r"^trades: (\d+),", proc.stdout, re.MULTILINE)
    assert int(trades.group(1)) == len(tags)


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_main_job_refuses_a_strategy_without_the_mixin_in_one_line(shared_data, tmp_path):
    """A strategy freqtrade loads fine but that does not use the mixin: one error line naming
    it and the change that gates it, exit 2, nothing backtested. The relative --strategy-path
    is taken from the caller's directory."""
    strategies = tmp_path / "mine"
    strategies.mkdir()
    shutil.copy(sample_strategy.__file__, strategies / "sample_strategy.py")
    userdir = tmp_path / "ud"
    userdir.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "russell_regime", "backtest", "--data", str(shared_data),
         "--timerange", "20220101-20220201", "--userdir", "ud",
         "--strategy", PLAIN, "--strategy-path", "mine"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"russell_regime backtest: error: strategy {PLAIN} "
        f"({strategies / 'sample_strategy.py'}) does not use "
        "RussellGateMixin, so it has no Russell gate to evaluate; gate it with "
        f"`class {PLAIN}(RussellGateMixin, IStrategy)` (`from russell_regime import "
        "RussellGateMixin`)"
    )
    assert HEADER not in proc.stdout
    assert not list(userdir.rglob("backtest-result-*"))


def test_strategy_options_reach_freqtrade_and_default_to_russellriskon() -> None:
    default = backtest_job.freqtrade_args([Path("c.json")], "20200101-", Path("ud"), None, [])
    assert default[default.index("--strategy") + 1] == "RussellRiskOn"
    assert "--strategy-path" not in default  # freqtrade's own search: <userdir>/strategies
    argv = backtest_job.freqtrade_args(
        [Path("c.json")], "20200101-", Path("ud"), None, [], "Mine", Path("/s")
    )
    assert argv[argv.index("--strategy") + 1] == "Mine"
    assert argv[argv.index("--strategy-path") + 1] == "/s"


def test_job_paths_default_like_freqtrade_and_to_the_shipped_example(tmp_path, monkeypatch):
    """No --config: config.json of the caller's folder, else the shipped example; no
    --userdir: the config's user_data_dir, else ./user_data; no --strategy-path: the shipped
    example strategy's folder. Nothing points into the install folder's parents."""
    from russell_regime.cli.main import build_parser
    from russell_regime.shipped import example_config, example_strategies

    monkeypatch.delenv("R2K_CALLER_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(["backtest"])
    backtest_job.resolve_paths(args)
    assert args.config == example_config()
    assert args.userdir == tmp_path / "user_data"
    assert args.strategy_path == example_strategies()
    assert (example_strategies() / "RussellRiskOn.py").is_file()

    (tmp_path / "config.json").write_text('{"user_data_dir": "bot_data"}')
    args = build_parser().parse_args(["backtest"])
    backtest_job.resolve_paths(args)
    assert args.config == tmp_path / "config.json"
    assert args.userdir == tmp_path / "bot_data"


def test_require_gated_accepts_the_mixin_and_names_a_foreign_copy() -> None:
    from freqtrade.strategy import IStrategy

    from russell_regime import RussellGateMixin
    from russell_regime.adapter.gated import require_gated
    from russell_regime.errors import ConfigError

    class Plain(IStrategy):
        def populate_indicators(self, dataframe, metadata):
            return dataframe

        populate_entry_trend = populate_exit_trend = populate_indicators

    class Gated(RussellGateMixin, Plain):
        pass

    require_gated(Gated.__new__(Gated))  # the class is what counts; nothing is built

    RussellGateMixin = type("RussellGateMixin", (), {"__module__": "elsewhere.mixin"})  # noqa: N806
    Foreign = type("Foreign", (RussellGateMixin, Plain), {})  # noqa: N806
    with pytest.raises(ConfigError, match=r"uses a RussellGateMixin from another copy of "
                       r"russell_regime \(elsewhere\.mixin\)"):
        require_gated(Foreign.__new__(Foreign))
