"""Typed errors. Every message names the ticker, the session and the problem where known."""

from __future__ import annotations


class RegimeError(Exception):
    """Base class of every error raised by russell_regime."""


class DataValidationError(RegimeError, ValueError):
    """A daily frame breaks the daily-frame contract (see ``daily.validate_daily``)."""

    def __init__(self, ticker: str, problem: str, session: object | None = None) -> None:
        self.ticker = ticker
        self.problem = problem
        self.session = session
        where = f" session {_fmt_session(session)}:" if session is not None else ""
        super().__init__(f"{ticker}:{where} {problem}")


class SourceError(RegimeError):
    """A data source failed or answered with nothing usable (empty, malformed, unreachable)."""

    def __init__(self, ticker: str, problem: str) -> None:
        self.ticker = ticker
        self.problem = problem
        super().__init__(f"{ticker}: {problem}")


class CacheUnavailable(SourceError):
    """The cache file could not be locked (timeout) or written; the message names the file.
    Data fetched and merged is still good: the caller may keep it in memory and retry."""


class RevisionRejected(SourceError):
    """A fresh answer would revise cached sessions implausibly (too many, or a close moved too
    far); nothing was merged. The message names the count, the first session and its values."""

    def __init__(
        self, ticker: str, problem: str, session: object | None = None, count: int = 0
    ) -> None:
        self.session = session
        self.count = count
        super().__init__(ticker, problem)


class ConfigError(RegimeError, ValueError):
    """An invalid ``russell_regime`` configuration value; the message names key and value."""


def _fmt_session(session: object) -> str:
    stamp = getattr(session, "strftime", None)
    return stamp("%Y-%m-%d") if stamp else str(session)
