"""Calendar tables: what the core reads instead of exchange_calendars, kept on disk so a fresh
process (each hyperopt worker, every CLI command) neither builds nor imports the calendar."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from russell_regime.core.calendar import (
    Availability,
    build_table,
    exchange_calendar,
    session_close,
)
from russell_regime.data.calendars import (
    ENV,
    cache_dir,
    load_table,
    read_table,
    table_path,
    write_table,
    xcals_version,
)


@pytest.mark.parametrize("name", ["XNYS", "XLON", "XBOM"])
def test_table_holds_exactly_the_calendars_sessions_and_closes(name):
    cal, table = exchange_calendar(name), build_table(name)
    assert table.sessions.equals(pd.DatetimeIndex(cal.sessions).as_unit("ns"))
    closes = pd.DatetimeIndex(cal.closes.array).tz_convert("UTC").as_unit("ns")
    np.testing.assert_array_equal(table.closes_ns, closes.asi8)
    # every session's close through the table equals exchange_calendars' own close
    assert session_close(cal.sessions, name).equals(closes)


def test_table_round_trips_through_its_file(tmp_path):
    table = build_table("XNYS")
    path = table_path(tmp_path, "XNYS", "9.9")
    write_table(path, table)
    back = read_table(path, "XNYS")
    np.testing.assert_array_equal(back.sessions_ns, table.sessions_ns)
    np.testing.assert_array_equal(back.closes_ns, table.closes_ns)
    assert (back.tz, back.regular_close) == (table.tz, table.regular_close)
    assert read_table(path, "XLON") is None  # a file under another name is not used


def test_file_name_carries_the_calendar_the_xcals_version_and_the_span(tmp_path):
    import exchange_calendars

    assert xcals_version() == exchange_calendars.__version__
    name = table_path(tmp_path, "XNYS", xcals_version()).name
    version = exchange_calendars.__version__
    assert name == f"calendar-XNYS-xcals{version}-1980-01-01-2045-12-31-v1.npz"


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_corrupt_file_is_rebuilt_and_replaced(tmp_path, content, monkeypatch):
    from russell_regime.core import calendar as core

    monkeypatch.setattr(core, "_TABLES", {})
    path = table_path(tmp_path, "XNYS", xcals_version())
    path.write_bytes(content)
    table = load_table("XNYS", tmp_path)
    assert table.sessions.equals(build_table("XNYS").sessions)
    assert read_table(path, "XNYS") is not None


def test_unwritable_cache_dir_only_costs_the_build(tmp_path, monkeypatch):
    from russell_regime.core import calendar as core

    monkeypatch.setattr(core, "_TABLES", {})
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a file where the directory should be
    assert load_table("XNYS", blocker / "sub").name == "XNYS"


def test_cache_dir_setting(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV, "off")
    assert cache_dir() is None
    monkeypatch.setenv(ENV, str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv(ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "russell_regime"


FRESH_PROCESS = """
import json, sys, time
import pandas as pd
start = time.perf_counter()
from russell_regime.adapter.provider import RegimeProvider
from russell_regime.settings import RegimeSettings
provider = RegimeProvider(RegimeSettings())
times = RegimeSettings().availability.available_at(pd.DatetimeIndex(["2024-11-29", "2024-12-02"]))
print(json.dumps({{
    "xcals_imported": "exchange_calendars" in sys.modules,
    "seconds": time.perf_counter() - start,
    "available_at": [str(t) for t in times],
}}))
"""


def _fresh(tmp_path: Path) -> dict:
    env = {**os.environ, ENV: str(tmp_path / "calendars")}
    out = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS.replace('{{', '{').replace('}}', '}')],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_fresh_process_with_the_table_on_disk_never_imports_exchange_calendars(tmp_path):
    first = _fresh(tmp_path)  # builds the table and writes it
    assert first["xcals_imported"]
    assert len(list((tmp_path / "calendars").glob("calendar-XNYS-*.npz"))) == 1
    second = _fresh(tmp_path)
    assert not second["xcals_imported"]
    assert second["available_at"] == first["available_at"] == [
        "2024-11-29 18:15:00+00:00", "2024-12-02 21:15:00+00:00"
    ]


def test_the_table_from_disk_gives_the_same_availability_as_the_build(tmp_path, monkeypatch):
    from russell_regime.core import calendar as core

    monkeypatch.setattr(core, "_TABLES", {})
    write_table(table_path(tmp_path, "XNYS", xcals_version()), build_table("XNYS"))
    monkeypatch.setattr(core, "_TABLES", {})
    core._availability_ns.cache_clear()
    load_table("XNYS", tmp_path)
    sessions = exchange_calendar("XNYS").sessions
    built = pd.DatetimeIndex(exchange_calendar("XNYS").closes.array).tz_convert("UTC")
    assert Availability().available_at(sessions).equals(built.as_unit("ns") + pd.Timedelta("15min"))
    now = pd.Timestamp("2024-07-06 12:00", tz="UTC")
    assert Availability().latest_available_session(now) == pd.Timestamp("2024-07-05")
    core._availability_ns.cache_clear()
