"""Exchange session close / publication instants and session checks (russell_regime.calendar)."""

from __future__ import annotations

import pandas as pd
import pytest

from russell_regime.core.calendar import (
    Availability,
    session_close,
)

NY = "America/New_York"


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def _sessions(*dates: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.Timestamp(d) for d in dates])


# --- session_close -----------------------------------------------------------------------


def test_regular_close_in_daylight_saving_time_is_20_utc():
    assert session_close(_sessions("2024-07-01"), "XNYS")[0] == _utc("2024-07-01 20:00")


def test_regular_close_in_standard_time_is_21_utc():
    assert session_close(_sessions("2024-12-02"), "XNYS")[0] == _utc("2024-12-02 21:00")


@pytest.mark.parametrize("day", ["2024-11-29", "2019-12-24"])
def test_early_close_is_13_new_york(day):
    close = session_close(_sessions(day), "XNYS")[0]
    assert close == _utc(f"{day} 18:00")
    assert close.tz_convert(NY) == pd.Timestamp(f"{day} 13:00", tz=NY)


@pytest.mark.parametrize(
    ("day", "expected_utc"),
    [
        ("2024-03-08", "2024-03-08 21:00"),  # Friday before the spring switch: EST
        ("2024-03-11", "2024-03-11 20:00"),  # Monday after it: EDT
        ("2024-11-01", "2024-11-01 20:00"),  # Friday before the autumn switch: EDT
        ("2024-11-04", "2024-11-04 21:00"),  # Monday after it: EST
        ("2020-03-06", "2020-03-06 21:00"),
        ("2020-03-09", "2020-03-09 20:00"),
    ],
)
def test_dst_switch_weekends(day, expected_utc):
    assert session_close(_sessions(day), "XNYS")[0] == _utc(expected_utc)


def test_session_close_accepts_a_series_of_several_sessions_in_order():
    closes = session_close(pd.Series(_sessions("2024-11-27", "2024-11-29", "2024-12-02")), "XNYS")
    assert list(closes) == [
        _utc("2024-11-27 21:00"),
        _utc("2024-11-29 18:00"),
        _utc("2024-12-02 21:00"),
    ]


def test_non_xnys_date_gets_the_regular_16_new_york_close():
    # 2025-01-09: NYSE closed (national day of mourning); 2023-11-23: Thanksgiving. Both EST.
    closes = session_close(_sessions("2025-01-09", "2023-11-23"), "XNYS")
    assert list(closes) == [_utc("2025-01-09 21:00"), _utc("2023-11-23 21:00")]


def test_tz_aware_sessions_are_rejected():
    with pytest.raises(ValueError, match="naive"):
        session_close(pd.DatetimeIndex([_utc("2024-07-01")]), "XNYS")


# --- available_at ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "lag", "expected_utc"),
    [
        ("2024-07-01", 15, "2024-07-01 20:15"),
        ("2024-12-02", 15, "2024-12-02 21:15"),
        ("2024-11-29", 15, "2024-11-29 18:15"),
        ("2024-07-01", 0, "2024-07-01 20:00"),
        ("2024-07-01", 90, "2024-07-01 21:30"),
    ],
)
def test_available_at_adds_the_lag_to_the_close(day, lag, expected_utc):
    assert Availability(lag_minutes=lag).available_at(_sessions(day))[0] == _utc(expected_utc)


def test_default_lag_is_positive_so_close_itself_is_not_available():
    day = _sessions("2024-07-01")
    assert Availability().available_at(day)[0] > session_close(day, "XNYS")[0]


def test_negative_lag_rejected_by_available_at():
    with pytest.raises(ValueError, match="-5"):
        Availability(lag_minutes=-5).available_at(_sessions("2024-07-01"))


def test_negative_lag_rejected_by_is_available():
    with pytest.raises(ValueError, match="-5"):
        Availability(lag_minutes=-5).is_available(pd.Timestamp("2024-07-01"), _utc("2024-07-02"))


def test_negative_lag_rejected_by_latest_available_session():
    # A negative lag would hand out a session's bar before the session has even closed.
    with pytest.raises(ValueError, match="-5"):
        Availability(lag_minutes=-5).latest_available_session(_utc("2024-07-01 19:58"))


def test_nan_lag_rejected():
    with pytest.raises(ValueError, match="nan"):
        Availability(lag_minutes=float("nan")).available_at(_sessions("2024-07-01"))
    with pytest.raises(ValueError, match="nan"):
        Availability(lag_minutes=float("nan")).latest_available_session(_utc("2024-07-01 21:00"))


# --- real RUT sessions -------------------------------------------------------------------


def test_every_real_rut_session_gets_an_available_at(rut_daily):
    avail = Availability().available_at(rut_daily["session"])
    assert len(avail) == len(rut_daily)
    assert not avail.isna().any()
    assert str(avail.tz) == "UTC"
    assert avail.is_monotonic_increasing and avail.is_unique


def test_every_real_rut_available_at_is_between_13_and_16_new_york_plus_lag(rut_daily):
    sessions = pd.DatetimeIndex(rut_daily["session"])
    earliest = sessions.tz_localize(NY) + pd.Timedelta(hours=13)  # earliest NYSE close
    latest = sessions.tz_localize(NY) + pd.Timedelta(hours=16)
    at_close = Availability(lag_minutes=0).available_at(sessions)
    assert (at_close >= earliest).all()
    assert (at_close <= latest).all()
    lagged = Availability(lag_minutes=15).available_at(sessions)
    assert (lagged > earliest).all()
    assert (lagged == at_close + pd.Timedelta(minutes=15)).all()


def test_real_rut_contains_both_early_closes(rut_daily):
    sessions = pd.DatetimeIndex(rut_daily["session"])
    avail = Availability(lag_minutes=0).available_at(sessions)
    for day in ("2024-11-29", "2019-12-24"):
        assert avail[sessions.get_loc(pd.Timestamp(day))] == _utc(f"{day} 18:00")


# --- latest_available_session / is_available ---------------------------------------------


@pytest.mark.parametrize("now", ["2024-03-09 12:00", "2024-03-10 23:59", "2024-03-11 00:30"])
def test_latest_available_session_over_the_weekend_is_friday(now):
    assert Availability().latest_available_session(_utc(now)) == pd.Timestamp("2024-03-08")


def test_latest_available_session_skips_holidays():
    # 2024-07-04 is a holiday; 2024-07-03 an early close (13:00 NY = 17:00 UTC).
    latest = Availability().latest_available_session(_utc("2024-07-04 23:00"))
    assert latest == pd.Timestamp("2024-07-03")


def test_latest_available_session_just_before_and_after_close_plus_lag():
    assert Availability().latest_available_session(_utc("2024-07-01 20:14:59")) == pd.Timestamp(
        "2024-06-28"
    )
    assert Availability().latest_available_session(_utc("2024-07-01 20:15")) == pd.Timestamp(
        "2024-07-01"
    )


def test_latest_available_session_on_early_close_day():
    # 2024-11-28 is Thanksgiving: before the early close+lag the latest is 11-27.
    assert Availability().latest_available_session(_utc("2024-11-29 18:14")) == pd.Timestamp(
        "2024-11-27"
    )
    assert Availability().latest_available_session(_utc("2024-11-29 18:15")) == pd.Timestamp(
        "2024-11-29"
    )


def test_latest_available_session_respects_lag_argument():
    now = _utc("2024-07-01 20:30")
    assert Availability(lag_minutes=15).latest_available_session(now) == pd.Timestamp("2024-07-01")
    assert Availability(lag_minutes=45).latest_available_session(now) == pd.Timestamp("2024-06-28")


def test_latest_available_session_accepts_other_time_zones():
    now = pd.Timestamp("2024-07-01 16:15", tz=NY)  # == 20:15 UTC
    assert Availability().latest_available_session(now) == pd.Timestamp("2024-07-01")


def test_latest_available_session_before_the_calendar_is_none():
    assert Availability().latest_available_session(_utc("1970-01-01")) is None


def test_latest_available_session_agrees_with_available_at_on_dst_switch_days():
    for day in ("2024-03-08", "2024-03-11", "2024-11-01", "2024-11-04"):
        avail = Availability().available_at(_sessions(day))[0]
        assert Availability().latest_available_session(avail) == pd.Timestamp(day)
        assert Availability().latest_available_session(
            avail - pd.Timedelta(minutes=1)
        ) != pd.Timestamp(day)


def test_is_available_just_before_and_after():
    session = pd.Timestamp("2024-12-02")
    assert not Availability().is_available(session, _utc("2024-12-02 21:14:59"))
    assert Availability().is_available(session, _utc("2024-12-02 21:15"))


def test_naive_now_rejected_by_latest_available_session():
    with pytest.raises(ValueError, match="timezone-aware"):
        Availability().latest_available_session(pd.Timestamp("2024-07-01 21:00"))


def test_naive_now_rejected_by_is_available():
    with pytest.raises(ValueError, match="timezone-aware"):
        Availability().is_available(pd.Timestamp("2024-07-01"), pd.Timestamp("2024-07-02 12:00"))


# --- exchange calendars, sessions and the calendar setting ----------------------------------


def test_calendar_is_built_once_per_name_from_1980():
    from russell_regime.core.calendar import exchange_calendar, xnys

    assert xnys() is exchange_calendar("XNYS")
    assert xnys().first_session == pd.Timestamp("1980-01-02")
    assert xnys().last_session > pd.Timestamp.now() + pd.Timedelta(days=365)


def test_calendar_with_a_shorter_history_starts_at_its_own_bound():
    from russell_regime.core.calendar import exchange_calendar

    # XBOM holidays are recorded from 1997: asking for 1980 would fail, so it starts there
    assert exchange_calendar("XBOM").first_session == pd.Timestamp("1997-01-01")


def test_unknown_calendar_is_a_value_error_naming_it():
    from russell_regime.core.calendar import exchange_calendar

    with pytest.raises(ValueError, match="'NOPE'"):
        exchange_calendar("NOPE")


def test_non_sessions_inside_the_calendar_span_are_weekends_and_holidays():
    from russell_regime.core.calendar import non_sessions

    days = _sessions("2024-07-03", "2024-07-04", "2024-07-05", "2024-07-06", "2001-09-11")
    assert list(non_sessions(days, "XNYS")) == list(
        _sessions("2024-07-04", "2024-07-06", "2001-09-11")
    )
    assert list(non_sessions(_sessions("2024-07-04"), "XLON")) == []


def test_before_the_first_session_weekdays_are_accepted_weekends_are_not():
    from russell_regime.core.calendar import non_sessions

    # 1979-12-25 is a Tuesday (a holiday the calendar does not know); 1979-12-29 a Saturday
    days = _sessions("1979-12-25", "1979-12-28", "1979-12-29")
    assert list(non_sessions(days, "XNYS")) == list(_sessions("1979-12-29"))
    assert list(non_sessions(_sessions("1990-01-01", "1990-01-06"), "XBOM")) == list(
        _sessions("1990-01-06")
    )


def test_check_sessions_names_the_first_bad_date_and_the_count():
    from russell_regime.core.calendar import check_sessions
    from russell_regime.errors import DataValidationError

    with pytest.raises(DataValidationError) as info:
        check_sessions(_sessions("2024-07-03", "2024-07-04", "2024-07-06"), "^RUT", "XNYS")
    assert str(info.value).startswith(
        "^RUT: session 2024-07-04: not a XNYS session (Thursday; 2 such dates)"
    )


def test_other_calendars_give_their_own_closes():
    # London 16:30 local; Tokyo 15:00 local until 2024-11-04, 15:30 after (the calendar knows)
    assert session_close(_sessions("2024-07-04"), "XLON")[0] == _utc("2024-07-04 15:30")
    assert Availability("XLON", 15).available_at(_sessions("2024-12-02"))[0] == _utc(
        "2024-12-02 16:45"
    )
    assert session_close(_sessions("2024-07-04"), "XTKS")[0] == _utc("2024-07-04 06:00")
    assert Availability("XLON", 15).latest_available_session(
        _utc("2024-07-04 16:00")
    ) == pd.Timestamp("2024-07-04")
    assert Availability(lag_minutes=15).latest_available_session(
        _utc("2024-07-04 16:00")
    ) == pd.Timestamp("2024-07-03")


def test_calendar_setting_defaults_to_xnys_and_rejects_unknown_codes():
    from russell_regime.errors import ConfigError
    from russell_regime.settings import settings_from_config

    assert settings_from_config({}).calendar == "XNYS"
    assert settings_from_config({"russell_regime": {"calendar": "XLON"}}).calendar == "XLON"
    with pytest.raises(ConfigError, match="calendar='nyse'.*exchange_calendars code"):
        settings_from_config({"russell_regime": {"calendar": "nyse"}})


def test_provider_uses_the_calendar_setting_for_available_at_and_sessions(tmp_path):
    from russell_regime.adapter.provider import RegimeProvider
    from russell_regime.errors import DataValidationError
    from russell_regime.settings import settings_from_config

    path = tmp_path / "ftse.csv"
    path.write_text("date,open,high,low,close\n2024-07-03,1,2,1,1.5\n2024-07-04,1,2,1,1.5\n")
    section = {"ticker": "^FTSE", "source": "file", "path": str(path)}
    london = RegimeProvider(
        settings_from_config({"russell_regime": {**section, "calendar": "XLON"}})
    )
    london.load_offline()
    assert list(london.available_at) == [_utc("2024-07-03 15:45"), _utc("2024-07-04 15:45")]
    us = RegimeProvider(settings_from_config({"russell_regime": section}))
    us.load_offline()  # the US holiday is a stray row on XNYS: dropped and named
    assert us.dropped == (pd.Timestamp("2024-07-04"),) and len(us.daily) == 1
    path.write_text("date,open,high,low,close\n2024-07-04,1,2,1,1.5\n")
    with pytest.raises(DataValidationError, match="2024-07-04: not a XNYS session"):
        us.load_offline()  # nothing but a non-session: refused


def test_provider_drops_a_stray_cache_row_and_rejects_a_cache_off_the_calendar(tmp_path):
    from russell_regime.adapter.provider import RegimeProvider
    from russell_regime.data.cache import DailyCache, write_cache
    from russell_regime.errors import SourceError
    from russell_regime.settings import settings_from_config

    frame = pd.DataFrame(
        {
            "session": _sessions("2024-07-05", "2024-07-06"),
            "open": 1.0,
            "high": 2.0,
            "low": 1.0,
            "close": 1.5,
            "volume": 1.0,
        }
    )
    write_cache(DailyCache(tmp_path).path("^RUT"), frame, "^RUT")  # e.g. by an older version
    config = {"russell_regime": {"cache_dir": str(tmp_path)}}
    provider = RegimeProvider(settings_from_config(config))
    provider.load_offline()  # one isolated Saturday: dropped and named (stray-row policy)
    assert provider.dropped == (pd.Timestamp("2024-07-06"),) and len(provider.daily) == 1
    frame["session"] = _sessions("2024-07-06", "2024-07-07")  # only non-sessions: refused
    write_cache(DailyCache(tmp_path).path("^RUT"), frame, "^RUT")
    with pytest.raises(SourceError, match=r"cache file .* invalid .*2024-07-06: not a XNYS"):
        provider.load_offline()
