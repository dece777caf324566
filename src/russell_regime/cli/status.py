"""``status [--config C] [--now T]``: the regime state per pair class, offline (cache or file,
never the network), as a bot would have had it at ``now``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ..adapter.provider import RegimeProvider
from ..config_file import command_config
from ..core.calendar import to_utc
from ..core.gate import PAIR_CLASSES, GateParams
from ..core.refresh import GateState, day_label, latest_gate_state, staleness, status_lines
from ..data.cache import DailyCache
from ..errors import ConfigError
from ..settings import RegimeSettings, settings_from_config


def status_report(settings: RegimeSettings, now: pd.Timestamp) -> list[str]:
    """Status lines at ``now`` from the configured file or the disk cache (no network), default
    gates: only sessions available at ``now`` count (what a bot would have had then); rows
    not yet available are reported as such, never shown as current."""
    now = to_utc(now)
    provider = RegimeProvider(settings)
    loaded = provider.load_offline()
    published = provider.available_at <= now
    unpublished = int((~published).sum())
    if unpublished:
        provider = RegimeProvider(settings)
        if published.any():
            provider.set_daily(loaded[published])
    newest = pd.Timestamp(provider.daily["session"].iloc[-1]) if provider.loaded else None
    state = staleness(now, newest, settings.availability, settings.stale_grace_minutes)
    gates: dict[str, GateState | None] = dict.fromkeys(PAIR_CLASSES)
    if provider.loaded:
        for pair_class in PAIR_CLASSES:
            params = GateParams(basis=settings.price_basis)
            gates[pair_class] = latest_gate_state(
                pair_class, params, provider.daily, provider.gate(params)
            )
    source = f"{settings.source}" + (f" {settings.path}" if settings.source == "file" else "")
    lines = status_lines(
        settings.ticker, source,
        str(DailyCache(settings.cache_dir).existing_path(settings.ticker)), now,
        state, provider.available_at[-1] if provider.loaded else None, gates,
        settings.stale_policy, settings.stale_grace_minutes,
    )
    if unpublished:
        lines.insert(4, (
            f"ignored   {unpublished} newer row(s) not available at {now:%Y-%m-%d %H:%M} UTC "
            f"(up to {day_label(loaded['session'].iloc[-1])})"
        ))
    return lines


def add_status_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``status [--config C] [--now T]`` on the CLI's subparsers."""
    parser = subparsers.add_parser(
        "status",
        help="show the regime state per pair class (offline)",
        description=(
            "Show the index data in hand (cache or file, never the network), its staleness and "
            "each pair class's gate with default thresholds."
        ),
    )
    parser.add_argument(
        "--config", type=Path,
        help="freqtrade config with a russell_regime section (default: config.json here, if any)",
    )
    parser.add_argument(
        "--userdir", type=Path,
        help="freqtrade user data folder (default: the config's user_data_dir, else user_data)",
    )
    parser.add_argument(
        "--now", help="evaluate at this UTC instant instead of the clock (e.g. 2025-07-01T21:00)"
    )
    parser.set_defaults(func=_run_status)


def _run_status(args: argparse.Namespace) -> int:
    _, config = command_config(args.config, args.userdir)
    settings = settings_from_config(config)
    now = pd.Timestamp.now(tz="UTC") if args.now is None else _parse_now(args.now)
    print("\n".join(status_report(settings, now)))
    return 0


def _parse_now(text: str) -> pd.Timestamp:
    try:
        now = pd.Timestamp(text)
    except ValueError as exc:
        raise ConfigError(f"--now {text!r} is not a date/time: {exc}") from exc
    return now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")
