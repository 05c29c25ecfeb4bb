"""Charts: one theme and a few chart builders (Vega-Lite), rendered to SVG.

A chart is built from rows of the estimates table (never from microdata), so
what a reader sees is exactly what ``estimates.csv`` publishes.  SVG comes
from vl-convert: no browser and no network are needed.

Every builder returns a :class:`Drawing`: the same chart in two layouts,
``wide`` (a desktop column, drawn at its natural size up to 46rem) and
``narrow`` (a phone, about 360 px wide, long labels wrapped), so chart text
is drawn at its own size (12 px labels) on both instead of a wide chart scaled
down.  The page carries both; CSS (static SVG) and ``report.js`` (the live
chart) show the one that fits.  Each layout's Vega-Lite specification is made
once (:func:`spec_of`, no schema validation: the unit tests validate them) and
rendered once (:func:`svg_of`); a download's PNG is rasterised from its SVG
(:func:`png_of`), not drawn again.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import i18n

if TYPE_CHECKING:  # the build's parent reads PALETTE (render.palette_css) while it plans, without pandas
    import pandas as pd

FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
PALETTE = {
    "main": "#1f5a7a",       # deep blue: the measure
    "accent": "#b35617",     # orange: the key figure / significant (4.9:1 on white: WCAG AA for text too)
    "muted": "#9aa5ad",      # grey: reference or not significant
    "dk": "#b5283b",
    "no": "#1f5a7a",
    "text": "#1d2a33",
}
WIDTH = 520  # unit reports' charts (barometer.units)


@dataclass(frozen=True)
class Layout:
    """How wide a chart is drawn: its plot, how many characters a label line
    holds (longer labels wrap), the widest label in pixels and how many panels
    a small-multiple chart puts side by side."""

    name: str
    plot: int
    wrap: int
    label_limit: int
    columns: int


#: The desktop column: a chart drawn at natural size stays within main.chapter's 46rem (736 px).
#: Small multiples go four to a row (a trend's panels hold three editions each): eight partner
#: types are two rows, about half a PDF page, not four rows filling one.
WIDE = Layout("wide", plot=420, wrap=40, label_limit=290, columns=4)
#: A phone: 390 px viewport minus the page's padding leaves ~358 px.
NARROW = Layout("narrow", plot=195, wrap=19, label_limit=150, columns=1)
LAYOUTS = (WIDE, NARROW)


@dataclass
class Drawing:
    """One chart as a Vega-Lite specification per layout (by :data:`LAYOUTS` name)."""

    specs: dict
    build_ms: float = 0.0  # how long the builder took (the figure's "spec" time)

    @property
    def wide(self) -> dict:
        return self.specs["wide"]


def _drawing(build, *args, **kwargs) -> Drawing:
    import time

    t = time.perf_counter()
    specs = {lay.name: build(*args, layout=lay, **kwargs) for lay in LAYOUTS}
    return Drawing(specs, build_ms=1000 * (time.perf_counter() - t))


SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
CONFIG = {"view": {"continuousWidth": 300, "continuousHeight": 300, "strokeWidth": 0},
          "axis": {"aria": False, "domainColor": "#c4cbd0", "gridColor": "#e6e9eb", "labelColor": PALETTE["text"],
                   "labelFontSize": 12, "titleColor": PALETTE["text"], "titleFontSize": 12},
          "background": "white", "font": FONT,
          "legend": {"labelFontSize": 12, "orient": "bottom", "titleFontSize": 12}}


def _json_value(v, inf_missing: bool = False):
    """One cell as a JSON value: a NumPy scalar as its Python value, an array as a list, a
    missing number (with ``inf_missing`` an infinite one too) or pandas' NA as null."""
    import math

    import numpy as np
    import pandas as pd

    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or v is pd.NA or (isinstance(v, float) and (math.isnan(v) or (inf_missing and math.isinf(v)))):
        return None
    return v


def _values(data: pd.DataFrame, fields: list[str]) -> list[dict]:
    """The rows a chart draws, as JSON values (numbers as Python floats, missing as null)."""
    cols = [f for f in dict.fromkeys(fields) if f in data.columns]
    return [{k: _json_value(v) for k, v in rec.items()} for rec in data[cols].to_dict("records")]


#: The unit reports' charts (barometer.units) carry the schema their specifications were first
#: made with (Altair 6's): the same dict is the same SVG and the same chart-store key.
UNITS_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.4.1.json"


def named_data(data: pd.DataFrame) -> tuple[str, list[dict]]:
    """Every column of ``data`` as a named inline dataset, as Altair serialises a DataFrame
    (its ``sanitize_pandas_dataframe`` and ``_dataset_name``): strings, booleans and integers
    as Python values, a missing or infinite number and a missing string as null, the name
    ``data-`` and the first 32 hex digits of the sha256 of the rows as sorted-key JSON."""
    import hashlib
    import json

    import numpy as np

    cols = []
    for name, dtype in data.dtypes.items():
        if not isinstance(name, str):
            raise ValueError(f"chart data column names must be strings, not {name!r}")
        kind = str(dtype)
        if kind.startswith(("datetime", "timestamp", "timedelta", "geometry", "period", "interval")):
            raise ValueError(f"chart data column {name!r} has the type {kind}, which a chart here does not draw")
        cols.append((name, np.issubdtype(dtype, np.floating) if isinstance(dtype, np.dtype) else False))

    columns = {name: data[name].tolist() for name, _ in cols}
    values = [{name: _json_value(columns[name][i], inf_missing=floating) for name, floating in cols}
              for i in range(len(data))]
    if values == [{}]:
        return "empty", values
    digest = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return "data-" + digest, values


def _top(data: pd.DataFrame, fields: list[str], body: dict) -> dict:
    return {"$schema": SCHEMA, "config": CONFIG, "data": {"values": _values(data, fields)}, **body}


def _nominal(field: str, title: str | None = None) -> dict:
    out = {"field": field, "type": "nominal"}
    if title is not None:
        out["title"] = title
    return out


def wrap(text: str, width: int) -> str:
    """A label broken into lines of at most ``width`` characters (``\\n``
    between them; a word longer than a line stays whole)."""
    text = str(text).replace(" *", i18n.NBSP + "*")  # a significance mark stays with its last word
    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)) or text


SPLIT = "split(datum.value, '\\n')"  # an axis or header label drawn on as many lines as it has
#: a multi-line axis label centred on its bar (Vega starts the first line at the tick)
CENTRE = {"expr": "-(length(split(datum.value, '\\n')) - 1) * 7"}


def _described(data: pd.DataFrame, lang: str, *extra: str) -> pd.DataFrame:
    """``data`` with ``desc_text``: what a screen reader says for one bar or
    point, in the report's language and with the formatted numbers
    ("Private virksomheder: 84 %, 95 %-konfidensinterval 80–87, N 1.091"),
    instead of Vega's English default with raw floats."""
    out = data.copy()
    descs = []
    for r in out.to_dict("records"):
        head = ", ".join([str(r["label"])] + [str(r[e]) for e in extra if e in r])
        parts = [r.get("value_text", "")]
        if r.get("ci_text"):
            parts.append(f'{i18n.t("col_ci", lang)} {r["ci_text"]}')
        if r.get("n_text"):
            parts.append(f'{i18n.t("col_n", lang)} {r["n_text"]}')
        descs.append(f'{head}: {", ".join(p for p in parts if p)}')
    out["desc_text"] = descs
    return out


def _config(chart):
    """An Altair chart (the unit reports') with the theme of :data:`CONFIG`."""
    return chart.configure(**CONFIG)


def bars_ci(data: pd.DataFrame, lang: str, color_field: str | None = None,
            colors: dict[str, str] | None = None, x_max: float = 100) -> Drawing:
    """Horizontal bars of ``estimate_pct`` by ``label`` with 95 % CI rules.

    ``data`` columns: label, estimate_pct, ci_low_pct, ci_high_pct, value_text
    and optionally a ``color_field`` with keys of ``colors``.
    """
    return _drawing(_bars_ci, data, lang, color_field=color_field, colors=colors, x_max=x_max)


def _bars_ci(data, lang, color_field, colors, x_max, layout: Layout) -> dict:
    data = _described(data, lang).assign(label_lines=[wrap(v, layout.wrap) for v in data["label"]])
    lines = max((v.count("\n") + 1 for v in data["label_lines"]), default=1)
    y = {"field": "label_lines", "type": "nominal", "sort": list(data["label_lines"]), "title": None,
         "axis": {"labelLimit": layout.label_limit, "labelExpr": SPLIT, "labelLineHeight": 14, "labelOffset": CENTRE}}
    if color_field:
        dom = list(colors)
        color = {"field": color_field, "type": "nominal", "legend": None,
                 "scale": {"domain": dom, "range": [colors[k] for k in dom]}}
    else:
        color = {"value": PALETTE["main"]}
    bars = {"mark": {"type": "bar", "height": 16, "cornerRadiusEnd": 2},
            "encoding": {"x": {"field": "estimate_pct", "type": "quantitative", "title": i18n.t("percent_axis", lang),
                               "scale": {"domain": [0, x_max]}},
                         "color": color, "tooltip": _tooltip(data, lang), "description": _nominal("desc_text")}}
    rules = {"mark": {"type": "rule", "color": PALETTE["text"], "strokeWidth": 1.2, "aria": False},
             "encoding": {"x": {"field": "ci_low_pct", "type": "quantitative"}, "x2": {"field": "ci_high_pct"}}}
    labels = {"mark": {"type": "text", "align": "left", "dx": 4, "dy": -9, "fontSize": 11, "color": PALETTE["text"],
                       "aria": False},
              "encoding": {"x": {"field": "ci_high_pct", "type": "quantitative"}, "text": _nominal("value_text")}}
    fields = ["label", "label_lines", "estimate_pct", "ci_low_pct", "ci_high_pct", "value_text", "ci_text", "n_text",
              "desc_text"] + ([color_field] if color_field else [])
    return _top(data, fields, {"width": layout.plot, "height": {"step": max(34, 14 * lines + 12)},
                               "encoding": {"y": y}, "layer": [bars, rules, labels]})


def grouped(data: pd.DataFrame, lang: str) -> Drawing:
    """Danish vs Norwegian bars per measure (columns: label, country_label,
    estimate_pct, value_text, country)."""
    return _drawing(_grouped, data, lang)


def _grouped(data, lang, layout: Layout) -> dict:
    colors = {i18n.t("denmark", lang): PALETTE["dk"], i18n.t("norway", lang): PALETTE["no"]}
    data = _described(data, lang, "country_label").assign(
        label_lines=[wrap(v, 2 * layout.wrap) for v in data["label"]])
    y = {"field": "country_label", "type": "nominal", "title": None, "sort": list(colors), "axis": {"labelLimit": 200}}
    bars = {"mark": {"type": "bar", "height": 14},
            "encoding": {"x": {"field": "estimate_pct", "type": "quantitative", "title": i18n.t("percent_axis", lang),
                               "scale": {"domain": [0, 100]}},
                         "color": {"field": "country_label", "type": "nominal", "legend": None,
                                   "scale": {"domain": list(colors), "range": list(colors.values())}},
                         "tooltip": _tooltip(data, lang, country=True), "description": _nominal("desc_text")}}
    rules = {"mark": {"type": "rule", "color": PALETTE["text"], "strokeWidth": 1.2, "aria": False},
             "encoding": {"x": {"field": "ci_low_pct", "type": "quantitative"}, "x2": {"field": "ci_high_pct"}}}
    text = {"mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 11, "color": PALETTE["text"], "aria": False},
            "encoding": {"x": {"field": "ci_high_pct", "type": "quantitative"}, "text": _nominal("value_text")}}
    header = {"labelAngle": 0, "labelAlign": "left", "labelAnchor": "start", "labelFontSize": 12,
              "labelFontWeight": "bold", "labelOrient": "top", "labelExpr": SPLIT, "labelLineHeight": 15}
    fields = ["label", "label_lines", "country_label", "estimate_pct", "ci_low_pct", "ci_high_pct", "value_text",
              "ci_text", "n_text", "desc_text"]
    return _top(data, fields, {
        "facet": {"row": {"field": "label_lines", "type": "nominal", "title": None,
                          "sort": list(dict.fromkeys(data["label_lines"])), "header": header}},
        "spacing": 4,
        "spec": {"width": layout.plot + 60, "height": {"step": 20}, "encoding": {"y": y},
                 "layer": [bars, rules, text]}})


def _tooltip(data: pd.DataFrame, lang: str, country: bool = False) -> list:
    """Tooltip lines: what the bar is, the share, its 95 % CI and N (texts
    already formatted in the report's language)."""
    tip = [_nominal("label", i18n.t("col_category", lang))]
    if country:
        tip.append(_nominal("country_label", i18n.t("col_country", lang)))
    tip.append(_nominal("value_text", i18n.t("col_share", lang)))
    if "ci_text" in data:
        tip.append(_nominal("ci_text", i18n.t("col_ci", lang)))
    if "n_text" in data:
        tip.append(_nominal("n_text", i18n.t("col_n", lang)))
    return tip


ROLE_COLOURS = {"main": PALETTE["main"], "accent": PALETTE["accent"], "muted": PALETTE["muted"]}


def trend(data: pd.DataFrame, lang: str) -> Drawing:
    """One small panel per measure: the share in each edition with its 95 % CI,
    joined by a line (only comparable editions are given).  Columns: label,
    edition, estimate_pct, ci_low_pct, ci_high_pct, value_text."""
    return _drawing(_trend, data, lang)


def _trend(data, lang, layout: Layout) -> dict:
    width = 125 if layout.columns > 1 else 260  # four panels, the axis and the headers: < 736 px
    data = _described(data, lang, "edition").assign(label_lines=[wrap(v, (width + 35) // 7) for v in data["label"]])
    x = {"field": "edition", "type": "ordinal", "title": None, "axis": {"labelAngle": 0}}
    line = {"mark": {"type": "line", "color": PALETTE["main"], "strokeWidth": 2, "aria": False},
            "encoding": {"y": {"field": "estimate_pct", "type": "quantitative", "title": i18n.t("percent_axis", lang),
                               "scale": {"domain": [0, 100]}}}}
    rules = {"mark": {"type": "rule", "color": PALETTE["text"], "strokeWidth": 1.2, "aria": False},
             "encoding": {"y": {"field": "ci_low_pct", "type": "quantitative"}, "y2": {"field": "ci_high_pct"}}}
    points = {"mark": {"type": "point", "filled": True, "size": 60, "color": PALETTE["accent"]},
              "encoding": {"y": {"field": "estimate_pct", "type": "quantitative"},
                           "tooltip": [{"field": "edition", "type": "ordinal", "title": ""}, _nominal("value_text", "%")],
                           "description": _nominal("desc_text")}}
    text = {"mark": {"type": "text", "align": "left", "dx": 7, "dy": -8, "fontSize": 11, "color": PALETTE["text"],
                     "aria": False},
            "encoding": {"y": {"field": "estimate_pct", "type": "quantitative"}, "text": _nominal("value_text")}}
    fields = ["label", "label_lines", "edition", "estimate_pct", "ci_low_pct", "ci_high_pct", "value_text", "desc_text"]
    return _top(data, fields, {
        "facet": {"field": "label_lines", "type": "nominal", "title": None,
                  "sort": list(dict.fromkeys(data["label_lines"])),
                  "header": {"labelFontSize": 11, "labelFontWeight": "bold", "labelLimit": width + 55,
                             "labelExpr": SPLIT}},
        "columns": layout.columns, "spacing": 14,
        "spec": {"width": width, "height": 130, "encoding": {"x": x}, "layer": [line, rules, points, text]}})


# -- specification and rendering ---------------------------------------------------------
def spec_of(chart, description: str | None = None) -> dict:
    """The themed Vega-Lite specification of one chart (data inline): what the
    website draws interactively and the build saves as ``figures/<id>.vl.json``.
    A :class:`Drawing` (its wide layout) is already one; an Altair chart (the
    unit reports') is turned into one without Altair's JSON-schema validation.
    ``description`` is what the SVG says to a screen reader for the whole chart."""
    if isinstance(chart, Drawing):
        spec = dict(chart.wide)
    else:
        spec = _config(chart).to_dict(validate=False)
    if description:
        spec["description"] = description
    return spec


def specs(drawing: Drawing, description: str | None = None) -> dict[str, dict]:
    """The specification of every layout of a drawing, by layout name (each
    made once by the builder: no copy, no validation; the unit tests validate
    them against the Vega-Lite schema)."""
    return {name: ({**spec, "description": description} if description else spec)
            for name, spec in drawing.specs.items()}


_CLIP_ID = re.compile(r'(?<=["#])clip(\d+)(?=[")])')


def svg_of(spec: dict, ids: str = "") -> str:
    """Static SVG of a specification, without a browser.

    Vega numbers its clip paths with a counter of the rendering process
    (``clip47`` in one worker, ``clip12`` in another, depending on what it drew
    before), so the ids are renumbered from 1 in order of appearance under the
    prefix ``ids`` (the figure and layout): the same chart is the same bytes
    in any process, and two charts inline on one page never share an id."""
    import vl_convert as vlc

    return _own_ids(vlc.vegalite_to_svg(spec), ids)


def svgs_of(specs: list[tuple[dict, str]]) -> list[str]:
    """:func:`svg_of` of each ``(spec, ids)``, in order; in a build's kernel, idle workers'
    chart servers draw some of them at the same time (the same bytes)."""
    from .engine import svgserver

    return [_own_ids(svg, ids) for svg, (_, ids) in
            zip(svgserver.map_call("vegalite_to_svg", [(spec,) for spec, _ in specs]), specs)]


def _own_ids(svg: str, ids: str) -> str:
    svg = svg[svg.find("<svg"):]
    seen: dict[str, int] = {}
    return _CLIP_ID.sub(lambda m: f"clip-{ids}{seen.setdefault(m.group(1), len(seen) + 1)}", svg)


#: the scale every download PNG is rasterised at (its SVG's size x 2)
PNG_SCALE = 2.0


def png_of(svg: str, scale: float = PNG_SCALE) -> bytes:
    """A PNG rasterised from an SVG (no second Vega render)."""
    import vl_convert as vlc

    return vlc.svg_to_png(svg, scale=scale)


# -- PNGs the build makes (off the chapters' critical path) --------------------------------
#: the start of what a chapter's notebook holds for a PNG it left to the build: valid base64
#: text (the base64 of "BAROMETERPNG"), then the figure id in hex, padded with "A" to whole
#: base64 quads; :mod:`barometer.build.pngs` puts the PNG in its place
PENDING_PNG = "QkFST01FVEVSUE5H"
_DEFER_PNGS = [False]


def defer_pngs(on: bool) -> None:
    """In a build's chapter kernel (the job's ``defer_png``): each figure's PNG is made by the
    build from the figure's SVG file (the same call, the same bytes), while the PDF is laid
    out, instead of here on the chapters' critical path (~0.15 s a figure)."""
    _DEFER_PNGS[0] = bool(on)


def pending_png(fig_id: str) -> str:
    """What a notebook holds for ``fig_id``'s PNG until the build makes it (:data:`PENDING_PNG`)."""
    text = PENDING_PNG + fig_id.encode("utf-8").hex()
    return text + "A" * (-len(text) % 4)


def png_or_pending(svg: str, fig_id: str, saved: bool) -> bytes | str:
    """``svg``'s PNG, or (deferred, and the SVG is ``saved`` as ``figures/<fig_id>.svg``)
    :func:`pending_png`."""
    return pending_png(fig_id) if _DEFER_PNGS[0] and saved else png_of(svg)


def to_spec(chart) -> dict:
    return spec_of(chart)


def to_svg(chart, ids: str = "") -> str:
    """Static SVG of a chart (themed; a drawing's wide layout); ``ids`` as in :func:`svg_of`."""
    return svg_of(spec_of(chart), ids)


def to_png(chart, scale: float = 2.0) -> bytes:
    return png_of(to_svg(chart), scale)


# -- downloads that keep their context ---------------------------------------------------
FRAME_PAD = 16
HEAD_SIZE, HEAD_LINE = 16, 21
FOOT_SIZE, FOOT_LINE = 11, 15


def _size(svg: str) -> tuple[float, float]:
    import re

    root = svg[:svg.index(">")]
    w, h = (float(re.search(rf'\s{k}="([0-9.]+)"', root).group(1)) for k in ("width", "height"))
    return w, h


def _xml(text: str) -> str:
    from xml.sax.saxutils import escape

    return escape(text, {'"': "&quot;"})


def frame(svg: str, headline: str, foot: list[str], title: str | None = None) -> tuple[str, str]:
    """The parts around a chart's SVG that make its download stand alone:
    ``head + svg + foot`` is one SVG with the headline above the chart and the
    source lines (publisher, edition, N, the synthetic-data notice) below it.
    The page's script joins the same parts around the chart it shows, so a
    download from ``file://`` is the same picture as ``figures/<id>.svg``."""
    w, h = _size(svg)
    width = max(w + 2 * FRAME_PAD, 360)
    head_lines = textwrap.wrap(headline, max(20, int((width - 2 * FRAME_PAD) / (0.62 * HEAD_SIZE))))
    foot_lines = [ln for text in foot for ln in
                  textwrap.wrap(text, max(30, int((width - 2 * FRAME_PAD) / (0.56 * FOOT_SIZE))))]
    top = FRAME_PAD + HEAD_LINE * len(head_lines) + 8
    bottom = 10 + FOOT_LINE * len(foot_lines) + FRAME_PAD
    height = top + h + bottom
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
           f'viewBox="0 0 {width:g} {height:g}" role="img" aria-label="{_xml(title or headline)}">',
           f"<title>{_xml(title or headline)}</title>",
           f'<rect width="{width:g}" height="{height:g}" fill="white"/>',
           f'<g font-family="{FONT}" fill="{PALETTE["text"]}">']
    for i, ln in enumerate(head_lines):
        out.append(f'<text x="{FRAME_PAD}" y="{FRAME_PAD + HEAD_LINE * i + HEAD_SIZE}" font-size="{HEAD_SIZE}" '
                   f'font-weight="bold">{_xml(ln)}</text>')
    out.append(f'</g><g transform="translate({FRAME_PAD},{top})">')
    tail = [f'</g><g font-family="{FONT}" fill="#4b5963" font-size="{FOOT_SIZE}">']
    for i, ln in enumerate(foot_lines):
        tail.append(f'<text x="{FRAME_PAD}" y="{top + h + 10 + FOOT_LINE * i + FOOT_SIZE}">{_xml(ln)}</text>')
    tail.append("</g></svg>")
    return "".join(out), "".join(tail)
