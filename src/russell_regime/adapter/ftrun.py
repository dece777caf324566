"""Run a freqtrade command in-process and turn every failure into a non-zero exit code.

Contract
--------
:func:`run_command` does what ``freqtrade.main.main`` does (logging set-up, ``Arguments``
parsing, the sub-command's ``func``) but maps the outcome itself instead of relying on
freqtrade's ``sys.exit``. freqtrade 2026.9 exits with ``None`` (i.e. 0) on a
``ConfigurationError`` raised after its logging set-up (invalid ``russell_regime`` values,
``--timeframe 7h``, ...); here:

* success: 0;
* ``ConfigurationError``: 2, ``<prog>: error: configuration error: <message>``;
* any other ``FreqtradeException`` or ``RegimeError``: 2, ``<prog>: error: <message>`` (no
  traceback);
* any other exception: 1, ``<prog>: error: <Type>: <message>`` (traceback logged first);
* ``KeyboardInterrupt``: 130; ``SystemExit(code)`` (argparse usage errors, --help): ``code``
  (freqtrade's own usage error ``freqtrade: error: ...`` is followed by our line).

The message is the last line on stderr, on one line. ``<prog>`` is the command the user ran,
``russell_regime <command>`` (default :data:`PROG`, ``russell_regime offline``; the main job
passes ``russell_regime backtest``): the same form as argparse's usage errors and every other
error line of the CLI.

``command`` replaces the sub-command's own ``func`` (same ``args`` dict), so a caller can run
e.g. backtesting with freqtrade's objects and keep them afterwards.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Command = Callable[[dict[str, Any]], Any]
PROG = "russell_regime offline"  # the error-line prefix of ``russell-regime offline ...``


def error_line(exc: BaseException, prog: str = PROG) -> str:
    """The one line printed for a failure (pure): ``<prog>: error: ...``, multi-line messages
    joined."""
    from freqtrade.exceptions import ConfigurationError, FreqtradeException

    from ..errors import RegimeError

    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, ConfigurationError):
        return f"{prog}: error: configuration error: {text}"
    if isinstance(exc, (FreqtradeException, RegimeError)):
        return f"{prog}: error: {text}"
    return f"{prog}: error: {type(exc).__name__}: {text}"


def run_command(argv: list[str], command: Command | None = None, prog: str = PROG) -> int:
    """Run ``freqtrade <argv>`` in this process; return its exit code (see module docstring;
    ``prog`` starts the error line)."""
    from freqtrade.commands import Arguments
    from freqtrade.exceptions import FreqtradeException
    from freqtrade.loggers import setup_logging_pre
    from freqtrade.system import (
        asyncio_setup,
        gc_set_threshold,
        print_version_info,
        set_mp_start_method,
    )

    from ..errors import RegimeError

    try:
        setup_logging_pre()
        asyncio_setup()
        try:
            args = Arguments(list(argv)).get_parsed_arg()
        except SystemExit as exc:  # freqtrade's argparse printed "freqtrade: error: ..."
            if exc.code not in (None, 0):
                print(f"{prog}: error: freqtrade refused its arguments (its usage error is "
                      "above)", file=sys.stderr)
            raise
        if args.get("version") or args.get("version_main"):
            print_version_info()
            return 0
        if "func" not in args:
            print(f"{prog}: error: freqtrade needs a sub-command (see freqtrade --help)",
                  file=sys.stderr)
            return 2
        gc_set_threshold()
        set_mp_start_method()
        code = (command or args["func"])(args)
        return code if isinstance(code, int) else 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return int(exc.code or 0)
        print(f"{prog}: error: {exc.code}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: error: interrupted", file=sys.stderr)
        return 130
    except (FreqtradeException, RegimeError) as exc:
        print(error_line(exc, prog), file=sys.stderr)
        return 2
    except Exception as exc:
        logger.exception("freqtrade %s failed", argv[0] if argv else "")
        print(error_line(exc, prog), file=sys.stderr)
        return 1
