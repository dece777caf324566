"""Disk cache: safe file names, merge of revised sessions, atomic writes, clear errors."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from russell_regime import cache as cache_module
from russell_regime.cache import (
    DailyCache,
    cache_file,
    load_cache,
    merge_sessions,
    ticker_of,
    write_cache,
)
from russell_regime.errors import DataValidationError, SourceError


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
        ("^RUT", "_5ERUT.feather"),
        ("RTY=F", "RTY_3DF.feather"),
        ("IWM", "IWM.feather"),
        ("BRK.B", "BRK.B.feather"),
        ("_5ERUT", "_5F5ERUT.feather"),
    ],
)
def test_cache_file_names_are_readable(tmp_path, ticker, name):
    assert cache_file(tmp_path, ticker) == tmp_path / name


@pytest.mark.parametrize("ticker", ["../x", "../../etc/passwd", "a/b", "..", "C:\\x", "/abs"])
def test_cache_file_never_leaves_the_directory(tmp_path, ticker):
    path = cache_file(tmp_path, ticker)
    assert path.parent == tmp_path
    assert path.resolve().parent == tmp_path.resolve()


def test_cache_file_names_are_injective_and_reversible(tmp_path):
    tickers = [
        "^RUT",
        "_5ERUT",
        "_5E_RUT",
        "RUT",
        "rut",
        "RTY=F",
        "RTY_3DF",
        "..",
        ".",
        "é",
        "_C3_A9",
    ]
    names = [cache_file(tmp_path, t).name for t in tickers]
    assert len(set(names)) == len(tickers)
    assert [ticker_of(n) for n in names] == tickers


def test_empty_ticker_has_no_cache_file(tmp_path):
    with pytest.raises(ValueError, match="non-empty"):
        cache_file(tmp_path, "")


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
    store.update("^RUT", daily(["2024-07-01", "2024-07-02"]))
    merged = store.update("^RUT", daily(["2024-07-02", "2024-07-03"], close=300.0))
    assert merged["close"].tolist() == [100.0, 300.0, 301.0]
    assert store.path("^RUT") == tmp_path / "russell" / "_5ERUT.feather"
    pd.testing.assert_frame_equal(store.load("^RUT"), merged)
