"""How long each figure took to draw: spec, SVG, PNG and page, per figure.

:class:`Timer` is what :meth:`barometer.figures.FigureBlocks.figure` times its
steps with; each chapter leaves one small JSON file per figure under
``timings/`` of its output, which the build takes out of the published folder
(:func:`collect`) and can print (:func:`table`).  No heavy imports: the build
process reads them.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

DIR = "timings"
STEPS = ("spec", "svg", "png", "page")


class Timer:
    """Milliseconds per step of one figure; ``timer("svg")`` times a block."""

    def __init__(self, fig_id: str):
        self.fig_id, self.ms, self._t0 = fig_id, {}, time.perf_counter()

    @contextlib.contextmanager
    def __call__(self, step: str):
        t = time.perf_counter()
        try:
            yield
        finally:
            self.ms[step] = self.ms.get(step, 0.0) + 1000 * (time.perf_counter() - t)

    def done(self, output_dir) -> dict:
        """The figure's row (its steps and the total since it started), saved
        as ``<output_dir>/timings/<id>.json`` when there is an output folder."""
        row = {"figure": self.fig_id, **{k: round(self.ms.get(k, 0.0), 1) for k in STEPS},
               "total": round(1000 * (time.perf_counter() - self._t0), 1)}
        if output_dir is not None:
            folder = Path(output_dir) / DIR
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{self.fig_id}.json").write_text(json.dumps(row), encoding="utf-8")
        return row


def collect(work) -> list[dict]:
    """The rows the chapters of a build left under ``<work>/timings/``, in the
    order they were written; the folder is removed (it is never published).
    A chapter taken from the cache gives the times of the run that made its entry."""
    import shutil

    folder = Path(work) / DIR
    if not folder.is_dir():
        return []
    rows = [json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(folder.glob("*.json"), key=lambda p: (p.stat().st_mtime_ns, p.name))]
    shutil.rmtree(folder)
    return rows


def table(rows: list[dict]) -> str:
    """:func:`collect`'s rows as a plain-text table (ms per step and the median)."""
    import statistics

    if not rows:
        return "figure timings: none (no figures)"
    cols = ("spec", "svg", "png", "page", "total")
    width = max(len("figure"), *(len(r["figure"]) for r in rows))
    lines = [f'{"figure":<{width}}  ' + "  ".join(f"{c + ' ms':>9}" for c in cols)]
    lines += [f'{r["figure"]:<{width}}  ' + "  ".join(f"{r[c]:>9.1f}" for c in cols) for r in rows]
    lines.append(f'{"median":<{width}}  ' + "  ".join(f"{statistics.median(r[c] for r in rows):>9.1f}" for c in cols))
    return "\n".join(lines)
