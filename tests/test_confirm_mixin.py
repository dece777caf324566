"""Confirmations on RussellGateMixin (real freqtrade strategy objects, real ^RUT / VIX / SPX /
IWM / IWN files): the gate rule (class gate AND every active confirmation), staleness of a
required / optional confirmation under each stale_policy, the flows file path, audit columns
and the r2k_* memory budget."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from freqtrade.enums import RunMode
from freqtrade.exceptions import ConfigurationError, OperationalException
from test_mixin import Minimal, _analyse, candles, r2k_shares  # noqa: F401 (fixture)

from russell_regime.core.calendar import calendar_table
from russell_regime.core.confirmations import LeadParams, ValueParams, VixParams
from russell_regime.core.daily import validate_daily

pytestmark = [pytest.mark.shared_data]


def _config(shared_data, confirmations: dict, runmode=RunMode.BACKTEST, **section) -> dict:
    index = shared_data / "index"
    return {"runmode": runmode, "russell_regime": {
        "source": "file", "path": str(index / "RUT.csv"), "confirmations": confirmations,
        **section}}


def _vix(shared_data, path=None, **extra) -> dict:
    return {"vix": {"source": "file", "path": str(path or shared_data / "index" / "VIX.csv"),
                    **extra}}


def _all_four(shared_data, flows_csv) -> dict:
    index = shared_data / "index"
    return {
        **_vix(shared_data),
        "lead": {"source": "file", "path": str(index / "RUT.csv"),
                 "versus_path": str(index / "SPX.csv")},
        "value": {"source": "file", "path": str(index / "IWN.csv"),
                  "versus_path": str(index / "IWM.csv"), "rule": "ratio_change"},
        "flows": {"source": "file", "path": str(flows_csv), "window": 5},
    }


@pytest.fixture(scope="module")
def flows_csv(tmp_path_factory):
    """A user's flows file (date,flow) over every XNYS session of 2019-2021: inflows in even
    months, outflows in odd ones (test data for the file path; no real flows data exists)."""
    sessions = calendar_table("XNYS").sessions
    sessions = sessions[(sessions >= "2019-01-01") & (sessions <= "2021-12-31")]
    flow = np.where(sessions.month % 2 == 0, 1.0e6, -1.0e6)
    path = tmp_path_factory.mktemp("flows") / "IWM_flows.csv"
    pd.DataFrame({"date": sessions.strftime("%Y-%m-%d"), "flow": flow}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def index_only(shared_data, candles):  # noqa: F811
    strategy = Minimal(_config(shared_data, {}))
    return _analyse(strategy, candles)


def test_gate_is_the_class_gate_and_every_confirmation(shared_data, flows_csv, candles,  # noqa: F811
                                                       index_only):
    strategy = Minimal(_config(shared_data, _all_four(shared_data, flows_csv)))
    frame = _analyse(strategy, candles)
    expected = index_only["r2k_gate"].to_numpy().copy()
    for key in ("vix", "lead", "value", "flows"):
        seen = strategy.russell_confirmation_audit(frame, key)[f"r2k_{key}"].to_numpy()
        assert 0 < seen.mean() < 1, key
        expected &= seen
    np.testing.assert_array_equal(frame["r2k_gate"].to_numpy(), expected)
    entered = frame["enter_long"].eq(1).to_numpy()
    assert entered.any() and not (entered & ~expected).any()
    closed_by_confirmation = index_only["r2k_gate"].to_numpy() & ~expected
    assert closed_by_confirmation.any()
    assert set(frame.loc[closed_by_confirmation, "r2k_gate_tag"]) == {""}


def test_rules_seen_by_candles_match_the_pure_rules(shared_data, candles):  # noqa: F811
    index = shared_data / "index"
    section = {**_vix(shared_data, rule="ma", window=20),
               "lead": {"ticker": "IWM", "versus": "SPY", "source": "file",
                        "path": str(index / "IWM.csv"), "versus_path": str(index / "SPY.csv"),
                        "rule": "high", "window": 20},
               "value": {"source": "file", "path": str(index / "IWN.csv"), "rule": "high"}}
    strategy = Minimal(_config(shared_data, section))
    assert strategy.russell_confirmation_params("vix") == VixParams("ma", 20.0, 20)
    assert strategy.russell_confirmation_params("lead") == LeadParams("high", 20)
    assert strategy.russell_confirmation_params("value") == ValueParams("high", 0.02, 50)
    assert strategy.value_mode.opt_range == ("off", "high")  # no core series: no ratio rule
    frame = _analyse(strategy, candles)
    read = {t: validate_daily(pd.read_csv(index / f"{t}.csv"), t)
            for t in ("VIX", "IWM", "SPY")}
    audit = strategy.russell_confirmation_audit(frame, "vix")
    vix = read["VIX"].set_index("session")["close"]
    ma = vix.rolling(20).mean()
    seen = pd.DatetimeIndex(audit["r2k_vix_session"])
    np.testing.assert_array_equal(audit["r2k_vix"].to_numpy(),
                                  (vix.reindex(seen) < ma.reindex(seen)).to_numpy())
    ratio = (read["IWM"].set_index("session")["close"] / read["SPY"].set_index("session")["close"])
    ratio = ratio.dropna()
    lead = strategy.russell_confirmation_audit(frame, "lead")
    seen = pd.DatetimeIndex(lead["r2k_lead_session"])
    high = ratio >= ratio.rolling(20).max()
    np.testing.assert_array_equal(lead["r2k_lead"].to_numpy(), high.reindex(seen).to_numpy())
    # IWM/SPY: usable at the ETFs' 16:00 close + 15 min, the VIX 15 min later
    assert (lead["r2k_lead_available_at"].dt.tz_convert("America/New_York").dt.time.astype(str)
            .isin(["16:15:00", "13:15:00"])).all()
    assert (audit["r2k_vix_available_at"].dt.tz_convert("America/New_York").dt.time.astype(str)
            .isin(["16:30:00", "13:30:00"])).all()


def test_mode_off_is_the_plain_gate(shared_data, candles, index_only):  # noqa: F811
    strategy = Minimal(_config(shared_data, _vix(shared_data)))
    strategy.vix_mode.value = "off"
    frame = _analyse(strategy, candles)
    np.testing.assert_array_equal(frame["r2k_gate"], index_only["r2k_gate"])
    np.testing.assert_array_equal(frame["enter_long"], index_only["enter_long"])


@pytest.fixture(scope="module")
def vix_until_mid_2021(shared_data, tmp_path_factory):
    vix = validate_daily(pd.read_csv(shared_data / "index" / "VIX.csv"), "^VIX")
    path = tmp_path_factory.mktemp("vix") / "VIX.csv"
    vix[vix["session"] <= "2021-06-30"].rename(columns={"session": "date"}).to_csv(path,
                                                                                   index=False)
    return path


@pytest.mark.parametrize(
    ("policy", "required", "after_end"),
    [("block_entries", True, "closed"), ("ignore_gate", True, "index"),
     ("last_known", True, "last"), ("block_entries", False, "index")],
)
def test_stale_confirmation_follows_the_stale_policy_when_required(
    shared_data, candles, index_only, vix_until_mid_2021, policy, required, after_end,  # noqa: F811
):
    """After the VIX data ends (2021-06-30, level 40: open on its last session), a required
    VIX follows stale_policy: block_entries closes the gate, ignore_gate treats it as open,
    last_known keeps its last verdict; a stale optional one is ignored (open)."""
    section = _vix(shared_data, vix_until_mid_2021, level=40, required=required)
    strategy = Minimal(_config(shared_data, section, stale_policy=policy))
    frame = _analyse(strategy, candles)
    audit = strategy.russell_confirmation_audit(frame, "vix")
    # 07-01's VIX is expected from 20:30 UTC; stale 180 min later: from the candle closing
    # at 07-02 00:00
    late = (frame["date"] >= pd.Timestamp("2021-07-01 23:00", tz="UTC")).to_numpy()
    assert audit["r2k_vix_stale"].to_numpy()[late].all()
    assert not audit["r2k_vix_stale"].to_numpy()[~late].any()
    gate, index_gate = frame["r2k_gate"].to_numpy(), index_only["r2k_gate"].to_numpy()
    assert index_gate[late].any()
    if after_end == "closed":
        assert not gate[late].any()
    else:  # ignore / optional: the index's gate; last_known: VIX 06-30 (15.8 < 40) open too
        np.testing.assert_array_equal(gate[late], index_gate[late])
    np.testing.assert_array_equal(gate[~late], index_gate[~late] & audit["r2k_vix"][~late])
    report = strategy.russell_report["ETH/USDT"]
    assert report["stale"] == (late.sum() if required else 0)


def test_r2k_memory_budget_with_confirmations_on(shared_data, flows_csv, candles):  # noqa: F811
    """Backtest / hyperopt frames get no per-confirmation column: the r2k_* bytes are those of
    the plain gate, and with the VIX on they stay within 10 % of RussellRiskOn's frame. (With
    all four on, this strategy enters nowhere in 2020-2021, its enter_tag strings vanish and
    the same r2k_* bytes are a larger share of a smaller frame: the bytes are what we bound.)"""
    from RussellRiskOn import RussellRiskOn

    def r2k_bytes(confirmations: dict) -> tuple[int, float]:
        frame = _analyse(RussellRiskOn(_config(shared_data, confirmations)), candles)
        r2k = [c for c in frame.columns if c.startswith("r2k_")]
        assert sorted(r2k) == sorted(["r2k_session", "r2k_available_at", "r2k_stale",
                                      "r2k_gate", "r2k_gate_tag"])
        shares = r2k_shares(frame)
        return shares["r2k_bytes"], max(shares["deep"], shares["held"])

    plain, _ = r2k_bytes({})
    vix, vix_share = r2k_bytes(_vix(shared_data))
    four, four_share = r2k_bytes(_all_four(shared_data, flows_csv))
    print(f"r2k bytes: plain {plain}, vix {vix} ({vix_share:.1%}), all four {four} "
          f"({four_share:.1%})")
    assert plain == vix == four
    assert vix_share <= 0.10


def test_audit_columns_in_plot_mode(shared_data, flows_csv, candles):  # noqa: F811
    strategy = Minimal(_config(shared_data, _all_four(shared_data, flows_csv),
                               runmode=RunMode.PLOT))
    strategy.ft_bot_start()
    frame = _analyse(strategy, candles)
    for key in ("vix", "lead", "value", "flows"):
        assert frame[f"r2k_{key}"].dtype == bool
        assert str(frame[f"r2k_{key}_available_at"].dt.tz) == "UTC"
        assert frame[f"r2k_{key}_session"].notna().all()
        audit = strategy.russell_confirmation_audit(frame, key)
        np.testing.assert_array_equal(frame[f"r2k_{key}"], audit[f"r2k_{key}"])


def test_bad_flows_file_is_one_clear_error(shared_data, tmp_path):
    bad = tmp_path / "flows.csv"
    bad.write_text("date,flow\n2021-01-04,100\n2021-01-05,abc\n")
    section = {"flows": {"source": "file", "path": str(bad)}}
    with pytest.raises(OperationalException, match=r"flow is not a finite number: 'abc'"):
        Minimal(_config(shared_data, section))


def test_flows_from_yahoo_is_refused_with_the_reason(shared_data):
    with pytest.raises(ConfigurationError, match="does not reach back far enough"):
        Minimal(_config(shared_data, {"flows": {"source": "yahoo"}}))


def test_missing_confirmation_data_is_one_clear_error(shared_data, tmp_path):
    with pytest.raises(OperationalException, match=r"russell_regime: .*missing"):
        Minimal(_config(shared_data, _vix(shared_data, tmp_path / "missing.csv")))
