"""run.sh on a fresh machine: says what it installs, and passes the caller's folder on.

A fake ``python3.11`` on PATH stands in for the interpreter (no install, no network): its
``-m venv DIR`` creates a fake ``DIR/bin/python`` that records its arguments.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

FAKE_PYTHON = """#!/usr/bin/env bash
log="$(dirname "$0")/../calls.log"
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin"
  cp "$0" "$3/bin/python"
  exit 0
fi
echo "$* | caller=${R2K_CALLER_DIR:-}" >> "$log"
case "$1" in -c) exit 1 ;; esac
exit 0
"""


def test_first_run_says_what_it_installs_and_keeps_the_callers_folder(tmp_path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(REPO_ROOT / "run.sh", repo / "run.sh")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python3.11"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    caller = tmp_path / "somewhere"
    caller.mkdir()
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        ["bash", str(repo / "run.sh"), "backtest", "--data", "data"],
        cwd=caller, env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    said = proc.stderr.strip().splitlines()
    assert len(said) == 3, said
    assert said[0].startswith("run.sh: first use: creating the virtualenv .venv")
    assert said[1].startswith("run.sh: installing freqtrade")
    assert said[2] == "run.sh: .venv is ready."
    calls = (repo / ".venv" / "calls.log").read_text().splitlines()
    assert any("pip install --quiet -e .[test,plot]" in c for c in calls)
    assert calls[-1] == f"-m russell_regime backtest --data data | caller={caller}"
    assert os.path.isdir(repo / ".venv")


def test_the_test_command_does_not_pass_the_callers_folder_on(tmp_path) -> None:
    """The suite's subprocesses resolve relative paths against their own cwd; an inherited
    R2K_CALLER_DIR pointed them at the folder run.sh was called from (failed in CI only)."""
    repo = tmp_path / "repo"
    (repo / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "run.sh", repo / "run.sh")
    fake = repo / ".venv" / "bin" / "python"
    fake.write_text(FAKE_PYTHON.replace('case "$1" in -c) exit 1 ;; esac', ""))  # "installed"
    fake.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "R2K_CALLER_DIR": "/elsewhere"}
    proc = subprocess.run(
        ["bash", str(repo / "run.sh"), "test", "-k", "x"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    calls = (repo / ".venv" / "calls.log").read_text().splitlines()
    assert calls[-1] == "-m pytest -q -k x | caller="
