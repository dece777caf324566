"""CLI commands ``events``, ``event-study``, ``compare``, ``overfit``, ``correlation`` and
``report`` (imperative edge, thin).

Register them with ``add_evidence_commands(subparsers)``; each sets ``func(args) -> int``.
Each command parses its options, loads files, calls the pure analysis (:mod:`.events`,
:mod:`.study`, :mod:`.compare`, :mod:`.random_gate`, :mod:`.multitest`,
:mod:`.alignment`) and writes and prints the result: :mod:`.cli_events` (``events``,
``event-study``), :mod:`.cli_compare` (``compare``), :mod:`.cli_common` (options and loading).
Data come from ``--data`` (default ``$R2K_SHARED_DATA`` or ``../shared/data`` beside the
repo): ``index/*.csv`` and ``binance/*-1h.feather``. Outputs go to ``--out`` (default
``user_data/evidence/``). Nothing touches the network.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..arguments import run_checks
from ..errors import RegimeError
from .cli_common import default_data_dir
from .cli_compare import add_compare_command
from .cli_correlation import add_correlation_command
from .cli_events import add_events_commands
from .cli_overfit import add_overfit_command
from .cli_report import add_report_command
from .compare import (
    COMPARE_COLUMNS,
    GATED_DEFAULTS,
    GATED_OWN,
    UNGATED,
    evaluate_runs,
    gate_note,
    gated_label,
    parse_timerange,
)

__all__ = [
    "COMPARE_COLUMNS", "GATED_DEFAULTS", "GATED_OWN", "UNGATED", "add_evidence_commands",
    "default_data_dir", "evaluate_runs", "gate_note", "gated_label", "main", "parse_timerange",
]


def add_evidence_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``events``, ``event-study``, ``compare``, ``correlation``, ``overfit`` and
    ``report`` to the CLI's subparsers."""
    add_events_commands(subparsers)
    add_compare_command(subparsers)
    add_report_command(subparsers)
    add_correlation_command(subparsers)
    add_overfit_command(subparsers)


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry (``python -m russell_regime.evidence.commands <command> ...``)."""
    import sys

    parser = argparse.ArgumentParser(prog="russell_regime evidence")
    add_evidence_commands(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    run_checks(args)
    try:
        return int(args.func(args))
    except RegimeError as exc:
        print(f"russell_regime {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
