"""The one locked fetch-merge-write path, through real processes.

Two ``python -m russell_regime download`` processes, or a download next to a live refresh, update
one cache at once: neither may lose the other's sessions. Overlap is forced, not hoped for: the
file source is a named pipe (FIFO), so a download blocks inside its fetch until the test feeds
it; the test sees a process waiting on its pipe by opening it for writing without blocking
(``ENXIO`` while nobody reads). Also: the lock timeout, old cache file names, long tickers.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from livefakes import Live, utc

from russell_regime.cli.main import main
from russell_regime.data import download as download_module
from russell_regime.data.cache import (
    DailyCache,
    cache_file,
    legacy_cache_file,
    load_cache,
    write_cache,
)
from russell_regime.errors import CacheUnavailable

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")

DAY = pd.Timestamp
NOW = utc("2024-11-19 02:00")  # Monday 2024-11-18 is final; the cache below ends before it


def start_download(cwd: Path, data: Path, cache_dir: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ)
    argv = [sys.executable, "-m", "russell_regime", "download", "--no-progress",
            "--source", "file", "--path", str(data), "--cache-dir", str(cache_dir), *extra]
    return subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def reader_waiting(fifo: Path, proc: subprocess.Popen, seconds: float) -> int | None:
    """A write end of ``fifo`` once ``proc`` reads from it; None after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
            if proc.poll() is not None:
                pytest.fail(f"download exited {proc.returncode}: {proc.communicate()}")
            time.sleep(0.02)
            continue
        os.set_blocking(fd, True)
        return fd
    return None


def feed(fd: int, frame: pd.DataFrame) -> None:
    with os.fdopen(fd, "w") as pipe:
        pipe.write(frame.to_csv(index=False))


def finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


def sessions(frame: pd.DataFrame) -> set[pd.Timestamp]:
    return set(frame["session"])


@pytest.fixture
def window(rut_daily):
    """Real sessions 2024-06-03 .. 2024-11-15."""
    return rut_daily[rut_daily["session"].between("2024-06-03", "2024-11-15")].reset_index(
        drop=True
    )


def test_two_concurrent_downloads_keep_both_runs_sessions(tmp_path, window):
    cache_dir = tmp_path / "cache"
    base = window[window["session"] <= "2024-11-08"]
    write_cache(cache_file(cache_dir, "^RUT"), base, "^RUT")
    new_a = window[window["session"].between("2024-11-11", "2024-11-12")]
    new_b = window[window["session"].between("2024-11-13", "2024-11-14")]
    fifo_a, fifo_b = tmp_path / "a.csv", tmp_path / "b.csv"
    os.mkfifo(fifo_a)
    os.mkfifo(fifo_b)

    started = time.monotonic()
    proc_a = start_download(tmp_path, fifo_a, cache_dir)
    fd_a = reader_waiting(fifo_a, proc_a, 60)  # A has read the cache and is fetching
    assert fd_a is not None, "the first download never reached its fetch"
    reach = time.monotonic() - started
    proc_b = start_download(tmp_path, fifo_b, cache_dir)
    # Without a lock B reads the same cache and reaches its fetch as fast as A did: both then
    # hold the old cache and the second write drops the first one's sessions. With the lock B
    # waits for A and cannot be at its pipe yet.
    fd_b = reader_waiting(fifo_b, proc_b, max(5.0, 3 * reach))
    overlapped = fd_b is not None
    feed(fd_a, pd.concat([base, new_a]))
    out_a = finish(proc_a)
    if fd_b is None:
        fd_b = reader_waiting(fifo_b, proc_b, 60)
        assert fd_b is not None, "the second download never reached its fetch"
    feed(fd_b, pd.concat([base, new_b]))
    out_b = finish(proc_b)

    cached = load_cache(cache_file(cache_dir, "^RUT"), "^RUT")
    missing = (sessions(new_a) | sessions(new_b)) - sessions(cached)
    assert not missing, f"sessions lost by a concurrent download: {sorted(missing)}"
    assert len(cached) == len(base) + 4
    assert "(2 new, 0 revised)" in out_a and "(2 new, 0 revised)" in out_b
    assert not overlapped  # the second run waited for the lock, and said so:
    assert "another download or a bot is updating the cache" in out_b


def test_download_next_to_a_live_refresh_loses_nothing(tmp_path, rut_daily, window):
    """The bot fetches outside the lock, then merges into the cache as the download left it."""
    cache_dir = tmp_path / "cache"
    hole = DAY("2024-10-01")  # only the download has it; only the bot's Yahoo has 2024-11-18
    write_cache(cache_file(cache_dir, "^RUT"), window[window["session"] != hole], "^RUT")
    live = Live(cache_dir, rut_daily, NOW)
    live.live.start()
    fifo = tmp_path / "index.csv"
    os.mkfifo(fifo)
    proc = start_download(tmp_path, fifo, cache_dir)
    fd = reader_waiting(fifo, proc, 60)  # the download holds the cache and is fetching
    assert fd is not None

    live.loop(NOW)  # the bot's refresh fetches 2024-11-18, then needs the cache
    live.live.wait(2)  # (without a lock it would write now, from its own copy)
    feed(fd, window)
    assert "(1 new, 0 revised)" in finish(proc)
    assert live.live.wait(30), "the refresh never got the cache lock"
    assert live.loop(NOW + pd.Timedelta(seconds=5)) is True

    cached = load_cache(cache_file(cache_dir, "^RUT"), "^RUT")
    for frame in (cached, live.provider.daily):
        assert {hole, DAY("2024-11-18")} <= sessions(frame)
    assert len(cached) == len(window) + 1
    assert live.live.last_error is None


def test_held_lock_makes_download_give_up_with_one_line(tmp_path, rut_csv, monkeypatch, capsys):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    holder = subprocess.Popen(  # another process (a bot, a download) holding the cache
        [sys.executable, "-c",
         "import sys, time; from filelock import FileLock; lock = FileLock(sys.argv[1]); "
         "lock.acquire(); print('held', flush=True); time.sleep(120)",
         str(cache_dir / "^RUT.feather.lock")],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(download_module, "LOCK_TIMEOUT_SECONDS", 0.5)
        started = time.monotonic()
        code = main(["download", "--no-progress", "--source", "file", "--path", str(rut_csv),
                     "--cache-dir", str(cache_dir)])
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    out, err = capsys.readouterr()
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "waiting up to 0.5 s for" in out
    assert "^RUT.feather.lock" in err and "another process" in err
    assert 0.5 <= waited < 30
    assert not cache_file(cache_dir, "^RUT").exists()

    # the holder died: the OS dropped its lock, the lock file left behind does not block
    assert main(["download", "--no-progress", "--source", "file", "--path", str(rut_csv),
                 "--cache-dir", str(cache_dir)]) == 0


def test_old_named_cache_keeps_working_and_the_next_download_moves_it(tmp_path, window):
    old = legacy_cache_file(tmp_path, "^RUT")
    assert old.name == "_5ERUT.feather"
    head = window[window["session"] <= "2024-11-08"]
    write_cache(old, head, "^RUT")
    pd.testing.assert_frame_equal(DailyCache(tmp_path).load("^RUT"), head)  # read as is

    data = tmp_path / "more.csv"
    window.to_csv(data, index=False)
    out = finish(start_download(tmp_path, data, tmp_path))
    assert "(5 new, 0 revised)" in out and "moved the cache from its old name _5ERUT" in out
    new = tmp_path / "^RUT.feather"
    assert not old.exists()
    pd.testing.assert_frame_equal(load_cache(new, "^RUT"), window)


def test_old_named_cache_serves_a_bot_and_its_first_refresh_moves_it(tmp_path, rut_daily, window):
    old = legacy_cache_file(tmp_path, "^RUT")
    write_cache(old, window, "^RUT")
    live = Live(tmp_path, rut_daily, NOW)
    live.live.start()
    assert live.newest() == DAY("2024-11-15")  # used at once, before any refresh
    live.settle(NOW)
    assert live.newest() == DAY("2024-11-18") and not old.exists()
    cached = load_cache(cache_file(tmp_path, "^RUT"), "^RUT")
    assert cached["session"].iloc[0] == DAY("2024-06-03") and len(cached) == len(window) + 1


def test_300_character_ticker_is_a_one_line_error(tmp_path, rut_csv):
    proc = start_download(tmp_path, rut_csv, tmp_path, "--ticker", "A" * 300)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "300 characters" in err  # the settings or the cache file name reject it
    assert list(tmp_path.iterdir()) == []


def test_threads_of_one_process_are_serialised_too(tmp_path, window):
    """The bot's worker and a download in the same process use separate lock handles."""
    cache = DailyCache(tmp_path)
    base = window[window["session"] <= "2024-11-08"]
    write_cache(cache.path("^RUT"), base, "^RUT")
    inside = threading.Event()
    proceed = threading.Event()

    def slow_fetch(known):
        inside.set()
        assert proceed.wait(30)
        return pd.concat([known, window[window["session"] == DAY("2024-11-11")]])

    first = threading.Thread(
        target=download_module.update_cache, args=(cache, "^RUT", slow_fetch),
        kwargs={"calendar": "XNYS"},
    )
    first.start()
    assert inside.wait(30)
    with pytest.raises(CacheUnavailable, match=r"\^RUT\.feather\.lock"):
        download_module.update_cache(
            cache,
            "^RUT",
            window[window["session"] == DAY("2024-11-12")],
            lock_timeout=0.2,
            calendar="XNYS",
        )
    proceed.set()
    first.join(30)
    download_module.update_cache(
        cache, "^RUT", window[window["session"] == DAY("2024-11-12")], calendar="XNYS"
    )
    assert {DAY("2024-11-11"), DAY("2024-11-12")} <= sessions(cache.load("^RUT"))


def test_status_reads_an_old_named_cache_and_names_it(tmp_path, window):
    write_cache(legacy_cache_file(tmp_path, "^RUT"), window, "^RUT")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"russell_regime": {"cache_dir": str(tmp_path)}}))
    env = dict(os.environ)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "russell_regime",
            "status",
            "--config",
            str(config),
            "--now",
            "2024-11-18T12:00",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "_5ERUT.feather" in out.stdout and "2024-11-15" in out.stdout
