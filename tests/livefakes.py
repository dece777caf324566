"""Fakes for the live tests: a yfinance that serves the real RUT rows up to a settable clock.

Nothing here touches the network. ``FakeYahoo`` answers like ``yf.Ticker(t).history(...)``:
midnight-New-York tz-aware index, ``Open High Low Close Adj Close Volume`` columns, every real
session whose New York date is <= the fake clock's, from ``start`` (or all with
``period="max"``). The session of the clock's own date is served as soon as the market opens,
with a provisional close (+30%, a new high) until the close: the in-progress bar a live Yahoo
answer carries, made extreme so that any leak shows in the gate and the audit columns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from russell_regime.adapter.live import LiveRegime
from russell_regime.adapter.provider import RegimeProvider
from russell_regime.core.calendar import Availability, session_close
from russell_regime.core.gate import GateParams
from russell_regime.data.cache import write_cache
from russell_regime.data.sources import YahooSource
from russell_regime.settings import settings_from_config

NY = "America/New_York"
SPIKE = 1.3


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def yahoo_frame(daily: pd.DataFrame) -> pd.DataFrame:
    """A daily frame in yfinance's ``history`` layout."""
    index = pd.DatetimeIndex(daily["session"]).tz_localize(NY).rename("Date")
    return pd.DataFrame(
        {
            "Open": daily["open"].to_numpy(),
            "High": daily["high"].to_numpy(),
            "Low": daily["low"].to_numpy(),
            "Close": daily["close"].to_numpy(),
            "Adj Close": daily["close"].to_numpy(),
            "Volume": daily["volume"].to_numpy(),
        },
        index=index,
    )


def answer_at(daily: pd.DataFrame, now: pd.Timestamp, start: str | None = None) -> pd.DataFrame:
    """What Yahoo answers at ``now``: sessions up to today's (in progress: provisional)."""
    ny_now = now.tz_convert(NY)
    if start is not None:
        daily = daily[daily["session"] >= pd.Timestamp(start)]
    rows = daily[daily["session"] <= pd.Timestamp(ny_now.date())]
    raw = yahoo_frame(rows)
    if len(rows):
        last = pd.Timestamp(rows["session"].iloc[-1])
        opened = pd.Timestamp(last.date()).tz_localize(NY) + pd.Timedelta(hours=9, minutes=30)
        if ny_now < opened:
            raw = raw.iloc[:-1]  # today's bar does not exist before the open
        elif now < session_close(pd.DatetimeIndex([last]), "XNYS")[0]:
            spike = raw["Open"].iloc[-1] * SPIKE
            raw.loc[raw.index[-1], ["Close", "Adj Close"]] = spike
            raw.loc[raw.index[-1], "High"] = max(raw["High"].iloc[-1], spike)
    return raw


class FakeYahoo:
    """``history(ticker, **kwargs)`` serving ``daily`` as seen at ``self.now``.

    ``fault`` (a callable ``raw -> raw`` or an exception to raise) corrupts the answer;
    ``hang`` (an Event) makes the call block until it is set.
    """

    def __init__(self, daily: pd.DataFrame, now: pd.Timestamp) -> None:
        self.daily = daily
        self.now = now
        self.fault: Callable[[pd.DataFrame], pd.DataFrame] | BaseException | None = None
        self.hang: threading.Event | None = None
        self.calls: list[dict] = []

    def __call__(self, ticker: str, **kwargs) -> pd.DataFrame:
        self.calls.append({"ticker": ticker, "now": self.now, **kwargs})
        if self.hang is not None:
            self.hang.wait()
        if isinstance(self.fault, BaseException):
            raise self.fault
        raw = answer_at(self.daily, self.now, kwargs.get("start"))
        return self.fault(raw) if callable(self.fault) else raw

    def ticker(self, symbol: str) -> _FakeTicker:
        """A stand-in for ``yfinance.Ticker`` (patch ``yfinance.Ticker`` with this method)."""
        return _FakeTicker(self, symbol)


class _FakeTicker:
    def __init__(self, yahoo: FakeYahoo, symbol: str) -> None:
        self.yahoo, self.symbol = yahoo, symbol

    def history(self, **kwargs) -> pd.DataFrame:
        return self.yahoo(self.symbol, **kwargs)


def regime_config(cache_dir: Path, **section) -> dict:
    """A freqtrade-like config with a russell_regime section (defaults + ``section``)."""
    return {"russell_regime": {"cache_dir": str(cache_dir), **section}}


def seed_cache(cache_dir: Path, daily: pd.DataFrame, until: str) -> Path:
    """Write ``daily`` up to session ``until`` as the ^RUT cache; return the file."""
    from russell_regime.data.cache import cache_file

    path = cache_file(cache_dir, "^RUT")
    write_cache(path, daily[daily["session"] <= pd.Timestamp(until)], "^RUT")
    return path


class Live:
    """A LiveRegime on a fake Yahoo with a recorded notifier: the live path without a bot."""

    def __init__(
        self,
        cache_dir: Path,
        daily: pd.DataFrame,
        now: pd.Timestamp,
        params: dict[str, GateParams] | None = None,
        abandon_after: float | None = None,
        clock=None,
        **section,
    ) -> None:
        self.settings = settings_from_config(regime_config(cache_dir, **section))
        self.provider = RegimeProvider(self.settings)
        self.yahoo = FakeYahoo(daily, now)
        self.messages: list[str] = []
        self.params = params or {}
        source = YahooSource(
            "^RUT",
            Availability(lag_minutes=self.settings.publication_lag_minutes),
            timeout=self.settings.fetch_timeout_seconds,
            history=self.yahoo,
        )
        self.live = LiveRegime(
            self.provider,
            lambda cls: self.params.get(cls, GateParams()),
            notify=self.messages.append,
            source=source,
            abandon_after=abandon_after,
            **({} if clock is None else {"clock": clock}),
        )

    def loop(self, now: pd.Timestamp) -> bool:
        """One bot loop at ``now``; the fake Yahoo sees the same clock."""
        self.yahoo.now = now
        return self.live.on_loop(now)

    def settle(self, now: pd.Timestamp, timeout: float = 10.0) -> bool:
        """Loop at ``now``, let a started fetch finish, loop again 5 s later (installs it)."""
        self.loop(now)
        assert self.live.wait(timeout), "fetch did not finish"
        return self.loop(now + pd.Timedelta(seconds=5))

    def newest(self) -> pd.Timestamp | None:
        daily = self.provider.daily
        return pd.Timestamp(daily["session"].iloc[-1]) if len(daily) else None


class FakeDataProvider:
    """Records ``send_msg`` like freqtrade's DataProvider would queue it."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_msg(self, message: str, *, always_send: bool = False) -> None:
        self.sent.append(message)


def dry_run_strategy(cache_dir: Path, yahoo: FakeYahoo, monkeypatch, **section):
    """RussellRiskOn in dry-run mode after ``bot_start``, with ``yfinance.Ticker`` faked."""
    import yfinance
    from freqtrade.enums import RunMode

    from RussellRiskOn import RussellRiskOn

    monkeypatch.setattr(yfinance, "Ticker", yahoo.ticker)
    config = {"runmode": RunMode.DRY_RUN, **regime_config(cache_dir, **section)}
    strategy = RussellRiskOn(config)
    strategy.dp = FakeDataProvider()
    strategy.ft_bot_start()
    return strategy


def closed_candles(shared_data: Path, pair: str, now: pd.Timestamp, count: int = 600):
    """The last ``count`` real 1h candles of ``pair`` that closed by ``now``."""
    frame = pd.read_feather(shared_data / "binance" / f"{pair.replace('/', '_')}-1h.feather")
    closed = frame[frame["date"] + pd.Timedelta(hours=1) <= now]
    return closed.tail(count).reset_index(drop=True)


def loop_strategy(strategy, yahoo: FakeYahoo, now: pd.Timestamp, timeout: float = 10.0) -> None:
    """A live tick at ``now`` (what the mixin's ``analyze`` runs first), wait for a started
    fetch, another tick 5 s later."""
    yahoo.now = now
    strategy.russell_loop(now)
    assert strategy.live.wait(timeout), "fetch did not finish"
    strategy.russell_loop(now + pd.Timedelta(seconds=5))


def patch_exchange(monkeypatch, closed: Callable[[str], pd.DataFrame]) -> None:
    """freqtrade's Exchange answers from ``closed(pair)`` (the candles closed at the test's
    clock) instead of the network: candles, and an order book / ticker at the last close."""
    from freqtrade.exchange import Exchange

    def refresh_latest_ohlcv(exchange, pair_list, **kwargs):
        out = {}
        for key in pair_list:
            out[key] = exchange._klines[key] = closed(key[0])
        return out

    def price(pair: str) -> float:
        return float(closed(pair)["close"].iloc[-1])

    def order_book(exchange, pair, limit=100):
        p = price(pair)
        return {"bids": [[p * 0.9999, 1000.0]], "asks": [[p * 1.0001, 1000.0]]}

    def ticker(exchange, pair):
        p = price(pair)
        return {"symbol": pair, "bid": p * 0.9999, "ask": p * 1.0001, "last": p}

    monkeypatch.setattr(Exchange, "refresh_latest_ohlcv", refresh_latest_ohlcv)
    monkeypatch.setattr(Exchange, "fetch_l2_order_book", order_book)
    monkeypatch.setattr(Exchange, "fetch_ticker", ticker)
