"""Benchmark `site`: ``build.py --site`` cold, unchanged, and after one content file changed.

    .venv/bin/python benchmarks/site.py [--no-pdf] [--jobs N] [--baseline]

Runs in a scratch copy of the repository's data, notebooks and templates
(``BAROMETER_ROOT``, no git: the commit in the keys stays the same), with an empty cache,
wall clock with the interpreter's start:

1. cold: every report of every edition, country and language built (in parallel), the site
   assembled;
2. unchanged: nothing is built or written (target < 1 s);
3. one content file of the 2018 edition changed (a case): only the 2018 reports are built
   again, only the chapters that show the case re-run, the site is assembled again;
4. ``--baseline``: the same cold builds one after another (``build.py --edition E --country C
   --lang L`` for each report, in a second scratch copy with its own empty cache), the way
   ``--site`` built them before it built them in parallel; printed as a ratio.

Prints the site's size (``du -sh``) and the size the executed notebooks would add.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = "data/content/2018/cases/safer-train-stations.yaml"


def _scratch(t: str) -> Path:
    root = Path(t)
    for d in ("data", "notebooks", "report_templates"):
        shutil.copytree(ROOT / d, root / d)
    return root


def run(root: Path, args: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=root, capture_output=True, text=True,
                       env=dict(os.environ, BAROMETER_ROOT=str(root)))
    seconds = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"build failed:\n{r.stderr[-3000:]}")
    return seconds, r.stdout


def du(path: Path) -> str:
    return subprocess.run(["du", "-sh", str(path)], capture_output=True, text=True).stdout.split()[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-pdf", action="store_true")
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--baseline", action="store_true", help="also build the reports one after another")
    a = ap.parse_args()
    opts = (["--no-pdf"] if a.no_pdf else []) + (["--jobs", str(a.jobs)] if a.jobs else [])
    with tempfile.TemporaryDirectory(prefix="bench-site-") as t:
        root = _scratch(t)
        cold, out = run(root, ["--site", *opts])
        built = re.findall(r"^\[([0-9]{4}-[a-z]{2}-[a-z]{2})\] built", out, re.M)
        print(f"[site] cold:      {cold:7.2f} s  ({len(built)} reports built and assembled)", flush=True)
        site = root / "_build" / "site"
        notebooks = sum(p.stat().st_size for p in (root / "_build").glob("*/notebooks/*") if p.is_file())
        print(f"[site] size:      {du(site)} (du -sh _build/site); the reports' executed notebooks, not "
              f"published in the site: {notebooks / 1e6:.1f} MB", flush=True)
        warm, out = run(root, ["--site", *opts])
        detail = "nothing built or written" if "is up to date" in out and " built " not in out else "REBUILT"
        print(f"[site] unchanged: {warm:7.2f} s  ({detail})", flush=True)
        case = root / CASE
        case.write_text(case.read_text(encoding="utf-8").replace("trygge", "mere trygge"), encoding="utf-8")
        changed, out = run(root, ["--site", *opts])
        rebuilt = re.findall(r"^\[([0-9]{4}-[a-z]{2}-[a-z]{2})\] built .*?(\d+) run, (\d+) from the cache", out, re.M)
        current = re.findall(r"/_build/([0-9]{4}-[a-z]{2}-[a-z]{2}) is up to date", out)
        print(f"[site] changed:   {changed:7.2f} s  ({CASE} changed; rebuilt "
              f"{', '.join(f'{s} ({n} chapter(s) run, {h} from the cache)' for s, n, h in rebuilt) or 'nothing'}; "
              f"up to date: {', '.join(current) or 'none'})", flush=True)
        print(f"RATIO site: unchanged {cold / warm:.0f}x faster than cold (unchanged {warm:.2f} s, target < 1 s); "
              f"one content file changed {cold / changed:.1f}x faster than cold", flush=True)
    if a.baseline:
        from barometer.build.pubsite import reports

        with tempfile.TemporaryDirectory(prefix="bench-site-serial-") as t:
            root = _scratch(t)
            t0 = time.perf_counter()
            for r in reports():
                run(root, ["--edition", r.edition, "--country", r.country, "--lang", r.lang, "--quiet", *opts])
            serial = time.perf_counter() - t0
        print(f"[baseline] the same reports one after another: {serial:7.2f} s", flush=True)
        print(f"RATIO site: cold --site (reports in parallel) {serial / cold:.2f}x faster than building them one "
              f"after another", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
