"""The russell_regime config section: defaults, env-var overrides, one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from freqtrade.configuration import Configuration
from freqtrade.enums import RunMode
from freqtrade.exceptions import ConfigurationError, OperationalException
from freqtrade.resolvers import StrategyResolver

from russell_regime.errors import ConfigError
from russell_regime.settings import RegimeSettings, settings_from_config

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_missing_section_gives_defaults_under_user_data_dir() -> None:
    settings = settings_from_config({"user_data_dir": "/tmp/ud"})
    assert settings.ticker == "^RUT" and settings.source == "yahoo"
    assert settings.cache_dir == Path("/tmp/ud/data/russell")
    assert settings.stale_policy == "block_entries"


def test_values_from_strings_are_coerced() -> None:
    settings = settings_from_config(
        {"russell_regime": {"publication_lag_minutes": "30", "notify": "false"}}
    )
    assert settings.publication_lag_minutes == 30.0
    assert settings.notify is False


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("source", "ftp", "source='ftp'"),
        ("price_basis", "open", "price_basis='open'"),
        ("publication_lag_minutes", -5, "publication_lag_minutes=-5"),
        ("publication_lag_minutes", "soon", "publication_lag_minutes='soon'"),
        ("stale_policy", "panic", "stale_policy='panic'"),
        ("class_map", {"SOL": "meme"}, "meme"),
        ("ticker", "", "ticker=''"),
        ("notify", "maybe", "notify='maybe'"),
        ("colour", "blue", "unknown key 'colour'"),
        ("path", "", "path=''"),
        ("cache_dir", "  ", "cache_dir='  '"),
        ("cache_dir", 5, "cache_dir=5"),
        ("class_map", {"eth": "eth", "ETH": "alt"}, "'eth' and 'ETH' are the same currency"),
        ("class_map", {"": "btc"}, "non-empty base currencies"),
        ("class_map", {"W BTC": "btc"}, "whitespace"),
        ("ticker", "T" * 33, "at most 32"),
        ("ticker", "^R\tUT", "whitespace or control"),
    ],
)
def test_bad_value_is_named_in_the_error(key, value, named) -> None:
    with pytest.raises(ConfigError, match="invalid russell_regime config") as info:
        settings_from_config({"russell_regime": {key: value}})
    assert named in str(info.value)


@pytest.mark.parametrize("section", ["", 0, False, [], "^RUT"])
def test_a_section_that_is_not_an_object_is_rejected(section) -> None:
    with pytest.raises(ConfigError, match="russell_regime must be an object"):
        settings_from_config({"russell_regime": section})


def test_ticker_blanks_are_stripped_and_class_map_keys_upper_cased() -> None:
    settings = settings_from_config(
        {"russell_regime": {"ticker": " ^RUT ", "class_map": {"wbtc": "btc"}}}
    )
    assert settings.ticker == "^RUT" and settings.class_map == {"WBTC": "btc"}


def test_all_bad_values_reported_together() -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_config({"russell_regime": {"source": "ftp", "price_basis": "open"}})
    assert "source='ftp'" in str(info.value) and "price_basis='open'" in str(info.value)


def test_file_source_needs_a_path() -> None:
    with pytest.raises(ConfigError, match="needs 'path'"):
        settings_from_config({"russell_regime": {"source": "file"}})


def _freqtrade_config(tmp_path: Path) -> dict:
    config_file = tmp_path / "config.json"
    config_file.write_text((REPO_ROOT / "config.json").read_text())
    args = {
        "config": [str(config_file)],
        "user_data_dir": str(tmp_path),
        "strategy": "RussellRiskOn",
        "strategy_path": str(REPO_ROOT / "user_data" / "strategies"),
    }
    return Configuration(args, RunMode.BACKTEST).get_config()


def test_env_var_overrides_reach_the_strategy(tmp_path, monkeypatch, rut_csv) -> None:
    monkeypatch.setenv("FREQTRADE__RUSSELL_REGIME__SOURCE", "file")
    monkeypatch.setenv("FREQTRADE__RUSSELL_REGIME__PATH", str(rut_csv))
    monkeypatch.setenv("FREQTRADE__RUSSELL_REGIME__PUBLICATION_LAG_MINUTES", "20")
    strategy = StrategyResolver.load_strategy(_freqtrade_config(tmp_path))  # loads the file
    assert strategy.regime_settings.source == "file"
    assert strategy.regime_settings.path == rut_csv
    assert strategy.regime_settings.publication_lag_minutes == 20


def test_strategy_load_with_bad_env_value_fails_with_the_documented_error(tmp_path, monkeypatch):
    monkeypatch.setenv("FREQTRADE__RUSSELL_REGIME__STALE_POLICY", "yolo")
    config = _freqtrade_config(tmp_path)
    with pytest.raises(ConfigurationError, match="stale_policy='yolo'") as info:
        StrategyResolver.load_strategy(config)
    assert isinstance(info.value.__cause__, ConfigError)


def test_shipped_config_section_is_valid() -> None:
    config = json.loads((REPO_ROOT / "config.json").read_text())
    assert isinstance(settings_from_config(config), RegimeSettings)


def test_backtest_mode_reads_the_cache_and_never_fetches(tmp_path, monkeypatch, rut_daily):
    from russell_regime.data.cache import DailyCache
    from russell_regime.data.sources import YahooSource

    def no_network(*args, **kwargs):
        raise AssertionError("backtesting must not fetch index data")

    monkeypatch.setattr(YahooSource, "fetch", no_network)
    DailyCache(tmp_path / "data" / "russell").update("^RUT", rut_daily, "XNYS")
    strategy = StrategyResolver.load_strategy(_freqtrade_config(tmp_path))
    assert strategy.regime_settings.source == "yahoo"
    strategy.ft_bot_start()
    assert strategy.regime.loaded
    assert strategy.regime.daily["session"].iloc[-1] == rut_daily["session"].iloc[-1]


def test_backtest_mode_without_cache_or_file_fails_with_instructions(tmp_path):
    """Backtest/hyperopt load the index when the strategy is built: one freqtrade error."""
    with pytest.raises(OperationalException, match="no cached index data .* russell_regime down"):
        StrategyResolver.load_strategy(_freqtrade_config(tmp_path))


# -- confirmations ---------------------------------------------------------------------------


def _confirmations(spec) -> RegimeSettings:
    return settings_from_config({"russell_regime": {"confirmations": spec}})


def test_confirmations_are_off_by_default() -> None:
    settings = settings_from_config({})
    assert settings.confirmations == {} and settings.enabled_confirmations == ()
    assert _confirmations({"vix": False, "lead": {"enabled": False}}).enabled_confirmations == ()


def test_confirmation_defaults_and_publication_times() -> None:
    from russell_regime.core.confirmations import LeadParams, ValueParams, VixParams

    settings = settings_from_config(
        {"russell_regime": {"publication_lag_minutes": 20, "confirmations": {
            "flows": {"source": "file", "path": "flows.csv"}, "vix": True, "value": {},
            "lead": {"ticker": "IWM", "versus": "SPY", "rule": "high", "window": "60"},
        }}}
    )
    assert settings.enabled_confirmations == ("vix", "lead", "value", "flows")
    vix, lead, value, flows = (settings.confirmations[k] for k in settings.enabled_confirmations)
    assert (vix.ticker, vix.tickers, vix.params) == ("^VIX", ("^VIX",), VixParams())
    assert (vix.close_offset_minutes, vix.publication_lag_minutes) == (15.0, 20.0)
    assert lead.tickers == ("IWM", "SPY") and lead.params == LeadParams("high", 60)
    assert lead.close_offset_minutes == 0.0
    assert value.tickers == ("IWN",) and value.params == ValueParams()  # rule high: no versus
    assert flows.tickers == ("IWM",) and flows.path == Path("flows.csv")
    assert all(c.required for c in settings.confirmations.values())
    day = pd.DatetimeIndex(["2024-07-01"])
    assert vix.availability.available_at(day)[0] == pd.Timestamp("2024-07-01 20:35", tz="UTC")
    assert lead.availability.available_at(day)[0] == pd.Timestamp("2024-07-01 20:20", tz="UTC")


def test_value_ratio_rule_loads_the_core_series_and_overrides_apply() -> None:
    value = _confirmations({"value": {
        "rule": "ratio_change", "window": 10, "source": "file", "path": "iwn.csv",
        "versus_path": "iwm.csv", "required": "false", "close_offset_minutes": 5,
        "publication_lag_minutes": 0,
    }}).confirmations["value"]
    assert value.tickers == ("IWN", "IWM") and value.versus_path == Path("iwm.csv")
    assert value.required is False
    assert value.availability.available_at(pd.DatetimeIndex(["2024-12-02"]))[0] == pd.Timestamp(
        "2024-12-02 21:05", tz="UTC"
    )


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ({"volume": {}}, "unknown confirmation 'volume' (one of vix, lead, value, flows)"),
        ({"lead": {"colour": "red"}}, "unknown key 'confirmations.lead.colour'"),
        ({"vix": {"versus": "^GSPC"}}, "unknown key 'confirmations.vix.versus'"),
        ({"vix": {"level": -1}}, "confirmations.vix.level=-1: vix level must be > 0"),
        ({"vix": {"level": "calm"}}, "confirmations.vix.level='calm'"),
        ({"vix": {"rule": "median"}}, "confirmations.vix.rule='median': must be one of level, ma"),
        ({"lead": {"window": 2.5}}, "confirmations.lead.window=2.5: must be a whole number"),
        ({"lead": {"window": 0}}, "confirmations.lead.window=0: window must be between 1"),
        ({"value": {"tolerance": 1.5}}, "confirmations.value.tolerance=1.5"),
        ({"flows": {"threshold": "nan"}}, "confirmations.flows.threshold='nan'"),
        ({"flows": {"source": "file"}}, "confirmations.flows: source='file' needs 'path'"),
        ({"lead": {"source": "file", "path": "rut.csv"}}, "needs 'versus_path' (^GSPC file)"),
        ({"vix": {"source": "ftp"}}, "confirmations.vix.source='ftp'"),
        ({"vix": {"ticker": ""}}, "confirmations.vix.ticker=''"),
        ({"vix": {"required": "maybe"}}, "confirmations.vix.required='maybe'"),
        ({"vix": {"close_offset_minutes": -5}}, "confirmations.vix.close_offset_minutes=-5"),
        ({"vix": {"publication_lag_minutes": 5000}}, "publication_lag_minutes=5000"),
        ({"vix": "maybe"}, "confirmations.vix='maybe': must be an object or true/false"),
        ({"vix": [1]}, "confirmations.vix=[1]: must be an object or true/false"),
        (["vix"], "confirmations=['vix']: must be an object"),
    ],
)
def test_bad_confirmation_is_named_in_one_line(spec, named) -> None:
    with pytest.raises(ConfigError, match="invalid russell_regime config") as info:
        _confirmations(spec)
    assert named in str(info.value) and "\n" not in str(info.value)


def test_a_disabled_confirmation_is_still_validated() -> None:
    with pytest.raises(ConfigError, match="confirmations.vix.level=0"):
        _confirmations({"vix": {"enabled": False, "level": 0}})


def test_confirmations_from_freqtrade_env_vars(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FREQTRADE__RUSSELL_REGIME__CONFIRMATIONS__VIX__LEVEL", "18.5")
    monkeypatch.setenv("FREQTRADE__RUSSELL_REGIME__CONFIRMATIONS__VIX__RULE", "level")
    settings = settings_from_config(_freqtrade_config(tmp_path))
    assert settings.enabled_confirmations == ("vix",)
    assert settings.confirmations["vix"].params.level == 18.5
