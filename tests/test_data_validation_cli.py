"""Bad index data through the real entry point: ``python -m russell_regime download``.

Every case runs the command in a subprocess (cwd a temp folder, no network needed: file
source) and checks the exit code, the one error line, and that the cache is left unchanged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from russell_regime.core.calendar import exchange_calendar, xnys
from russell_regime.data.cache import DailyCache

REPO_ROOT = Path(__file__).resolve().parents[1]
T = "^RUT"


def download(tmp: Path, path: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FREQTRADE__")}
    return subprocess.run(
        [sys.executable, "-m", "russell_regime", "download", "--no-progress",
         "--source", "file", "--path", str(path), "--cache-dir", str(tmp / "cache"), *extra],
        cwd=tmp, env=env, capture_output=True, text=True, timeout=120,
    )


def frame(start: str, n: int, calendar: str = "XNYS", close: float = 100.0) -> pd.DataFrame:
    sessions = exchange_calendar(calendar).sessions
    days = pd.DatetimeIndex(sessions[sessions >= pd.Timestamp(start)][:n])
    closes = close + np.arange(n, dtype="float64")
    return pd.DataFrame({
        "date": days.strftime("%Y-%m-%d"), "open": closes, "high": closes + 1.0,
        "low": closes - 1.0, "close": closes, "volume": 1000.0 + np.arange(n),
    })


def write(tmp: Path, name: str, data: pd.DataFrame | str) -> Path:
    path = tmp / name
    path.write_text(data if isinstance(data, str) else data.to_csv(index=False))
    return path


def cache_bytes(tmp: Path) -> bytes:
    return DailyCache(tmp / "cache").path(T).read_bytes()


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A cache holding 30 good sessions from 2024-06-03 (through the CLI)."""
    good = write(tmp_path, "good.csv", frame("2024-06-03", 30))
    out = download(tmp_path, good)
    assert out.returncode == 0, out.stderr
    return tmp_path


def assert_one_line_error(out: subprocess.CompletedProcess, *needles: str) -> None:
    assert out.returncode != 0
    assert "Traceback" not in out.stderr + out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_weekend_row_rejected_naming_the_first_bad_date_cache_unchanged(seeded):
    before = cache_bytes(seeded)
    data = frame("2024-06-03", 40)
    data.loc[35, "date"] = "2024-07-20"  # a Saturday, between 07-19 and 07-22
    data.loc[36, "date"] = "2024-07-21"  # and a Sunday
    data = data.sort_values("date")
    out = download(seeded, write(seeded, "weekend.csv", data))
    assert_one_line_error(out, "2024-07-20", "not a XNYS session", "Saturday; 2 such dates")
    assert cache_bytes(seeded) == before


def test_isolated_holiday_row_dropped_and_named_in_one_warning(seeded):
    """Stray-row policy: one row on a holiday among 31 is dropped and named; the rest is
    merged (the adjacent weekend rows above, and a shifted series, are still refused)."""
    data = frame("2024-06-03", 30)
    holiday = pd.DataFrame([{"date": "2024-07-04", "open": 1.0, "high": 2.0, "low": 1.0,
                             "close": 1.5, "volume": 1.0}])
    data = pd.concat([data, holiday]).sort_values("date")
    out = download(seeded, write(seeded, "holiday.csv", data))
    assert out.returncode == 0, out.stderr
    warnings = [line for line in out.stdout.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: ^RUT: dropped 1 row dated on a non-session of XNYS: "
                        "2024-07-04 (Thu)"]
    assert "Traceback" not in out.stderr


def test_series_shifted_by_one_day_rejected_not_merged_as_revisions(seeded):
    before = cache_bytes(seeded)
    data = frame("2024-06-03", 30)
    data["date"] = (pd.to_datetime(data["date"]) + pd.Timedelta(days=1)).dt.strftime("%Y-%m-%d")
    out = download(seeded, write(seeded, "shifted.csv", data))
    assert_one_line_error(out, "not a XNYS session")  # Friday + 1 = Saturday
    assert cache_bytes(seeded) == before


def test_series_shifted_by_one_session_rejected_as_implausible_revision(seeded):
    before = cache_bytes(seeded)
    data = frame("2024-06-03", 31)
    data[["open", "high", "low", "close"]] = data[["open", "high", "low", "close"]].shift(-1)
    data = data.iloc[:-1]  # every session now carries the next session's prices
    out = download(seeded, write(seeded, "shifted.csv", data))
    assert_one_line_error(out, "would revise 30 of 30 cached sessions (limit 5)", "2024-06-03")
    assert cache_bytes(seeded) == before


def test_close_revised_by_more_than_five_percent_rejected(seeded):
    before = cache_bytes(seeded)
    data = frame("2024-06-03", 30)
    data.loc[10, ["close", "high"]] = [200.0, 201.0]
    out = download(seeded, write(seeded, "jump.csv", data))
    assert_one_line_error(out, "revise the close of 2024-06-17 from 110 to 200", "limit 5%")
    assert cache_bytes(seeded) == before


@pytest.mark.parametrize("bad", ["inf", "-inf"])
def test_infinite_price_rejected(tmp_path, bad):
    data = frame("2024-06-03", 5).astype({"high": object})
    data.loc[3, "high"] = bad
    out = download(tmp_path, write(tmp_path, "inf.csv", data))
    assert_one_line_error(out, "session 2024-06-06", "price is not finite", f"high={bad}")
    assert not DailyCache(tmp_path / "cache").path(T).exists()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("date,open,high,low,close,Close\n2024-07-01,1,2,1,1.5,1.5\n", "'close' and 'Close'"),
        ("Date,open,high,low,close,date\n2024-07-01,1,2,1,1.5,2024-07-01\n", "'Date' and 'date'"),
        ("date,open,high,low,close,session\n2024-07-01,1,2,1,1.5,2024-07-01\n",
         "'date' and 'session'"),
    ],
)
def test_columns_colliding_after_lower_casing_give_one_clear_line(tmp_path, text, named):
    out = download(tmp_path, write(tmp_path, "clash.csv", text))
    assert_one_line_error(out, "columns collide", named)


def test_file_without_volume_keeps_the_cached_volumes(seeded):
    cached = DailyCache(seeded / "cache").load(T)
    no_volume = frame("2024-06-03", 32).drop(columns=["volume"])  # 30 cached + 2 new
    out = download(seeded, write(seeded, "novolume.csv", no_volume))
    assert out.returncode == 0, out.stderr
    assert "(2 new, 0 revised)" in out.stdout
    after = DailyCache(seeded / "cache").load(T)
    assert after["volume"].iloc[:30].tolist() == cached["volume"].tolist()
    assert after["volume"].iloc[30:].isna().all()


@pytest.mark.parametrize(
    ("bad", "problem"), [("-5", "volume < 0: -5"), ("lots", "volume is not a number: 'lots'"),
                         ("inf", "volume is not finite: inf")],
)
def test_bad_volume_rejected(seeded, bad, problem):
    before = cache_bytes(seeded)
    data = frame("2024-06-03", 32).astype({"volume": object})
    data.loc[31, "volume"] = bad
    out = download(seeded, write(seeded, "badvolume.csv", data))
    assert_one_line_error(out, problem)
    assert cache_bytes(seeded) == before


def test_calendar_setting_accepts_another_exchange(tmp_path):
    # 2024-07-04 is a London session but a US holiday; 2024-08-26 a UK-only bank holiday
    # not ./config.json: without --config, download reads the current folder's config.json
    (tmp_path / "ftse").mkdir()
    config = tmp_path / "ftse" / "config.json"
    config.write_text(json.dumps({"russell_regime": {"ticker": "^FTSE", "calendar": "XLON"}}))
    london = frame("2024-07-01", 10, calendar="XLON")
    assert "2024-07-04" in set(london["date"])
    out = download(tmp_path, write(tmp_path, "ftse.csv", london), "--config", str(config),
                   "--ticker", "^FTSE")
    assert out.returncode == 0, out.stderr
    assert "^FTSE: 10 sessions 2024-07-01 .. 2024-07-12 (10 new" in out.stdout
    us = frame("2024-07-01", 10)
    out = download(tmp_path, write(tmp_path, "us.csv", us), "--ticker", "^RUT")
    assert out.returncode == 0, out.stderr
    fresh = tmp_path / "fresh"  # an empty ^RUT cache: the London prices are no revision
    fresh.mkdir()
    out = download(fresh, write(fresh, "ftse2.csv", london), "--ticker", "^RUT")
    assert out.returncode == 0, out.stderr  # on XNYS the US holiday is a stray row: dropped
    assert "warning: ^RUT: dropped 1 row dated on a non-session of XNYS: 2024-07-04 (Thu)" in (
        out.stdout)


def test_unknown_calendar_is_a_config_error(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"russell_regime": {"calendar": "NOPE"}}))
    out = download(tmp_path, write(tmp_path, "x.csv", frame("2024-07-01", 3)),
                   "--config", str(config))
    assert_one_line_error(out, "calendar='NOPE'", "exchange_calendars code")


def test_real_rut_history_is_all_xnys_sessions(rut_daily):
    # the check must not reject real data: every ^RUT session since 1987 is an XNYS session
    assert rut_daily["session"].isin(xnys().sessions).all()
