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
    """Bars with 95 % CI rules, unit and nation side by side per measure.

    ``data``: rows of :func:`key_measures` with ``label`` and ``value_text``."""
    import altair as alt

    from . import charts

    d = data.copy()
    d["series"] = [unit_label if c == "unit" else nation_label for c in d["category"]]
    colors = {unit_label: charts.PALETTE["accent"], nation_label: charts.PALETTE["main"]}
    y = alt.Y("series:N", title=None, sort=list(colors), axis=alt.Axis(labelLimit=200))
    base = alt.Chart(d)
    bars = base.mark_bar(height=14).encode(
        y=y, x=alt.X("estimate_pct:Q", title=charts.i18n.t("percent_axis", lang), scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("series:N", scale=alt.Scale(domain=list(colors), range=list(colors.values())), legend=None))
    rules = base.mark_rule(color=charts.PALETTE["text"], strokeWidth=1.2).encode(y=y, x="ci_low_pct:Q",
                                                                                 x2="ci_high_pct:Q")
    text = base.mark_text(align="left", dx=4, dy=-8, fontSize=11, color=charts.PALETTE["text"]).encode(
        y=y, x="ci_high_pct:Q", text="value_text:N")
    layered = (bars + rules + text).properties(width=charts.WIDTH - 200, height=alt.Step(24))
    return layered.facet(row=alt.Row("label:N", title=None, sort=list(dict.fromkeys(d["label"])),
                                     header=alt.Header(labelAngle=0, labelAlign="left", labelFontSize=12,
                                                       labelFontWeight="bold", labelOrient="top")),
                         spacing=6)


def units_chart(data, lang: str, nation_pct: float):
    """One measure across units: bars with CI rules and the nation as a rule."""
    import altair as alt

    from . import charts

    order = list(data["label"])
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
    base = alt.Chart(data)
    bars = base.mark_bar(height=10, color=charts.PALETTE["main"]).encode(
        y=y, x=alt.X("estimate_pct:Q", title=charts.i18n.t("percent_axis", lang), scale=alt.Scale(domain=[0, 100])),
        opacity=alt.condition("datum.suppressed", alt.value(0), alt.value(1)))
    rules = base.mark_rule(color=charts.PALETTE["text"]).encode(y=y, x="ci_low_pct:Q", x2="ci_high_pct:Q")
    text = base.mark_text(align="left", dx=4, fontSize=10, color=charts.PALETTE["text"]).encode(
        y=y, x="ci_high_pct:Q", text="value_text:N")
    nation = alt.Chart(alt.Data(values=[{"x": nation_pct}])).mark_rule(
        color=charts.PALETTE["accent"], strokeWidth=2).encode(x="x:Q")
    return (bars + rules + text + nation).properties(width=charts.WIDTH - 120, height=alt.Step(16))
