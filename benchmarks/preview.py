"""Benchmark `preview`: from a saved edit to the refreshed page, against a full rebuild.

    .venv/bin/python benchmarks/preview.py [--edition 2018] [--country dk] [--port 8765]

In a scratch copy of the repository's data, notebooks and templates
(``BAROMETER_ROOT``, empty cache) it starts ``build.py --serve`` and waits for
its first build (every chapter runs: the full rebuild this run compares with).
Then, one at a time, it saves an edit and measures the seconds until the
preview's page shows it (the page is fetched the moment the server says a
build published, as the injected script does):

1. a figure headline in the report YAML (``data/report/<edition>.yaml``),
2. a content file (a case's title, ``data/content/<edition>/cases/``),
3. a chapter notebook (a new markdown cell).

For each it prints the seconds, the chapters that ran again (from the
published ``manifest.json``) and the ratio full rebuild / this edit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
        time.sleep(0.05)
    sys.exit("the preview did not publish in time")


def _edit_yaml_headline(root: Path, edition: str) -> tuple[str, str]:
    """Prefix the first Danish headline of the report YAML with a marker; (marker, the page it shows on)."""
    p = root / "data" / "report" / f"{edition}.yaml"
    text = p.read_text(encoding="utf-8")
    m = re.search(r'\n  ([a-z0-9_]+):\n    chapter: ([a-z_]+)\n(?:    .*\n)*?    headline:\n      da: "', text)
    marker = "BENCH-HEADLINE"
    p.write_text(text[:m.end()] + marker + " " + text[m.end():], encoding="utf-8")
    return marker, m.group(2)


def _edit_case(root: Path, edition: str) -> tuple[str, str]:
    case = sorted((root / "data" / "content" / edition / "cases").glob("*.yaml"))[0]
    text = case.read_text(encoding="utf-8")
    marker = "BENCH-CASE"
    new, n = re.subn(r"(\n  da: ?\"?)", r"\1" + marker + " ", text, count=1)
    if not n:
        sys.exit(f"no Danish text found to edit in {case}")
    case.write_text(new, encoding="utf-8")
    return marker, ""


def _edit_notebook(root: Path, notebook: str) -> tuple[str, str]:
    import nbformat

    p = root / "notebooks" / notebook
    nb = nbformat.read(p, as_version=4)
    marker = "BENCH-NOTEBOOK"
    nb.cells.insert(3, nbformat.v4.new_markdown_cell(marker))
    nbformat.write(nb, p)
    return marker, ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edition", default="2018")
    ap.add_argument("--country", default="dk")
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as t:
        root = Path(t)
        for d in ("data", "notebooks", "report_templates"):
            shutil.copytree(ROOT / d, root / d, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        env = dict(os.environ, BAROMETER_ROOT=str(root), PYTHONPATH=str(ROOT / "src"))
        cmd = [sys.executable, str(ROOT / "build.py"), "--serve", "--port", str(args.port), "--edition", args.edition,
               "--country", args.country]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            s = _wait_published(args.port, proc, 0)
            full = time.perf_counter() - t0
            site = root / "_build" / f"{args.edition}-{args.country}-da"
            chapters = json.loads((site / "manifest.json").read_text(encoding="utf-8"))["tasks"]
            print(f"full build (first build of the preview, {len(chapters)} chapters, cold cache): {full:6.2f} s",
                  flush=True)
            notebook = next(c["notebook"] for c in chapters if c["chapter"] != "front")
            edits = [("report YAML headline", lambda: _edit_yaml_headline(root, args.edition)),
                     ("content file (a case)", lambda: _edit_case(root, args.edition)),
                     (f"notebook ({notebook})", lambda: _edit_notebook(root, notebook))]
            for what, edit in edits:
                time.sleep(1.0)  # a distinct mtime
                while _state(args.port).get("building"):  # edit while the preview is idle
                    time.sleep(0.1)
                s = _state(args.port)
                version = s["version"]
                t0 = time.perf_counter()
                marker, _ = edit()
                while True:  # the first build that publishes the edit (a build already queued may publish first)
                    s = _wait_published(args.port, proc, version)
                    version = s["version"]
                    pages = [p.relative_to(site).as_posix() for p in site.rglob("*.html")
                             if marker in p.read_text(encoding="utf-8")]
                    if pages and marker in _get(f"http://127.0.0.1:{args.port}/{pages[0]}"):
                        break
                seconds = time.perf_counter() - t0
                m = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
                ran = [n["notebook"] for n in m["tasks"] if n["cache"] == "miss"]
                print(f"{what:32s} save -> refreshed page {seconds:6.2f} s  ({len(ran)} of {len(m['notebooks'])} "
                      f"chapters ran: {', '.join(ran) or 'none'})  "
                      f"full build / this = {full / seconds:4.1f}x", flush=True)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=120)


if __name__ == "__main__":
    main()
