"""``status [--config C] [--now T]``: the regime state per pair class, offline (cache or file,
never the network), as a bot would have had it at ``now``; when the decision ledger exists at
the configured / default path, its last decision per pair (candle closed by ``now``) and the
last ``ledger verify`` outcome."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

import pandas as pd

from ..adapter.provider import RegimeProvider
from ..arguments import folder, instant
from ..config_file import command_config
from ..core.calendar import to_utc
from ..core.gate import PAIR_CLASSES, GateParams
from ..core.refresh import (
    POLICY_EFFECT,
    GateState,
    day_label,
    entry_override,
    latest_gate_state,
    staleness,
    status_lines,
)
from ..data.cache import DailyCache
from ..errors import ConfigError, RegimeError
from ..settings import RegimeSettings, settings_from_config
from .ledger import configured_ledger, ledger_status_lines


def status_report(settings: RegimeSettings, now: pd.Timestamp) -> list[str]:
    """Status lines at ``now`` from the configured file or the disk cache (no network), default
    gates: only sessions available at ``now`` count (what a bot would have had then); rows
    not yet available are reported as such, never shown as current."""
    now = to_utc(now)
    provider = RegimeProvider(settings)
    loaded = provider.load_offline()
    dropped = provider.dropped
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
    if dropped:
        lines.append(f"dropped   {_dropped(settings.ticker, settings.calendar, dropped)}")
    for key in settings.enabled_confirmations:
        lines += confirmation_lines(settings, key, now)
    return lines


def confirmation_lines(settings: RegimeSettings, key: str, now: pd.Timestamp) -> list[str]:
    """The ``confirm`` lines of one configured confirmation at ``now`` (offline; only sessions
    available at ``now`` count): each series' last session and ``available_at``, the rule's
    verdict on the newest session, stale or not and what that does; a series that cannot be
    loaded is one line saying why (``status`` itself goes on)."""
    from ..adapter.confirm import Confirmation

    conf = settings.confirmations[key]
    role = "required" if conf.required else "optional"
    head = f"confirm   {key} ({role})"
    confirmation = Confirmation(settings, conf)
    try:
        confirmation.load_offline()
        verdicts = confirmation.open(conf.params)
    except (RegimeError, ValueError) as exc:
        return [f"{head}: cannot load: {exc}"]
    availability, grace = confirmation.availability, settings.stale_grace_minutes
    parts = []
    for ticker, series in confirmation.series.items():
        sessions = pd.DatetimeIndex(series.daily["session"])
        ready = sessions[availability.available_at(sessions) <= now]
        if len(ready):
            at = availability.available_at(ready[-1:])[0]
            parts.append(f"{ticker} last session {day_label(ready[-1])} "
                         f"(available {at:%Y-%m-%d %H:%M} UTC)")
        else:
            parts.append(f"{ticker} no session available")
    ready = confirmation.available_at <= now
    rule = _rule_label(conf.params)
    if ready.any():
        i = int(ready.nonzero()[0][-1])
        session = confirmation.sessions[i]
        verdict = (f"rule {rule}: {'open' if verdicts[i] else 'closed'} on {day_label(session)}")
    else:
        session, verdict = None, f"rule {rule}: no session (closed)"
    state = staleness(now, session, availability, grace)
    if not state.stale:
        effect = "no"
    elif not conf.required:
        effect = "yes -> ignored (optional: counts as open)"
    elif entry_override(True, settings.stale_policy) is None:  # last_known
        effect = f"yes -> keeps its last verdict (stale_policy {settings.stale_policy})"
    else:
        effect = ("yes -> " + POLICY_EFFECT.get(settings.stale_policy, "entries blocked")
                  + f" (stale_policy {settings.stale_policy})")
    lines = [f"{head}: {'; '.join(parts)}; {verdict}; stale {effect}"]
    for ticker, series in confirmation.series.items():
        dropped = tuple(getattr(series, "dropped", ()))
        if dropped:
            lines.append(f"dropped   {_dropped(ticker, conf.calendar, dropped)}")
    return lines


def _rule_label(params: object) -> str:
    """``'level (level 20, window 50)'`` from a ``core.confirmations`` parameter dataclass."""
    values = {f.name: getattr(params, f.name) for f in fields(params)}  # type: ignore[arg-type]
    rule = values.pop("rule", "flows")
    shown = ", ".join(f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"
                      for name, value in values.items())
    return f"{rule} ({shown})" if shown else str(rule)


def _dropped(ticker: str, calendar: str, dropped: tuple[pd.Timestamp, ...]) -> str:
    days = ", ".join(f"{day_label(d)}" for d in dropped)
    return f"{ticker}: {len(dropped)} stray row(s) not on a {calendar} session: {days}"


def add_status_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``status [--config C] [--now T]`` on the CLI's subparsers."""
    parser = subparsers.add_parser(
        "status",
        help="show the regime state per pair class (offline)",
        description=(
            "Show the index data in hand (cache or file, never the network), its staleness and "
            "each pair class's gate with default thresholds; with a decision ledger, its last "
            "decision per pair and the last 'ledger verify' result."
        ),
    )
    parser.add_argument(
        "--config", type=Path,
        help="freqtrade config with a russell_regime section (default: config.json here, if any)",
    )
    parser.add_argument(
        "--userdir", type=folder,
        help="freqtrade user data folder (default: the config's user_data_dir, else user_data)",
    )
    parser.add_argument(
        "--now", type=instant,
        help="evaluate at this UTC instant instead of the clock (e.g. 2025-07-01T21:00)",
    )
    parser.set_defaults(func=_run_status)


def _run_status(args: argparse.Namespace) -> int:
    config_path, config = command_config(args.config, args.userdir)
    settings = settings_from_config(config)
    now = pd.Timestamp.now(tz="UTC") if args.now is None else _parse_now(args.now)
    lines = status_report(settings, now)
    lines += ledger_status_lines(configured_ledger(config, config_path), now)
    print("\n".join(lines))
    return 0


def _parse_now(text: str) -> pd.Timestamp:
    try:
        now = pd.Timestamp(text)
    except ValueError as exc:
        raise ConfigError(f"--now {text!r} is not a date/time: {exc}") from exc
    return now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")
