"""Benchmark `incremental`: cold build, warm no-change build, one content file changed.

    .venv/bin/python benchmarks/incremental.py [--by subsector] [--jobs N]

Runs ``python build.py --by <by>`` three times (wall clock, interpreter start
included) in a scratch copy of the repository's data, notebooks and templates
(``BAROMETER_ROOT``), with an empty cache:

1. cold: every unit report and the index run;
2. warm, nothing changed: everything comes from the cache;
3. one content file changed (a case shown by one sub-sector's report): only
   the reports that used it run again.
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


def run(root: Path, by: str, jobs: int) -> tuple[float, dict]:
    cmd = [sys.executable, str(ROOT / "build.py"), "--by", by, "--quiet"] + (["--jobs", str(jobs)] if jobs else [])
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=root, env=dict(os.environ, BAROMETER_ROOT=str(root)), capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"build failed:\n{r.stderr[-3000:]}")
    m = json.loads((root / f"_build/2018-dk-da-by-{by}/manifest.json").read_text())
    return seconds, m


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--by", default="subsector")
    ap.add_argument("--jobs", type=int, default=0)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-incremental-") as t:
        root = Path(t)
        for d in ("data", "notebooks", "report_templates"):
            shutil.copytree(ROOT / d, root / d)
        cold, m1 = run(root, a.by, a.jobs)
        n = len(m1["reports"])
        print(f"cold:    {cold:7.2f} s  ({m1['misses']} of {n} reports run)", flush=True)
        warm, m2 = run(root, a.by, a.jobs)
        print(f"warm:    {warm:7.2f} s  ({m2['hits']} of {n} from the cache; engine's own total "
              f"{m2['timings_seconds']['total']:.3f} s)", flush=True)
        case = root / CASE
        case.write_text(case.read_text(encoding="utf-8").replace("trygge", "mere trygge"), encoding="utf-8")
        changed, m3 = run(root, a.by, a.jobs)
        rerun = [r["id"] for r in m3["reports"] if r["cache"] == "miss"]
        print(f"changed: {changed:7.2f} s  ({CASE} changed; re-ran {', '.join(rerun) or 'nothing'}, "
              f"{m3['hits']} of {n} from the cache)")
        print(f"RATIO incremental: warm no-change build {cold / warm:.0f}x faster than cold "
              f"(target >= 20x; warm {warm:.2f} s, target < 1 s); one content file changed: "
              f"{cold / changed:.1f}x faster than cold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
