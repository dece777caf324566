"""What the README claims about notifications, asserted on the installed freqtrade.

The strategy's notifications are ``dp.send_msg`` strategy messages: freqtrade queues them and
``RPCManager.process_msg_queue`` hands each to every RPC module whose section has
``allow_custom_messages: true`` as ``RPCMessageType.STRATEGY_MSG``. Real freqtrade objects
throughout; only the network edge is faked (Telegram's polling thread and its ``_send_msg``,
the webhook's HTTP ``post``).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from types import SimpleNamespace

import pytest

pytest.importorskip("freqtrade")

from freqtrade.rpc.rpc_manager import RPCManager  # noqa: E402
from freqtrade.rpc.telegram import Telegram  # noqa: E402

TEXT = "Russell gate btc opened (session 2025-06-27)"
TELEGRAM = {"enabled": True, "token": "0:fake", "chat_id": "1", "allow_custom_messages": True}
WEBHOOK = {"enabled": True, "url": "http://127.0.0.1:9/hook", "format": "json",
           "allow_custom_messages": True, "webhookstatus": {"text": "{status}"}}
DISCORD = {"enabled": True, "webhook_url": "http://127.0.0.1:9/discord",
           "allow_custom_messages": True}


@pytest.fixture
def network(monkeypatch):
    """Records what would leave the machine: Telegram sends and HTTP posts."""
    sent: dict[str, list] = {"telegram": [], "post": []}
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    done = threading.Event()

    def start_thread(self) -> None:  # instead of connecting to Telegram
        self._loop = loop

    async def telegram_send(self, msg: str, *args, **kwargs) -> None:
        sent["telegram"].append(msg)
        done.set()

    monkeypatch.setattr(Telegram, "_start_thread", start_thread)
    monkeypatch.setattr(Telegram, "_send_msg", telegram_send)
    monkeypatch.setattr("freqtrade.rpc.webhook.post",
                        lambda url, **kw: sent["post"].append((url, kw)) or SimpleNamespace(
                            raise_for_status=lambda: None))
    yield sent, done
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def _deliver(config: dict) -> None:
    manager = RPCManager(SimpleNamespace(config={"dry_run": True, **config}))
    manager.process_msg_queue(deque([TEXT]))


def test_a_strategy_message_reaches_telegram_but_not_a_default_webhook_or_discord(network):
    sent, done = network
    _deliver({"telegram": TELEGRAM, "webhook": WEBHOOK, "discord": DISCORD})
    assert done.wait(5)
    assert sent["telegram"] == [TEXT]
    assert sent["post"] == []  # STRATEGY_MSG is in the webhook's "not implemented" list


def test_telegram_needs_allow_custom_messages(network):
    sent, _ = network
    _deliver({"telegram": {**TELEGRAM, "allow_custom_messages": False}})
    assert sent["telegram"] == []


@pytest.mark.parametrize(
    ("section", "entry", "url"),
    [("webhook", {"strategy_msg": {"text": "{msg}"}}, WEBHOOK["url"]),
     ("discord", {"strategy_msg": [{"Russell": "{msg}"}]}, DISCORD["webhook_url"])],
)
def test_webhook_and_discord_deliver_only_with_an_explicit_strategy_msg_entry(
    network, section, entry, url
):
    sent, _ = network
    base = WEBHOOK if section == "webhook" else DISCORD
    _deliver({section: {**base, **entry}})
    assert [u for u, _ in sent["post"]] == [url]
    assert TEXT in str(sent["post"][0][1])
