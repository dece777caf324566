"""Live refresh: pure schedule / staleness / announcement rules, the LiveRegime shell on a fake
yfinance, the strategy adapter's stale policies, and the ``status`` command. No network."""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time

import numpy as np
import pandas as pd
import pytest
import yfinance
from livefakes import (
    Live,
    closed_candles,
    dry_run_strategy,
    loop_strategy,
    seed_cache,
    utc,
)

from russell_regime.cli.status import add_status_command
from russell_regime.core.calendar import Availability, xnys
from russell_regime.core.gate import GateParams, daily_gate
from russell_regime.core.refresh import (
    Staleness,
    entry_override,
    gate_transitions,
    latest_gate_state,
    next_refresh_at,
    refresh_due,
    stale_transition,
    staleness,
)
from russell_regime.errors import RegimeError

LAG, HOUR = 15, 60
DAY = pd.Timestamp


def _due(now: str, last: str | None, newest: str | None, interval: float = HOUR) -> bool:
    return refresh_due(
        utc(now),
        None if last is None else utc(last),
        None if newest is None else DAY(newest),
        Availability(lag_minutes=LAG),
        interval,
    )


# --- refresh schedule ------------------------------------------------------------------------


def test_refresh_is_due_at_once_when_never_attempted():
    assert _due("2024-07-06 10:00", None, None)
    assert next_refresh_at(None, None, Availability(lag_minutes=LAG), HOUR) is None


@pytest.mark.parametrize(("now", "due"), [("2024-07-01 20:14", False), ("2024-07-01 20:15", True)])
def test_refresh_is_due_when_a_session_became_available_after_the_last_attempt(now, due):
    # 2024-07-01 closes 20:00 UTC (EDT), available 20:15; last attempt 19:50 had 06-28
    assert _due(now, "2024-07-01 19:50", "2024-06-28") is due


@pytest.mark.parametrize(("now", "due"), [("2024-11-29 18:14", False), ("2024-11-29 18:15", True)])
def test_early_close_day_is_due_at_1300_new_york_plus_lag(now, due):
    assert _due(now, "2024-11-29 17:30", "2024-11-27") is due


@pytest.mark.parametrize(("now", "due"), [("2024-07-06 10:59", False), ("2024-07-06 11:00", True)])
def test_otherwise_due_once_per_interval(now, due):
    assert _due(now, "2024-07-06 10:00", "2024-07-05") is due  # Saturday: no session to wait for


@pytest.mark.parametrize(
    ("now", "interval", "due"),
    [
        ("2024-07-01 20:25", HOUR, False),
        ("2024-07-01 20:26", HOUR, True),
        ("2024-07-01 20:21", 5, True),
    ],
)
def test_catch_up_retry_while_the_last_attempt_left_data_behind(now, interval, due):
    # the 20:16 attempt still answered 06-28 although 07-01 was available: retry after 10 min
    assert _due(now, "2024-07-01 20:16", "2024-06-28", interval) is due


# --- staleness -------------------------------------------------------------------------------


def _stale(now: str, newest: str | None, grace: float = 180) -> Staleness:
    return staleness(
        utc(now), None if newest is None else DAY(newest), Availability(lag_minutes=LAG), grace
    )


def test_weekend_is_not_staleness():
    state = _stale("2024-07-08 12:00", "2024-07-05")  # Monday morning with Friday's session
    assert not state.stale
    assert state.expected_session == DAY("2024-07-05")


def test_holiday_is_not_staleness():
    state = _stale("2024-07-05 15:00", "2024-07-03")  # July 4th closed; 07-03 early close
    assert not state.stale
    assert state.expected_session == DAY("2024-07-03")


@pytest.mark.parametrize(
    ("now", "stale"), [("2024-07-08 23:14", False), ("2024-07-08 23:15", True)]
)
def test_stale_once_the_next_session_is_past_availability_plus_grace(now, stale):
    state = _stale(now, "2024-07-05")  # 07-08 available 20:15 UTC, + 180 min = 23:15
    assert state.stale is stale
    assert state.stale_at == utc("2024-07-08 23:15")


def test_no_data_is_stale_for_ever():
    state = _stale("2024-07-08 12:00", None)
    assert state.stale and state.stale_at is None and state.age is None


def test_age_is_time_since_the_newest_session_became_available():
    assert _stale("2024-07-02 08:15", "2024-07-01").age == pd.Timedelta(hours=12)


def test_stale_at_predicts_the_verdict():
    rng = np.random.default_rng(7)
    sessions = xnys().sessions
    for _ in range(300):
        now = utc("2019-01-01") + pd.Timedelta(minutes=int(rng.integers(0, 6 * 365 * 1440)))
        newest = sessions[sessions <= now.tz_convert(None)][-1 - int(rng.integers(0, 6))]
        grace = float(rng.choice([0, 30, 180, 2000]))
        state = staleness(now, newest, Availability(lag_minutes=LAG), grace)
        assert state.stale == (now >= state.stale_at), (now, newest, grace)


@pytest.mark.parametrize(
    ("stale", "policy", "expected"),
    [
        (False, "block_entries", None),
        (False, "ignore_gate", None),
        (False, "last_known", None),
        (True, "block_entries", "block"),
        (True, "ignore_gate", "ignore"),
        (True, "last_known", None),
        (True, "nonsense", "block"),
    ],
)
def test_entry_override_per_policy(stale, policy, expected):
    assert entry_override(stale, policy) == expected


# --- announcements ---------------------------------------------------------------------------


def _transition(announced, state, policy="block_entries", reason=None):
    return stale_transition(
        announced, state, "^RUT", policy, Availability(lag_minutes=LAG), 180, reason
    )


def test_becoming_stale_is_announced_with_sessions_policy_and_reason():
    message = _transition(False, _stale("2024-07-09 02:00", "2024-07-05"), reason="boom")
    assert message.startswith("Russell data stale: ^RUT newest session 2024-07-05")
    assert "expected 2024-07-08 (available 2024-07-08 20:15 UTC, allowance 180 min)" in message
    assert "entries blocked (stale_policy block_entries)" in message
    assert message.endswith("Last refresh: boom.")


def test_ignore_gate_policy_is_named_in_the_stale_message():
    message = _transition(None, _stale("2024-07-09 02:00", "2024-07-05"), "ignore_gate")
    assert "entries ignore the Russell gate (stale_policy ignore_gate)" in message


@pytest.mark.parametrize(
    ("announced", "now", "expected"),
    [
        (None, "2024-07-08 12:00", None),  # fresh start: nothing to say
        (False, "2024-07-08 12:00", None),
        (True, "2024-07-09 02:00", None),  # still stale: said already
        (True, "2024-07-08 12:00", "Russell data fresh again: ^RUT session 2024-07-05 in hand"),
    ],
)
def test_staleness_is_announced_once_per_change(announced, now, expected):
    message = _transition(announced, _stale(now, "2024-07-05"))
    assert (message is None) if expected is None else message.startswith(expected)


@pytest.fixture(scope="module")
def gate_days(rut_daily):
    """btc gate (defaults) on 2024-11-13 (open: breakout), 11-14 (closed), 11-15 (open: retest)."""
    out = {}
    for day in ("2024-11-13", "2024-11-14", "2024-11-15"):
        daily = rut_daily[rut_daily["session"] <= DAY(day)].reset_index(drop=True)
        out[day] = latest_gate_state("btc", GateParams(), daily, daily_gate(daily, GateParams()))
    return out


def test_gate_closing_is_one_message_with_session_levels_and_conditions(gate_days):
    [message] = gate_transitions({"btc": gate_days["2024-11-13"]}, {"btc": gate_days["2024-11-14"]})
    assert message == (
        "Russell gate BTC closed (mode any) on ^RUT 2024-11-14: close 2,336.94, ATH 2,442.74 "
        "(-4.3%), resistance 2,434.98, support 2,286.68; conditions retest no, breakout no, ath no"
    )


def test_gate_opening_names_the_condition(gate_days):
    [message] = gate_transitions({"btc": gate_days["2024-11-14"]}, {"btc": gate_days["2024-11-15"]})
    assert message.startswith("Russell gate BTC opened (retest, mode any) on ^RUT 2024-11-15:")
    assert "conditions retest yes" in message


def test_no_message_without_a_change_or_on_first_sight(gate_days):
    before, after = {"btc": gate_days["2024-11-13"]}, {"btc": gate_days["2024-11-15"]}
    assert gate_transitions(before, after) == []
    assert gate_transitions({}, {"btc": gate_days["2024-11-14"]}) == []


# --- LiveRegime on a fake yfinance ----------------------------------------------------------


@pytest.fixture
def live(tmp_path, rut_daily):
    seed_cache(tmp_path, rut_daily, "2024-11-13")
    harness = Live(tmp_path, rut_daily, utc("2024-11-14 22:00"))
    harness.live.start()
    yield harness
    if harness.yahoo.hang is not None:
        harness.yahoo.hang.set()


def test_cache_is_used_at_once_while_the_first_fetch_is_still_running(live):
    live.yahoo.hang = hang = threading.Event()
    assert live.newest() == DAY("2024-11-13")  # installed by start(), before any fetch
    started = time.perf_counter()
    live.loop(utc("2024-11-14 22:00"))
    assert time.perf_counter() - started < 0.5 and live.live.busy
    assert live.newest() == DAY("2024-11-13")
    hang.set()
    assert live.live.wait(5)
    assert live.loop(utc("2024-11-14 22:00:05")) is True
    assert live.newest() == DAY("2024-11-14")


def test_the_bot_loop_hands_fetches_to_a_started_worker_without_starting_threads(live, monkeypatch):
    """Thread.start() waits until the new thread runs: milliseconds of bot loop under load."""

    original, bot = threading.Thread.start, threading.current_thread()

    def no_thread_start(self):  # the worker itself may use threads (the fetch timeout)
        if threading.current_thread() is bot:
            raise AssertionError("a thread was started inside bot_loop_start")
        original(self)

    monkeypatch.setattr(threading.Thread, "start", no_thread_start)
    for hour in ("2024-11-14 22:00", "2024-11-15 23:00"):
        live.loop(utc(hour))
        assert live.live.busy and live.live.wait(5)
        live.loop(utc(hour) + pd.Timedelta(seconds=5))
    assert live.newest() == DAY("2024-11-15")


def test_no_fetch_while_no_refresh_is_due(live):
    live.settle(utc("2024-11-14 22:00"))
    calls = len(live.yahoo.calls)
    for minute in range(1, 60):
        live.loop(utc("2024-11-14 22:00") + pd.Timedelta(minutes=minute))
    assert len(live.yahoo.calls) == calls
    live.loop(utc("2024-11-14 23:00"))
    assert live.live.busy and live.live.wait(5)  # handed to the worker, which fetched once
    assert len(live.yahoo.calls) == calls + 1


def test_refresh_follows_the_session_availability(live):
    live.settle(utc("2024-11-15 20:50"))  # 11-15 closes 21:00 UTC (EST), available 21:15
    assert live.newest() == DAY("2024-11-14")
    calls = len(live.yahoo.calls)
    live.loop(utc("2024-11-15 21:14"))
    assert len(live.yahoo.calls) == calls
    live.settle(utc("2024-11-15 21:15"))
    assert len(live.yahoo.calls) == calls + 1
    assert live.newest() == DAY("2024-11-15")


def test_incremental_fetch_asks_only_for_the_recent_tail(live):
    live.settle(utc("2024-11-14 22:00"))
    [call] = live.yahoo.calls
    assert call["start"] == "2024-10-30" and "period" not in call  # 14 days before 11-13
    assert call["timeout"] == live.settings.fetch_timeout_seconds


def test_gate_change_is_notified_once(live):
    live.settle(utc("2024-11-14 22:00"))  # btc/eth/alt close on 11-14
    for minute in range(1, 30):
        live.loop(utc("2024-11-14 22:00") + pd.Timedelta(minutes=minute))
    closed = [m for m in live.messages if m.startswith("Russell gate BTC closed")]
    assert len(closed) == 1 and "2024-11-14" in closed[0]
    assert len(live.messages) == 3  # one per class, nothing else


def test_notify_false_silences_messages_but_not_the_log(tmp_path, rut_daily, caplog):
    seed_cache(tmp_path, rut_daily, "2024-11-13")
    harness = Live(tmp_path, rut_daily, utc("2024-11-14 22:00"), notify=False)
    harness.live.start()
    with caplog.at_level(logging.INFO, logger="russell_regime.adapter.live"):
        harness.settle(utc("2024-11-14 22:00"))
    assert harness.messages == []
    assert any("Russell gate BTC closed" in r.getMessage() for r in caplog.records)


def test_staleness_is_logged_and_notified_once_then_recovery_once(live, caplog):
    live.yahoo.fault = ConnectionError("Yahoo down")
    with caplog.at_level(logging.INFO, logger="russell_regime.adapter.live"):
        live.settle(utc("2024-11-15 02:00"))  # 11-14 available 21:15 + 180 min: stale at 00:15
        for minute in range(1, 120):
            live.loop(utc("2024-11-15 02:00") + pd.Timedelta(minutes=minute))
            live.live.wait(5)
    stale_logs = [r for r in caplog.records if r.getMessage().startswith("Russell data stale")]
    assert len(stale_logs) == 1 and stale_logs[0].levelno == logging.WARNING
    assert "Last refresh: SourceError: ^RUT: Yahoo request failed: ConnectionError: Yahoo down" in (
        stale_logs[0].getMessage()
    )
    assert sum(m.startswith("Russell data stale") for m in live.messages) == 1
    assert live.live.entry_override() == "block"
    live.yahoo.fault = None
    live.settle(utc("2024-11-15 04:05"))
    assert live.live.entry_override() is None
    assert sum(m.startswith("Russell data fresh again") for m in live.messages) == 1


def test_a_stale_start_fixed_by_the_first_refresh_is_not_announced(live):
    live.settle(utc("2024-11-15 02:00"))  # cache (11-13) is stale, the first refresh fixes it
    assert not live.live.state.stale
    assert not any("stale" in m for m in live.messages)


def test_entries_are_blocked_before_the_first_loop(live):
    assert live.live.entry_override() == "block"


# --- the strategy adapter ---------------------------------------------------------------------


NOW_STALE = utc("2024-11-15 02:00")  # cache ends 11-13 (btc gate open: breakout); 11-14 is due


@pytest.fixture
def stale_strategy(tmp_path, rut_daily, monkeypatch, request):
    from livefakes import FakeYahoo

    seed_cache(tmp_path, rut_daily, "2024-11-13")
    yahoo = FakeYahoo(rut_daily, NOW_STALE)
    yahoo.fault = TimeoutError("read timed out")
    strategy = dry_run_strategy(tmp_path, yahoo, monkeypatch, stale_policy=request.param)
    monkeypatch.setattr(strategy, "base_entry", lambda df: pd.Series(True, index=df.index))
    loop_strategy(strategy, yahoo, NOW_STALE)
    return strategy


def _last_entry(strategy, shared_data) -> tuple[bool, str]:
    frame = closed_candles(shared_data, "BTC/USDT", NOW_STALE)
    out = strategy.analyze_ticker(frame, {"pair": "BTC/USDT"})
    last = out.iloc[-1]
    entered = bool(last.get("enter_long") == 1)
    return entered, str(last["enter_tag"]) if entered else ""


@pytest.mark.parametrize(
    ("stale_strategy", "entered", "tag"),
    [
        ("block_entries", False, ""),
        ("ignore_gate", True, "r2k_stale_ignored"),
        ("last_known", True, "r2k_breakout"),
    ],
    indirect=["stale_strategy"],
)
def test_stale_policy_decides_entries(stale_strategy, shared_data, entered, tag):
    assert stale_strategy.live.state.stale
    assert _last_entry(stale_strategy, shared_data) == (entered, tag)
    assert any(m.startswith("Russell data stale") for m in stale_strategy.dp.sent)


def test_fresh_data_entries_follow_the_gate(tmp_path, rut_daily, monkeypatch, shared_data):
    from livefakes import FakeYahoo

    seed_cache(tmp_path, rut_daily, "2024-11-13")
    yahoo = FakeYahoo(rut_daily, NOW_STALE)
    strategy = dry_run_strategy(tmp_path, yahoo, monkeypatch)
    monkeypatch.setattr(strategy, "base_entry", lambda df: pd.Series(True, index=df.index))
    loop_strategy(strategy, yahoo, NOW_STALE)
    assert not strategy.live.state.stale
    assert _last_entry(strategy, shared_data) == (False, "")  # 11-14: gate closed


def test_backtest_mode_never_starts_the_live_path(tmp_path, rut_daily, monkeypatch):
    from freqtrade.enums import RunMode

    from RussellRiskOn import RussellRiskOn

    def no_network(*args, **kwargs):
        raise AssertionError("yfinance used outside dry-run/live")

    monkeypatch.setattr(yfinance, "Ticker", no_network)
    seed_cache(tmp_path, rut_daily, "2024-11-13")
    strategy = RussellRiskOn(
        {"runmode": RunMode.BACKTEST, "russell_regime": {"cache_dir": str(tmp_path)}}
    )
    strategy.ft_bot_start()
    strategy.bot_loop_start(current_time=NOW_STALE.to_pydatetime())
    assert strategy.live is None
    assert strategy.regime.daily["session"].iloc[-1] == DAY("2024-11-13")


# --- status command ---------------------------------------------------------------------------


def _status(tmp_path, capsys, now: str, **section) -> str:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"russell_regime": {"cache_dir": str(tmp_path), **section}}))
    parser = argparse.ArgumentParser()
    add_status_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["status", "--config", str(config), "--now", now])
    assert args.func(args) == 0
    return capsys.readouterr().out


def test_status_reports_session_availability_age_and_gates(tmp_path, rut_daily, capsys):
    path = seed_cache(tmp_path, rut_daily, "2024-11-15")
    out = _status(tmp_path, capsys, "2024-11-16T12:00")
    assert f"cache     {path}" in out
    assert "session   2024-11-15 (available 2024-11-15 21:15 UTC, age 14h 45m)" in out
    assert "stale     no -> entries follow the gate (stale_policy block_entries)" in out
    for cls in ("btc", "eth", "alt"):
        assert f"gate      {cls} open (retest, mode any) on ^RUT 2024-11-15" in out


def test_status_shows_stale_data_and_the_policy_effect(tmp_path, rut_daily, capsys):
    seed_cache(tmp_path, rut_daily, "2024-11-13")
    out = _status(tmp_path, capsys, "2024-11-19T12:00", stale_policy="ignore_gate")
    assert "expected  2024-11-18 (allowance 180 min)" in out
    assert "stale     yes -> entries ignore the gate (stale_policy ignore_gate)" in out


def test_status_without_cache_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(RegimeError, match="no cached index data"):
        _status(tmp_path, capsys, "2024-11-19T12:00")


def test_available_at_is_the_one_the_calendar_gives(tmp_path, rut_daily, capsys):
    seed_cache(tmp_path, rut_daily, "2024-11-29")  # early close: 13:00 New York
    out = _status(tmp_path, capsys, "2024-11-29T19:00")
    expected = Availability(lag_minutes=LAG).available_at(pd.DatetimeIndex([DAY("2024-11-29")]))[0]
    assert f"(available {expected:%Y-%m-%d %H:%M} UTC" in out and "18:15" in out
