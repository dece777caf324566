"""The daily-frame contract (russell_regime.daily.validate_daily)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from russell_regime.core.daily import validate_daily
from russell_regime.errors import DataValidationError

TICKER = "^TEST"


def _frame(closes=(100.0, 101.0, 102.0, 103.0), start="2024-07-01") -> pd.DataFrame:
    sessions = pd.bdate_range(start, periods=len(closes))
    closes = np.asarray(closes, dtype="float64")
    return pd.DataFrame(
        {
            "session": sessions,
            "open": closes,
            "high": closes + 1.0,
            "low": closes - 1.0,
            "close": closes,
            "volume": np.arange(len(closes), dtype="float64") + 1000.0,
        }
    )


def _error(frame: pd.DataFrame) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        validate_daily(frame, TICKER)
    return info.value


def _assert_names(err: DataValidationError, session: str, problem: str) -> None:
    message = str(err)
    assert TICKER in message
    assert session in message
    assert problem in message
    assert err.ticker == TICKER
    assert pd.Timestamp(err.session).normalize() == pd.Timestamp(session)


def test_valid_frame_passes_unchanged():
    frame = _frame()
    out = validate_daily(frame, TICKER)
    assert list(out.columns) == ["session", "open", "high", "low", "close", "volume"]
    pd.testing.assert_frame_equal(out, frame, check_dtype=False)
    assert out["session"].dtype == "datetime64[ns]"


def test_validate_returns_a_copy():
    frame = _frame()
    out = validate_daily(frame, TICKER)
    out.loc[0, "close"] = -1.0
    assert frame.loc[0, "close"] == 100.0


def test_data_validation_error_is_a_value_error():
    frame = _frame()
    frame.loc[1, "close"] = np.nan
    assert isinstance(_error(frame), ValueError)


def test_duplicate_session():
    frame = _frame()
    frame.loc[2, "session"] = frame.loc[1, "session"]
    _assert_names(_error(frame), "2024-07-02", "duplicate session")


def test_unsorted_sessions():
    frame = _frame()
    frame.loc[[1, 2], "session"] = frame.loc[[2, 1], "session"].to_numpy()
    err = _error(frame)
    # row 2 now holds 2024-07-02, which follows 2024-07-03
    _assert_names(err, "2024-07-02", "not increasing")
    assert "2024-07-03" in str(err)


def test_nan_close():
    frame = _frame()
    frame.loc[2, "close"] = np.nan
    _assert_names(_error(frame), "2024-07-03", "close is NaN")


def test_non_numeric_price():
    frame = _frame().astype({"open": object})
    frame.loc[1, "open"] = "n/a"
    _assert_names(_error(frame), "2024-07-02", "open is not a number")


@pytest.mark.parametrize("bad", [0.0, -5.0])
@pytest.mark.parametrize("column", ["open", "high", "low", "close"])
def test_non_positive_price(column, bad):
    frame = _frame()
    frame.loc[3, column] = bad
    if column in ("open", "close"):  # keep the OHLC ordering valid: only the sign is wrong
        frame.loc[3, "low"] = min(bad, frame.loc[3, "low"])
    _assert_names(_error(frame), "2024-07-04", "price <= 0")


def test_high_below_close():
    frame = _frame()
    frame.loc[1, "high"] = frame.loc[1, "close"] - 0.5
    _assert_names(_error(frame), "2024-07-02", "high < max(open, close)")


def test_high_below_open():
    frame = _frame()
    frame.loc[1, "open"] = frame.loc[1, "high"] + 0.5
    _assert_names(_error(frame), "2024-07-02", "high < max(open, close)")


def test_low_above_close():
    frame = _frame()
    frame.loc[2, "low"] = frame.loc[2, "close"] + 0.5
    frame.loc[2, "high"] = frame.loc[2, "low"] + 1.0
    _assert_names(_error(frame), "2024-07-03", "low > min(open, close)")


def test_low_above_open():
    frame = _frame()
    frame.loc[2, "open"] = frame.loc[2, "low"] - 0.5
    _assert_names(_error(frame), "2024-07-03", "low > min(open, close)")


def test_float32_rounding_noise_in_ohlc_order_is_accepted():
    frame = _frame(closes=(1740.75, 1741.0))
    frame.loc[0, "high"] = np.float64(np.float32(1740.75)) - 1e-5  # ~6e-9 relative
    out = validate_daily(frame, TICKER)
    assert len(out) == 2


def test_message_counts_several_bad_sessions():
    frame = _frame()
    frame.loc[[1, 3], "high"] = frame.loc[[1, 3], "close"] - 0.5
    err = _error(frame)
    _assert_names(err, "2024-07-02", "high < max(open, close)")
    assert "2 sessions" in str(err)


@pytest.mark.parametrize("drop", [["close"], ["high", "low"], ["session"]])
def test_missing_columns_are_named(drop):
    err = _error(_frame().drop(columns=drop))
    message = str(err)
    assert TICKER in message
    assert "missing column" in message
    for col in drop:
        assert col in message


def test_empty_frame():
    err = _error(_frame().iloc[:0])
    assert TICKER in str(err) and "no rows" in str(err)


def test_not_a_dataframe():
    err = _error([1, 2, 3])  # type: ignore[arg-type]
    assert "DataFrame" in str(err)


def test_naive_session_dates_accepted_as_strings():
    frame = _frame()
    frame["session"] = frame["session"].dt.strftime("%Y-%m-%d")
    out = validate_daily(frame, TICKER)
    assert out["session"].dtype == "datetime64[ns]"
    assert out["session"].iloc[0] == pd.Timestamp("2024-07-01")


def test_tz_aware_session_column_rejected():
    frame = _frame()
    frame["session"] = frame["session"].dt.tz_localize("America/New_York")
    err = _error(frame)
    assert TICKER in str(err) and "naive" in str(err)


def test_tz_aware_session_strings_rejected():
    frame = _frame()
    frame["session"] = frame["session"].dt.strftime("%Y-%m-%dT00:00:00+00:00")
    err = _error(frame)
    assert TICKER in str(err) and "naive" in str(err)


def test_time_of_day_in_session_rejected():
    frame = _frame()
    frame.loc[2, "session"] = pd.Timestamp("2024-07-03 16:00")
    err = _error(frame)
    _assert_names(err, "2024-07-03", "time of day")
    assert "16:00" in str(err)


def test_unparseable_session():
    frame = _frame().astype({"session": object})
    frame.loc[1, "session"] = "not a date"
    err = _error(frame)
    assert TICKER in str(err) and "session" in str(err)


def test_date_column_accepted_as_session():
    frame = _frame().rename(columns={"session": "date"})
    out = validate_daily(frame, TICKER)
    assert "session" in out.columns and "date" not in out.columns
    assert out["session"].iloc[-1] == pd.Timestamp("2024-07-04")


def test_capitalised_yahoo_columns_accepted():
    frame = _frame().rename(columns=str.capitalize).rename(columns={"Session": "Date"})
    out = validate_daily(frame, TICKER)
    assert list(out.columns) == ["session", "open", "high", "low", "close", "volume"]


def test_volume_optional_and_unknown_when_missing():
    out = validate_daily(_frame().drop(columns=["volume"]), TICKER)
    assert out["volume"].isna().all()  # unknown, not zero: a merge keeps the cached volume
    assert out["volume"].dtype == "float64"


def test_missing_volume_values_are_unknown():
    frame = _frame()
    frame.loc[1, "volume"] = np.nan
    out = validate_daily(frame, TICKER)
    assert out["volume"].isna().tolist() == [False, True, False, False]


@pytest.mark.parametrize(
    ("bad", "problem"),
    [(-5.0, "volume < 0: -5"), (np.inf, "volume is not finite: inf")],
)
def test_bad_volume_rejected(bad, problem):
    frame = _frame()
    frame.loc[2, "volume"] = bad
    _assert_names(_error(frame), "2024-07-03", problem)


def test_non_numeric_volume_rejected():
    frame = _frame()
    frame["volume"] = frame["volume"].astype(object)
    frame.loc[1, "volume"] = "lots"
    _assert_names(_error(frame), "2024-07-02", "volume is not a number: 'lots'")


@pytest.mark.parametrize("column", ["open", "high", "low", "close"])
@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_non_finite_price_rejected(column, bad):
    frame = _frame()
    frame.loc[1, column] = bad
    _assert_names(_error(frame), "2024-07-02", "not finite")


def test_inf_parsed_from_csv_text_rejected(tmp_path):
    path = tmp_path / "inf.csv"
    path.write_text("date,open,high,low,close\n2024-07-01,1,inf,1,1\n")
    _assert_names(_error(pd.read_csv(path)), "2024-07-01", "price is not finite")


@pytest.mark.parametrize(
    "columns",
    [("Close", "close"), ("Date", "date"), ("date", "session"), ("VOLUME", "volume")],
)
def test_columns_colliding_after_lower_casing_are_named(columns):
    frame = _frame().rename(columns={"session": "date"})
    first, second = columns
    base = "date" if first.lower() in ("date", "session") else first.lower()
    frame = frame.rename(columns={base: first})
    frame[second] = frame[first]
    err = _error(frame)
    assert f"'{first}' and '{second}'" in str(err)
    assert "collide" in str(err)


def test_colliding_columns_we_do_not_use_are_ignored():
    frame = _frame()
    frame["Adj Close"] = frame["close"]
    frame["adj close"] = frame["close"]
    assert list(validate_daily(frame, TICKER).columns) == list(_frame().columns)


def test_calendar_check_is_opt_in_and_names_the_first_non_session():
    frame = _frame(start="2024-07-01")  # bdate_range: 07-01 .. 07-04 (Independence Day)
    assert len(validate_daily(frame, TICKER)) == 4
    _assert_names(
        _error_with_calendar(frame), "2024-07-04", "not a XNYS session (Thursday)"
    )


def _error_with_calendar(frame: pd.DataFrame) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        validate_daily(frame, TICKER, calendar="XNYS")
    return info.value


def test_extra_columns_dropped():
    frame = _frame()
    frame["adj_close"] = frame["close"]
    out = validate_daily(frame, TICKER)
    assert "adj_close" not in out.columns


def test_real_rut_csv_is_valid(rut_daily):
    assert rut_daily["session"].iloc[0] == pd.Timestamp("1987-09-10")
    assert rut_daily["session"].iloc[-1] == pd.Timestamp("2025-06-30")
    assert len(rut_daily) == 9523
