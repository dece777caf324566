"""config.json as shipped: freqtrade accepts it, and strategy messages reach Telegram."""

from __future__ import annotations

import json
from pathlib import Path

from freqtrade.configuration import Configuration
from freqtrade.enums import RunMode

CONFIG = Path(__file__).resolve().parents[1] / "config.json"


def test_telegram_sends_the_strategys_messages_once_enabled(tmp_path, monkeypatch) -> None:
    """freqtrade's RPCManager forwards dp.send_msg only with allow_custom_messages."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "user_data").mkdir()
    config = Configuration(
        {"config": [str(CONFIG)], "user_data_dir": str(tmp_path / "user_data")},
        RunMode.DRY_RUN,
    ).get_config()  # validates against freqtrade's schema (telegram disabled)
    assert config["telegram"]["enabled"] is False
    assert config["telegram"]["allow_custom_messages"] is True
    assert json.loads(CONFIG.read_text())["telegram"]["allow_custom_messages"] is True
