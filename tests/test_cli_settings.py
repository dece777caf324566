"""The download command validates through the strategy's settings path (settings_from_config).

The CLI used to resolve its four options by hand: it kept blanks around a ticker the strategy
strips, crashed on a 300-character ticker, accepted empty paths and ignored the config's
publication lag and fetch timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from russell_regime.cli.main import main
from russell_regime.data.cache import cache_file


def _cli(cwd: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FREQTRADE__")}
    env.pop("R2K_CALLER_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "russell_regime", "download", "--no-progress", *argv],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


def test_ticker_with_blanks_is_stripped_like_the_strategy_does(rut_csv, tmp_path):
    proc = _cli(
        tmp_path, "--ticker", " ^RUT ", "--source", "file", "--path", str(rut_csv),
        "--cache-dir", "cache",
    )
    assert proc.returncode == 0, proc.stderr
    written = [p.name for p in (tmp_path / "cache").glob("*.feather")]
    assert written == [cache_file(Path(), "^RUT").name]


@pytest.mark.parametrize(
    ("ticker", "named"),
    [("X" * 300, "300 characters long"), ("^R UT", "whitespace"), ("^RUT\x07", "control")],
)
def test_bad_ticker_is_one_line_error(tmp_path, ticker, named):
    proc = _cli(tmp_path, "--ticker", ticker, "--source", "file", "--path", "absent.csv",
                "--cache-dir", "cache")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "ticker=" in proc.stderr and named in proc.stderr
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("key", ["path", "cache_dir"])
def test_empty_path_in_the_config_is_one_line_error(tmp_path, key):
    section = {"source": "file", "path": "rut.csv", key: ""}
    (tmp_path / "config.json").write_text(json.dumps({"russell_regime": section}))
    proc = _cli(tmp_path, "--config", "config.json")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert f"{key}=''" in proc.stderr and "non-empty path" in proc.stderr


@pytest.mark.parametrize(
    ("class_map", "named"),
    [({"btc": "alt", "BTC": "eth"}, "'btc' and 'BTC'"), ({"": "btc"}, "got ''")],
)
def test_bad_class_map_key_is_one_line_error(tmp_path, class_map, named):
    section = {"class_map": class_map, "source": "file", "path": "absent.csv"}
    (tmp_path / "config.json").write_text(json.dumps({"russell_regime": section}))
    proc = _cli(tmp_path, "--config", "config.json", "--cache-dir", "cache")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "class_map=" in proc.stderr and named in proc.stderr


def test_relative_cli_paths_mean_the_callers_folder(rut_csv, tmp_path, monkeypatch):
    """run.sh changes into the repo and passes the caller's folder in R2K_CALLER_DIR."""
    elsewhere = tmp_path / "repo"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("R2K_CALLER_DIR", str(tmp_path))
    (tmp_path / "rut.csv").write_bytes(rut_csv.read_bytes())
    argv = ["download", "--no-progress", "--source", "file", "--path", "rut.csv"]
    assert main([*argv, "--cache-dir", "cache"]) == 0
    assert cache_file(tmp_path / "cache", "^RUT").is_file()
    assert not (elsewhere / "cache").exists()


def test_download_honours_the_configs_lag_timeout_and_user_data_dir(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr(
        "russell_regime.data.download.download",
        lambda ticker, source, cache_dir, now, **kw: seen.update(
            ticker=ticker, source=source, cache_dir=cache_dir
        ),
    )
    section = {"ticker": "IWM", "publication_lag_minutes": 45, "fetch_timeout_seconds": 3}
    config = {"user_data_dir": str(tmp_path / "ud"), "russell_regime": section}
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert main(["download", "--no-progress", "--config", str(tmp_path / "config.json")]) == 0
    assert seen["ticker"] == "IWM"
    assert seen["source"].availability.lag_minutes == 45
    assert seen["source"].timeout == 3
    assert Path(seen["cache_dir"]) == tmp_path / "ud" / "data" / "russell"
