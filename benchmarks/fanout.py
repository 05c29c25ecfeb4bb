"""Benchmark `fanout`: every unit report of a dimension (HTML), our engine vs a plain papermill loop.

    .venv/bin/python benchmarks/fanout.py [--by municipality|subsector|region] [--jobs N] [--baseline-reports 10]

Engine: ``python build.py --by <dimension> --force`` (cold: every report runs;
warm workers start inside the timing; the index page is included).  Baseline:
a plain loop in one process, per report ``papermill.execute_notebook`` (the
default engine: a fresh kernel per notebook) on the same notebook and
parameters, then nbconvert to HTML with the same exporter.  The baseline times
a representative subset (every k-th municipality) and extrapolates per report
to all of them; the output says so.  Both are measured in this run, on this
machine, so the ratio is what to read when the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


#: the targets of issue 16: the engine's time against the plain loop's, per dimension
TARGET = {"municipality": 20, "subsector": 10}


def engine(by: str, jobs: int, tmp: Path, warm: bool = False) -> tuple[float, int]:
    out = tmp / "engine"
    cmd = [sys.executable, str(ROOT / "build.py"), "--by", by, "--force", "--quiet", "--out", str(out)]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    if warm:
        cmd += ["--warm"]
    env = dict(os.environ, BAROMETER_WARM_IDLE="300")
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"engine build failed:\n{r.stderr[-3000:]}")
    return seconds, len(list((out / "units").glob("*.html")))


def baseline(by: str, codes: list[str], tmp: Path) -> list[float]:
    import nbformat
    import papermill as pm
    from markupsafe import Markup

    from barometer.build import render

    nb_dir = ROOT / "notebooks"
    exporter, page = render.exporter(), render.jinja().get_template("site/page.html.j2")
    times = []
    for code in codes:
        t0 = time.perf_counter()
        out = tmp / f"plain-{code}.ipynb"
        work = tmp / f"plain-{code}"
        work.mkdir()
        pm.execute_notebook(str(nb_dir / "unit_report.ipynb"), str(out), progress_bar=False, cwd=str(nb_dir),
                            parameters={"by": by, "unit": code, "edition": "2018", "country": "dk",
                                        "lang": "da", "data_path": "", "output_dir": str(work)})
        body, _ = exporter.from_notebook_node(nbformat.read(out, as_version=4))
        (tmp / f"plain-{code}.html").write_text(page.render(body=Markup(body), nav=[], root="../"))
        times.append(time.perf_counter() - t0)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--by", default="municipality", help="the dimension (default: municipality, 98 reports)")
    ap.add_argument("--jobs", type=int, default=0, help="engine --jobs (default: the number of cores)")
    ap.add_argument("--baseline-reports", type=int, default=10, help="plain-loop reports to time (default 10)")
    ap.add_argument("--warm", action="store_true",
                    help="the engine through the build server (build.py --warm): timed twice, when it starts "
                         "the server and with the server warm (--force: every report runs, every chart is drawn "
                         "again); the server is stopped at the end")
    a = ap.parse_args()
    from barometer import units

    codes = [u.code for u in units.units(a.by)]
    step = max(1, len(codes) // a.baseline_reports)
    subset = codes[::step][: a.baseline_reports]
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as t:
        tmp = Path(t)
        print(f"machine: {os.cpu_count()} cores; engine --jobs {a.jobs or os.cpu_count()}", flush=True)
        try:
            eng_s, n_pages = engine(a.by, a.jobs, tmp, a.warm)
            print(f"engine:   {n_pages} {a.by} reports + index in {eng_s:.1f} s "
                  f"({eng_s / n_pages:.2f} s per report, " +
                  ("the build server's start included)" if a.warm else "worker start-up included)"), flush=True)
            first = eng_s
            if a.warm:
                eng_s, n_pages = engine(a.by, a.jobs, tmp, a.warm)
                print(f"engine:   {n_pages} {a.by} reports + index in {eng_s:.1f} s through the warm build server "
                      f"({eng_s / n_pages:.2f} s per report)", flush=True)
        finally:
            if a.warm:
                subprocess.run([sys.executable, str(ROOT / "build.py"), "--stop-server"], cwd=ROOT,
                               capture_output=True)
        times = baseline(a.by, subset, tmp)
        per = sum(times) / len(times)
        est = per * len(codes)
        print(f"baseline: plain papermill loop timed on {len(times)} of {len(codes)} reports "
              f"(every {step}th {a.by}): {per:.2f} s per report "
              f"(min {min(times):.2f}, max {max(times):.2f}); extrapolated to all {len(codes)}: {est:.1f} s")
        target = TARGET.get(a.by, 10)
        if a.warm:
            print(f"RATIO fanout[{a.by}]: with the server starting {est / first:.1f}x faster than the plain "
                  f"papermill loop")
        print(f"RATIO fanout[{a.by}]{'[warm]' if a.warm else ''}: engine is {est / eng_s:.1f}x faster than the "
              f"plain papermill loop (target >= {target}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
