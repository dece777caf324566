"""The report page (pure renderer): every section, embedded pictures, escaping, formatting for
people and the "not available" line of each missing input, on small hand-made frames."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest

from russell_regime.evidence.compare import BUY_AND_HOLD, UNGATED
from russell_regime.evidence.html_report import (
    NOT_GIVEN_HYPEROPT,
    SECTION_IDS,
    Overfit,
    ReportInput,
    render_report,
    spa_sentence,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))  # bytes only: the renderer does not decode


def _compare() -> pd.DataFrame:
    return pd.DataFrame({
        "run": ["gated (defaults)", UNGATED, "gated+vix", BUY_AND_HOLD],
        "trades": [465, 1790, np.nan, 1],
        "total_return": [-0.127266, -0.672664, np.nan, 6.804],
        "cagr": [-0.018, -0.138, np.nan, 0.315],
        "max_drawdown": [-0.190688, -0.690374, np.nan, -0.812],
        "sharpe": [-0.183118, -0.844111, np.nan, 0.75],
        "sortino": [-0.27, -1.15, np.nan, 1.08],
        "calmar": [-0.09, -0.2, np.nan, 0.39],
        "exposure": [0.101336, 0.391527, np.nan, 1.0],
        "final_equity": [8727.34, 3273.36, np.nan, 78042.0],
        "avg_trade": [-0.0012, -0.0029, np.nan, 6.804],
        "win_rate": [0.49, 0.45, np.nan, 1.0],
        "ft_profit_total": [-0.127266, -0.672664, np.nan, np.nan],
        "ft_max_drawdown": [-0.19, -0.69, np.nan, np.nan],
        "note": ["", "", "not run: ^VIX: no such file",
                 "stale: ^RUT last session 2025-06-27 (entries blocked)"],
    })


def _control() -> pd.DataFrame:
    rows = []
    for gate, pct, p in (("gate", 87.0, 0.131737), ("gate+vix", 4.1, 0.962)):
        for metric in ("trades", "profit"):
            rows.append({"gate": gate, "metric": metric, "real": -0.570343,
                         "random_mean": -1.53, "random_median": -1.58643,
                         "random_p05": -2.86, "random_p95": -0.0469278, "percentile": pct,
                         "p_random": p, "n_random": 500, "n_undefined": 0,
                         "exposure": 0.296491})
    return pd.DataFrame(rows)


def _spa(superior: tuple[bool, bool]) -> pd.DataFrame:
    return pd.DataFrame({
        "variant": ["gated (defaults)", "gated+vix"], "benchmark": [UNGATED, UNGATED],
        "mean_diff_annual": [0.1234, -0.02], "sharpe": [0.5, -0.1],
        "benchmark_sharpe": [-0.8, -0.8], "beats_benchmark_stepm": list(superior),
        "spa_p_consistent": [0.0213, 0.0213], "spa_p_lower": [0.02, 0.02],
        "spa_p_upper": [0.03, 0.03], "size": [0.05, 0.05], "n_variants": [2, 2],
        "n_days": [365, 365], "block_size": [8, 8], "reps": [1000, 1000], "seed": [7, 7],
    })


def _full(**changes) -> ReportInput:
    base = dict(
        folder="/x/evidence", command="russell-regime report --from /x/evidence",
        made="2025-07-02 10:00 UTC",
        run={"strategy": "MyStrategy", "timerange": "20240101-20240401",
             "start": "2024-01-01T00:00:00+00:00", "end": "2024-04-01T00:00:00+00:00",
             "pairs": ["BTC/USDT", "ETH/USDT"], "timeframe": "1h", "config": "config.json",
             "gate": {"btc_mode": "ath", "btc_lookback": 300},
             "confirmations": {"vix": {"ticker": "^VIX", "source": "file", "path": "/d/VIX.csv",
                                       "rule": "level", "level": 25.0}},
             "seed": 7, "random_gates": 500, "spa_reps": 1000, "created": "2025-07-01T09:00:00",
             "russell_regime_version": "0.1.0"},
        compare=_compare(), control=_control(), spa=_spa((True, False)),
        overfit=Overfit(pd.DataFrame({"measure": ["DSR"], "value": ["0.41"],
                                      "meaning": ["probability"]}), "could well be luck",
                        "/h/x.fthypt"),
        figures={"equity": PNG, "gate": PNG, "random-gates": PNG},
        data_end="2024-04-01 00:00 UTC",
    )
    return ReportInput(**(base | changes))


def _section(page: str, sid: str) -> str:
    match = re.search(rf'<section id="{sid}">(.*?)</section>', page, re.S)
    assert match, f"section {sid} missing"
    return match.group(1)


def test_every_section_in_order_with_a_heading_and_the_pictures_embedded():
    page = render_report(_full())
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert re.findall(r'<section id="([^"]+)">\n<h2>', page) == list(SECTION_IDS)
    sources = re.findall(r'<img alt="[^"]*" src="([^"]+)">', page)
    assert len(sources) == 3
    for src in sources:  # each picture is the PNG given, base64 in a data: URI
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == PNG
    # self-contained: no script, no stylesheet or picture from elsewhere
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert not re.search(r'(src|href)="(?!data:|#)', page)
    assert "not available" not in page


def test_text_from_the_inputs_is_escaped():
    evil = "<script>alert(1)</script>"
    run = dict(_full().run, strategy=evil, pairs=['A"B/USDT'])
    compare = _compare()
    compare.loc[0, "run"] = "<b>gated</b>"
    page = render_report(_full(run=run, compare=compare, command=f"report --strategy {evil}"))
    assert "<script" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # title, h1, summary
    assert "&lt;b&gt;gated&lt;/b&gt;" in _section(page, "comparison")
    assert "<b>gated</b>" not in page
    assert "A&quot;B/USDT" in _section(page, "summary")


def test_each_missing_input_says_not_available_and_names_its_file():
    page = render_report(ReportInput(folder="/old", command="russell-regime report --from /old",
                                     made="now"))
    assert re.findall(r'<section id="([^"]+)">', page) == list(SECTION_IDS)
    expected = {
        "summary": "compare_run.json missing", "comparison": "compare.csv missing",
        "equity": "compare_equity.csv missing", "gate": "compare_run.json missing",
        "random-gates": "compare_random_gates.csv missing", "spa": "compare_spa.csv missing",
    }
    for sid, text in expected.items():
        assert f"not available: {text}" in _section(page, sid), sid
    assert NOT_GIVEN_HYPEROPT in _section(page, "overfitting")
    assert "Stale data: not available: compare.csv missing" in _section(page, "caveats")
    # the summary still names the report's own command and folder
    assert "russell-regime report --from /old" in _section(page, "summary")


def test_a_given_reason_replaces_the_default_and_a_table_without_its_figure_says_so():
    page = render_report(_full(figures={"equity": PNG},
                               reasons={"gate": "no BTC/USDT candles in 2024-01-01..2024-04-01"}))
    assert ("not available: no BTC/USDT candles in 2024-01-01..2024-04-01"
            in _section(page, "gate"))
    random_gates = _section(page, "random-gates")
    assert "figure not available: compare_random_draws.csv missing" in random_gates
    assert "<table>" in random_gates  # the control table is still there


def test_the_comparison_table_is_formatted_for_people():
    part = _section(render_report(_full()), "comparison")
    cells = re.findall(r"<tr[^>]*>(.*?)</tr>", part)
    gated = re.findall(r"<td[^>]*>(.*?)</td>", cells[1])
    assert gated[:5] == ["gated (defaults)", "465", "-12.7%", "-1.8%", "-19.1%"]
    ungated = re.findall(r"<td[^>]*>(.*?)</td>", cells[2])
    assert ungated[1] == "1,790" and ungated[-1] == "3,273"  # final equity, no decimals
    missing = re.findall(r"<td[^>]*>(.*?)</td>", cells[3])  # a run that did not run
    assert missing[0] == "gated+vix" and set(missing[1:]) == {"–"}
    assert '<tr class="gated">' in part  # the gated run stands out
    assert ("The gated run (gated (defaults)) returned -12.7% against -67.3% ungated (better "
            "than without the gate), with a worst drawdown of -19.1% against -69.0%, while in "
            "the market 10% of the time against 39%.") in part


def test_summary_random_gates_and_caveats_read_their_inputs():
    page = render_report(_full())
    summary = _section(page, "summary")
    assert "<dd>2: BTC/USDT, ETH/USDT</dd>" in summary
    assert "<dd>btc: mode ath, lookback 300</dd>" in summary
    assert "<dd>vix (ticker ^VIX, rule level, level 25.0)</dd>" in summary  # no file paths
    assert "20240101-20240401 (2024-01-01 .. 2024-04-01)" \
        in summary
    control = _section(page, "random-gates")
    assert ("Summed trade return: gate beats 87% of its random gates (p_random 0.132); "
            "gate+vix beats 4% of its random gates (p_random 0.962).") in control
    assert "<td>-0.5703</td>" in control and "<td>29.6%</td>" in control
    caveats = _section(page, "caveats")
    assert "the equity curves end 2024-04-01 00:00 UTC" in caveats
    assert "Stale data in BTC buy-and-hold: stale: ^RUT last session 2025-06-27" in caveats
    assert "Stale data in gated+vix: not run: ^VIX: no such file" in caveats
    assert "max_open_trades" in caveats and "lookahead-analysis" in caveats
    over = _section(page, "overfitting")
    assert "could well be luck" in over and "/h/x.fthypt" in over


def test_spa_sentence_and_table():
    assert spa_sentence(_spa((True, False))) == (
        "gated (defaults) beats the ungated run even after allowing for the 2 variants tried "
        "(SPA p-value of the family 0.021). Beating the ungated run can come from trading less "
        "alone: whether the gate's timing adds anything is what the same-exposure random-gate "
        "control measures.")
    assert spa_sentence(_spa((True, True))).startswith(
        "gated (defaults), gated+vix beat the ungated run")
    assert spa_sentence(_spa((False, False))) == (
        "No gate variant beats the ungated run once the 2 variants tried are allowed for (SPA "
        "p-value of the family 0.021): the differences in the table may be luck.")
    one = _spa((False, False)).iloc[:1]
    assert "once the one variant tried is allowed for" in spa_sentence(one)
    part = _section(render_report(_full()), "spa")
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", part)
    first = re.findall(r"<td[^>]*>(.*?)</td>", rows[1])
    assert first == ["gated (defaults)", "+12.3%", "0.50", "-0.80", "yes", "0.021", "0.020",
                     "0.030"]
    assert "days 365; mean block (days) 8; replications 1000; seed 7" in part


@pytest.mark.parametrize("value", [True, "True", 1])
def test_a_stepm_flag_read_back_from_csv_counts(value):
    frame = _spa((False, False)).astype({"beats_benchmark_stepm": object})
    frame.loc[1, "beats_benchmark_stepm"] = value
    assert spa_sentence(frame).startswith("gated+vix beats the ungated run")
