"""The markdown report of a results dict (also ``bench_gate.py --render RESULTS.json``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .common import median, ratio

TARGETS = {"bt": 1.05, "slice_ms": 30.0, "r2k_share": 0.10, "fixed_ms": 150.0}


def fmt(value: Any, spec: str = ".2f") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    return format(value, spec)


def row(*cells: Any) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def r(a: float | None, b: float | None, bold: bool = False) -> str:
    text = fmt(ratio(a, b), ".3f")
    return f"**{text}**" if bold else text


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _targets(res: dict, add: Callable[[str], None]) -> None:
    core, bt = res.get("core"), res.get("backtest")
    add("## Targets (issue 9)")
    add("")
    add(row("target", "measured", "limit", "status"))
    add("|---|---:|---:|---|")
    if bt:
        g, o = bt["RussellRiskOn"], bt["RussellRiskOnOff"]
        q = ratio(g["wall"], o["wall"])
        add(row("backtest wall, RussellRiskOn gated / every gate off", fmt(q, ".3f"),
                f"<= {TARGETS['bt']}", verdict(q <= TARGETS["bt"])))
    if core:
        s = core["slice_gated_ms"]
        add(row(f"Russell slice, 10 pairs x 1h 2017-2025 ({core['candles']:,} candles), ms",
                fmt(s, ".1f"), f"<= {TARGETS['slice_ms']:.0f}", verdict(s <= TARGETS["slice_ms"])))
        # the analysed frame (freqtrade's analysed dataframe, what a backtest keeps per pair) is
        # the frame after signals; hyperopt keeps the indicator-only frame between epochs
        for key in ("RussellRiskOn backtest signals", "GatedSample backtest signals"):
            m = core["memory"][key]
            add(row(f"r2k_* share of the analysed frames (after signals), {key} "
                    f"({fmt(m['r2k_mb'], '.1f')} of {fmt(m['all_mb'], '.1f')} MB)",
                    f"{100 * m['share']:.1f} %", "<= 10 %",
                    verdict(m["share"] <= TARGETS["r2k_share"])))
        m = core["memory"]["RussellRiskOn hyperopt indicators"]
        add(row("r2k_* share of the indicator-only frames hyperopt keeps between epochs (not "
                f"the analysed frame), RussellRiskOn ({fmt(m['r2k_mb'], '.1f')} of "
                f"{fmt(m['all_mb'], '.1f')} MB)", f"{100 * m['share']:.1f} %", "", "for reference"))
        f = core["startup_disk"]["fixed_ms"]
        add(row("fixed per-process cost: Russell imports + calendar, ms", fmt(f, ".0f"),
                f"<= {TARGETS['fixed_ms']:.0f}", verdict(f <= TARGETS["fixed_ms"])))
    add("")


def _core(core: dict, add: Callable[[str], None]) -> None:
    best = core["best_of"]
    bare = core["bare_ms"]
    add("## Core (in-process, fresh strategy instance per repetition, best of N)")
    add("")
    add(row("measurement", "value"))
    add("|---|---:|")
    add(row(f"Russell slice (BareGated - BarePlain analysis), gated defaults, ms, best of "
            f"{best['slice']}", fmt(core["slice_gated_ms"], ".1f")))
    add(row("Russell slice, every gate off, ms", fmt(core["slice_off_ms"], ".1f")))
    add(row("analysis BareGated / BareGatedOff / BarePlain (10 pairs, indicators + signals), ms",
            " / ".join(fmt(bare[k], ".1f") for k in ("BareGated", "BareGatedOff", "BarePlain"))))
    add(row(f"daily features + gate for one new parameter set ({core['sessions']:,} sessions), "
            "ms", fmt(core["features1_ms"])))
    an = core["analysis_ms"]
    for name, base in (("RussellRiskOn", "RussellRiskOnOff"), ("GatedSample", "GatedSampleOff"),
                       ("GatedSampleOff", "PlainSample"), ("GatedSample", "PlainSample")):
        if name in an and base in an:
            add(row(f"whole analysis {name} / {base}, 10 pairs full history, ms (ratio), best "
                    f"of {best['analysis']}",
                    f"{fmt(an[name], '.0f')} / {fmt(an[base], '.0f')} "
                    f"({r(an[name], an[base])})"))
    for key, m in core["memory"].items():
        kind = ("analysed frames (after signals)" if key.endswith("signals")
                else "indicator-only frames")
        add(row(f"{kind} {key}: all / r2k_* MB (share)",
                f"{fmt(m['all_mb'], '.1f')} / {fmt(m['r2k_mb'], '.1f')} "
                f"({100 * m['share']:.1f} %)"))
    for label in ("disk", "off"):
        s = core.get(f"startup_{label}")
        if not s:
            continue
        what = ("calendar table on disk" if label == "disk"
                else "no disk table (R2K_CALENDAR_CACHE=off: exchange_calendars imported and "
                     "the calendar built, as before)")
        add(row(f"fresh process, {what}: import of RussellRiskOn's Russell modules / calendar "
                "(provider + first available_at) / sum, ms (median)",
                f"{fmt(s['import_ms'], '.0f')} / {fmt(s['calendar_ms'], '.0f')} / "
                f"**{fmt(s['fixed_ms'], '.0f')}**"))
        add(row(f"fresh process, {what}: index load (read RUT.csv, validate), ms; "
                "exchange_calendars imported at all",
                f"{fmt(s['index_load_ms'], '.0f')}; {s['xcals_imported']}"))
    add("")
    add("r2k_* dtypes: " + ", ".join(f"`{c}` {d}" for c, d in core.get("r2k_dtypes", {}).items()))
    add("")


def _backtest(bt: dict, cfg: dict, add: Callable[[str], None]) -> None:
    add(f"## Backtest ({cfg['bt_timerange']}, 10 pairs, fresh process per run, median of "
        f"{cfg['reps']})")
    add("")
    names = list(bt)
    add(row("measurement", *names))
    add("|---|" + "---:|" * len(names))

    def line(label: str, value: Callable[[dict], str]) -> None:
        add(row(label, *(value(bt[n]) for n in names)))

    line("wall (s)", lambda x: fmt(x["wall"]))
    line("runs, wall (s)", lambda x: ", ".join(fmt(w) for w in x["walls"]))
    line("CPU user + sys (s)", lambda x: fmt(x["cpu"]))
    for key, label in (("indicators", "phase: populate_indicators, 10 pairs (s)"),
                       ("signals", "phase: entry/exit signals, 10 pairs (s)"),
                       ("loop", "phase: backtest loop (scales with trades) (s)")):
        line(label, lambda x, k=key: fmt(x["phases"].get(k)))
    line("trades", lambda x: str(x["trades"]))
    line("total profit USDT (%)",
         lambda x: f"{fmt(x['profit_abs'])} ({fmt(x['profit_pct'])} %)")
    line("peak RSS (VmHWM, MB)", lambda x: fmt(x["rss_mb"], ".0f"))
    line("gate modes applied", lambda x: str(x.get("modes") or "-"))
    add("")
    g, o = bt["RussellRiskOn"], bt["RussellRiskOnOff"]
    add(f"RussellRiskOn gated / every gate off: wall {r(g['wall'], o['wall'], True)}, CPU "
        f"{r(g['cpu'], o['cpu'])}, peak RSS {r(g['rss_mb'], o['rss_mb'])} (target wall <= 1.05; "
        "< 1 means the gated run is cheaper: it blocks entries and the loop scales with trades).")
    if "PlainSample" in bt:
        gs, go, p = bt["GatedSample"], bt["GatedSampleOff"], bt["PlainSample"]
        same = go["trades"] == p["trades"] and abs(go["profit_abs"] - p["profit_abs"]) < 1e-6
        add("")
        add(f"GatedSample gated / off: wall {r(gs['wall'], go['wall'])}; every gate off vs plain "
            f"SampleStrategy (the whole Russell machinery when it changes nothing): wall "
            f"{r(go['wall'], p['wall'])}, CPU {r(go['cpu'], p['cpu'])}, peak RSS "
            f"{r(go['rss_mb'], p['rss_mb'])}; same trades and profit: {'yes' if same else 'NO'}.")
    add("")


def _hyperopt(ho: dict, cfg: dict, add: Callable[[str], None]) -> None:
    add(f"## Hyperopt RussellRiskOn: `--spaces russell` vs `--spaces buy` ({cfg['ho_timerange']},"
        f" 10 pairs, {cfg['epochs']} epochs, SharpeHyperOptLoss, --random-state 42)")
    add("")
    add(row("measurement", "--spaces russell", "--spaces buy", "ratio"))
    add("|---|---:|---:|---:|")
    for jobs_key in sorted(k for k in ho if k != "errors"):
        jobs = jobs_key[1:]
        if not all(ho[jobs_key].get(space) for space in ("russell", "buy")):
            continue
        runs = ho[jobs_key]["russell"], ho[jobs_key]["buy"]

        def med(key: str, runs=runs) -> tuple[float, float]:
            return tuple(median([s.get(key, float("nan")) for s in rs]) for rs in runs)

        def line(label: str, key: str, spec: str = ".3f", bold: bool = False):
            a, b = med(key)
            add(row(label, fmt(a, spec), fmt(b, spec), r(a, b, bold)))
            return a, b

        line(f"s/epoch, -j {jobs}, excl. startup (median of {len(runs[0])})", "per_epoch_s",
             bold=True)
        if jobs == "1":
            line("CPU s/epoch, -j 1, excl. startup", "cpu_per_epoch_s")
            line("epoch evaluation (generate_optimizer), median (s)", "eval_median_s")
            rs, bs = line("of which signal generation, 10 pairs (the gate runs here), mean (ms)",
                          "signals_mean_ms", ".1f")
            line("of which backtest loop + trade handling, mean (s)", "loop_mean_s")
            line("of which data pickle load + result statistics, mean (s)", "rest_mean_s")
            share = 100 * (rs - bs) / 1000 / med("per_epoch_s")[1]
            add(row("gate overhead per epoch = signal generation russell - buy, ms (% of a buy "
                    "epoch)", f"{fmt(rs - bs, '.1f')} ({fmt(share, '.1f')} %)", "0", ""))
        else:
            line(f"s/epoch, -j {jobs}, excl. startup and the first batch",
                 "per_epoch_after_first_s")
        line(f"trades per epoch, mean, -j {jobs}", "trades_mean", ".0f")
        line(f"startup before the first epoch, -j {jobs} (s)", "startup_s", ".1f")
        line(f"peak RSS of the hyperopt main process, -j {jobs} (MB)", "rss_mb", ".0f")
    add("")
    for error in ho.get("errors", []):
        add(f"**Failed:** `{error}`")
        add("")
    first = ho["j1"]["russell"][0]
    if first.get("pickle_error"):
        add(f"Per-task pickle not measured: {first['pickle_error']}")
        add("")
        return
    add(f"Per-task pickle (what joblib ships to a worker per batch with -j > 1): "
        f"{fmt(first.get('pickle_mb'))} MB, pickled in "
        f"{fmt((first.get('pickle_s') or 0) * 1000, '.0f')} ms; of it the RegimeProvider "
        f"{fmt(first.get('regime_pickle_mb'))} MB.")
    add("")


def _live(live: dict, add: Callable[[str], None]) -> None:
    add("## Live tick: `russell_loop(now)` (freqtrade's `analyze`, once per bot loop)")
    add("")
    add(row("measurement", "gated", "every gate off"))
    add("|---|---:|---:|")
    g, o = live["gated"], live["off"]
    for key, label in (("per_call_us", "per tick, no refresh due (us)"),
                       ("worst_batch_us", "slowest batch of 100 ticks (us/tick)"),
                       ("first_call_ms", "first tick (starts the first refresh) (ms)"),
                       ("install_call_ms", "tick that installs it (ms)")):
        add(row(label, fmt(g.get(key)), fmt(o.get(key))))
    add("")
    add(f"Live object {g.get('live_object')}; data loaded after the install: {g.get('loaded')}; "
        f"a refresh in flight at the end: {g.get('busy_end')}.")
    add("")


def _profile(prof: dict, cfg: dict, add: Callable[[str], None]) -> None:
    add("## Profile (cProfile): Russell-attributable cost")
    add("")
    for key, label in (("backtest", "gated RussellRiskOn backtest"),
                       ("hyperopt", f"{cfg['profile_epochs']} `--spaces russell` epochs")):
        p = prof[key]
        add(f"**{label}**: profiled total {p['total_s']:.2f} s; inside the russell_regime "
            f"package {p['russell_pkg_s']:.3f} s ({100 * p['russell_pkg_s'] / p['total_s']:.2f} "
            f"%), of which module imports {p['imports_s']:.3f} s. RussellRiskOn.py callbacks "
            "include its own signal.")
        add("")
        add(row("function", "calls", "tottime s", "cumtime s"))
        add("|---|---:|---:|---:|")
        for item in p["top"]:
            add(row(item["func"], item["calls"], f"{item['tottime']:.3f}",
                    f"{item['cumtime']:.3f}"))
        add("")


def render(res: dict) -> str:
    cfg, quick = res["cfg"], res.get("quick", False)
    lines: list[str] = []
    add = lines.append
    add(f"# Russell gate cost benchmark ({'QUICK' if quick else 'full'} run)")
    add("")
    add(f"`{res.get('command')}` on {res.get('host')}, {res.get('finished')}, total "
        f"{res.get('elapsed_s', 0) / 60:.1f} min. Load average (1/5 min) at start "
        f"{res['load_start']}, end {res.get('load_end')} (the machine is shared with other "
        "processes; CPU times are less sensitive to that).")
    add("")
    if res.get("core_note"):
        add(f"Note: {res['core_note']}.")
        add("")
    _targets(res, add)
    if res.get("core"):
        _core(res["core"], add)
    if res.get("backtest"):
        _backtest(res["backtest"], cfg, add)
    if res.get("hyperopt"):
        _hyperopt(res["hyperopt"], cfg, add)
    if res.get("live"):
        _live(res["live"], add)
    if res.get("profile"):
        _profile(res["profile"], cfg, add)
    add("Method: the docstrings of benchmarks/gate/*.py (one module per section).")
    return "\n".join(lines) + "\n"
