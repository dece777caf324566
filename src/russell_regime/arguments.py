"""Command-line argument types: the one validation layer of every command's options.

Each factory returns an argparse ``type=`` callable that returns the parsed value or raises
``argparse.ArgumentTypeError`` with one message naming the value as given (quoted) and what is
allowed, so argparse prints its usage and one line
``russell_regime <command>: error: argument --window: '-5' is out of range (allowed: a whole
number of sessions, 1..2520)`` and exits with 2, before any file is read. Checks that need two
options (a start before an end) are registered with :func:`add_check` and run by
:func:`run_checks` right after parsing, through the subcommand's ``parser.error`` (same line,
same exit code).

Paths are checked against the caller's folder (:func:`config_file.caller_path`) but returned as
given; the commands resolve them as before.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path

from .config_file import caller_path
from .core.confirmations import MAX_WINDOW

MAX_SESSIONS = MAX_WINDOW  # 2520 sessions = 10 years: longest lookback, window, gap, block
MAX_HORIZON_DAYS = 3650  # 10 years of forward returns (the crypto data hold about 8)
MAX_RESAMPLES = 20_000  # bootstrap replicates / placebo draws: each holds reps x starts floats
MAX_LAG_MINUTES = 24 * 60  # as the russell_regime config section allows
MAX_SEED = 2**32 - 1  # rng_for keeps 32 bits; freqtrade's hyperopt random state too
MAX_MONTHS = 120
MAX_EPOCHS = 10_000
# Random gates of compare's control. p_random's resolution is 1/(n+1) and the Monte-Carlo
# standard error of a percentile at most 50/sqrt(n) points: 10 000 gates give 1e-4 and 0.5
# points; more only cost time (about 0.5 ms per gate and row on 7 years of 1h candles).
MAX_RANDOM_GATES = 10_000

ArgType = Callable[[str], object]


def _fail(text: str, problem: str, allowed: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(f"{text!r} {problem} (allowed: {allowed})")


def int_in(low: int, high: int, what: str = "a whole number") -> Callable[[str], int]:
    """A whole number in ``low..high`` (both included)."""
    allowed = f"{what}, {low}..{high}"

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise _fail(text, "is not a whole number", allowed) from None
        if not low <= value <= high:
            raise _fail(text, "is out of range", allowed)
        return value

    return parse


def float_in(
    low: float | None = None, high: float | None = None, *, low_open: bool = False,
    high_open: bool = False, what: str = "number",
) -> Callable[[str], float]:
    """A finite number within the bounds (``None``: unbounded; ``*_open``: bound excluded)."""
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    allowed = f"a finite {what}" + (f" {' and '.join(parts)}" if parts else "")

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise _fail(text, "is not a number", allowed) from None
        if not math.isfinite(value):
            raise _fail(text, "is not finite", allowed)
        if low is not None and (value <= low if low_open else value < low):
            raise _fail(text, "is out of range", allowed)
        if high is not None and (value >= high if high_open else value > high):
            raise _fail(text, "is out of range", allowed)
        return value

    return parse


def fraction(text: str) -> float:
    """A finite number in ``[0, 1)`` (margins and tolerances)."""
    return float_in(0.0, 1.0, high_open=True, what="fraction")(text)


DATE_ALLOWED = "a calendar date YYYY-MM-DD"


def iso_date(text: str) -> str:
    """A calendar date ``YYYY-MM-DD`` (or ``YYYYMMDD``); returned as ``YYYY-MM-DD``."""
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError as exc:
        raise _fail(text, f"is not a date ({exc})", DATE_ALLOWED) from None


def iso_date_or_all(text: str) -> str:
    """:func:`iso_date`, or ``all``."""
    if text.strip().lower() == "all":
        return "all"
    try:
        return iso_date(text)
    except argparse.ArgumentTypeError:
        raise _fail(text, "is not a date", f"{DATE_ALLOWED}, or all") from None


def instant(text: str) -> str:
    """A date or date-time pandas reads (``2025-07-01T21:00``, ``now``); returned as given."""
    import pandas as pd

    try:
        value = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise _fail(text, f"is not a date/time ({exc})",
                    "a date or UTC date-time, e.g. 2025-07-01T21:00") from None
    if pd.isna(value):
        raise _fail(text, "is not a date/time", "a date or UTC date-time, e.g. 2025-07-01T21:00")
    return text


def freqtrade_timerange(text: str) -> str:
    """A non-empty freqtrade ``--timerange`` (``YYYYMMDD-[YYYYMMDD]``, ``-YYYYMMDD``, epoch
    seconds), read by freqtrade's own parser; when both ends are given the end must follow the
    start. Returned as given."""
    from freqtrade.configuration import TimeRange

    allowed = "YYYYMMDD-YYYYMMDD, YYYYMMDD- or -YYYYMMDD, end after start"
    if not text.strip():
        raise _fail(text, "is empty (it would mean all data)", allowed)
    try:
        parsed = TimeRange.parse_timerange(text)
    except Exception as exc:  # freqtrade's ConfigurationError, or a date out of range
        raise _fail(text, f"is not a timerange ({exc})", allowed) from None
    if parsed.starttype and parsed.stoptype and parsed.stopts <= parsed.startts:
        raise _fail(text, "does not end after it starts", allowed)
    return text


def _blocking_file(path: Path) -> Path | None:
    """The first of ``path``'s ancestors that exists and is not a folder (None: no such)."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return parent
    return None


def folder(text: str) -> Path:
    """A folder to read or create: absent, or a folder, and not under a file."""
    path = caller_path(Path(text))
    blocker = path if path.exists() and not path.is_dir() else _blocking_file(path)
    if blocker is not None:
        raise _fail(text, f"cannot be a folder: {blocker} is a file, not a directory",
                    "a folder path, existing or not")
    return Path(text)


def _resolved(text: str, path: Path) -> str:
    """`` (<path>)`` when ``text`` was resolved to another spelling (a relative path)."""
    return "" if str(path) == text else f" ({path})"


def existing_folder(text: str) -> Path:
    """An existing folder."""
    path = caller_path(Path(text))
    if not path.is_dir():
        raise _fail(text, f"is not an existing folder{_resolved(text, path)}",
                    "an existing folder")
    return Path(text)


def existing_file(text: str) -> Path:
    """An existing file (not a folder)."""
    path = caller_path(Path(text))
    if not path.is_file():
        raise _fail(text, f"is not an existing file{_resolved(text, path)}", "an existing file")
    return Path(text)


def output_file(text: str) -> Path:
    """A file to write: not a folder, not under a file (its folder is created if missing)."""
    path = caller_path(Path(text))
    if path.is_dir():
        raise _fail(text, f"is a folder ({path})", "a file path, existing or not")
    blocker = _blocking_file(path)
    if blocker is not None:
        raise _fail(text, f"cannot be written: {blocker} is a file, not a directory",
                    "a file path, existing or not")
    return Path(text)


# --- checks of two options ----------------------------------------------------------------------


Check = Callable[[argparse.Namespace], str | None]


def add_check(parser: argparse.ArgumentParser, check: Check) -> None:
    """Run ``check(args)`` after ``parser`` parsed; a message is ``parser.error(message)``."""
    checks = list(parser.get_default("_checks") or [])

    def run(args: argparse.Namespace) -> None:
        message = check(args)
        if message:
            parser.error(message)

    parser.set_defaults(_checks=[*checks, run])


def run_checks(args: argparse.Namespace) -> None:
    """Run the checks :func:`add_check` registered on the parser that parsed ``args``."""
    for run in getattr(args, "_checks", None) or ():
        run(args)


def ordered(first: str, second: str, *, strict: bool = True) -> Check:
    """A check that option ``second`` comes after option ``first`` (dates ``YYYY-MM-DD``; a
    missing one or ``all`` passes). Options named like ``--until`` (dest ``until``)."""
    a_dest, b_dest = first.lstrip("-").replace("-", "_"), second.lstrip("-").replace("-", "_")

    def check(args: argparse.Namespace) -> str | None:
        a, b = getattr(args, a_dest, None), getattr(args, b_dest, None)
        if not a or not b or "all" in (a, b):
            return None
        if b < a or (strict and b == a):
            rule = "after" if strict else "on or after"
            return (f"argument {second}: {b!r} is not {rule} {first} {a!r} (allowed: "
                    f"{second} {rule} {first})")
        return None

    return check
