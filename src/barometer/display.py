"""What a report notebook shows, and what it tells the build engine.

:func:`show_html` is the one place a chapter's markup goes to the notebook
(tests replace it to capture the markup); :func:`sensitive_names` is what the
display guard (:mod:`barometer.privacy`) refuses to show; :func:`record_use`
tells the engine which files a report read.
"""

from __future__ import annotations

import functools

from .codebook import codebook_path, load_codebook
from .params import COUNTRIES


#: output tag of a chart's JupyterLab output; the build's page exporter drops outputs carrying it
LAB_ONLY_TAG = "barometer-lab-chart"
#: the Vega-Lite version JupyterLab's renderer takes (its vega5 extension: Vega-Lite 3 to 5)
VEGALITE_MIME = "application/vnd.vegalite.v5+json"


class FigureMarkup(str):
    """A figure's HTML block (what the page shows) carrying its chart for JupyterLab:
    :func:`show_html` shows the block, then the chart as its own output."""

    def __new__(cls, markup: str, *, spec: dict, svg: str, png: bytes | str, text: str):
        self = super().__new__(cls, markup)
        self.chart = {"spec": spec, "svg": svg, "png": png, "text": text}
        return self


def chart_bundle(spec: dict, svg: str, png: bytes | str, text: str) -> tuple[dict, dict]:
    """(data, metadata) of a chart's notebook output: Vega-Lite (JupyterLab draws it, interactive,
    also after the notebook is saved and opened again), SVG and PNG fallbacks and plain text.
    ``png`` as text: already base64 (a PNG the build makes, :func:`barometer.charts.pending_png`)."""
    import base64

    vl = dict(spec)
    vl["$schema"] = "https://vega.github.io/schema/vega-lite/v5.json"
    data = {VEGALITE_MIME: vl, "image/svg+xml": svg,
            "image/png": png if isinstance(png, str) else base64.b64encode(png).decode("ascii"),
            "text/plain": text}
    return data, {"tags": [LAB_ONLY_TAG]}


def show_html(markup: str) -> None:
    from IPython.display import HTML, display

    display(HTML(markup))
    chart = getattr(markup, "chart", None)
    if chart is not None:  # after the block: the page is built from the block alone (the tag is dropped)
        data, metadata = chart_bundle(**chart)
        display(data, metadata=metadata, raw=True)


def sensitive_names(edition: str) -> set[str]:
    """Sensitive variables of every codebook the edition has (Norway: 2018 only).

    Remembered per codebook file version: every report of a fan-out asks, and
    a warm worker answers from memory."""
    stamps = []
    for c in COUNTRIES:
        path = codebook_path(edition, c)
        if path.exists():
            st = path.stat()
            stamps.append((c, st.st_mtime_ns, st.st_size))
    return set(_sensitive_for(edition, tuple(stamps)))


@functools.lru_cache(maxsize=16)
def _sensitive_for(edition: str, stamps: tuple) -> frozenset[str]:
    return frozenset(n for c, _, _ in stamps for n in load_codebook(edition, c).sensitive)


def record_use(path) -> None:
    """Tell the build engine (if any) that this report used ``path``."""
    import sys

    hook = getattr(sys.modules.get("barometer.engine.deps"), "record", None)
    if hook is not None:
        hook(path)
