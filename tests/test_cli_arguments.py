"""Every numeric, date and path option of every command refuses a bad value in one line.

Issue 16 (hardening round 3), items 5 and 6: bad arguments ended in a traceback (exit 1) or
ran as if meaningful (``--timerange ""``, ``--random-gates -1``, ``--reps 0``, ``--since``
after ``--until``). Each case below runs the real command in a subprocess and requires exit 2,
no traceback, exactly one ``error:`` line, naming the value as given; cases refused by the
argument layer (:mod:`russell_regime.arguments`) must also print argparse's usage and the
allowed range, which shows they failed before reading any file. The subprocesses run
concurrently in one module fixture; each case is reported on its own. The options shared by
events, event-study and compare come from one function each (cli_common): every one of them
runs as a subprocess on ``events`` and a few on the others; all argparse cases also run
in-process (cheap) on every command.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import pytest

from russell_regime import arguments
from russell_regime.cli.main import build_parser
from tests.conftest import shared_data_dir

DATA = shared_data_dir()
HAS_DATA = (DATA / "index" / "RUT.csv").is_file() and (DATA / "binance").is_dir()


class Case(NamedTuple):
    argv: tuple[str, ...]
    named: str  # the bad value as the error line must show it
    parser: bool = True  # refused by argparse (usage + "allowed:"), else by the command
    data: bool = False  # needs the shared data to reach the check


def _case(*argv: str, named: str | None = None, parser: bool = True, data: bool = False) -> Case:
    return Case(tuple(argv), repr(argv[-1]) if named is None else named, parser, data)


# the same shared options on events and event-study (threshold and confirmation options)
SHARED = [
    ("--data", "nope"), ("--lookback", "0"), ("--lookback", "2521"), ("--lookback", "x"),
    ("--margin", "inf"), ("--margin", "1"), ("--tolerance", "-0.1"), ("--window", "-5"),
    ("--window", "1.5"), ("--expiry", "0"), ("--gap", "-1"), ("--lag", "-1"), ("--lag", "1441"),
    ("--lag", "nan"), ("--vix-level", "0"), ("--vix-window", "0"), ("--lead-window", "9999"),
    ("--value-tolerance", "1.5"), ("--value-window", "0"), ("--flows-file", "nope.csv"),
    ("--flows-window", "-1"), ("--flows-threshold", "inf"),
]
CONFIRM_ONLY = {"--data", "--vix-level", "--vix-window", "--lead-window", "--value-tolerance",
                "--value-window", "--flows-file", "--flows-window", "--flows-threshold"}

CASES: list[Case] = [
    # download
    _case("download", "--userdir", "afile"),
    _case("download", "--cache-dir", "afile/cache"),
    _case("download", "--config", "nope.json", named="nope.json", parser=False),
    _case("download", "--source", "nope", named="'nope'", parser=False),
    _case("download", "--ticker", "^R UT", named="'^R UT'", parser=False),
    # status
    _case("status", "--now", "2024-13-01"),
    _case("status", "--now", "NaT"),
    _case("status", "--userdir", "afile"),
    _case("status", "--config", "nope.json", named="nope.json", parser=False),
    # backtest
    _case("backtest", "--timerange", ""),
    _case("backtest", "--timerange", " "),
    _case("backtest", "--timerange", "2024-13-01"),
    _case("backtest", "--timerange", "20240101-20230101"),
    _case("backtest", "--timerange", "20240101-20240101"),
    _case("backtest", "--data", "nope"),
    _case("backtest", "--userdir", "afile"),
    _case("backtest", "--snapshot", "nope.json"),
    _case("backtest", "--strategy-path", "nope"),
    _case("backtest", "--config", "nope.json", "--data", str(DATA), named="nope.json",
          parser=False, data=True),
    # events
    *[_case("events", option, value) for option, value in SHARED],
    _case("events", "--since", "2024-13-45"),
    _case("events", "--until", "2024-02-30"),
    _case("events", "--since", "2024-01-01", "--until", "2023-01-01"),
    _case("events", "--until", "2016-12-31"),  # before the default --since 2017-01-01
    _case("events", "--csv", "afile/x.csv"),
    _case("events", "--csv", "folder"),
    _case("events", "--ticker-file", "nope.csv", named="nope.csv", parser=False, data=True),
    # event-study
    *[_case("event-study", option, value) for option, value in SHARED],
    _case("event-study", "--out", "afile/out"),
    _case("event-study", "--horizons", "0"),
    _case("event-study", "--horizons", "30", "-1"),
    _case("event-study", "--horizons", "3651"),
    _case("event-study", "--start", "2024-13-01"),
    _case("event-study", "--end", "x"),
    _case("event-study", "--start", "2024-01-01", "--end", "2023-01-01"),
    _case("event-study", "--start", "2024-01-01", "--end", "2024-01-01"),
    _case("event-study", "--seed", "-1"),
    _case("event-study", "--reps", "-1"),
    _case("event-study", "--reps", "0"),
    _case("event-study", "--reps", "20001"),
    _case("event-study", "--draws", "-1"),
    _case("event-study", "--draws", "0"),
    _case("event-study", "--level", "1.5"),
    _case("event-study", "--level", "0"),
    _case("event-study", "--block", "0"),
    _case("event-study", "--at", "2024-13-01"),
    _case("event-study", "--at", "2024-01-02", "2024-02-30"),
    # compare
    *[_case("compare", option, value) for option, value in SHARED if option in CONFIRM_ONLY],
    _case("compare", "--out", "afile/out"),
    _case("compare", "--timerange", ""),
    _case("compare", "--timerange", "20240101"),
    _case("compare", "--timerange", "20240101-20230101"),
    _case("compare", "--strategy-path", "nope"),
    _case("compare", "--train-months", "0"),
    _case("compare", "--test-months", "-1"),
    _case("compare", "--epochs", "0"),
    _case("compare", "--seed", "-1"),
    _case("compare", "--seed", str(2**32)),
    _case("compare", "--random-gates", "-1"),
    _case("compare", "--random-gates", "100000000000"),
    _case("compare", "--config", "nope.json", named="nope.json", parser=False, data=True),
]


REPRESENTATIVE = {"--data", "--window", "--vix-level", "--flows-file"}
SUBPROCESS = [c for c in CASES
              if c.argv[0] not in ("event-study", "compare") or len(c.argv) != 3
              or c.argv[1] not in dict(SHARED) or c.argv[1] in REPRESENTATIVE]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FREQTRADE__")}
    env.pop("R2K_CALLER_DIR", None)
    return {**env, "R2K_SHARED_DATA": str(DATA)}


class Result(NamedTuple):
    proc: subprocess.CompletedProcess
    seconds: float


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[Case, Result]:
    """Every case run once, a few at a time, in a folder holding a file ``afile`` and an
    empty folder ``folder`` (cases needing the shared data are left out when it is absent)."""
    cwd = tmp_path_factory.mktemp("cli_arguments")
    (cwd / "afile").write_text("a file, not a folder")
    (cwd / "folder").mkdir()
    env = _env()

    def run(case: Case) -> Result:
        t = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "russell_regime", *case.argv], cwd=cwd,
                              env=env, capture_output=True, text=True, timeout=300)
        return Result(proc, time.monotonic() - t)

    todo = [c for c in SUBPROCESS if HAS_DATA or not c.data]
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(todo, pool.map(run, todo), strict=True))


def _id(case: Case) -> str:
    return " ".join(case.argv).replace(str(DATA), "DATA")


@pytest.mark.parametrize("case", SUBPROCESS, ids=_id)
def test_bad_argument_is_one_error_line_and_exit_2(results, case: Case) -> None:
    if case not in results:
        pytest.skip(f"no shared data at {DATA}")
    proc = results[case].proc
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, proc.stderr
    line = errors[0]
    assert line.startswith(f"russell_regime {case.argv[0]}: error: "), line
    assert case.named in line, line
    if case.parser:  # refused by argparse, before any file was read
        assert proc.stderr.startswith("usage: "), proc.stderr
        assert "(allowed: " in line and "argument --" in line, line
    assert proc.stdout == "", proc.stdout[-2000:]


def test_the_argument_layer_fails_fast(results) -> None:
    """Refusals by argparse cost an interpreter start and imports, no work: each well under
    the time one real run takes (the slowest allowed is generous for a loaded machine)."""
    slowest = max(r.seconds for c, r in results.items() if c.parser)
    assert slowest < 30, slowest


# --- in-process (cheap) ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", [c for c in CASES if c.parser], ids=_id)
def test_every_argparse_case_in_process(case: Case, tmp_path, monkeypatch, capsys) -> None:
    from russell_regime.cli.main import main

    (tmp_path / "afile").write_text("a file")
    (tmp_path / "folder").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("R2K_CALLER_DIR", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(list(case.argv))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and case.named in errors[0] and "(allowed: " in errors[0], err


def test_every_valued_option_of_every_command_has_a_checked_type() -> None:
    """No option taking a number, date or path is left to ``int``/``float``/``Path``/raw
    text: each has a type from :mod:`russell_regime.arguments` (or a local wrapper of one),
    except the free-text options listed here."""
    free_text = {"--ticker-file", "--pairs", "--strategy", "--loss", "--ticker", "--source",
                 "--path", "--config", "extra"}  # --config: the command's one-line error
    commands = build_parser()._subparsers._group_actions[0].choices
    for name, sub in commands.items():
        for action in sub._actions:
            if action.nargs == 0 or action.choices is not None or action.dest == "help":
                continue
            option = action.option_strings[-1] if action.option_strings else action.dest
            if option in free_text:
                continue
            assert action.type not in (None, int, float, Path, str), (name, option)
            assert action.type.__module__.startswith("russell_regime"), (name, option)


# --- the bounds themselves ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "dest", "value"),
    [
        (["compare", "--random-gates", str(arguments.MAX_RANDOM_GATES)], "random_gates",
         arguments.MAX_RANDOM_GATES),
        (["compare", "--random-gates", "0"], "random_gates", 0),
        (["compare", "--seed", str(arguments.MAX_SEED)], "seed", arguments.MAX_SEED),
        (["events", "--lookback", "1", str(arguments.MAX_SESSIONS)], "lookback",
         [1, arguments.MAX_SESSIONS]),
        (["events", "--gap", "0"], "gap", 0),
        (["events", "--margin", "0"], "margin", 0.0),
        (["events", "--lag", "1440"], "lag", 1440.0),
        (["events", "--since", "all"], "since", "all"),
        (["events", "--since", "20240105"], "since", "2024-01-05"),
        (["events", "--since", "2024-01-01", "--until", "2024-01-01"], "until", "2024-01-01"),
        (["event-study", "--reps", str(arguments.MAX_RESAMPLES)], "reps",
         arguments.MAX_RESAMPLES),
        (["event-study", "--level", "0.999"], "level", 0.999),
        (["event-study", "--horizons", "1", "3650"], "horizons", [1, 3650]),
        (["event-study", "--at"], "at", []),
        (["backtest", "--timerange", "20240101-"], "timerange", "20240101-"),
        (["backtest", "--timerange", "-20240101"], "timerange", "-20240101"),
        (["status", "--now", "2025-07-01T21:00"], "now", "2025-07-01T21:00"),
    ],
)
def test_the_limits_themselves_are_allowed(argv, dest, value) -> None:
    args = build_parser().parse_args(argv)
    arguments.run_checks(args)
    assert getattr(args, dest) == value


def test_random_gates_bound_is_in_the_help() -> None:
    text = build_parser()._subparsers._group_actions[0].choices["compare"].format_help()
    assert f"0..{arguments.MAX_RANDOM_GATES}" in " ".join(text.split())


def test_type_errors_name_the_value_and_the_range() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"'-5' is out of range .*1\.\.2520"):
        arguments.int_in(1, 2520, "a whole number of sessions")("-5")
    with pytest.raises(argparse.ArgumentTypeError, match=r"'nan' is not finite"):
        arguments.fraction("nan")
    with pytest.raises(argparse.ArgumentTypeError, match=r"'2024-13-45' is not a date"):
        arguments.iso_date("2024-13-45")
