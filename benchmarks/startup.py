"""Benchmark `startup`: how long an edition build takes until its chapters can run.

    .venv/bin/python benchmarks/startup.py --baseline /path/to/another/checkout [--rounds 5] [--jobs 2]

A build with ``--force --no-pdf`` (in a scratch copy of the data, notebooks and
templates, ``BAROMETER_ROOT``) is stopped when the chapters would start: at
that moment the plan is made, the data are loaded and checked, and every
warm worker has said it is ready (it has imported its stack).  That moment,
in seconds since the build's interpreter started, is the fixed cost every
build that runs a chapter pays before the first chapter runs.  It is taken
for this checkout and for ``--baseline`` (e.g. an older commit exported with
``git archive``), alternately, ``--rounds`` times each, and the medians are
compared: the machine may be shared, so only a comparison within one run
means anything.  Both checkouts need their synthetic sample generated.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: build.py until its executor is asked to run the chapters: then every worker is started
#: (in parallel, as the executor would) and the time they are all ready is printed
WRAPPER = """
import json, sys, threading, time
T0 = time.perf_counter()
sys.path.insert(0, sys.argv[1] + "/src")
from barometer.engine import executors

class Stop(BaseException):
    pass

def run(self, jobs, on_start, on_done):
    n = min(self.jobs, len(jobs))
    while len(self._pool) < n:
        self._pool.append(self._worker(len(self._pool)))
    threads = [threading.Thread(target=w.start) for w in self._pool[:n]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("STARTUP " + json.dumps({"ready": time.perf_counter() - T0, "workers": n}), flush=True)
    raise Stop

executors.LocalExecutor.run = run
sys.argv = [sys.argv[1] + "/build.py", *sys.argv[2:]]
from barometer.cli import main
try:
    main(sys.argv[1:])
except Stop:
    pass
"""


def once(checkout: Path, root: Path, jobs: int) -> float:
    cmd = [sys.executable, "-c", WRAPPER, str(checkout), "--force", "--no-pdf", "--quiet", "--jobs", str(jobs)]
    r = subprocess.run(cmd, cwd=root, env=dict(os.environ, BAROMETER_ROOT=str(root)), capture_output=True,
                       text=True)
    lines = [json.loads(x[8:]) for x in r.stdout.splitlines() if x.startswith("STARTUP ")]
    if not lines:
        sys.exit(f"{checkout}: the build did not reach its chapters:\n{r.stderr[-3000:]}")
    return lines[0]["ready"]


def scratch(checkout: Path, parent: Path) -> Path:
    root = parent / checkout.name
    for d in ("data", "notebooks", "report_templates"):
        shutil.copytree(checkout / d, root / d)
    return root


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", type=Path, required=True, help="another checkout (its src/, build.py, data/)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    arms = {"this": ROOT, "baseline": a.baseline.resolve()}
    times: dict[str, list[float]] = {k: [] for k in arms}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as t:
        roots = {k: scratch(c, Path(t) / k) for k, c in arms.items()}
        for k, c in arms.items():  # the first build of each also warms the disk cache
            once(c, roots[k], a.jobs)
        for i in range(a.rounds):
            for k, c in arms.items():
                times[k].append(once(c, roots[k], a.jobs))
                print(f"round {i + 1} {k:8s}: chapters can start at {times[k][-1]:6.2f} s", flush=True)
    this, base = statistics.median(times["this"]), statistics.median(times["baseline"])
    print(f"RATIO startup: chapters can start at {this:.2f} s (median of {a.rounds}) against {base:.2f} s for the "
          f"baseline: {base / this:.2f}x sooner")
    return 0


if __name__ == "__main__":
    sys.exit(main())
