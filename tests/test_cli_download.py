"""``python -m russell_regime download``: file source into a temp cache, config defaults, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from russell_regime.cli.main import main
from russell_regime.config_file import with_section_overrides
from russell_regime.core.calendar import Availability
from russell_regime.data.cache import cache_file, load_cache
from russell_regime.data.download import download
from russell_regime.data.sources import YahooSource
from russell_regime.errors import ConfigError, SourceError

REPO_ROOT = Path(__file__).resolve().parents[1]
LATER = pd.Timestamp("2030-01-01", tz="UTC")


def run(*argv: str) -> int:
    return main(["download", "--no-progress", *argv])


def test_download_from_file_creates_the_cache(rut_csv, tmp_path, capsys):
    assert run("--source", "file", "--path", str(rut_csv), "--cache-dir", str(tmp_path)) == 0
    cached = load_cache(cache_file(tmp_path, "^RUT"), "^RUT")
    assert len(cached) == 9523
    out = capsys.readouterr().out
    assert "^RUT: 9523 sessions 1987-09-10 .. 2025-06-30 (9523 new, 0 revised)" in out
    assert cache_file(tmp_path, "^RUT").name in out


def test_second_download_merges_idempotently(rut_csv, tmp_path, capsys):
    argv = ("--source", "file", "--path", str(rut_csv), "--cache-dir", str(tmp_path))
    assert run(*argv) == 0
    first = load_cache(cache_file(tmp_path, "^RUT"), "^RUT")
    capsys.readouterr()
    assert run(*argv) == 0
    pd.testing.assert_frame_equal(load_cache(cache_file(tmp_path, "^RUT"), "^RUT"), first)
    assert "(0 new, 0 revised)" in capsys.readouterr().out


def test_bad_source_exits_2_naming_the_value(tmp_path, capsys):
    assert run("--source", "ftp", "--cache-dir", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "'ftp'" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_file_source_without_path_exits_2(tmp_path, capsys):
    assert run("--source", "file", "--cache-dir", str(tmp_path)) == 2
    assert "needs 'path'" in capsys.readouterr().err


def test_missing_data_file_exits_2_naming_it(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    assert run("--source", "file", "--path", str(missing), "--cache-dir", str(tmp_path)) == 2
    assert "nope.csv" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.feather"))


def test_config_section_supplies_the_defaults(rut_csv, tmp_path):
    config = tmp_path / "config.json"
    section = {"ticker": "RUT", "source": "file", "path": str(rut_csv), "cache_dir": str(tmp_path)}
    config.write_text(json.dumps({"stake_currency": "USDT", "russell_regime": section}))
    assert run("--config", str(config)) == 0
    assert cache_file(tmp_path, "RUT").is_file()


def test_command_line_overrides_the_config(rut_csv, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"russell_regime": {"source": "ftp", "cache_dir": "/nowhere"}}))
    argv = ("--config", str(config), "--source", "file", "--path", str(rut_csv))
    assert run(*argv, "--cache-dir", str(tmp_path)) == 0
    assert cache_file(tmp_path, "^RUT").is_file()


@pytest.mark.parametrize("content", ["{not json", '{"russell_regime": 3}', "[]"])
def test_bad_config_exits_2_naming_the_file(tmp_path, capsys, content):
    config = tmp_path / "bad-config.json"
    config.write_text(content)
    assert run("--config", str(config), "--cache-dir", str(tmp_path)) == 2
    assert "bad-config.json" in capsys.readouterr().err


def test_missing_config_exits_2(tmp_path, capsys):
    assert run("--config", str(tmp_path / "absent.json")) == 2
    assert "absent.json" in capsys.readouterr().err


def test_section_overrides_put_cli_flags_over_the_section():
    config = {"russell_regime": {"source": "file", "publication_lag_minutes": 30}, "x": 1}
    merged = with_section_overrides(config, {"ticker": "IWM"}, Path("c.json"))
    assert merged["russell_regime"] == {
        "source": "file", "publication_lag_minutes": 30, "ticker": "IWM"
    }
    assert merged["x"] == 1
    assert config["russell_regime"] == {"source": "file", "publication_lag_minutes": 30}


def test_section_overrides_reject_a_section_that_is_not_an_object():
    with pytest.raises(ConfigError, match=r"c\.json: 'russell_regime' must be an object.*list"):
        with_section_overrides({"russell_regime": ["^RUT"]}, {}, Path("c.json"))


def test_download_refetches_only_the_tail_once_cached(tmp_path):
    calls = []

    def history(ticker, **kwargs):
        calls.append(kwargs)
        index = pd.DatetimeIndex(["2024-07-01", "2024-07-02"]).tz_localize("America/New_York")
        return pd.DataFrame(
            {"Open": [1.0, 2.0], "High": [2.0, 3.0], "Low": [0.5, 1.0], "Close": [1.5, 2.5]},
            index=index,
        )

    source = YahooSource("^RUT", Availability(), history=history)
    download("^RUT", source, tmp_path, LATER, progress=False, availability=Availability())
    download("^RUT", source, tmp_path, LATER, progress=True, availability=Availability())
    assert "period" in calls[0]
    assert calls[1]["start"] == "2024-06-18"


def test_failed_fetch_leaves_the_cache_unchanged(rut_csv, tmp_path):
    assert run("--source", "file", "--path", str(rut_csv), "--cache-dir", str(tmp_path)) == 0
    before = cache_file(tmp_path, "^RUT").read_bytes()

    def failing(ticker, **kwargs):
        raise TimeoutError("timed out")

    with pytest.raises(SourceError, match="timed out"):
        download("^RUT", YahooSource("^RUT", Availability(), history=failing), tmp_path, LATER,
                 progress=False, availability=Availability())
    assert cache_file(tmp_path, "^RUT").read_bytes() == before


def test_python_dash_m_runs_the_cli(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "russell_regime", "download", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0
    assert "--cache-dir" in out.stdout


def test_freqtrade_env_vars_override_the_config_like_in_freqtrade(rut_csv, tmp_path, monkeypatch):
    config = tmp_path / "config.json"
    config.write_text('{"russell_regime": {"source": "yahoo"}} // comments allowed')
    monkeypatch.setenv("FREQTRADE__RUSSELL_REGIME__SOURCE", "file")
    monkeypatch.setenv("FREQTRADE__RUSSELL_REGIME__PATH", str(rut_csv))
    assert run("--config", str(config), "--cache-dir", str(tmp_path)) == 0
    assert len(load_cache(cache_file(tmp_path, "^RUT"), "^RUT")) == 9523


def test_download_and_status_find_the_bot_folder_like_freqtrade(rut_csv, tmp_path):
    """From a bot folder: config.json there is read without --config (its user_data_dir picks
    the cache); --userdir replaces it; no config at all means ./user_data. Real entry point."""
    def cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "russell_regime", *argv], cwd=cwd,
                              capture_output=True, text=True, timeout=120)

    bot = tmp_path / "bot"
    bot.mkdir()
    (bot / "config.json").write_text(json.dumps({"user_data_dir": "bot_data"}))
    fetch = ("download", "--no-progress", "--source", "file", "--path", str(rut_csv))
    assert cli(*fetch, cwd=bot).returncode == 0
    assert cache_file(bot / "bot_data" / "data" / "russell", "^RUT").is_file()
    assert cli(*fetch, "--userdir", "other", cwd=bot).returncode == 0
    assert cache_file(bot / "other" / "data" / "russell", "^RUT").is_file()
    status = cli("status", "--userdir", "other", "--now", "2025-07-01T21:00", cwd=bot)
    assert status.returncode == 0, status.stderr
    assert str(bot / "other" / "data" / "russell") in status.stdout

    bare = tmp_path / "bare"
    bare.mkdir()
    assert cli(*fetch, cwd=bare).returncode == 0
    assert cache_file(bare / "user_data" / "data" / "russell", "^RUT").is_file()
