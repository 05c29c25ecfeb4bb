"""The PNGs an edition build's chapters leave to the build.

A chart's PNG (its download, and the PNG fallback of its output in the executed notebook) is
rasterised from the figure's framed SVG, ``figures/<id>.svg``, at :data:`barometer.charts.PNG_SCALE`
(~0.15 s a figure, most of it vl-convert reading the font).  In an edition build with a PDF the
chapters' kernels leave it out (the job's ``defer_png``, :func:`barometer.charts.defer_pngs`): the
notebook holds :func:`barometer.charts.pending_png` in its place and no PNG file is written, so
the chapters, which keep both cores busy, end sooner; the build makes the PNGs here, in its own
process, while another lays out the PDF on the other core (:meth:`EditionPlan.assemble`).

It is the same call on the same SVG (``vl_convert.svg_to_png(svg, scale=2.0)``), so the files
and the notebooks are the bytes a chapter that drew its PNGs itself writes; through the cache's
chart store (:class:`barometer.engine.svgserver.Memo`, the key the workers' chart servers use), so
a PNG drawn once by either is not drawn again.  A cached chapter entry keeps its placeholders:
every build that publishes it makes (or takes from the chart store) its PNGs here.
"""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

from .. import charts
from ..errors import BuildError

#: a pending PNG in an executed notebook's JSON: the figure id's hex, then the padding
_PENDING = re.compile(r'"image/png": "' + charts.PENDING_PNG + r'((?:[0-9a-f]{2})+)A*"')


def _fig_id(m: re.Match) -> str:
    return bytes.fromhex(m.group(1)).decode("utf-8")


def pending(text: str) -> list[str]:
    """The figures whose PNG the notebook ``text`` (its JSON) left to the build, in order."""
    return list(dict.fromkeys(_fig_id(m) for m in _PENDING.finditer(text)))


def _memo(store_dir: Path | None):
    import vl_convert as vlc

    from ..engine.svgserver import Memo, Store

    return Memo(store=Store(store_dir) if store_dir is not None else None, version=getattr(vlc, "__version__", ""))


def resolve(work: Path, notebooks: list[str], store_dir: Path | None) -> dict[str, float]:
    """Make every PNG the ``notebooks`` (paths under ``work``) left pending: ``figures/<id>.png``
    from ``figures/<id>.svg``, and the PNG in its place in the notebook.  ``store_dir``: the chart
    store (none with ``--force``: every chart is drawn again).  Returns ms per figure made."""
    memo, ms, pngs = None, {}, {}
    for rel in notebooks:
        path = work / rel
        text = path.read_text(encoding="utf-8")
        ids = pending(text)
        if not ids:
            continue
        memo = memo or _memo(store_dir)
        for fig_id in ids:
            if fig_id in pngs:
                continue
            svg_file = work / "figures" / f"{fig_id}.svg"
            if not svg_file.is_file():
                raise BuildError(f"{rel}: the PNG of figure {fig_id} cannot be made: its SVG "
                                 f"(figures/{fig_id}.svg) is missing")
            t0 = time.perf_counter()
            png = memo.call("svg_to_png", (svg_file.read_text(encoding="utf-8"),), {"scale": charts.PNG_SCALE},
                            charts.png_of)  # the kernel's call, under the chart server's key
            (work / "figures" / f"{fig_id}.png").write_bytes(png)
            pngs[fig_id] = base64.b64encode(png).decode("ascii")
            ms[fig_id] = 1000 * (time.perf_counter() - t0)
        text = _PENDING.sub(lambda m: f'"image/png": "{pngs[_fig_id(m)]}"', text)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return ms
