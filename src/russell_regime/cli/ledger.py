"""``ledger verify`` / ``ledger report``: the decision ledger a dry-run / live bot records
(SQLite, ``<user_data_dir>/russell_regime/ledger.sqlite``), read-only but for
``verify``'s outcome.

``verify`` re-derives each recorded decision from the index data in hand (cache or ``--path``
file, never the network) with the backtest's alignment rule and classifies it
(:mod:`russell_regime.core.ledger_check`): exit 0 when no row is a ``mismatch``, 1 when any
is, 2 for bad input (no ledger, unreadable database, unknown schema version, bad config or
data). ``verify`` then keeps its outcome (time, rows per class, exit code) in the ledger's
``meta`` table with one short read-write connection (``last_verify_at``, ``last_verify``); a
read-only or busy ledger is one warning on stderr and changes nothing else. ``report``
summarises the ledger alone (period, rows per pair, gate-open share per pair class, entries,
staleness spells) and, with ``--datadir``, the forward returns after each gate opening.
``status`` shows the last decision per pair and the last verify (:func:`ledger_status_lines`).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..arguments import existing_folder, folder
from ..config_file import caller_path, command_config, default_userdir, with_section_overrides
from ..core.ledger_check import (
    AGREE,
    CLASSES,
    MISMATCH,
    check_decisions,
    class_counts,
    duration_text,
    forward_summary,
    gate_openings,
    ledger_summary,
)
from ..data.candles import candle_file
from ..data.ledger import LAST_VERIFY, LAST_VERIFY_AT, iso, write_meta
from ..errors import RegimeError

SCHEMA_VERSION = "1"
LEDGER_NAME = Path("russell_regime") / "ledger.sqlite"
DECISION_FIELDS = ("strategy", "pair", "timeframe", "candle_close", "decided_at", "session",
                   "available_at", "close_seen", "gate", "stale", "tag", "params",
                   "confirmations", "entry", "pair_class")


class LedgerError(RegimeError):
    """The ledger cannot be used (missing, unreadable, another schema): exit 2."""


def read_decisions(path: Path) -> pd.DataFrame:
    """The ``decisions`` table of the ledger at ``path`` (opened read-only), ordered by
    strategy, pair, timeframe, candle_close. LedgerError when the file is missing, not a
    SQLite database, lacks the tables or columns, or its ``schema_version`` is not
    ``SCHEMA_VERSION``."""
    if not path.is_file():
        raise LedgerError(f"no ledger at {path} (a dry-run / live bot writes it; see --ledger)")
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
            try:
                row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            except sqlite3.OperationalError as exc:
                raise LedgerError(f"ledger {path}: no meta table ({exc})") from exc
            version = None if row is None else str(row[0])
            if version != SCHEMA_VERSION:
                raise LedgerError(f"ledger {path}: schema_version {version!r}, this version "
                                  f"reads {SCHEMA_VERSION!r}")
            columns = {r[1] for r in db.execute("PRAGMA table_info(decisions)")}
            missing = [c for c in DECISION_FIELDS if c not in columns]
            if missing:
                raise LedgerError(f"ledger {path}: decisions table lacks {', '.join(missing)}")
            cursor = db.execute(
                f"SELECT {', '.join(DECISION_FIELDS)} FROM decisions "
                "ORDER BY strategy, pair, timeframe, candle_close"
            )
            rows = cursor.fetchall()
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"ledger {path}: cannot read it ({exc})") from exc
    return pd.DataFrame(rows, columns=list(DECISION_FIELDS))


def configured_ledger(config: Mapping[str, Any], config_path: Path | None) -> Path:
    """The ledger a bot with this config writes: ``russell_regime.ledger.path`` when set, else
    ``<user_data_dir>/russell_regime/ledger.sqlite`` (``user_data`` without one)."""
    section = config.get("russell_regime")
    ledger = section.get("ledger") if isinstance(section, Mapping) else None
    path = ledger.get("path") if isinstance(ledger, Mapping) else None
    if isinstance(path, str) and path.strip():
        return caller_path(Path(path.strip()))
    configured = config.get("user_data_dir")
    userdir = (caller_path(Path(configured)) if isinstance(configured, str) and configured
               else default_userdir(config_path))
    return userdir / LEDGER_NAME


def _read_only(path: Path) -> bool:
    """True when ``path`` may not be written: no write access, or no write bit at all (also
    for root, who could write anyway: a read-only ledger stays untouched)."""
    return not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222


def record_verify(path: Path, outcome: dict[str, Any]) -> bool:
    """Keep ``outcome`` (JSON) as the ledger's ``last_verify`` and its ``at`` as
    ``last_verify_at``; False (one warning line on stderr) when the ledger cannot be written."""
    reason = "the file is read-only" if _read_only(path) else None
    if reason is None:
        try:
            write_meta(path, {LAST_VERIFY_AT: str(outcome["at"]),
                              LAST_VERIFY: json.dumps(outcome, sort_keys=True)})
            return True
        except (sqlite3.Error, OSError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
    print(f"russell_regime ledger: warning: verify result not recorded in {path} ({reason})",
          file=sys.stderr)
    return False


def read_meta(path: Path) -> dict[str, str]:
    """The ``meta`` table of the ledger at ``path`` (read-only); LedgerError when unreadable."""
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT key, value FROM meta").fetchall()
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"ledger {path}: cannot read it ({exc})") from exc
    return {str(k): str(v) for k, v in rows}


def last_decisions(path: Path, until: pd.Timestamp) -> tuple[int, pd.DataFrame]:
    """(rows in the ledger, the last decision per strategy, pair and timeframe whose candle
    closed by ``until``: columns strategy, pair, timeframe, candle_close, session, gate,
    stale, entry; ordered by pair). Read-only; LedgerError when unreadable."""
    columns = ["strategy", "pair", "timeframe", "candle_close", "session", "gate", "stale",
               "entry"]
    query = (
        f"SELECT {', '.join('d.' + c for c in columns)} FROM decisions d JOIN ("
        "SELECT strategy, pair, timeframe, MAX(candle_close) AS last FROM decisions "
        "WHERE candle_close <= ? GROUP BY strategy, pair, timeframe) m "
        "ON d.strategy = m.strategy AND d.pair = m.pair AND d.timeframe = m.timeframe "
        "AND d.candle_close = m.last ORDER BY d.pair, d.strategy, d.timeframe"
    )
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
            total = int(db.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])
            rows = db.execute(query, (iso(until),)).fetchall()
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"ledger {path}: cannot read it ({exc})") from exc
    return total, pd.DataFrame(rows, columns=columns)


def ledger_status_lines(path: Path, now: pd.Timestamp) -> list[str]:
    """``status`` lines of the ledger at ``path`` (none when there is no ledger file): its row
    count, the last decision per pair (candle closed by ``now``) and the last ``verify``
    outcome. An unreadable ledger is one line saying why."""
    if not path.is_file():
        return []
    try:
        total, last = last_decisions(path, now)
        meta = read_meta(path)
    except LedgerError as exc:
        return [f"ledger    cannot read: {exc}"]
    lines = [f"ledger    {path} ({total} decisions)"]
    if last.empty:
        lines.append(f"decision  none closed by {now:%Y-%m-%d %H:%M} UTC")
    for r in last.itertuples(index=False):
        close = pd.Timestamp(r.candle_close)
        gate = "open" if r.gate == 1 else "closed"
        lines.append(
            f"decision  {r.pair} ({r.strategy} {r.timeframe}): candle {close:%Y-%m-%d %H:%M} "
            f"UTC, gate {gate}, entry {r.entry} (session {r.session or 'none'}"
            + (", stale)" if r.stale == 1 else ")"))
    lines.append("verify    " + _verify_text(meta))
    return lines


def _verify_text(meta: Mapping[str, str]) -> str:
    """The last verify outcome kept in ``meta``, one line."""
    text = meta.get(LAST_VERIFY)
    if text is None:
        return "never run (python -m russell_regime ledger verify)"
    try:
        outcome = json.loads(text)
        at = pd.Timestamp(outcome["at"])
        counts = ", ".join(f"{name} {int(outcome['counts'][name])}" for name in CLASSES)
        result = "ok" if int(outcome["exit_code"]) == 0 else "MISMATCH"
        return (f"{at:%Y-%m-%d %H:%M} UTC: {result} (exit {int(outcome['exit_code'])}), "
                f"{counts}")
    except (ValueError, TypeError, KeyError) as exc:
        return f"unreadable last_verify ({type(exc).__name__}: {exc})"


def _ledger_and_config(args: argparse.Namespace) -> tuple[Path, dict[str, Any], Path | None]:
    """(ledger path, config with the --source/--path overrides, config path)."""
    config_path, config = command_config(args.config, args.userdir)
    ledger = (caller_path(args.ledger) if args.ledger is not None
              else configured_ledger(config, config_path))
    overrides = {}
    if getattr(args, "source", None) is not None:
        overrides["source"] = args.source
    if getattr(args, "path", None) is not None:
        overrides["path"] = str(caller_path(Path(args.path)))
    if overrides:
        config = with_section_overrides(config, overrides, config_path or Path("<environment>"))
    return ledger, config, config_path


def verify(args: argparse.Namespace) -> int:
    """``ledger verify``: classify every decision; 0 no mismatch, 1 any mismatch. The
    outcome is kept in the ledger's ``meta`` (:func:`record_verify`)."""
    from ..adapter.provider import RegimeProvider
    from ..settings import settings_from_config

    ledger, config, _ = _ledger_and_config(args)
    decisions = read_decisions(ledger)
    settings = settings_from_config(config)
    provider = RegimeProvider(settings)
    provider.load_offline()
    checked = check_decisions(decisions, provider.daily, provider.available_at,
                              gate_for=lambda p: provider.gate(p)["gate_open"].to_numpy(bool),
                              stale_policy=settings.stale_policy)
    counts = class_counts(checked)
    others = checked[checked["class"] != AGREE]
    source = settings.source + (f" {settings.path}" if settings.source == "file" else " cache")
    last = pd.Timestamp(provider.daily["session"].iloc[-1])
    if args.json:
        print(json.dumps({
            "ledger": str(ledger), "index": {"ticker": settings.ticker, "source": source,
                                             "last_session": f"{last:%Y-%m-%d}"},
            "rows": len(checked), "counts": counts, "ok": counts[MISMATCH] == 0,
            "not_agree": [
                {"strategy": r.strategy, "pair": r.pair, "timeframe": r.timeframe,
                 "candle_close": r.candle_close, "class": r.klass, "detail": r.detail,
                 "late_minutes": None if pd.isna(r.late) else r.late.total_seconds() / 60}
                for r in others.rename(columns={"class": "klass"}).itertuples(index=False)
            ],
        }, indent=2))
    else:
        print(f"ledger    {ledger} ({len(checked)} decisions)")
        print(f"index     {settings.ticker} {source} (last session {last:%Y-%m-%d})")
        width = max(len(name) for name in CLASSES)
        for name in CLASSES:
            print(f"{name:<{width}}  {counts[name]}")
        if len(others):
            print()
            print(_table(
                ["pair", "timeframe", "candle_close", "class", "detail"],
                [[r.pair, r.timeframe, r.candle_close, r.klass, r.detail]
                 for r in others.rename(columns={"class": "klass"}).itertuples(index=False)],
            ))
        print("result    " + ("ok: no mismatch" if counts[MISMATCH] == 0
                              else f"{counts[MISMATCH]} mismatch(es)"))
    code = 0 if counts[MISMATCH] == 0 else 1
    record_verify(ledger, {
        "at": iso(pd.Timestamp.now(tz="UTC")), "exit_code": code, "rows": len(checked),
        "counts": counts, "index": {"ticker": settings.ticker, "source": source,
                                    "last_session": f"{last:%Y-%m-%d}"},
    })
    return code


def read_opens(datadir: Path, pairs: list[str]) -> dict[str, pd.Series]:
    """pair -> 1h candle opens indexed by UTC open time, from the freqtrade feather files
    ``<datadir>/<BASE>_<QUOTE>-1h.feather`` (a pair without a file is left out)."""
    opens = {}
    for pair in pairs:
        path = candle_file(datadir, pair)
        if not path.is_file():
            continue
        candles = pd.read_feather(path, columns=["date", "open"])
        opens[pair] = pd.Series(candles["open"].to_numpy(dtype=float),
                                index=pd.DatetimeIndex(pd.to_datetime(candles["date"], utc=True)))
    return opens


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2%}"


def _forward_lines(forward: Mapping[str, Any]) -> list[str]:
    """``forward`` lines of ``report``: per pair class, openings and per horizon the mean and
    median return and how many are not yet measurable."""
    lines = []
    if not forward["per_class"]:
        lines.append("forward   no gate openings")
    for cls, entry in forward["per_class"].items():
        parts = [f"{entry['openings']} opening(s)"]
        for h in forward["horizons_days"]:
            m = entry[f"{h}d"]
            parts.append(f"{h}d mean {_pct(m['mean'])} median {_pct(m['median'])} "
                         f"(n {m['n']}, not yet {m['not_yet']})")
        lines.append(f"forward   {cls}: " + "; ".join(parts))
    if forward["pairs_without_candles"]:
        lines.append("forward   no 1h candles for " + ", ".join(forward["pairs_without_candles"])
                     + " (counted as not yet)")
    return lines


def report(args: argparse.Namespace) -> int:
    """``ledger report``: what the ledger covers (no index data needed); with ``--datadir``
    also the forward returns after each gate opening (:func:`forward_summary`)."""
    ledger, _, _ = _ledger_and_config(args)
    decisions = read_decisions(ledger)
    summary = ledger_summary(decisions)
    forward = None
    if args.datadir is not None:
        datadir = caller_path(args.datadir)
        pairs = sorted(set(gate_openings(decisions)["pair"]))
        forward = forward_summary(decisions, read_opens(datadir, pairs))
        forward["datadir"] = str(datadir)
    if args.json:
        print(json.dumps(summary if forward is None else {**summary, "forward": forward},
                         indent=2, default=str))
        return 0
    print(f"ledger    {ledger} ({summary['rows']} decisions)")
    period = summary["period"]
    print("period    " + ("none" if period is None else
                          f"{period[0]:%Y-%m-%d %H:%M} -> {period[1]:%Y-%m-%d %H:%M} UTC"))
    for pair, n in summary["rows_per_pair"].items():
        print(f"pair      {pair}: {n} candle(s)")
    for cls, share in summary["gate_open_share"].items():
        print(f"gate      {cls}: open on {share:.1%} of candles")
    print("entries   " + ", ".join(f"{k} {v}" for k, v in summary["entries"].items()))
    spells = summary["stale_spells"]
    if not spells:
        print("stale     no stale candles")
    for spell in spells:
        span = spell["end"] - spell["start"]
        print(f"stale     {spell['pair']}: {spell['start']:%Y-%m-%d %H:%M} -> "
              f"{spell['end']:%Y-%m-%d %H:%M} UTC ({spell['rows']} candle(s), "
              f"{duration_text(span)})")
    if forward is None:
        print("forward   forward returns: pass --datadir")
    else:
        for line in _forward_lines(forward):
            print(line)
    return 0


def _table(header: list[str], rows: list[list[Any]]) -> str:
    """Left-aligned columns, the last one unpadded."""
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)] + [row[-1]])
        for row in cells
    )


def add_ledger_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``ledger verify`` and ``ledger report`` on the CLI's subparsers."""
    parser = subparsers.add_parser(
        "ledger", help="check or summarise the dry-run / live decision ledger",
        description="Check (verify) or summarise (report) the decisions a dry-run / live bot "
                    "recorded (read-only; verify keeps its outcome in the ledger).",
    )
    actions = parser.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)
    for name, func, text in (
        ("verify", verify, "re-derive each decision from the index data in hand; exit 1 on "
                           "any mismatch"),
        ("report", report, "period, rows per pair, gate-open share, entries, stale spells; "
                           "forward returns after gate openings with --datadir"),
    ):
        sub = actions.add_parser(name, help=text, description=text)
        sub.add_argument("--ledger", type=Path,
                         help="ledger file (default: <user_data_dir>/russell_regime/"
                              "ledger.sqlite)")
        sub.add_argument("--config", type=Path, help="freqtrade config with a russell_regime "
                         "section (default: config.json here, if any)")
        sub.add_argument("--userdir", type=folder, help="freqtrade user data folder (default: "
                         "the config's user_data_dir, else user_data)")
        if name == "verify":
            sub.add_argument("--source", choices=("yahoo", "file"),
                             help="index source (default: the config's; yahoo reads the cache)")
            sub.add_argument("--path", help="daily index file for --source file")
        else:
            sub.add_argument("--datadir", type=existing_folder,
                             help="folder of freqtrade 1h candles (<BASE>_<QUOTE>-1h.feather): "
                                  "adds the forward returns 1, 7 and 30 days after each gate "
                                  "opening, per pair class")
        sub.add_argument("--json", action="store_true", help="print one JSON object")
        sub.set_defaults(func=func)
