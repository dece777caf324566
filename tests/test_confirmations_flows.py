"""The user-supplied daily flows file (columns date,flow): format checks with errors naming the
bad value, and the checked table through the flows rule."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from russell_regime.core.confirmations import FlowsParams, flows_open, validate_flows
from russell_regime.errors import DataValidationError

GOOD = "date,flow\n2024-07-01,100\n2024-07-02,-50.5\n2024-07-03,0\n2024-07-05,20\n2024-07-08,-80\n"


def _read(tmp_path: Path, text: str) -> pd.DataFrame:
    path = tmp_path / "flows.csv"
    path.write_text(text)
    return pd.read_csv(path)


def test_good_file_is_read_as_sessions_and_flows(tmp_path) -> None:
    flows = validate_flows(_read(tmp_path, GOOD), "IWM", "XNYS")  # 2024-07-04 is a holiday
    assert list(flows.columns) == ["session", "flow"]
    assert flows["session"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-07-01", "2024-07-02", "2024-07-03", "2024-07-05", "2024-07-08",
    ]
    assert flows["flow"].tolist() == [100.0, -50.5, 0.0, 20.0, -80.0]
    # nets over 2: -, 49.5, -50.5, 20, -60
    assert flows_open(flows, FlowsParams(window=2)).tolist() == [0, 1, 0, 1, 0]


def test_column_names_are_case_insensitive_and_extra_columns_ignored(tmp_path) -> None:
    frame = _read(tmp_path, "Date,Flow,note\n2024-07-01,1,x\n2024-07-02,2,y\n")
    assert validate_flows(frame, "IWM", "XNYS")["flow"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,flows\n2024-07-01,1\n", "missing flow; have date, flows"),
        ("day,flow\n2024-07-01,1\n", "missing session"),
        ("date,flow\n", "no rows"),
        ("date,flow\n2024-07-01,1\n2024-07-02,abc\n", "07-02: flow is not a finite number: 'abc'"),
        ("date,flow\n2024-07-01,1\n2024-07-02,\n", "07-02: flow is not a finite number: empty"),
        ("date,flow\n2024-07-01,inf\n", "2024-07-01: flow is not a finite number: inf"),
        ("date,flow\n2024-07-01,1\n2024-07-01,2\n", "2024-07-01: duplicate flow date"),
        ("date,flow\n2024-07-02,1\n2024-07-01,2\n", "2024-07-01: flow dates not increasing"),
        ("date,flow\n2024-07-01,1\nsoon,2\n", "unparseable flow date 'soon' (row 1)"),
        ("date,flow\n2024-07-01 10:00,1\n", "time of day: '2024-07-01 10:00'"),
        ("date,flow\n2024-07-06,1\n", "2024-07-06: not a XNYS session (Saturday)"),
        ("date,flow\n2024-07-04,1\n", "2024-07-04: not a XNYS session (Thursday)"),
        (
            "date,flow\n2024-07-01,1\n2024-07-03,1\n2024-07-09,1\n",
            "2024-07-02: no flow row for this XNYS session (write 0 for no flow; 3 sessions",
        ),
        ("date,flow,Flow\n2024-07-01,1,2\n", "columns collide: 'flow' and 'Flow'"),
        ("date,session,flow\n2024-07-01,2024-07-01,2\n", "columns collide: 'date' and 'session'"),
    ],
)
def test_bad_file_is_one_clear_error_naming_the_value(tmp_path, text, message) -> None:
    with pytest.raises(DataValidationError) as info:
        validate_flows(_read(tmp_path, text), "IWM", "XNYS")
    assert str(info.value).startswith("IWM:")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_without_a_calendar_gaps_and_holidays_are_accepted(tmp_path) -> None:
    frame = _read(tmp_path, "date,flow\n2024-07-01,1\n2024-07-04,1\n2024-07-09,1\n")
    assert len(validate_flows(frame, "IWM")) == 3


def test_not_a_frame_is_an_error() -> None:
    with pytest.raises(DataValidationError, match="expected a DataFrame, got list"):
        validate_flows([1, 2], "IWM", "XNYS")  # type: ignore[arg-type]
