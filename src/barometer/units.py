"""Units of a fan-out build: sub-sectors, regions, municipalities, government levels.

``python build.py --by region`` builds one report per unit (see
``data/report/units.yaml``).  This module lists the units from the codebook
without importing pandas (the build plans in well under a second) and holds
the estimation and chart helpers the unit notebooks use through
:class:`barometer.report.UnitReport`.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from . import yamlio
from .paths import DATA_DIR

DIMENSIONS = ("subsector", "region", "municipality", "government_level")


class UnitError(InputError):
    """Unknown dimension or unit."""


@dataclass(frozen=True)
class Unit:
    by: str
    code: str
    label: dict  # {lang: text}

    def name(self, lang: str) -> str:
        return self.label.get(lang) or self.label.get("da") or self.code


@functools.cache
def config() -> dict:
    return yamlio.load_file(DATA_DIR / "report" / "units.yaml")


def config_path() -> Path:
    return DATA_DIR / "report" / "units.yaml"


@functools.cache
def codebook_yaml(edition: str, country: str) -> dict:
    return yamlio.load_file(DATA_DIR / "codebook" / f"{edition}-{country}.yaml")


def dimension(by: str) -> dict:
    dims = config()["dimensions"]
    if by not in dims:
        raise UnitError(f"unknown unit dimension {by!r}: choose one of {', '.join(dims)}")
    return dims[by]


def _variable(by: str, edition: str, country: str) -> dict:
    name = dimension(by)["var"]
    cb = codebook_yaml(edition, country)
    for v in cb["variables"]:
        if v["name"] == name:
            return v
    raise UnitError(f"the {edition}-{country} codebook has no variable {name!r} (needed for --by {by})")


def units(by: str, edition: str = "2018", country: str = "dk") -> list[Unit]:
    """Every unit of ``by`` in the codebook's value labels, in code order."""
    var = _variable(by, edition, country)
    cb = codebook_yaml(edition, country)
    if "values" in var:
        labels = cb["value_sets"][var["values"]]
        out = [Unit(by, str(code), dict(text)) for code, text in labels.items()]
    elif "values_file" in var:
        with open(DATA_DIR / "codebook" / var["values_file"], encoding="utf-8", newline="") as f:
            out = [Unit(by, str(int(r["code"])), {"da": r["name"], "en": r["name"]}) for r in csv.DictReader(f)]
    else:
        raise UnitError(f"variable {var['name']!r} has no value labels to list the units of --by {by}")
    return sorted(out, key=lambda u: int(u.code) if u.code.isdigit() else u.code)


def unit(by: str, code: str, edition: str = "2018", country: str = "dk") -> Unit:
    for u in units(by, edition, country):
        if u.code == str(code):
            return u
    raise UnitError(f"unknown {by} {code!r}: choose one of {', '.join(u.code for u in units(by, edition, country))}")


def related_content(by: str, code: str) -> list[str]:
    """Content ids a unit's report shows as inspiration."""
    table = (config().get("content") or {}).get(by) or {}
    return list(table.get(int(code), table.get(str(code), [])) if str(code).isdigit() else table.get(str(code), []))


# --------------------------------------------------------------------------------------
# estimates and charts (heavy imports happen here, inside notebooks only)
# --------------------------------------------------------------------------------------
def key_measures(ds, by: str, code: str, figure_id: str | None = None):
    """Rows for the unit (category ``unit``) and the nation (``nation``) for
    every key measure, with the 15 contract columns first, then ``by`` and
    ``unit``.  A share with too small a base comes back ``suppressed``."""
    import pandas as pd

    from . import estimates

    figure_id = figure_id or config()["figure"]["id"]
    var = dimension(by)["var"]
    in_unit = pd.to_numeric(ds.df[var], errors="coerce") == float(code)
    from . import disclosure

    # the warm worker's national rows hold only for the disclosure rules they were computed under
    nation = (getattr(ds, "_nation_rows", None) or {}) if getattr(ds, "_nation_rules", None) == disclosure.rules() else {}
    rows = []
    for spec in config()["measures"]:
        rows.append(estimates.share(ds, spec["measure"], spec["population"], figure_id, category="unit",
                                    extra_mask=in_unit))
        cached = nation.get((spec["measure"], spec["population"], figure_id))
        rows.append(dict(cached) if cached is not None else
                    estimates.share(ds, spec["measure"], spec["population"], figure_id, category="nation"))
    out = pd.DataFrame(rows, columns=estimates.COLUMNS)
    out["by"] = by
    out["unit"] = str(code)
    return out


def warm_nation(ds, figure_id: str | None = None) -> None:
    """Compute the national rows once for a dataset that many unit reports will
    share (the build engine's warm workers do this before forking a report;
    each report gets its own copy).  Only for a dataset nobody modifies."""
    from . import disclosure, estimates

    figure_id = figure_id or config()["figure"]["id"]
    ds._nation_rules = disclosure.rules()
    ds._nation_rows = {(s["measure"], s["population"], figure_id):
                       estimates.share(ds, s["measure"], s["population"], figure_id, category="nation")
                       for s in config()["measures"]}


def unit_vs_nation_chart(data, lang: str, unit_label: str, nation_label: str):
    """Bars with 95 % CI rules, unit and nation side by side per measure (one panel per
    measure, the measure's label above it).

    ``data``: rows of :func:`key_measures` with ``label`` and ``value_text``.  The
    specification is built as a dict, as the chapters' charts are (no Altair on the
    build path); it is the one Altair made for this chart, key for key and in the
    same order, so the SVG and the chart store's key are too
    (``tests/unit/test_unit_charts.py`` compares the two)."""
    from . import charts

    d = data.copy()
    d["series"] = [unit_label if c == "unit" else nation_label for c in d["category"]]
    colors = {unit_label: charts.PALETTE["accent"], nation_label: charts.PALETTE["main"]}
    y = {"axis": {"labelLimit": 200}, "field": "series", "sort": list(colors), "title": None, "type": "nominal"}
    bars = {"mark": {"type": "bar", "height": 14}, "encoding": {
        "color": {"field": "series", "legend": None,
                  "scale": {"domain": list(colors), "range": list(colors.values())}, "type": "nominal"},
        "x": _x("estimate_pct", lang), "y": y}}
    rules = {"mark": {"type": "rule", "color": charts.PALETTE["text"], "strokeWidth": 1.2},
             "encoding": {"x": {"field": "ci_low_pct", "type": "quantitative"}, "x2": {"field": "ci_high_pct"},
                          "y": y}}
    text = {"mark": {"type": "text", "align": "left", "color": charts.PALETTE["text"], "dx": 4, "dy": -8,
                     "fontSize": 11},
            "encoding": {"text": {"field": "value_text", "type": "nominal"},
                         "x": {"field": "ci_high_pct", "type": "quantitative"}, "y": y}}
    row = {"field": "label", "header": {"labelAlign": "left", "labelAngle": 0, "labelFontSize": 12,
                                        "labelFontWeight": "bold", "labelOrient": "top"},
           "sort": list(dict.fromkeys(d["label"])), "title": None, "type": "nominal"}
    name, values = charts.named_data(d)
    return charts.Drawing({"wide": {
        "config": charts.CONFIG, "data": {"name": name}, "facet": {"row": row},
        "spec": {"layer": [bars, rules, text], "height": {"step": 24}, "width": charts.WIDTH - 200},
        "spacing": 6, "$schema": charts.UNITS_SCHEMA, "datasets": {name: values}}})


def units_chart(data, lang: str, nation_pct: float):
    """One measure across units: bars with CI rules and the nation as a rule (a dict,
    the one Altair made, as :func:`unit_vs_nation_chart`)."""
    from . import charts

    y = {"axis": {"labelLimit": 260}, "field": "label", "sort": list(data["label"]), "title": None,
         "type": "nominal"}
    bars = {"mark": {"type": "bar", "color": charts.PALETTE["main"], "height": 10}, "encoding": {
        "opacity": {"condition": {"test": "datum.suppressed", "value": 0}, "value": 1},
        "x": _x("estimate_pct", lang), "y": y}}
    rules = {"mark": {"type": "rule", "color": charts.PALETTE["text"]},
             "encoding": {"x": {"field": "ci_low_pct", "type": "quantitative"}, "x2": {"field": "ci_high_pct"},
                          "y": y}}
    text = {"mark": {"type": "text", "align": "left", "color": charts.PALETTE["text"], "dx": 4, "fontSize": 10},
            "encoding": {"text": {"field": "value_text", "type": "nominal"},
                         "x": {"field": "ci_high_pct", "type": "quantitative"}, "y": y}}
    nation = {"data": {"values": [{"x": nation_pct}]},
              "mark": {"type": "rule", "color": charts.PALETTE["accent"], "strokeWidth": 2},
              "encoding": {"x": {"field": "x", "type": "quantitative"}}}
    name, values = charts.named_data(data)
    return charts.Drawing({"wide": {
        "config": charts.CONFIG, "layer": [bars, rules, text, nation], "data": {"name": name},
        "height": {"step": 16}, "width": charts.WIDTH - 120, "$schema": charts.UNITS_SCHEMA,
        "datasets": {name: values}}})


def _x(field: str, lang: str) -> dict:
    from . import charts

    return {"field": field, "scale": {"domain": [0, 100]}, "title": charts.i18n.t("percent_axis", lang),
            "type": "quantitative"}
