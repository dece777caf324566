"""Shared fixtures. Real market data comes from R2K_SHARED_DATA (default ../shared/data).

Tests that need it skip with a clear reason when it is absent, unless R2K_REQUIRE_SHARED_DATA=1
(set by CI), in which case they fail: CI must never pass by skipping the real-data tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# Modules whose deprecation warnings fail the suite (a regex matched at the start of the module
# a warning is attributed to): the package and the example strategy.
OUR_MODULES = ("russell_regime", "RussellRiskOn")


def warning_filters() -> list[str]:
    """pytest ``filterwarnings`` lines for the installed pandas, in precedence order (last wins).

    Third-party deprecations (freqtrade, exchange_calendars, ...) are theirs to fix: pandas-3
    ones inside freqtrade are ignored, the rest are reported as usual. Any deprecation
    attributed to our own modules is an error, on every version: ``DeprecationWarning``,
    ``PendingDeprecationWarning``, ``FutureWarning`` and pandas' ``Pandas4Warning`` where it
    exists (pandas >= 3; naming it in pyproject would stop pytest from starting on pandas 2).
    """
    categories = ["DeprecationWarning", "PendingDeprecationWarning", "FutureWarning"]
    lines = []
    if hasattr(pd.errors, "Pandas4Warning"):
        categories.append("pandas.errors.Pandas4Warning")
        lines += [
            "ignore::pandas.errors.Pandas4Warning:freqtrade",
            "ignore:Series.values returning:pandas.errors.Pandas4Warning",
        ]
    lines += [f"error::{category}:{module}" for category in categories for module in OUR_MODULES]
    if int(pd.__version__.split(".")[0]) < 3:
        # pandas 2.x itself builds generic-unit numpy timedeltas (pd.Timedelta(hours=1) warns
        # under numpy >= 2.5, attributed to the caller's line); pandas 3 does not, so our own
        # code is still held to it in the newest environment.
        lines.append("ignore:The 'generic' unit for NumPy timedelta:DeprecationWarning")
    return lines


def pytest_configure(config: pytest.Config) -> None:
    for line in warning_filters():  # after pyproject's own lines: these take precedence
        config.addinivalue_line("filterwarnings", line)


def shared_data_dir() -> Path:
    return Path(os.environ.get("R2K_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = shared_data_dir()
    if not (root / "index" / "RUT.csv").is_file() or not (root / "binance").is_dir():
        message = (
            f"real market data not found at {root} (expected index/RUT.csv and binance/); "
            "set R2K_SHARED_DATA to the shared data folder"
        )
        if os.environ.get("R2K_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return root


@pytest.fixture(scope="session")
def rut_csv(shared_data: Path) -> Path:
    return shared_data / "index" / "RUT.csv"


@pytest.fixture(scope="session")
def rut_daily(rut_csv: Path) -> pd.DataFrame:
    from russell_regime.core.daily import validate_daily

    return validate_daily(pd.read_csv(rut_csv), "^RUT")


@pytest.fixture
def lookahead_pricing(monkeypatch) -> None:
    """``price_side: other`` for freqtrade's lookahead-analysis, which forces market orders:
    freqtrade 2026.9 sets it itself, releases before it refuse config.json's ``same`` with market
    orders ("Market entry orders require entry_pricing.price_side = other"). Backtest prices do
    not depend on it, so every release analyses the same trades."""
    monkeypatch.setenv("FREQTRADE__ENTRY_PRICING__PRICE_SIDE", "other")
    monkeypatch.setenv("FREQTRADE__EXIT_PRICING__PRICE_SIDE", "other")
