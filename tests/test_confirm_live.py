"""Live refresh of a confirmation series next to the index (LiveRegime, fake yfinance, fake
monotonic clock): one worker thread runs both series' fetches; a fetch queued behind a hung
one moves to a new worker once it is overdue, so a hung ^RUT request does not hold the VIX
back; the bot loop never waits."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest
from livefakes import FakeYahoo, Live, seed_cache, utc

from russell_regime.adapter.confirm import Confirmation
from russell_regime.adapter.live import LiveRegime
from russell_regime.core.calendar import Availability
from russell_regime.core.daily import validate_daily
from russell_regime.data.cache import cache_file, write_cache
from russell_regime.data.sources import YahooSource
from russell_regime.settings import settings_from_config

pytestmark = [pytest.mark.shared_data]

NOW = utc("2024-11-19 02:00")


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def pair(tmp_path, rut_daily, shared_data):
    vix_daily = validate_daily(pd.read_csv(shared_data / "index" / "VIX.csv"), "^VIX")
    seed_cache(tmp_path, rut_daily, "2024-11-15")
    write_cache(cache_file(tmp_path, "^VIX"),
                vix_daily[vix_daily["session"] <= pd.Timestamp("2024-11-15")], "^VIX")
    clock = FakeMonotonic()
    index = Live(tmp_path, rut_daily, NOW, clock=clock, abandon_after=30,
                 fetch_timeout_seconds=0.5)
    settings = settings_from_config({"russell_regime": {
        "cache_dir": str(tmp_path), "fetch_timeout_seconds": 0.5, "confirmations": {"vix": {}}}})
    provider = Confirmation(settings, settings.confirmations["vix"]).series["^VIX"]
    vix_yahoo = FakeYahoo(vix_daily, NOW)
    source = YahooSource("^VIX", Availability(lag_minutes=15, close_offset_minutes=15),
                         timeout=0.5, history=vix_yahoo)
    vix = LiveRegime(provider, None, source=source, clock=clock, abandon_after=30,
                     worker_of=index.live)
    index.live.start()
    vix.start()
    yield index, vix, vix_yahoo, clock
    if index.yahoo.hang is not None:
        index.yahoo.hang.set()


def test_both_series_refresh_on_one_worker(pair):
    index, vix, vix_yahoo, _ = pair
    assert vix._ensure_worker() is index.live._ensure_worker()
    before = threading.active_count()
    index.loop(NOW)
    vix.on_loop(NOW)
    assert index.live.wait(10) and vix.wait(10)
    index.loop(NOW + pd.Timedelta(seconds=5))
    vix.on_loop(NOW + pd.Timedelta(seconds=5))
    assert index.newest() == pd.Timestamp("2024-11-18")
    assert vix.provider.daily["session"].iloc[-1] == pd.Timestamp("2024-11-18")
    assert threading.active_count() == before  # no thread per fetch
    assert [c["ticker"] for c in vix_yahoo.calls] == ["^VIX"]
    assert vix.gates == {}  # a confirmation series has no gate of its own


def test_vix_fetch_queued_behind_a_hung_index_fetch_moves_to_a_new_worker(pair, caplog):
    index, vix, _, clock = pair
    index.yahoo.hang = threading.Event()
    index.loop(NOW)  # the ^RUT request hangs on the shared worker
    deadline = time.monotonic() + 10
    while not index.yahoo.calls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert index.yahoo.calls
    vix.on_loop(NOW)  # queued behind it
    assert vix.busy and not vix.wait(0.2)
    clock.t += 3  # past timeout (0.5 s) + 2 s
    started = time.perf_counter()
    with caplog.at_level("WARNING", logger="russell_regime.adapter.live"):
        vix.on_loop(NOW + pd.Timedelta(seconds=5))
    assert time.perf_counter() - started < 0.5  # the loop does not wait
    assert any("waited" in r.getMessage() and "^VIX" in r.getMessage() for r in caplog.records)
    assert vix.wait(10)
    vix.on_loop(NOW + pd.Timedelta(seconds=10))
    assert vix.provider.daily["session"].iloc[-1] == pd.Timestamp("2024-11-18")
    assert index.live.busy and index.newest() == pd.Timestamp("2024-11-15")  # still hung
    index.yahoo.hang.set()
    assert index.live.wait(10)
    index.loop(NOW + pd.Timedelta(seconds=15))
    assert index.newest() == pd.Timestamp("2024-11-18")
