"""``python -m russell_regime <command>``: see :mod:`russell_regime.cli`."""

from .cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
