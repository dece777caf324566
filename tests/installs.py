"""Installs the way users install: the built wheel, outside the repo.

* :func:`built_wheel` - ``$R2K_WHEEL`` (CI builds the wheel once, into ``dist/``), else a wheel
  built now from this checkout with ``python -m build --wheel`` into ``out``.
* :func:`package_location` - where ``python`` imports ``russell_regime`` from, and whether that
  is an installed copy (site-packages) rather than this checkout's ``src/``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SRC = REPO_ROOT / "src"
WHEEL_ENV = "R2K_WHEEL"


def built_wheel(out: Path) -> Path:
    """A wheel of this checkout (``$R2K_WHEEL`` when set)."""
    given = os.environ.get(WHEEL_ENV)
    if given:
        path = Path(given)
        if not path.is_file():
            raise FileNotFoundError(f"{WHEEL_ENV}={given}: no such wheel")
        return path
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO_ROOT)],
        check=True, capture_output=True, text=True, timeout=600,
    )
    (wheel,) = sorted(Path(out).glob("russell_regime-*.whl"))
    return wheel


def package_location(python: str = sys.executable, cwd: Path | None = None) -> dict:
    """``{"file": <russell_regime/__init__.py>, "installed": bool}`` as ``python`` sees it."""
    code = "import json, russell_regime; print(json.dumps(russell_regime.__file__))"
    out = subprocess.run([python, "-c", code], cwd=cwd or Path.home(), check=True,
                         capture_output=True, text=True, timeout=120)
    file = Path(json.loads(out.stdout.strip().splitlines()[-1])).resolve()
    return {"file": file, "installed": SRC not in file.parents}
