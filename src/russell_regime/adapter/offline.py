"""Run freqtrade's own commands offline, with exchange markets from a JSON snapshot.

Contract
--------
* freqtrade (2026.9) loads the exchange markets through ccxt on every command that builds an
  ``Exchange`` (backtesting, hyperopt, lookahead-analysis, recursive-analysis, ...) and fails
  without network. :func:`offline_markets` replaces ``Exchange._load_async_markets`` (the only
  place ``reload_markets`` talks to the exchange) by a function that hands a deep copy of the
  snapshot to the async ccxt object via ``set_markets``; freqtrade's own ``reload_markets`` then
  copies them to the sync ccxt object (and the websocket object) as it always does. Nothing else
  is changed: leverage tiers are only fetched in futures mode and trading fees only for exchanges
  with ``needs_trading_fees`` (not binance), so spot backtesting/hyperopt stay offline. The patch
  is undone when the context exits.
* :func:`run_freqtrade` runs the freqtrade command ``argv`` in-process under that patch through
  :func:`.ftrun.run_command` and returns its exit code: 0 only on success, 2 on a
  configuration or operational error, 1 on anything unexpected, with one
  ``russell_regime offline: error: ...`` line last on stderr (freqtrade's own ``main``
  exits 0 on a configuration error).
* :func:`load_markets_snapshot` reads a snapshot: a JSON object ``{symbol: ccxt market}`` whose
  markets each carry at least ``symbol`` (equal to the key), ``base``, ``quote``, ``type``,
  ``active``, ``precision`` and ``limits``. Anything else raises :class:`SnapshotError` naming the
  file and the problem.
* :func:`refresh_snapshot` (needs network) rebuilds a snapshot with ``ccxt.<exchange>()``,
  keeping only the requested pairs, written atomically (temp file + ``os.replace``), sorted keys.

Shipped snapshot
----------------
``russell_regime/resources/markets/binance_spot.json`` (package data,
:func:`russell_regime.shipped.markets_snapshot`) holds the ten USDT spot pairs of ``config.json``
(BTC ETH SOL XRP ADA DOGE BNB LINK AVAX LTC). It was produced offline by feeding Binance
``exchangeInfo``-style symbol entries (PRICE_FILTER / LOT_SIZE / MARKET_LOT_SIZE / NOTIONAL with
Binance's tick sizes, step sizes and 5 USDT minimum notional as of 2025) through ccxt 4.5's own
``binance.parse_market``, with ``info`` emptied. So the structure is exactly ccxt's (TICK_SIZE
precision mode: precision values are tick sizes); the filter values are realistic, not fetched
live. Historic tick sizes were sometimes finer (e.g. DOGE in 2019). Replace it with a live copy
via ``russell-regime offline refresh --config config.json --out FILE`` when online and pass
``--snapshot FILE`` to the runs.

CLI
---
``russell-regime offline [--snapshot PATH] <freqtrade command> [freqtrade args...]``
(also ``python -m russell_regime offline ...``; ``python -m russell_regime.offline freqtrade
...`` is the older spelling of the same), and
``russell-regime offline refresh --config config.json --out PATH`` (online)
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import RegimeError
from .ftrun import PROG, Command, run_command

REQUIRED_MARKET_KEYS = ("symbol", "base", "quote", "type", "active", "precision", "limits")


class SnapshotError(RegimeError, ValueError):
    """A markets snapshot is missing, malformed, or lacks requested pairs."""


def validate_markets(markets: object, source: str = "markets") -> dict[str, dict[str, Any]]:
    """Check ``markets`` is a dict of ccxt markets keyed by symbol; return it.

    ``source`` names the origin (e.g. the file) in error messages.
    """
    if not isinstance(markets, dict):
        raise SnapshotError(
            f"{source}: expected a JSON object {{symbol: market}}, got {type(markets).__name__}"
        )
    if not markets:
        raise SnapshotError(f"{source}: contains no markets")
    for key, market in markets.items():
        if not isinstance(market, dict):
            raise SnapshotError(
                f"{source}: market {key!r} is a {type(market).__name__}, expected an object"
            )
        missing = [k for k in REQUIRED_MARKET_KEYS if k not in market]
        if missing:
            raise SnapshotError(f"{source}: market {key!r} lacks {', '.join(missing)}")
        if market["symbol"] != key:
            raise SnapshotError(f"{source}: market keyed {key!r} has symbol {market['symbol']!r}")
        for sub in ("precision", "limits"):
            if not isinstance(market[sub], dict):
                raise SnapshotError(f"{source}: market {key!r} field {sub!r} is not an object")
    return markets


def load_markets_snapshot(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read and validate a markets snapshot JSON file (see module docstring)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SnapshotError(f"{path}: cannot read markets snapshot ({e})") from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SnapshotError(f"{path}: not valid JSON ({e})") from e
    return validate_markets(data, str(path))


@contextlib.contextmanager
def offline_markets(markets: dict[str, dict[str, Any]]) -> Iterator[None]:
    """Patch freqtrade's ``Exchange`` so markets come from ``markets``, never from the network."""
    from freqtrade.exchange.exchange import Exchange

    validate_markets(markets)
    frozen = copy.deepcopy(markets)

    def _load_async_markets(self: Exchange, reload: bool = False) -> None:
        # Same contract as the original (returns None, fills self._api_async.markets).
        self._api_async.set_markets(copy.deepcopy(frozen))

    original = Exchange.__dict__["_load_async_markets"]
    Exchange._load_async_markets = _load_async_markets  # type: ignore[method-assign]
    try:
        yield
    finally:
        Exchange._load_async_markets = original  # type: ignore[method-assign]


def run_freqtrade(
    argv: list[str],
    snapshot: str | os.PathLike[str] | None = None,
    command: Command | None = None,
    prog: str = PROG,
) -> int:
    """Run ``freqtrade <argv>`` in-process with offline markets; return its exit code.

    ``snapshot``: a markets snapshot file; None means the shipped one
    (:func:`russell_regime.shipped.markets_snapshot`).

    Exit codes and the one error line are those of :func:`russell_regime.adapter.ftrun.run_command`
    (never 0 on a failure); ``command`` replaces the sub-command's function; ``prog`` starts
    the error line (``russell_regime <command>``).
    """
    markets = load_markets_snapshot(default_snapshot() if snapshot is None else snapshot)
    with offline_markets(markets):
        return run_command(list(argv), command, prog)


def refresh_snapshot(
    exchange_name: str, pairs: list[str], out: str | os.PathLike[str], api: Any = None
) -> Path:
    """Load markets with ccxt (network), keep ``pairs``, write them atomically to ``out``.

    ``api`` replaces ``ccxt.<exchange_name>()`` (for tests).
    """
    import ccxt

    out = Path(out)
    if api is None:
        try:
            api = getattr(ccxt, exchange_name)()
        except AttributeError as e:
            raise SnapshotError(f"ccxt has no exchange {exchange_name!r}") from e
    try:
        markets = api.load_markets()
    except ccxt.BaseError as e:
        raise SnapshotError(
            f"{exchange_name}: could not load markets ({type(e).__name__}: {e})"
        ) from e
    missing = [p for p in pairs if p not in markets]
    if missing:
        raise SnapshotError(f"{exchange_name}: pairs not on the exchange: {', '.join(missing)}")
    kept = validate_markets({p: markets[p] for p in pairs}, f"{exchange_name} markets")
    text = json.dumps(kept, indent=2, sort_keys=True, default=str) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return out


def _refresh_from_config(config_path: Path, out: Path) -> Path:
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        exchange = config["exchange"]
        name, pairs = exchange["name"], list(exchange["pair_whitelist"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise SnapshotError(
            f"{config_path}: need exchange.name and exchange.pair_whitelist ({e!r})"
        ) from e
    return refresh_snapshot(name, pairs, out)


def default_snapshot() -> Path:
    """The shipped markets snapshot (Binance spot)."""
    from ..shipped import markets_snapshot

    return markets_snapshot("binance_spot")


def _pop_snapshot(args: list[str]) -> tuple[Path | None, list[str]]:
    """Take ``--snapshot PATH`` / ``--snapshot=PATH`` out of a freqtrade argument list
    (None: none given, the shipped snapshot)."""
    from ..config_file import caller_path

    snapshot: Path | None = None
    rest: list[str] = []
    items = iter(args)
    for item in items:
        if item == "--snapshot":
            value = next(items, None)
            if value is None:
                raise SnapshotError("--snapshot needs a path")
            snapshot = caller_path(Path(value))
        elif item.startswith("--snapshot="):
            snapshot = caller_path(Path(item.split("=", 1)[1]))
        else:
            rest.append(item)
    return snapshot, rest


USAGE = """\
usage: {prog} [--snapshot FILE] <freqtrade command> [freqtrade args...]
       {prog} refresh --out FILE [--config CONFIG]

Run any freqtrade command (backtesting, hyperopt, lookahead-analysis, recursive-analysis,
list-strategies, plot-dataframe, ...) in this process with the exchange markets from a JSON
snapshot instead of the network. --snapshot FILE: a snapshot of your own (default: the
Binance spot snapshot the package ships). Everything else goes to freqtrade unchanged.
'refresh' (needs network) writes a snapshot of the config's exchange and whitelist to FILE
(--config default: config.json here, else the shipped example config).
"""


def _refresh(args: list[str], prog: str) -> int:
    from ..config_file import caller_path, default_config_path

    parser = argparse.ArgumentParser(prog=f"{PROG} refresh", allow_abbrev=False)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--out", type=Path, required=True, help="snapshot file to write")
    ns = parser.parse_args(args)
    config = caller_path(ns.config) if ns.config is not None else default_config_path()
    path = _refresh_from_config(config, caller_path(ns.out))
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None, prog: str = "russell-regime offline") -> int:
    """CLI entry (see :data:`USAGE`): ``[--snapshot FILE] <freqtrade command> [args...]``
    (an optional leading ``freqtrade`` word is accepted), or ``refresh --out FILE``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        snapshot, rest = _pop_snapshot(argv)
        if rest and rest[0] == "freqtrade":
            rest = rest[1:]
        if not rest or rest[0] in ("-h", "--help"):
            print(USAGE.format(prog=prog), file=sys.stdout if rest else sys.stderr)
            if not rest:  # a usage error: argparse's form, last on stderr
                print(f"{PROG}: error: a freqtrade command is required", file=sys.stderr)
            return 0 if rest else 2
        if rest[0] == "refresh":
            return _refresh(rest[1:], prog)
        return run_freqtrade(rest, snapshot)
    except RegimeError as e:  # a snapshot or config that cannot be used
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a file that cannot be written
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main(prog="python -m russell_regime.adapter.offline"))
