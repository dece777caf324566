"""Disk cache: safe file names, merge of revised sessions, atomic writes, clear errors."""

from __future__ import annotations

import os
import re

import pandas as pd
import pytest

from russell_regime.data import cache as cache_module
from russell_regime.data.cache import (
    MAX_STEM,
    DailyCache,
    cache_file,
    legacy_cache_file,
    load_cache,
    merge_sessions,
    ticker_of,
    write_cache,
)
from russell_regime.errors import ConfigError, DataValidationError, SourceError


def daily(dates: list[str], close: float = 100.0) -> pd.DataFrame:
    n = len(dates)
    closes = [close + i for i in range(n)]
    return pd.DataFrame(
        {
            "session": pd.to_datetime(dates).astype("datetime64[ns]"),
            "open": closes,
            "high": [c + 1 for c in closes],
            "low": [c - 1 for c in closes],
            "close": closes,
            "volume": [1000.0] * n,
        }
    )


# --- file names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ticker", "name"),
    [
        ("^RUT", "^RUT.feather"),
        ("RTY=F", "RTY=F.feather"),
        ("IWM", "IWM.feather"),
        ("BRK.B", "BRK.B.feather"),
        ("BRK-B", "BRK-B.feather"),
        ("^GSPC", "^GSPC.feather"),
        ("_5ERUT", "_5F5ERUT.feather"),
        ("rut", "_72_75_74.feather"),
        ("CON", "_43ON.feather"),
        ("nul.x", "_6E_75_6C._78.feather"),
        ("COM1.B", "_43OM1.B.feather"),
        ("..", "_2E..feather"),
        ("A:B", "A_3AB.feather"),
    ],
)
def test_cache_file_names_are_readable(tmp_path, ticker, name):
    assert cache_file(tmp_path, ticker) == tmp_path / name


@pytest.mark.parametrize("ticker", ["../x", "../../etc/passwd", "a/b", "..", "C:\\x", "/abs", "."])
def test_cache_file_never_leaves_the_directory(tmp_path, ticker):
    path = cache_file(tmp_path, ticker)
    assert path.parent == tmp_path
    assert path.resolve().parent == tmp_path.resolve()
    assert not path.name.startswith(".")  # never hidden, never "." / ".." tricks


TICKERS = [
    "^RUT", "_5ERUT", "_5E_RUT", "RUT", "rut", "Rut", "RTY=F", "RTY_3DF", "..", ".", "é",
    "_C3_A9", "CON", "con", "_43ON", "LPT9", "a b", "X" * 150,
]


def test_cache_file_names_are_injective_even_ignoring_case_and_reversible(tmp_path):
    names = [cache_file(tmp_path, t).name for t in TICKERS]
    assert len({n.casefold() for n in names}) == len(TICKERS)  # macOS / Windows fold case
    assert [ticker_of(n) for n in names] == TICKERS


def test_cache_file_names_use_only_portable_characters(tmp_path):
    for ticker in [*TICKERS, '<>:"/\\|?*', "\t\n", "NUL", "aux.feather"]:
        name = cache_file(tmp_path, ticker).name
        assert re.fullmatch(r"[A-Z0-9^=.\-_]+\.feather", name), name
        assert name.split(".")[0] not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}


def test_empty_ticker_has_no_cache_file(tmp_path):
    with pytest.raises(ValueError, match="non-empty"):
        cache_file(tmp_path, "")


def test_too_long_ticker_is_a_one_line_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"'A{24}\.\.\.' \(300 characters\) is too long") as info:
        cache_file(tmp_path, "A" * 300)
    assert "\n" not in str(info.value)
    name = cache_file(tmp_path, "A" * MAX_STEM).name  # the longest accepted name fits
    assert len((name + ".lock").encode()) <= 255 and len(f".{name}.abcdefgh.tmp") <= 255


def test_legacy_names_are_the_old_encoding(tmp_path):
    assert legacy_cache_file(tmp_path, "^RUT") == tmp_path / "_5ERUT.feather"
    assert legacy_cache_file(tmp_path, "RTY=F") == tmp_path / "RTY_3DF.feather"
    assert legacy_cache_file(tmp_path, "IWM") == tmp_path / "IWM.feather"
    assert ticker_of("_5ERUT.feather") == "^RUT"


# --- merge -----------------------------------------------------------------------------------


def test_merge_replaces_a_revised_session_and_keeps_old_ones():
    cached = daily(["2024-07-01", "2024-07-02", "2024-07-03"])
    fresh = daily(["2024-07-03", "2024-07-05"], close=200.0)  # 07-03 revised, 07-05 new
    merged = merge_sessions(cached, fresh, "^RUT")
    assert merged["session"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-07-01",
        "2024-07-02",
        "2024-07-03",
        "2024-07-05",
    ]
    assert merged["close"].tolist() == [100.0, 101.0, 200.0, 201.0]


def test_merge_sorts_fresh_sessions_older_than_the_cache():
    merged = merge_sessions(daily(["2024-07-02"]), daily(["2024-07-01"], close=50.0), "^RUT")
    assert merged["close"].tolist() == [50.0, 100.0]


def test_merge_with_nothing_cached_is_the_fresh_frame():
    fresh = daily(["2024-07-01", "2024-07-02"])
    pd.testing.assert_frame_equal(merge_sessions(None, fresh, "^RUT"), fresh)


def test_merge_is_idempotent():
    frame = daily(["2024-07-01", "2024-07-02"])
    pd.testing.assert_frame_equal(merge_sessions(frame, frame, "^RUT"), frame)


def test_merge_rejects_an_invalid_fresh_frame():
    bad = daily(["2024-07-01"])
    bad["close"] = float("nan")
    with pytest.raises(DataValidationError):
        merge_sessions(daily(["2024-06-28"]), bad, "^RUT")


# --- load / write ----------------------------------------------------------------------------


def test_write_then_load_round_trips(tmp_path):
    frame = daily(["2024-07-01", "2024-07-02"])
    path = tmp_path / "sub" / "dir" / "x.feather"
    write_cache(path, frame, "^RUT")
    pd.testing.assert_frame_equal(load_cache(path, "^RUT"), frame)


def test_load_of_an_absent_file_is_none(tmp_path):
    assert load_cache(tmp_path / "none.feather", "^RUT") is None


def test_failed_replace_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "x.feather"
    old = daily(["2024-07-01"])
    write_cache(path, old, "^RUT")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module.os, "replace", refuse)
    with pytest.raises(SourceError, match="cannot write cache file .*x.feather.*No space"):
        write_cache(path, daily(["2024-07-01", "2024-07-02"]), "^RUT")
    monkeypatch.undo()
    pd.testing.assert_frame_equal(load_cache(path, "^RUT"), old)
    assert sorted(os.listdir(tmp_path)) == ["x.feather"]


def test_failed_serialization_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "x.feather"
    old = daily(["2024-07-01"])
    write_cache(path, old, "^RUT")

    def broken(self, fh, **kwargs):
        fh.write(b"half a file")
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(pd.DataFrame, "to_feather", broken)
    with pytest.raises(SourceError, match="x.feather"):
        write_cache(path, daily(["2024-07-02"]), "^RUT")
    monkeypatch.undo()
    pd.testing.assert_frame_equal(load_cache(path, "^RUT"), old)
    assert sorted(os.listdir(tmp_path)) == ["x.feather"]


def test_unwritable_directory_is_a_source_error_naming_the_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a directory")
    with pytest.raises(SourceError, match="cannot write cache file .*file/x.feather"):
        write_cache(blocker / "x.feather", daily(["2024-07-01"]), "^RUT")


def test_invalid_frame_is_not_written(tmp_path):
    bad = daily(["2024-07-02", "2024-07-01"])  # not increasing
    with pytest.raises(DataValidationError):
        write_cache(tmp_path / "x.feather", bad, "^RUT")
    assert not (tmp_path / "x.feather").exists()


def test_truncated_cache_file_is_an_error_naming_the_path(tmp_path):
    path = tmp_path / "x.feather"
    write_cache(path, daily(["2024-07-01", "2024-07-02"]), "^RUT")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match=r"cache file .*x\.feather unreadable") as info:
        load_cache(path, "^RUT")
    assert info.value.ticker == "^RUT"


def test_garbage_cache_file_is_an_error_naming_the_path(tmp_path):
    path = tmp_path / "x.feather"
    path.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(SourceError, match=r"cache file .*x\.feather unreadable"):
        load_cache(path, "^RUT")


def test_cache_file_with_invalid_content_is_an_error_naming_the_path(tmp_path):
    path = tmp_path / "x.feather"
    daily(["2024-07-02", "2024-07-01"]).to_feather(path)  # written behind the cache's back
    with pytest.raises(SourceError, match=r"cache file .*x\.feather invalid.*not increasing"):
        load_cache(path, "^RUT")


# --- DailyCache ------------------------------------------------------------------------------


def test_daily_cache_update_creates_then_merges(tmp_path):
    store = DailyCache(tmp_path / "russell")
    assert store.load("^RUT") is None
    store.update("^RUT", daily(["2024-07-01", "2024-07-02"]), "XNYS")
    merged = store.update("^RUT", daily(["2024-07-02", "2024-07-03"], close=102.0), "XNYS")
    assert merged["close"].tolist() == [100.0, 102.0, 103.0]
    assert store.path("^RUT") == tmp_path / "russell" / "^RUT.feather"
    pd.testing.assert_frame_equal(store.load("^RUT"), merged)
