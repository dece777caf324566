"""The package's folders are its parts: the pure core imports nothing from the edges and never
reads the clock; each CLI command is its own module."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "russell_regime"
CORE_THIRD_PARTY = {"numpy", "pandas", "exchange_calendars"}
CORE_OWN = ("russell_regime.core", "russell_regime.errors")
CLOCK_CALLS = ("now", "today", "utcnow", "time", "monotonic", "perf_counter")


def _imports(path: Path) -> list[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names.append(".".join(base + ([node.module] if node.module else [])))
            else:
                names.append(node.module or "")
    return names


CORE_MODULES = sorted((PACKAGE / "core").glob("*.py"))


@pytest.mark.parametrize("path", CORE_MODULES, ids=lambda p: p.name)
def test_core_imports_only_core_errors_stdlib_numpy_pandas_exchange_calendars(path):
    for name in _imports(path):
        top = name.split(".")[0]
        allowed = (
            name.startswith(CORE_OWN)
            or top in CORE_THIRD_PARTY
            or top in sys.stdlib_module_names
        )
        assert allowed, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", CORE_MODULES, ids=lambda p: p.name)
def test_core_never_reads_the_clock(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in CLOCK_CALLS:
            owner = ast.unparse(node.value)
            assert owner not in ("pd.Timestamp", "Timestamp", "datetime", "dt.datetime",
                                 "date", "dt.date", "time"), f"{path.name}: {owner}.{node.attr}"


def test_core_has_no_timeframe_parser():
    for path in CORE_MODULES:
        assert "timeframe_delta" not in path.read_text(), path.name


def test_each_command_is_its_own_module_and_no_folder_shadows_freqtrade():
    assert {p.stem for p in (PACKAGE / "cli").glob("*.py")} >= {
        "__init__", "main", "download", "backtest", "status"
    }
    assert "add_status_command" not in (PACKAGE / "adapter" / "live.py").read_text()
    assert not any(p.name == "freqtrade" for p in PACKAGE.rglob("*") if p.is_dir())


ALL_MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", ALL_MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_run_time_path_from_a_modules_own_file(path):
    """Files come from package data (importlib.resources) or from options and the config,
    never from where the module happens to be installed (``__file__``, ``parents[N]``)."""
    if "resources" in path.relative_to(PACKAGE).parts:
        return  # the shipped example strategy is freqtrade's to load, not ours
    for node in ast.walk(ast.parse(path.read_text())):
        assert not (isinstance(node, ast.Name) and node.id == "__file__"), path.name
        if isinstance(node, ast.Attribute) and node.attr == "parents":
            owner = ast.unparse(node.value)
            assert "__file__" not in owner and "origin" not in owner, f"{path.name}: {owner}"


def test_user_data_strategies_holds_only_strategy_files():
    """freqtrade loads every .py in a strategies folder: no package there (LOAD FAILED rows)."""
    strategies = PACKAGE.parents[1] / "user_data" / "strategies"
    assert sorted(p.name for p in strategies.iterdir()) == ["RussellRiskOn.py"]
    assert (strategies / "RussellRiskOn.py").resolve() == (
        PACKAGE / "resources" / "strategies" / "RussellRiskOn.py")
