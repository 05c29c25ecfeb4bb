"""Benchmark `figures`: what a chapter spends per figure after its estimates, old path against new.

    .venv/bin/python benchmarks/figures.py [--edition 2018] [--repeat 3] [--base 6460ba8]

For every chart figure of the edition's Danish build (its rows taken from a
build's ``estimates.csv``, made here in memory: the rows of the figures the
chapters draw with ``charts.bars_ci`` and ``charts.grouped``), in one process
and interleaved figure by figure so both see the same machine:

- old: the chart builders of commit ``--base`` (``git show``), an Altair chart
  turned into Vega-Lite three times with JSON-schema validation (spec, SVG and
  PNG), the SVG rendered by vl-convert and the PNG rendered again from the spec;
- new: this checkout's builders (a dict per layout, wide and narrow, made
  once), one SVG per layout, the download frame, and the PNG rasterised from
  the framed SVG (``vl_convert.svg_to_png``).

Prints per figure the median over ``--repeat`` runs of wall-clock ms (and
process CPU ms, vl-convert's threads included) and the ratio old/new.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def old_charts(base: str):
    """The ``barometer.charts`` module of commit ``base``, importable beside this checkout's."""
    try:
        text = subprocess.run(["git", "show", f"{base}:src/barometer/charts.py"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        sys.exit(f"error: cannot read src/barometer/charts.py of commit {base} (git show failed); give --base")
    path = Path(tempfile.mkdtemp(prefix="bench-figures-")) / "old_charts.py"
    path.write_text(text.replace("from . import i18n", "from barometer import i18n"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("old_charts", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def chart_inputs(edition: str):
    """(figure id, kind, chart data) of every bar and Danish-Norwegian figure of the build."""
    import pandas as pd

    from barometer import estimates, figures
    from barometer.chapter import Chapter
    from barometer.reportconfig import figures_for, report_config

    cfg = report_config(edition)
    out = []
    chapters: dict[str, Chapter] = {}
    for fig_id, spec in figures_for(cfg, "dk").items():
        kind = spec.get("type", "shares")
        if spec["chapter"] not in chapters:
            chapters[spec["chapter"]] = Chapter(spec["chapter"], edition=edition, country="dk", lang="da")
        ch = chapters[spec["chapter"]]
        if kind == "comparison" or "factbox" in spec:
            rows = pd.concat([estimates.shares(ch.data(c), spec["measures"], spec["population"], fig_id)
                              for c in ("dk", "no")], ignore_index=True)
            out.append((fig_id, "grouped", ch.comparison_data(ch.test_countries(rows, spec))))
        elif kind == "shares" and "measures" in spec:
            rows = estimates.shares(ch.data(spec.get("data_country")), spec["measures"], spec["population"], fig_id)
            out.append((fig_id, "bars", ch.bar_data(figures.disclosure.protect(rows))))
    return out


def old_path(mod, kind: str, data) -> None:
    chart = mod.grouped(data, "da") if kind == "grouped" else mod.bars_ci(data, "da")
    svg = mod.to_svg(chart)
    mod.to_spec(chart)
    mod.to_png(chart)
    assert svg.startswith("<svg")


STEPS: dict[str, list[float]] = {"spec": [], "svg wide": [], "svg narrow": [], "png": []}


def new_path(kind: str, data) -> None:
    from barometer import charts

    def step(name, fn, *args):
        t = time.perf_counter()
        out = fn(*args)
        STEPS[name].append(1000 * (time.perf_counter() - t))
        return out

    specs = step("spec", lambda: charts.specs(
        charts.grouped(data, "da") if kind == "grouped" else charts.bars_ci(data, "da"), description="Søjlediagram."))
    svgs = {k: step(f"svg {k}", charts.svg_of, v) for k, v in specs.items()}
    head, foot = charts.frame(svgs["wide"], "Overskrift", ["Kilde: Innovationsbarometeret.", "N = 1.942."])
    step("png", charts.png_of, head + svgs["wide"] + foot)


def timed(fn, *args) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn(*args)
    return 1000 * (time.perf_counter() - w), 1000 * (time.process_time() - c)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edition", default="2018")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--base", default="6460ba8", help="commit whose chart code is the old path")
    args = ap.parse_args()
    mod = old_charts(args.base)
    inputs = chart_inputs(args.edition)
    old_path(mod, inputs[0][1], inputs[0][2])  # vl-convert's JavaScript runtime starts on the first call
    new_path(inputs[0][1], inputs[0][2])
    for v in STEPS.values():
        v.clear()
    print(f"{'figure':<28} {'old ms':>8} {'new ms':>8} {'ratio':>6}   {'old cpu':>8} {'new cpu':>8}")
    totals = {"old": [], "new": [], "old_cpu": [], "new_cpu": []}
    for fig_id, kind, data in inputs:
        o, n = [], []
        for _ in range(args.repeat):
            o.append(timed(old_path, mod, kind, data))
            n.append(timed(new_path, kind, data))
        ow, nw = statistics.median(x[0] for x in o), statistics.median(x[0] for x in n)
        oc, nc = statistics.median(x[1] for x in o), statistics.median(x[1] for x in n)
        for k, v in (("old", ow), ("new", nw), ("old_cpu", oc), ("new_cpu", nc)):
            totals[k].append(v)
        print(f"{fig_id:<28} {ow:8.1f} {nw:8.1f} {ow / nw:6.2f}   {oc:8.1f} {nc:8.1f}")
    med = {k: statistics.median(v) for k, v in totals.items()}
    print(f"{'median':<28} {med['old']:8.1f} {med['new']:8.1f} {med['old'] / med['new']:6.2f}   "
          f"{med['old_cpu']:8.1f} {med['new_cpu']:8.1f}")
    print("new path, median ms per step: " + ", ".join(f"{k} {statistics.median(v):.1f}" for k, v in STEPS.items()))
    print(f"figures: {len(inputs)}; old total {sum(totals['old']) / 1000:.2f} s, new total "
          f"{sum(totals['new']) / 1000:.2f} s: {sum(totals['old']) / sum(totals['new']):.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
