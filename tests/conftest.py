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
