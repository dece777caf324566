"""Sources: Yahoo answers (faked, never the network) and local files -> daily frames."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from russell_regime.core.calendar import Availability
from russell_regime.data.sources import (
    FileSource,
    YahooSource,
    normalize_yahoo,
    read_daily_file,
    source_for,
)
from russell_regime.errors import ConfigError, DataValidationError, SourceError
from russell_regime.settings import RegimeSettings

NY = "America/New_York"
LATER = pd.Timestamp("2030-01-01", tz="UTC")
REPO_ROOT = Path(__file__).resolve().parents[1]


def yahoo_frame(dates: list[str], tz: str | None = NY) -> pd.DataFrame:
    """What ``Ticker.history(interval="1d", auto_adjust=False, actions=False)`` looks like."""
    index = pd.DatetimeIndex(pd.to_datetime(dates), name="Date")
    if tz is not None:
        index = index.tz_localize(tz)
    n = len(dates)
    close = [100.0 + i for i in range(n)]
    return pd.DataFrame(
        {
            "Open": [c - 0.5 for c in close],
            "High": [c + 1.0 for c in close],
            "Low": [c - 1.0 for c in close],
            "Close": close,
            "Adj Close": close,
            "Volume": [1_000_000 + i for i in range(n)],
        },
        index=index,
    )


def sessions(frame: pd.DataFrame) -> list[str]:
    return [f"{s:%Y-%m-%d}" for s in frame["session"]]


# --- normalize_yahoo: time stamps ------------------------------------------------------------


def test_midnight_new_york_becomes_the_session_across_dst():
    raw = yahoo_frame(["2024-03-08", "2024-03-11", "2024-11-01", "2024-11-04"])
    out = normalize_yahoo(raw, "^RUT", LATER, Availability())
    assert sessions(out) == ["2024-03-08", "2024-03-11", "2024-11-01", "2024-11-04"]
    assert list(out.columns) == ["session", "open", "high", "low", "close", "volume"]
    assert out["session"].dtype == "datetime64[ns]"


def test_same_instants_expressed_in_utc_give_the_same_sessions():
    raw = yahoo_frame(["2024-03-08", "2024-03-11", "2024-11-01", "2024-11-04"])
    utc = raw.set_axis(raw.index.tz_convert("UTC"))  # 05:00 / 04:00 UTC: naive drop would fail
    assert sessions(normalize_yahoo(utc, "^RUT", LATER, Availability())) == sessions(
        normalize_yahoo(raw, "^RUT", LATER, Availability())
    )


def test_naive_index_is_a_source_error():
    with pytest.raises(SourceError, match="naive"):
        normalize_yahoo(yahoo_frame(["2024-03-11"], tz=None), "^RUT", LATER, Availability())


def test_index_not_at_new_york_midnight_is_a_source_error():
    raw = yahoo_frame(["2024-03-11"], tz="UTC")  # 2024-03-10 20:00 in New York
    with pytest.raises(SourceError, match="not midnight"):
        normalize_yahoo(raw, "^RUT", LATER, Availability())


# --- normalize_yahoo: the in-progress bar ----------------------------------------------------


@pytest.mark.parametrize(
    ("now", "last"),
    [
        ("2024-07-01 15:00", "2024-06-28"),  # during US hours: today's bar is in progress
        ("2024-07-01 16:14", "2024-06-28"),  # closed, not yet published (lag 15 min)
        ("2024-07-01 16:15", "2024-07-01"),  # close + lag: final
    ],
)
def test_in_progress_bar_is_dropped_until_close_plus_lag(now, last):
    raw = yahoo_frame(["2024-06-28", "2024-07-01"])
    out = normalize_yahoo(raw, "^RUT", pd.Timestamp(now, tz=NY), Availability(lag_minutes=15))
    assert sessions(out)[-1] == last


@pytest.mark.parametrize(
    ("now", "last"),
    [("2024-11-29 13:14", "2024-11-27"), ("2024-11-29 13:15", "2024-11-29")],
)
def test_early_close_day_is_final_at_1300_new_york_plus_lag(now, last):
    raw = yahoo_frame(["2024-11-27", "2024-11-29"])
    out = normalize_yahoo(raw, "^RUT", pd.Timestamp(now, tz=NY), Availability(lag_minutes=15))
    assert sessions(out)[-1] == last


def test_nan_close_on_the_in_progress_bar_is_dropped_not_an_error():
    raw = yahoo_frame(["2024-06-28", "2024-07-01"])
    raw.loc[raw.index[-1], ["Open", "High", "Low", "Close"]] = float("nan")
    out = normalize_yahoo(raw, "^RUT", pd.Timestamp("2024-07-01 12:00", tz=NY), Availability())
    assert sessions(out) == ["2024-06-28"]


def test_nan_close_on_a_completed_session_is_left_to_the_merge():
    # the merge keeps the cached row of a cached session, and rejects a bad new one
    raw = yahoo_frame(["2024-06-27", "2024-06-28"])
    raw.loc[raw.index[0], "Close"] = float("nan")
    out = normalize_yahoo(raw, "^RUT", LATER, Availability())
    assert sessions(out) == ["2024-06-27", "2024-06-28"]
    assert out["close"].isna().tolist() == [True, False]


def test_no_completed_session_is_a_source_error():
    raw = yahoo_frame(["2024-07-01"])
    with pytest.raises(SourceError, match="no completed session"):
        normalize_yahoo(raw, "^RUT", pd.Timestamp("2024-07-01 12:00", tz=NY), Availability())


def test_naive_now_is_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        normalize_yahoo(
            yahoo_frame(["2024-07-01"]), "^RUT", pd.Timestamp("2024-07-02"), Availability()
        )


# --- normalize_yahoo: malformed answers ------------------------------------------------------


def test_empty_answer_is_a_source_error():
    with pytest.raises(SourceError, match="empty answer") as info:
        normalize_yahoo(pd.DataFrame(), "^RUT", LATER, Availability())
    assert info.value.ticker == "^RUT"


def test_missing_column_is_a_source_error_naming_it():
    raw = yahoo_frame(["2024-07-01"]).drop(columns=["Low"])
    with pytest.raises(SourceError, match="lacks column.*low"):
        normalize_yahoo(raw, "^RUT", LATER, Availability())


def test_all_nan_closes_is_a_source_error():
    raw = yahoo_frame(["2024-06-28", "2024-07-01"])
    raw["Close"] = float("nan")
    with pytest.raises(SourceError, match="all NaN"):
        normalize_yahoo(raw, "^RUT", LATER, Availability())


def test_missing_volume_is_unknown_not_zero():
    out = normalize_yahoo(
        yahoo_frame(["2024-07-01"]).drop(columns=["Volume"]), "^RUT", LATER, Availability()
    )
    assert out["volume"].isna().tolist() == [True]


# --- exchange sessions -----------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["2024-07-06", "2024-07-04"])
def test_yahoo_answer_with_one_isolated_non_session_row_passes_it_on_for_the_merge(bad):
    """Stray-row policy: one isolated row on a Saturday / a holiday does not reject the answer
    (the merge drops and names it); the source still refuses a series off the calendar."""
    raw = yahoo_frame(["2024-07-02", "2024-07-03", bad, "2024-07-08"]).sort_index()
    out = normalize_yahoo(raw, "^RUT", LATER, Availability())
    assert bad in sessions(out)


def test_yahoo_answer_with_two_adjacent_non_session_rows_is_rejected_naming_the_first():
    raw = yahoo_frame(["2024-07-03", "2024-07-04", "2024-07-05", "2024-07-06", "2024-07-07",
                       "2024-07-08"])
    with pytest.raises(DataValidationError, match="session 2024-07-04: not a XNYS session "
                       r"\(Thursday; 3 such dates\).*refused: 3 of 6 rows"):
        normalize_yahoo(raw, "^RUT", LATER, Availability())


def test_yahoo_answer_dated_one_day_early_is_rejected():
    # the whole series shifted one day early: Monday 07-08 is labelled Sunday 07-07
    real = ["2024-07-02", "2024-07-03", "2024-07-05", "2024-07-08", "2024-07-09"]
    early = [f"{pd.Timestamp(d) - pd.Timedelta(days=1):%Y-%m-%d}" for d in real]
    with pytest.raises(DataValidationError, match="2024-07-04: not a XNYS session") as info:
        normalize_yahoo(
            yahoo_frame(early), "^RUT", pd.Timestamp("2024-07-09 12:00", tz=NY), Availability()
        )
    assert pd.Timestamp(info.value.session) == pd.Timestamp("2024-07-04")  # 07-05 labelled 07-04
    assert "Thursday; 2 such dates" in str(info.value)  # and 07-08 labelled Sunday 07-07


def test_a_non_us_calendar_accepts_its_own_sessions_and_closes():
    # 2024-07-04 is a London session (US holiday); 2024-08-26 is a UK bank holiday
    raw = yahoo_frame(["2024-07-03", "2024-07-04"], tz="Europe/London")
    with pytest.raises(SourceError, match="not midnight"):  # Yahoo stamps are New York midnight
        normalize_yahoo(raw, "^FTSE", LATER, Availability("XLON"))
    out = normalize_yahoo(
        yahoo_frame(["2024-07-03", "2024-07-04"]), "^FTSE", LATER, Availability("XLON")
    )
    assert sessions(out) == ["2024-07-03", "2024-07-04"]
    with pytest.raises(DataValidationError, match="2024-08-26: not a XLON session"):
        normalize_yahoo(  # nothing but a non-session: refused, not dropped
            yahoo_frame(["2024-08-26"]), "^FTSE", LATER, Availability("XLON")
        )
    # the London close (16:30 Europe/London = 15:30 UTC in summer) + lag makes it available
    before = pd.Timestamp("2024-07-04 15:44", tz="UTC")
    after = pd.Timestamp("2024-07-04 15:45", tz="UTC")
    frame = yahoo_frame(["2024-07-03", "2024-07-04"])
    assert (
        sessions(normalize_yahoo(frame, "^FTSE", before, Availability("XLON")))[-1] == "2024-07-03"
    )
    assert (
        sessions(normalize_yahoo(frame, "^FTSE", after, Availability("XLON")))[-1] == "2024-07-04"
    )


def test_file_with_a_holiday_row_drops_it_and_names_it(tmp_path):
    """Stray-row policy: an isolated holiday row is dropped (named by read_daily_sessions and
    by the merge behind FileSource); a holiday next to a Saturday is refused."""
    from russell_regime.data.sources import read_daily_sessions

    path = tmp_path / "holiday.csv"
    path.write_text(
        "date,open,high,low,close\n2024-07-03,1,2,1,1.5\n2024-07-04,1,2,1,1.5\n"
        "2024-07-05,1,2,1,1.5\n"
    )
    assert "2024-07-04" in sessions(FileSource(path, "^RUT", Availability()).fetch(LATER))
    assert sessions(read_daily_file(path, "^RUT", calendar="XNYS")) == ["2024-07-03",
                                                                         "2024-07-05"]
    rows = read_daily_sessions(path, "^RUT", "XNYS")
    assert rows.dropped == (pd.Timestamp("2024-07-04"),)
    bad = tmp_path / "adjacent.csv"
    bad.write_text(
        "date,open,high,low,close\n2024-07-03,1,2,1,1.5\n2024-07-04,1,2,1,1.5\n"
        "2024-07-05,1,2,1,1.5\n2024-07-06,1,2,1,1.5\n2024-07-07,1,2,1,1.5\n"
        "2024-07-08,1,2,1,1.5\n"
    )
    with pytest.raises(DataValidationError, match="2024-07-04: not a XNYS session \\(Thursday"):
        FileSource(bad, "^RUT", Availability()).fetch(LATER)
    with pytest.raises(DataValidationError, match="2024-07-04"):
        read_daily_file(bad, "^RUT", calendar="XNYS")


@pytest.mark.parametrize("price_first", [True, False])
def test_multiindex_columns_from_yf_download_are_handled(price_first):
    flat = yahoo_frame(["2024-06-28", "2024-07-01"])
    wide = pd.concat({"^RUT": flat, "^SPX": flat * 2}, axis=1)  # (Ticker, Price)
    if price_first:
        wide = wide.swaplevel(axis=1)  # (Price, Ticker): the yf.download default
    out = normalize_yahoo(wide, "^RUT", LATER, Availability())
    assert out["close"].tolist() == [100.0, 101.0]


def test_multiindex_without_the_ticker_is_a_source_error():
    wide = pd.concat(
        {"^SPX": yahoo_frame(["2024-07-01"]), "^VIX": yahoo_frame(["2024-07-01"])}, axis=1
    )
    with pytest.raises(SourceError, match="not \\^RUT"):
        normalize_yahoo(wide, "^RUT", LATER, Availability())


# --- YahooSource -----------------------------------------------------------------------------


class FakeHistory:
    """Stands in for ``yfinance.Ticker(t).history``; records every call."""

    def __init__(self, answer: pd.DataFrame | Exception) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, ticker: str, **kwargs) -> pd.DataFrame:
        self.calls.append((ticker, kwargs))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_yahoo_source_asks_for_all_history_unadjusted_without_start():
    fake = FakeHistory(yahoo_frame(["2024-06-28", "2024-07-01"]))
    out = YahooSource("^RUT", Availability(), timeout=3, history=fake).fetch(LATER)
    assert len(out) == 2
    assert fake.calls == [
        (
            "^RUT",
            {
                "interval": "1d",
                "auto_adjust": False,
                "actions": False,
                "timeout": 3,
                "period": "max",
            },
        )
    ]


def test_yahoo_source_passes_start_as_a_date_string():
    fake = FakeHistory(yahoo_frame(["2024-07-01"]))
    YahooSource("^RUT", Availability(), history=fake).fetch(
        LATER, start=pd.Timestamp("2024-06-17").date()
    )
    assert fake.calls[0][1]["start"] == "2024-06-17"
    assert "period" not in fake.calls[0][1]


def test_yahoo_failure_is_a_source_error_with_ticker_and_message():
    fake = FakeHistory(ConnectionError("Failed to resolve query2.finance.yahoo.com"))
    with pytest.raises(SourceError, match=r"\^RUT: Yahoo request failed.*query2") as info:
        YahooSource("^RUT", Availability(), history=fake).fetch(LATER)
    assert info.value.ticker == "^RUT"
    assert isinstance(info.value.__cause__, ConnectionError)


def test_yahoo_source_drops_the_in_progress_bar():
    fake = FakeHistory(yahoo_frame(["2024-06-28", "2024-07-01"]))
    out = YahooSource("^RUT", Availability(), history=fake).fetch(
        pd.Timestamp("2024-07-01 19:00", tz="UTC")
    )
    assert sessions(out) == ["2024-06-28"]


def test_default_history_calls_yfinance_ticker_history(monkeypatch):
    yf = pytest.importorskip("yfinance")
    seen = {}

    class FakeTicker:
        def __init__(self, ticker):
            seen["ticker"] = ticker

        def history(self, **kwargs):
            seen.update(kwargs)
            return yahoo_frame(["2024-07-01"])

    monkeypatch.setattr(yf, "Ticker", FakeTicker)
    out = YahooSource("^RUT", Availability()).fetch(LATER)
    assert sessions(out) == ["2024-07-01"]
    assert seen["ticker"] == "^RUT" and seen["period"] == "max" and seen["timeout"] == 10


def test_importing_sources_does_not_import_yfinance(tmp_path):
    code = "import sys, russell_regime.data.sources; print('yfinance' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"


# --- files -----------------------------------------------------------------------------------


def test_file_source_reads_the_real_rut_csv(rut_csv):
    out = FileSource(rut_csv, "^RUT", Availability()).fetch(LATER)
    assert len(out) == 9523
    assert sessions(out)[0] == "1987-09-10"
    assert sessions(out)[-1] == "2025-06-30"


def test_file_source_drops_a_session_not_yet_available(rut_csv):
    out = FileSource(rut_csv, "^RUT", Availability()).fetch(pd.Timestamp("2025-06-30 16:14", tz=NY))
    assert sessions(out)[-1] == "2025-06-27"


@pytest.mark.parametrize("suffix", [".feather", ".parquet"])
def test_feather_and_parquet_round_trip(rut_daily, tmp_path, suffix):
    path = tmp_path / f"rut{suffix}"
    written = rut_daily.rename(columns={"session": "date"})
    written.to_feather(path) if suffix == ".feather" else written.to_parquet(path)
    pd.testing.assert_frame_equal(read_daily_file(path, "^RUT"), rut_daily)


def test_unknown_suffix_is_a_source_error_naming_the_path(tmp_path):
    path = tmp_path / "rut.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(SourceError, match="rut.xlsx"):
        read_daily_file(path, "^RUT")


@pytest.mark.parametrize("name", ["missing.csv", "garbage.feather"])
def test_unreadable_file_is_a_source_error_naming_the_path(tmp_path, name):
    path = tmp_path / name
    if name.startswith("garbage"):
        path.write_bytes(b"not a feather file at all")
    with pytest.raises(SourceError, match=name):
        read_daily_file(path, "^RUT")


def test_tz_aware_dates_in_a_file_are_a_validation_error(rut_daily, tmp_path):
    path = tmp_path / "aware.feather"
    frame = rut_daily.tail(3).rename(columns={"session": "date"})
    frame["date"] = frame["date"].dt.tz_localize("UTC")
    frame.reset_index(drop=True).to_feather(path)
    with pytest.raises(DataValidationError, match="naive calendar date"):
        read_daily_file(path, "^RUT")


# --- source_for: the one source factory ------------------------------------------------------


def test_source_for_passes_the_settings_availability_and_timeout(tmp_path):
    settings = RegimeSettings(
        ticker="^FTSE", calendar="XLON", publication_lag_minutes=30, fetch_timeout_seconds=3
    )
    assert source_for(settings) == YahooSource("^FTSE", Availability("XLON", 30), timeout=3)
    on_file = replace(settings, source="file", path=tmp_path / "r.csv")
    assert source_for(on_file) == FileSource(tmp_path / "r.csv", "^FTSE", Availability("XLON", 30))


def test_source_for_rejects_an_unknown_kind_naming_it():
    with pytest.raises(ConfigError, match="'ftp'"):
        source_for(RegimeSettings(source="ftp"))


def test_source_for_file_without_path_is_a_config_error():
    with pytest.raises(ConfigError, match="needs a path"):
        source_for(RegimeSettings(source="file"))
