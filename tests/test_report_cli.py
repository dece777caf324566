"""``russell-regime report`` through the real entry point: from a copy of the committed compare
results (``--from``, no backtest), an old compare folder, a hyperopt file, one full short run,
the error paths, and the page in a real headless browser (Chromium)."""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from russell_regime.evidence.html_report import SECTION_IDS

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "docs" / "results" / "compare"
OPTIONAL = {"summary": "compare_run.json", "spa": "compare_spa.csv"}


def _report(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "russell_regime", "report", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _section(page: str, sid: str) -> str:
    match = re.search(rf'<section id="{sid}">(.*?)</section>', page, re.S)
    assert match, f"section {sid} missing"
    return match.group(1)


def _images(page: str) -> list[bytes]:
    return [base64.b64decode(src) for src in
            re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


def _png_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.size


@pytest.fixture(scope="module")
def from_results(shared_data: Path, tmp_path_factory) -> tuple[Path, float]:
    """``report --from`` a copy of docs/results/compare (never written into docs/)."""
    folder = tmp_path_factory.mktemp("report") / "compare"
    shutil.copytree(RESULTS, folder, ignore=shutil.ignore_patterns("report.html"))
    t0 = time.monotonic()
    proc = _report(folder.parent, "--from", "compare", "--data", str(shared_data),
                   "--no-progress")
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {folder / 'report.html'}" in proc.stdout
    return folder / "report.html", elapsed


# --- --from: the committed compare results, no backtest ---------------------------------------


@pytest.mark.shared_data
def test_report_from_the_committed_compare_results(from_results):
    path, elapsed = from_results
    page = path.read_text(encoding="utf-8")
    assert re.findall(r'<section id="([^"]+)">\n<h2>', page) == list(SECTION_IDS)
    # the three figures at 100 dpi: the equity (10 x 5.2 in), the gate over BTC (11 x 7.5 in)
    # and one random-gate panel per gate row, two a row (here 4 rows: 10.4 x 7.4 in)
    images = _images(page)
    gates = pd.read_csv(path.parent / "compare_random_gates.csv")["gate"].nunique()
    rows = (gates + 1) // 2
    expected = [(1000, 520), (1100, 750), (520 * min(gates, 2), int(100 * (3.4 * rows + 0.6)))]
    assert [_png_size(b) for b in images] == expected
    assert path.stat().st_size < 2_000_000  # about 0.5 MB
    assert elapsed < 60  # no backtest (typically ~3 s)
    # the comparison is compare.csv's, formatted for people
    table = pd.read_csv(path.parent / "compare.csv")
    part = _section(page, "comparison")
    for run, ret in zip(table["run"], table["total_return"], strict=True):
        assert f"<td class=\"text\">{html.escape(run)}</td>" in part
        assert f"<td>{100 * ret:+.1f}%</td>" in part
    for sid, name in OPTIONAL.items():  # files a compare of that time did not write
        absent = not (path.parent / name).exists()
        assert (f"not available: {name} missing" in _section(page, sid)) is absent
    assert "not given: pass --hyperopt-file" in _section(page, "overfitting")
    summary = _section(page, "summary")
    assert "russell-regime report --from compare --data" in summary


@pytest.mark.shared_data
def test_an_old_compare_folder_renders_with_what_it_has(shared_data, tmp_path):
    """Without the equity and the random draws: the parts that need them say so."""
    from russell_regime.cli.main import main

    folder = tmp_path / "old"
    shutil.copytree(RESULTS, folder,
                    ignore=shutil.ignore_patterns("compare_equity.csv", "*_draws.csv", "*.png",
                                                  "report.html", "compare_run.json",
                                                  "compare_spa.*"))
    assert main(["report", "--from", str(folder), "--data", str(shared_data),
                 "--out", str(tmp_path / "out")]) == 0
    assert not (folder / "report.html").exists()  # --out, not the --from folder
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "not available: compare_equity.csv missing" in _section(page, "equity")
    assert ("figure not available: compare_random_draws.csv missing"
            in _section(page, "random-gates"))
    # nothing names the timerange of the gate over BTC any more (no compare_run.json either)
    assert ("not available: no timerange: compare_run.json and compare_equity.csv missing"
            in _section(page, "gate"))
    assert _images(page) == []
    assert "the equity curves end" not in page
    gated = pd.read_csv(folder / "compare.csv").iloc[0]  # the rest is there
    assert f"<td>{100 * gated['total_return']:+.1f}%</td>" in _section(page, "comparison")


def _fthypt(path: Path, n_epochs: int = 12, n_days: int = 120, seed: int = 3) -> np.ndarray:
    """A freqtrade hyperopt results file: ``n_epochs`` epochs with a closed-trade profit on
    each of ``n_days`` days from 2024-01-01 (starting balance 1000); returns days x epochs."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=n_days, freq="D")
    profits = rng.normal(1.0, 20.0, (n_days, n_epochs))
    with path.open("w", encoding="utf-8") as f:
        for e in range(n_epochs):
            metrics = {
                "strategy_name": "MyStrategy", "starting_balance": 1000.0,
                "backtest_start": "2024-01-01 00:00:00",
                "backtest_end": f"{days[-1]:%Y-%m-%d} 00:00:00", "total_trades": 40,
                "profit_total": float(profits[:, e].sum() / 1000),
                "daily_profit": [[f"{d:%Y-%m-%d}", float(p)]
                                 for d, p in zip(days, profits[:, e], strict=True)],
            }
            f.write(json.dumps({"loss": float(-profits[:, e].sum()), "params_dict": {},
                                "results_metrics": metrics, "is_best": False,
                                "current_epoch": e + 1}) + "\n")
    return profits


@pytest.mark.shared_data
def test_a_hyperopt_file_gives_the_deflated_sharpe_ratio_and_pbo(shared_data, tmp_path):
    from russell_regime.cli.main import main
    from russell_regime.evidence.overfit import deflated_sharpe, pbo_cscv, sharpe

    folder = tmp_path / "compare"
    shutil.copytree(RESULTS, folder, ignore=shutil.ignore_patterns("*.png", "report.html"))
    profits = _fthypt(tmp_path / "run.fthypt")
    assert main(["report", "--from", str(folder), "--data", str(shared_data),
                 "--hyperopt-file", str(tmp_path / "run.fthypt")]) == 0
    part = _section((folder / "report.html").read_text(encoding="utf-8"), "overfitting")
    values = dict(re.findall(r'<tr><td class="text">([^<]+)</td><td>([^<]*)</td>', part))
    returns = profits / 1000.0  # every day has a closed trade: no zero-filled day
    best = int(np.argmin(-profits.sum(axis=0)))
    dsr = deflated_sharpe(returns[:, best], [sharpe(returns[:, e]) for e in range(12)])
    assert values["epochs tried"] == "12" and values["days"] == "120"
    assert values["selected epoch"].startswith(f"{best + 1} (loss ")
    assert values["DSR"] == f"{dsr.dsr:.2f}" and values["PSR"] == f"{dsr.psr:.2f}"
    assert values["PBO"] == f"{pbo_cscv(returns, 16).pbo:.2f}"
    assert str(tmp_path / "run.fthypt") in part


# --- errors: one line, exit 2, before any work ------------------------------------------------


@pytest.mark.parametrize(("args", "line"), [
    (["--from", "empty"], "russell_regime report: error: --from {tmp}/empty: no compare.csv "
     "there (not a compare output folder; run russell-regime compare --out DIR first)"),
    (["--from", "empty", "--timerange", "20240101-20240201", "--seed", "3"],
     "russell_regime report: error: argument --from: --timerange --seed would be ignored "
     "(allowed: --from renders an existing compare folder; drop --from to run compare with "
     "these options)"),
    (["--random-gates", "-1"], "russell_regime report: error: argument --random-gates: '-1' "
     "is out of range (allowed: a whole number, 0..10000)"),
    (["--timerange", "20240201-20240101"], "russell_regime report: error: argument "
     "--timerange: '20240201-20240101' is not a timerange (allowed: YYYYMMDD-YYYYMMDD, end "
     "after start)"),
    (["--from", "nowhere"], "russell_regime report: error: argument --from: 'nowhere' is not "
     "an existing folder ({tmp}/nowhere) (allowed: an existing folder)"),
])
def test_bad_options_give_one_line_and_exit_2(tmp_path, args, line):
    (tmp_path / "empty").mkdir()
    proc = _report(tmp_path, *args, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == line.format(tmp=tmp_path)
    assert not list(tmp_path.rglob("report.html"))


def test_a_bad_hyperopt_file_is_one_line(tmp_path):
    folder = tmp_path / "compare"
    shutil.copytree(RESULTS, folder, ignore=shutil.ignore_patterns("*.png", "report.html"))
    (tmp_path / "bad.fthypt").write_text("not json\n", encoding="utf-8")
    proc = _report(tmp_path, "--from", "compare", "--hyperopt-file", "bad.fthypt", timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"russell_regime report: error: {tmp_path / 'bad.fthypt'}: not "
                               "a freqtrade hyperopt results file")
    assert not (folder / "report.html").exists()


# --- one full run: compare first, then the report ---------------------------------------------


@pytest.mark.shared_data
@pytest.mark.freqtrade_run
def test_report_runs_compare_first_then_renders_it(shared_data, tmp_path):
    proc = _report(tmp_path, "--strategy", "RussellRiskOn", "--data", str(shared_data),
                   "--timerange", "20240101-20240501", "--pairs", "BTC", "ETH", "SOL",
                   "--confirm", "vix", "--random-gates", "20", "--spa-reps", "200",
                   "--spa-block", "7", "--no-progress", "--out", "out", timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert re.findall(r'<section id="([^"]+)">\n<h2>', page) == list(SECTION_IDS)
    assert len(_images(page)) == 3
    # every input written by this compare, so nothing is "not available"
    assert "not available" not in page
    run = json.loads((out / "compare_run.json").read_text(encoding="utf-8"))
    assert run["strategy"] == "RussellRiskOn" and run["random_gates"] == 20
    assert (run["spa_reps"], run["spa_block"]) == (200, 7)  # forwarded to compare
    spa = pd.read_csv(out / "compare_spa.csv")
    assert set(spa["reps"]) == {200} and set(spa["block_size"]) == {7}
    summary = _section(page, "summary")
    assert "<dd>RussellRiskOn</dd>" in summary
    assert "<dd>3: BTC/USDT, ETH/USDT, SOL/USDT</dd>" in summary
    assert "20240101-20240501 (2024-01-01 .. 2024-05-01)" in summary
    assert ("russell-regime report --data " in summary
            and "--strategy RussellRiskOn --timerange 20240101-20240501 --pairs BTC ETH SOL "
            "--confirm vix --random-gates 20 --spa-reps 200 --spa-block 7 --out out" in summary)
    table = pd.read_csv(out / "compare.csv")
    assert table["run"].tolist() == ["gated (defaults)", "ungated (all *_mode=off)",
                                     "gated+vix", "BTC buy-and-hold"]
    control = pd.read_csv(out / "compare_random_gates.csv")
    assert (control["n_random"] + control["n_undefined"] == 20).all()
    spa = pd.read_csv(out / "compare_spa.csv")
    assert spa["variant"].tolist() == ["gated (defaults)", "gated+vix"]
    for variant in spa["variant"]:
        assert f'<td class="text">{variant}</td>' in _section(page, "spa")


# --- a real headless browser ------------------------------------------------------------------

CHECK_SCRIPT = """<img id="control-broken" alt="" src="data:image/png;base64,AAAA">
<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  document.body.dataset.checked = JSON.stringify({
    sections: Array.prototype.map.call(document.querySelectorAll("section"),
                                       function (s) { return s.id; }),
    headings: document.querySelectorAll("section > h2").length,
    images: imgs.length,
    decoded: imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length,
    broken: document.getElementById("control-broken").naturalWidth
  });
});
</script>
"""


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        message = "no headless browser: chromium not found (Debian: apt-get install chromium)"
        if os.environ.get("R2K_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


def _browser(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={profile}", "--no-first-run", *args],
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.shared_data
def test_the_report_in_a_headless_browser(from_results, tmp_path):
    chromium = _chromium()
    page = from_results[0].read_text(encoding="utf-8")
    n_images = len(_images(page))
    checked = tmp_path / "checked.html"
    checked.write_text(page.replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    proc = _browser(chromium, tmp_path / "profile", "--dump-dom",
                    "--virtual-time-budget=10000", checked.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    match = re.search(r'data-checked="([^"]*)"', proc.stdout)
    assert match, f"the check script did not run: {proc.stdout[:500]}"
    state = json.loads(html.unescape(match.group(1)))
    assert state["sections"] == list(SECTION_IDS)
    assert state["headings"] == len(SECTION_IDS)
    # every picture of the report decoded; the broken control image did not
    assert state["images"] == n_images + 1 and state["decoded"] == n_images
    assert state["broken"] == 0

    shot = tmp_path / "report.png"
    proc = _browser(chromium, tmp_path / "profile", f"--screenshot={shot}",
                    "--window-size=1200,3000", from_results[0].as_uri())
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size == (1200, 3000)
        pixels = np.asarray(im.convert("RGB"), dtype=np.int16)
    assert pixels.std() > 20  # not a blank page
    header = pixels[:40, :, :].reshape(-1, 3)  # the CSS's header colour #1f3a5f
    assert (np.abs(header - [0x1F, 0x3A, 0x5F]).sum(axis=1) < 10).mean() > 0.5
    colours = {tuple(p) for p in pixels[::7, ::7].reshape(-1, 3)}
    assert len(colours) > 200  # the plots' colours, not just text on white
