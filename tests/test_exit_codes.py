"""Every failure of the main job and of the offline wrapper exits non-zero with one clear line.

freqtrade 2026.9 exits 0 when a ConfigurationError comes after its logging set-up (invalid
russell_regime values, --timeframe 7h); these run the real commands in subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from russell_regime.adapter.ftrun import error_line

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = REPO_ROOT / "config.json"
STRATEGIES = REPO_ROOT / "user_data" / "strategies"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FREQTRADE__")}
    env.pop("R2K_CALLER_DIR", None)
    return {**env, **extra}


def _run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=300
    )


def _last_line(proc: subprocess.CompletedProcess) -> str:
    return proc.stderr.strip().splitlines()[-1]


def _offline_backtest(tmp_path: Path, shared_data: Path, *extra: str) -> list[str]:
    userdir = tmp_path / "user_data"
    userdir.mkdir(exist_ok=True)
    return [
        sys.executable, "-m", "russell_regime.offline", "freqtrade", "backtesting",
        "--config", str(CONFIG), "--strategy", "RussellRiskOn",
        "--strategy-path", str(STRATEGIES), "--userdir", str(userdir),
        "--datadir", str(shared_data / "binance"), "--pairs", "BTC/USDT",
        "--cache", "none", *extra,
    ]  # fmt: skip


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_offline_wrapper_exits_2_on_an_invalid_russell_regime_value(shared_data, tmp_path):
    proc = _run(
        _offline_backtest(tmp_path, shared_data, "--timerange", "20240101-20240110"),
        tmp_path,
        FREQTRADE__RUSSELL_REGIME__SOURCE="file",
        FREQTRADE__RUSSELL_REGIME__PATH=str(shared_data / "index" / "RUT.csv"),
        FREQTRADE__RUSSELL_REGIME__STALE_POLICY="nope",
    )
    assert proc.returncode == 2, proc.stderr[-1500:]
    assert _last_line(proc).startswith(
        "russell_regime offline: error: configuration error: invalid russell_regime")
    assert "stale_policy='nope'" in _last_line(proc)


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_offline_wrapper_exits_2_on_an_unsupported_timeframe(shared_data, tmp_path):
    argv = _offline_backtest(
        tmp_path, shared_data, "--timerange", "20240101-20240110", "--timeframe", "7h"
    )
    proc = _run(argv, tmp_path)
    assert proc.returncode == 2, proc.stderr[-1500:]
    assert _last_line(proc).startswith(
        "russell_regime offline: error: configuration error: Invalid timeframe '7h'")


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_offline_wrapper_exits_2_on_a_timerange_without_data(shared_data, tmp_path):
    env = {
        "FREQTRADE__RUSSELL_REGIME__SOURCE": "file",
        "FREQTRADE__RUSSELL_REGIME__PATH": str(shared_data / "index" / "RUT.csv"),
    }
    argv = _offline_backtest(tmp_path, shared_data, "--timerange", "20300101-20310101")
    proc = _run(argv, tmp_path, **env)
    assert proc.returncode == 2, proc.stderr[-1500:]
    assert _last_line(proc) == "russell_regime offline: error: No data found. Terminating."


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_run_sh_backtest_exits_2_on_a_freqtrade_configuration_error(shared_data, tmp_path):
    """Through run.sh, with a --data relative to where the caller stands (not the repo)."""
    (tmp_path / "data").symlink_to(shared_data)
    proc = _run(
        ["bash", str(REPO_ROOT / "run.sh"), "backtest", "--data", "data",
         "--timerange", "20240101-20240110", "--userdir", str(tmp_path),
         "--", "--timeframe", "7h", "--pairs", "BTC/USDT"],
        tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-1500:]
    assert _last_line(proc).startswith(
        "russell_regime backtest: error: configuration error: Invalid timeframe '7h'")


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("section", "named"),
    [
        ({"stale_policy": "nope"}, "stale_policy='nope'"),
        ({"cache_dir": ""}, "cache_dir=''"),
        ({"class_map": {"btc": "alt", "BTC": "eth"}}, "'btc' and 'BTC' are the same currency"),
        ({"ticker": "X" * 300}, "300 characters"),
    ],
)
def test_main_job_exits_2_naming_a_bad_config_value(shared_data, tmp_path, section, named):
    config = json.loads(CONFIG.read_text())
    config["russell_regime"].update(section)
    (tmp_path / "config.json").write_text(json.dumps(config))
    proc = _run(
        [sys.executable, "-m", "russell_regime", "backtest", "--data", str(shared_data),
         "--config", "config.json", "--timerange", "20240101-20240110",
         "--userdir", str(tmp_path)],
        tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-1500:]
    assert proc.stderr.strip().count("\n") == 0, proc.stderr  # exactly one line
    assert "invalid russell_regime config" in proc.stderr and named in proc.stderr


@pytest.mark.parametrize("section", [["^RUT"], "", 0, False])
def test_every_entry_point_rejects_a_section_that_is_not_an_object(tmp_path, section):
    config = json.loads(CONFIG.read_text())
    config["russell_regime"] = section
    (tmp_path / "config.json").write_text(json.dumps(config))
    for command in (["download", "--no-progress"], ["status"], ["backtest", "--data", "."]):
        (tmp_path / "binance").mkdir(exist_ok=True)
        (tmp_path / "index").mkdir(exist_ok=True)
        (tmp_path / "index" / "RUT.csv").touch()
        proc = _run(
            [sys.executable, "-m", "russell_regime", *command, "--config", "config.json"],
            tmp_path,
        )
        assert proc.returncode == 2, (command, proc.stderr[-1500:])
        assert proc.stderr.strip().count("\n") == 0, (command, proc.stderr)
        assert "russell_regime" in proc.stderr and "must be an object" in proc.stderr


def test_error_line_is_one_line_and_names_configuration_errors() -> None:
    from freqtrade.exceptions import ConfigurationError, OperationalException

    assert error_line(ConfigurationError("bad\nthing")) == (
        "russell_regime offline: error: configuration error: bad thing")
    assert error_line(OperationalException("No data"), "russell_regime backtest") == (
        "russell_regime backtest: error: No data")
    assert error_line(KeyError("x")) == "russell_regime offline: error: KeyError: 'x'"


def test_unknown_options_name_the_command_and_the_main_job_says_where_freqtrades_go(capsys):
    """An unknown option is argparse's usage error (exit 2) in the one form
    ``russell_regime <command>: error: ...``; the main job adds that freqtrade's own options go
    after ``--`` (``--timeframe`` is freqtrade's, not the job's)."""
    from russell_regime.cli.main import main

    for argv, hint in ((["backtest", "--timeframe", "7h"], True), (["status", "--nope"], False)):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
        last = capsys.readouterr().err.strip().splitlines()[-1]
        assert last.startswith(f"russell_regime {argv[0]}: error: unrecognized arguments: "
                               f"{argv[1]}"), last
        assert ("freqtrade backtesting options go after --" in last) is hint


def test_offline_errors_name_the_command(tmp_path, capsys):
    """``russell-regime offline`` and ``python -m russell_regime.offline``: one line
    ``russell_regime offline: error: ...``, exit 2 for a snapshot that cannot be read."""
    from russell_regime.adapter.offline import main as offline_main

    code = offline_main(["--snapshot", str(tmp_path / "nope.json"), "list-exchanges"])
    assert code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"russell_regime offline: error: {tmp_path / 'nope.json'}: "), last
    assert offline_main([]) == 2  # no freqtrade command: the usage, then the one line
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == "russell_regime offline: error: a freqtrade command is required"


def test_freqtrades_own_usage_error_is_followed_by_the_one_line(capsys):
    """Options freqtrade refuses (after ``--`` in the main job, or to ``offline``): freqtrade's
    argparse line, then ours last, exit 2."""
    from russell_regime.adapter.ftrun import run_command

    assert run_command(["backtesting", "--bogus"], prog="russell_regime backtest") == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-2] == "freqtrade: error: unrecognized arguments: --bogus"
    assert lines[-1] == ("russell_regime backtest: error: freqtrade refused its arguments (its "
                         "usage error is above)")
