"""Benchmark `incremental`: cold build, warm no-change build, one content file changed.

    .venv/bin/python benchmarks/incremental.py [--by edition,subsector] [--jobs N]

For each build (``edition``: the default build of one edition, website and
PDF, ``python build.py``; or a fan-out, ``python build.py --by <dimension>``)
runs the build three times (wall clock, interpreter start included) in a
scratch copy of the repository's data, notebooks and templates
(``BAROMETER_ROOT``), with an empty cache:

1. cold: every chapter (or unit report and the index) runs;
2. warm, nothing changed: nothing runs (the edition build checks its inputs'
   checksums and stops; a fan-out takes every report from the cache);
3. one content file changed (a case shown by one chapter, and by one
   sub-sector's report): only what used it runs again;
4. (edition only) one chapter notebook changed (a markdown cell added to
   ``02_types.ipynb``): that chapter runs again, and the website and the PDF
   are made again (issue 16's target: <= 4 s).

With ``--warm`` every build goes through the build server (``build.py
--warm``): the cold build starts it (so it is still cold: no process of an
earlier build is running), the others find it warm; then (edition only) a
``--force`` build through it, the second of two: every chapter runs and
every chart is drawn again, in warm processes.  The server is stopped at the end.

For the cold and the changed build it prints the phases from the build's
manifest (``timings_seconds``: plan, data, the chapters or reports, site,
PDF, total) and when the last warm worker was ready (seconds since the
build's interpreter started; build.py runs under a small wrapper that notes
it).  The machine is shared: compare against a baseline (another checkout's
``benchmarks/incremental.py``) run alternately in the same session.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = "data/content/2018/cases/safer-train-stations.yaml"
NOTEBOOK = "notebooks/02_types.ipynb"
#: build.py, noting when each warm worker said it was ready (seconds since the interpreter ran this)
WRAPPER = """
import atexit, json, runpy, sys, time
T0 = time.perf_counter()
sys.path.insert(0, sys.argv[1] + "/src")
from barometer.engine import executors
ready = []
start = executors.WarmWorker.start
def timed(self):
    start(self)
    ready.append(round(time.perf_counter() - T0, 3))
executors.WarmWorker.start = timed
atexit.register(lambda: print("BENCH " + json.dumps({"workers_ready": ready}), file=sys.stderr))
sys.argv = [sys.argv[1] + "/build.py", *sys.argv[2:]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


#: options every build of this run gets (``--warm``: through the build server)
EXTRA: list[str] = []


def run(root: Path, by: str, jobs: int, *more: str) -> tuple[float, dict, str]:
    cmd = [sys.executable, "-c", WRAPPER, str(ROOT)] + ([] if by == "edition" else ["--by", by])
    cmd += (["--jobs", str(jobs)] if jobs else []) + EXTRA + list(more)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=root, env=dict(os.environ, BAROMETER_ROOT=str(root), BAROMETER_WARM_IDLE="300"),
                       capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"build failed:\n{r.stderr[-3000:]}")
    out = "_build/2018-dk-da" if by == "edition" else f"_build/2018-dk-da-by-{by}"
    m = json.loads((root / out / "manifest.json").read_text())
    bench = [json.loads(line[6:]) for line in r.stderr.splitlines() if line.startswith("BENCH ")]
    m["_workers_ready"] = bench[-1]["workers_ready"] if bench else []
    return seconds, m, r.stdout


def phases(seconds: float, m: dict) -> str:
    """The build's phases (its manifest's timings), and when its last warm worker was ready."""
    t = m["timings_seconds"]
    ready = m["_workers_ready"]
    parts = [f"plan {t.get('plan', 0):.2f}"] + ([f"data {t['data']:.2f}"] if "data" in t else []) + [
        f"workers ready at {max(ready):.2f}" if ready else ("the server's workers" if EXTRA else "no worker"),
        f"{'chapters' if 'pdf' in t or 'site' in t else 'reports'} {t.get('execute', 0):.2f}",
        f"site {t['site']:.2f}" if "site" in t else "", f"pdf {t['pdf']:.2f}" if "pdf" in t else "",
        f"total {t.get('total', 0):.2f} (wall {seconds:.2f})"]
    return ", ".join(p for p in parts if p)


def _items(by: str, m: dict) -> list[dict]:
    return m["tasks"]


def bench(by: str, jobs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-incremental-") as t:
        root = Path(t)
        for d in ("data", "notebooks", "report_templates"):
            shutil.copytree(ROOT / d, root / d)
        try:
            _bench(root, by, jobs)
        finally:
            if EXTRA:
                subprocess.run([sys.executable, str(ROOT / "build.py"), "--stop-server"], cwd=root,
                               env=dict(os.environ, BAROMETER_ROOT=str(root)), capture_output=True)


def _bench(root: Path, by: str, jobs: int) -> None:
    what = "chapters" if by == "edition" else "reports"
    cold, m1, _ = run(root, by, jobs)
    n = len(_items(by, m1))
    ran = sum(x["cache"] == "miss" for x in _items(by, m1))
    print(f"[{by}] cold:    {cold:7.2f} s  ({ran} of {n} {what} run)", flush=True)
    print(f"[{by}]   phases: {phases(cold, m1)}", flush=True)
    warm, m2, out = run(root, by, jobs)
    detail = "up to date, nothing ran or written" if "is up to date" in out else "REBUILT"
    print(f"[{by}] warm:    {warm:7.2f} s  ({detail})", flush=True)
    case = root / CASE
    case.write_text(case.read_text(encoding="utf-8").replace("trygge", "mere trygge"), encoding="utf-8")
    changed, m3, _ = run(root, by, jobs)
    rerun = [x.get("id") or x["notebook"] for x in _items(by, m3) if x["cache"] == "miss"]
    hits = sum(x["cache"] == "hit" for x in _items(by, m3))
    print(f"[{by}] changed: {changed:7.2f} s  ({CASE} changed; re-ran {', '.join(rerun) or 'nothing'}, "
          f"{hits} of {n} from the cache)")
    print(f"[{by}]   phases: {phases(changed, m3)}", flush=True)
    print(f"RATIO incremental[{by}]: warm no-change build {cold / warm:.0f}x faster than cold "
          f"(target >= 20x; warm {warm:.2f} s, target < 1 s); one content file changed: "
          f"{cold / changed:.1f}x faster than cold", flush=True)
    if by != "edition":
        return
    import nbformat

    nb = nbformat.read(root / NOTEBOOK, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_markdown_cell("Et nyt afsnit om typerne af innovation."))
    nbformat.write(nb, root / NOTEBOOK)
    chapter, m4, _ = run(root, by, jobs)
    rerun = [x.get("id") or x["notebook"] for x in _items(by, m4) if x["cache"] == "miss"]
    print(f"[{by}] chapter: {chapter:7.2f} s  ({NOTEBOOK} changed; re-ran {', '.join(rerun) or 'nothing'})")
    print(f"[{by}]   phases: {phases(chapter, m4)}", flush=True)
    print(f"RATIO incremental[{by}-chapter]: one chapter notebook changed {chapter:.2f} s "
          f"(target <= 4 s, PDF included), {cold / chapter:.1f}x faster than cold", flush=True)
    if not EXTRA:
        return
    run(root, by, jobs, "--force")  # the server's --force options start workers of their own: warm them
    forced, m5, _ = run(root, by, jobs, "--force")
    print(f"[{by}] forced:  {forced:7.2f} s  (--force through the warm server: every chapter runs, "
          f"every chart is drawn again)")
    print(f"[{by}]   phases: {phases(forced, m5)}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--by", default="edition,subsector",
                    help="comma-separated: edition and/or fan-out dimensions (default: edition,subsector)")
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--warm", action="store_true",
                    help="every build through the build server (build.py --warm): the cold build starts it, the "
                         "others find it warm; then a --force build through it (every chapter run again)")
    a = ap.parse_args()
    if a.warm:
        EXTRA.append("--warm")
    for by in a.by.split(","):
        bench(by.strip(), a.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
