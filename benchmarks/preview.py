"""Benchmark `preview`: from a saved edit to the refreshed page, against a plain rebuild of the same edit.

    .venv/bin/python benchmarks/preview.py [--edition 2018] [--country dk] [--port 8765] [--repeat 3]

In a scratch copy of the repository's data, notebooks and templates
(``BAROMETER_ROOT``, empty cache) it first builds the website once (cold),
then, for each kind of edit, ``--repeat`` times:

1. a figure headline in the report YAML (``data/report/<edition>.yaml``),
2. a content file (a case's title, ``data/content/<edition>/cases/``),
3. a chapter notebook (a new markdown cell),

**baseline**: saves the edit and runs the plain rebuild (``build.py --no-pdf``
in a fresh process, from the cache: what a preview that builds in a child
process per save does); then starts ``build.py --serve`` (warm build process
and workers) and, per edit, measures the seconds from the save until the
preview's page shows it (the page is fetched once the server says a build
published; the state is asked as often as the injected script asks it).  It
prints the medians, the chapters that ran again, the ratio baseline /
preview and the phases of the first and the last preview build.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from barometer.build.serve import RELOAD_POLL_MS  # noqa: E402


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode("utf-8")


def _state(port: int) -> dict:
    try:
        return json.loads(_get(f"http://127.0.0.1:{port}/__barometer/state"))
    except OSError:
        return {}


def _wait_published(port: int, proc, version: int, timeout: float = 1800) -> dict:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        s = _state(port)
        if s.get("error"):
            sys.exit(f"the preview's build failed: {s['error']}")
        if s.get("version", 0) > version:
            return s
        if proc.poll() is not None:
            sys.exit(f"the preview ended:\n{proc.stderr.read()[-3000:]}")
        time.sleep(RELOAD_POLL_MS / 1000)  # as often as the page's script asks
    sys.exit("the preview did not publish in time")


def _edit_yaml_headline(root: Path, edition: str, marker: str) -> None:
    """Prefix the first Danish headline of the report YAML with ``marker``."""
    p = root / "data" / "report" / f"{edition}.yaml"
    text = p.read_text(encoding="utf-8")
    m = re.search(r'\n  ([a-z0-9_]+):\n    chapter: ([a-z_]+)\n(?:    .*\n)*?    headline:\n      da: "', text)
    p.write_text(text[:m.end()] + marker + " " + text[m.end():], encoding="utf-8")


def _edit_case(root: Path, edition: str, marker: str) -> None:
    case = sorted((root / "data" / "content" / edition / "cases").glob("*.yaml"))[0]
    new, n = re.subn(r"(\n  da: ?\"?)", r"\1" + marker + " ", case.read_text(encoding="utf-8"), count=1)
    if not n:
        sys.exit(f"no Danish text found to edit in {case}")
    case.write_text(new, encoding="utf-8")


def _edit_notebook(root: Path, notebook: str, marker: str) -> None:
    import nbformat

    p = root / "notebooks" / notebook
    nb = nbformat.read(p, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_markdown_cell(marker))
    nbformat.write(nb, p)


def _pages_with(site: Path, marker: str) -> list[str]:
    return [p.relative_to(site).as_posix() for p in site.rglob("*.html") if marker in p.read_text(encoding="utf-8")]


def _ran(site: Path) -> list[str]:
    m = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    return [t["notebook"] for t in m["tasks"] if t["cache"] == "miss"]


def _phases(site: Path) -> dict:
    """The build's own phase times (``manifest.json`` ``timings_seconds``) and each chapter that ran."""
    m = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    out = {k: v for k, v in m["timings_seconds"].items() if v >= 0.05}
    out.update({t["id"]: t["seconds"] for t in m["tasks"] if t["cache"] == "miss"})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edition", default="2018")
    ap.add_argument("--country", default="dk")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--settle", type=float, default=0.0,
                    help="seconds to wait after the preview's first build before the first edit (default 0: the "
                         "first edit may wait for the preview's warm-up and rehearsal, ~2-3 s)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as t:
        root = Path(t)
        for d in ("data", "notebooks", "report_templates"):
            shutil.copytree(ROOT / d, root / d, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        env = dict(os.environ, BAROMETER_ROOT=str(root), PYTHONPATH=str(ROOT / "src"))
        opts = ["--edition", args.edition, "--country", args.country]
        site = root / "_build" / f"{args.edition}-{args.country}-da"

        def plain_build() -> float:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, str(ROOT / "build.py"), *opts, "--no-pdf", "--quiet"], cwd=root, env=env,
                           check=True)
            return time.perf_counter() - t0

        cold = plain_build()
        tasks = json.loads((site / "manifest.json").read_text(encoding="utf-8"))["tasks"]
        print(f"cold build ({len(tasks)} chapters, empty cache, no PDF): {cold:6.2f} s", flush=True)
        notebook = next(c["notebook"] for c in tasks if c["id"] != "front")
        edits = [("report YAML headline", lambda m: _edit_yaml_headline(root, args.edition, m)),
                 ("content file (a case)", lambda m: _edit_case(root, args.edition, m)),
                 (f"notebook ({notebook})", lambda m: _edit_notebook(root, notebook, m))]
        baseline: dict[str, list[float]] = {}
        for what, edit in edits:
            for i in range(args.repeat):
                marker = f"BENCH-PLAIN-{len(baseline)}-{i}"
                edit(marker)
                baseline.setdefault(what, []).append(plain_build())
                assert _pages_with(site, marker), f"the plain rebuild does not show {marker}"
        cmd = [sys.executable, str(ROOT / "build.py"), "--serve", "--port", str(args.port), *opts]
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        preview: dict[str, list[float]] = {}
        ran: dict[str, list[str]] = {}
        phases: dict[str, list[dict]] = {}
        try:
            _wait_published(args.port, proc, 0)  # its first build: up to date
            time.sleep(args.settle)  # its warm-up and rehearsal (an edit sooner waits for them)
            for n, (what, edit) in enumerate(edits):
                for i in range(args.repeat):
                    time.sleep(1.0)  # a distinct mtime
                    while _state(args.port).get("building"):  # edit while the preview is idle
                        time.sleep(0.05)
                    version = _state(args.port)["version"]
                    marker = f"BENCH-PREVIEW-{n}-{i}"
                    t0 = time.perf_counter()
                    edit(marker)
                    while True:  # the first build that publishes the edit
                        s = _wait_published(args.port, proc, version)
                        version = s["version"]
                        pages = _pages_with(site, marker)
                        if pages and marker in _get(f"http://127.0.0.1:{args.port}/{pages[0]}"):
                            break
                    preview.setdefault(what, []).append(time.perf_counter() - t0)
                    ran[what] = _ran(site)
                    phases.setdefault(what, []).append(_phases(site))
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=120)
        print(f"save -> refreshed page, medians of {args.repeat} (baseline: a plain rebuild, build.py --no-pdf in a "
              "fresh process, of the same edit):", flush=True)
        for what, _ in edits:
            b, p = statistics.median(baseline[what]), statistics.median(preview[what])
            print(f"  {what:30s} preview {p:6.2f} s   plain rebuild {b:6.2f} s   plain / preview = {b / p:4.1f}x   "
                  f"({len(ran[what])} of {len(tasks)} chapters ran: {', '.join(ran[what]) or 'none'}; "
                  f"preview runs {', '.join(f'{x:.2f}' for x in preview[what])})", flush=True)
            for which, ph in (("first", phases[what][0]), ("last", phases[what][-1])):
                print(f"      {which} preview build, seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in ph.items()),
                      flush=True)


if __name__ == "__main__":
    main()
