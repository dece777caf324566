"""The supported freqtrade range (russell_regime.compat): the same range as pyproject's dependency,
PEP 440 comparisons, and an unsupported freqtrade refused at once with one line when a mixin
strategy is built, through the real entry points (freqtrade's version faked by a sitecustomize)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from freqtrade.exceptions import OperationalException
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from ftharness import TEST_STRATEGIES
from russell_regime import __version__
from russell_regime.compat import (
    FREQTRADE_BELOW,
    FREQTRADE_MIN,
    SUPPORTED,
    UnsupportedFreqtrade,
    installed_freqtrade,
    is_supported,
    require_supported_freqtrade,
)
from russell_regime.errors import RegimeError

pytestmark = pytest.mark.compat

REPO_ROOT = Path(__file__).resolve().parents[1]
MESSAGE = (
    f"freqtrade 2025.8 is not supported by russell-regime {__version__} "
    '(supported: >=2025.12,<2026.10); install a supported freqtrade: '
    'pip install "freqtrade>=2025.12,<2026.10"'
)


def _freqtrade_requirements() -> list[Requirement]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    lines = [*project["dependencies"], *(line for extra in project["optional-dependencies"].values()
                                         for line in extra)]
    return [req for req in map(Requirement, lines) if req.name == "freqtrade"]


def test_the_range_is_pyprojects_freqtrade_dependency():
    (main,) = [req for req in _freqtrade_requirements() if not req.extras]
    assert main.specifier == SpecifierSet(f">={FREQTRADE_MIN},<{FREQTRADE_BELOW}")
    assert SpecifierSet(SUPPORTED) == main.specifier
    for req in _freqtrade_requirements():  # the extras (freqtrade[hyperopt], ...) too
        assert req.specifier == main.specifier, str(req)


def test_the_installed_freqtrade_is_supported():
    version = installed_freqtrade()
    assert is_supported(version), version
    require_supported_freqtrade()


@pytest.mark.parametrize("version,supported", [
    ("2025.12", True), ("2026.1", True), ("2026.3", True), ("2026.9", True),
    ("2026.5.1", True), ("docker-2026.5-dev-1a2b3c4d", True),
    ("2025.11.2", False), ("2025.8", False), ("2026.10", False), ("2027.1", False),
    ("2025.12-dev-1a2b3c4", False),  # a development build before the floor's release
    ("2026.10-dev-1a2b3c4", False),  # the next release's development build
    ("unknown", False),
])
def test_versions_compare_as_pip_compares_them(version, supported):
    assert is_supported(version) is supported


def test_an_unsupported_freqtrade_is_one_line_naming_both_versions():
    with pytest.raises(UnsupportedFreqtrade) as raised:
        require_supported_freqtrade("2025.8")
    assert str(raised.value) == MESSAGE
    # ours (RegimeError) and freqtrade's one-line kind (OperationalException: no traceback)
    assert isinstance(raised.value, RegimeError)
    assert isinstance(raised.value, OperationalException)


def _fake_freqtrade(tmp_path: Path, version: str) -> dict[str, str]:
    """An environment whose Python imports freqtrade with ``__version__`` = ``version``."""
    site = tmp_path / "fake_version"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        f"import freqtrade\nfreqtrade.__version__ = {version!r}\n")
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "COLUMNS": "400"}


def _backtesting_args(tmp_path: Path) -> list[str]:
    data = tmp_path / "data"
    data.mkdir()
    return ["backtesting", "--config", str(REPO_ROOT / "config.json"),
            "--userdir", str(tmp_path), "--datadir", str(data), "--strategy", "GatedSample",
            "--strategy-path", str(TEST_STRATEGIES), "--timerange", "20240101-20240201",
            "--export", "none"]


def test_offline_backtesting_on_an_unsupported_freqtrade_stops_with_one_line(tmp_path):
    """``python -m russell_regime offline backtesting``: exit code 2, the line last on stderr,
    before any data is read (the data folder is empty)."""
    done = subprocess.run(
        [sys.executable, "-m", "russell_regime", "offline", *_backtesting_args(tmp_path)],
        cwd=tmp_path, env=_fake_freqtrade(tmp_path, "2025.8"), capture_output=True, text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr[-3000:]
    assert done.stderr.strip().splitlines()[-1] == f"russell_regime offline: error: {MESSAGE}"
    assert "Traceback" not in done.stderr


def test_freqtrades_own_main_logs_the_one_line_and_exits_2(tmp_path):
    """freqtrade's ``main`` (markets from the snapshot: freqtrade loads them before it builds
    the strategy) logs the message as its one error line, no traceback, exit code 2."""
    code = (
        "import sys\n"
        "from freqtrade.main import main\n"
        "from russell_regime.adapter.offline import default_snapshot, load_markets_snapshot, "
        "offline_markets\n"
        "with offline_markets(load_markets_snapshot(default_snapshot())):\n"
        "    main(sys.argv[1:])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *_backtesting_args(tmp_path)],
        cwd=tmp_path, env=_fake_freqtrade(tmp_path, "2025.8"), capture_output=True, text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert f"freqtrade - ERROR - {MESSAGE}" in output
    assert "Traceback" not in output
