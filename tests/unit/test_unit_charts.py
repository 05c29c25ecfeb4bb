"""The unit reports' charts are built as dicts (no Altair on the build path), and each is
the specification Altair made for it before, key for key and in the same order: the same
SVG, the same chart-store key.  Altair stays the reference here, with the two charts as
they were written with it; its JSON-schema validation checks the dicts too."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from barometer import charts, units
from barometer.rowformat import chart_rows


def altair_unit_vs_nation(data, lang: str, unit_label: str, nation_label: str) -> dict:
    import altair as alt

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
    chart = layered.facet(row=alt.Row("label:N", title=None, sort=list(dict.fromkeys(d["label"])),
                                      header=alt.Header(labelAngle=0, labelAlign="left", labelFontSize=12,
                                                        labelFontWeight="bold", labelOrient="top")),
                          spacing=6)
    return chart.configure(**charts.CONFIG).to_dict(validate=False)  # as the build made it


def altair_units(data, lang: str, nation_pct: float) -> dict:
    import altair as alt

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
    chart = (bars + rules + text + nation).properties(width=charts.WIDTH - 120, height=alt.Step(16))
    return chart.configure(**charts.CONFIG).to_dict(validate=False)  # as the build made it


@pytest.fixture(autouse=True)
def _no_guard_left(restore_text_repr):
    """A UnitReport installs the display guard for the process (where an IPython shell
    exists): undone after each test, so that no later test module sees it."""
    yield


def same(ours: charts.Drawing, altairs: dict) -> None:
    """The same JSON text, key order included (what vl-convert and the chart store see)."""
    mine = charts.spec_of(ours)
    assert json.dumps(mine, ensure_ascii=False) == json.dumps(altairs, ensure_ascii=False)


def _unit_rows(ds, by: str, code: str, lang: str) -> pd.DataFrame:
    from barometer.report import UnitReport

    rows = units.key_measures(ds, by, code)
    rep = UnitReport(by, code, "2018", "dk", lang)
    data = rows.copy()
    data["label"] = [rep.label(m) for m in data["measure"]]
    return chart_rows(data, lang, fields=("value_text",))


@pytest.mark.parametrize("by", ["subsector", "region", "government_level"])
@pytest.mark.parametrize("lang", ["da", "en"])
def test_unit_vs_nation_chart_is_the_spec_altair_made(dk2018, by, lang):
    for u in units.units(by)[:3]:
        data = _unit_rows(dk2018, by, str(u.code), lang)
        args = (lang, u.name(lang), "Hele landet" if lang == "da" else "Whole country")
        same(units.unit_vs_nation_chart(data, *args), altair_unit_vs_nation(data, *args))


@pytest.mark.parametrize("lang", ["da", "en"])
def test_units_chart_is_the_spec_altair_made(dk2018, lang):
    frames = [_unit_rows(dk2018, "region", str(u.code), lang) for u in units.units("region")]
    est = pd.concat(frames, ignore_index=True)
    for measure, sel in est[est["category"] == "unit"].groupby("measure", sort=False):
        sel = sel.assign(label=[f"Region {c}" for c in sel["unit"]]).reset_index(drop=True)
        nation = float(est[(est["measure"] == measure) & (est["category"] == "nation")]["estimate_pct"].iloc[0])
        same(units.units_chart(sel, lang, nation), altair_units(sel, lang, nation))


def test_missing_suppressed_and_odd_values_serialise_as_altair_does():
    data = pd.DataFrame({
        "label": pd.Series(["A", "B", None, "D"], dtype="str"),
        "category": ["unit", "nation", "unit", "nation"],
        "estimate_pct": [10.5, float("nan"), math.inf, 0.0],
        "ci_low_pct": [8.0, None, 1.0, 0.0],
        "ci_high_pct": [12.0, None, 2.0, 0.0],
        "value_text": ["11 %", "", "x", "0 %"],
        "suppressed": [False, True, False, False],
        "n_obs": [145, 12, 3, 0],
        "flag": pd.array([True, None, False, True], dtype="boolean"),
        "count": pd.array([1, None, 3, 4], dtype="Int64"),
        "kind": pd.Categorical(["a", "b", None, "a"]),
        "mixed": [1.5, "t", None, float("nan")],
    })
    same(units.units_chart(data, "da", 33.3), altair_units(data, "da", 33.3))
    same(units.unit_vs_nation_chart(data, "en", "A unit", "Nation"),
         altair_unit_vs_nation(data, "en", "A unit", "Nation"))
    empty = data.iloc[0:0]
    same(units.units_chart(empty, "da", float("nan")), altair_units(empty, "da", float("nan")))


def test_a_column_type_a_chart_does_not_draw_is_refused():
    with pytest.raises(ValueError, match="datetime"):
        charts.named_data(pd.DataFrame({"when": pd.to_datetime(["2018-01-01"])}))


def test_the_dicts_are_valid_vega_lite(dk2018):
    import altair as alt

    data = _unit_rows(dk2018, "region", str(units.units("region")[0].code), "da")
    for spec in (charts.spec_of(units.unit_vs_nation_chart(data, "da", "Region", "Hele landet")),
                 charts.spec_of(units.units_chart(data[data["category"] == "unit"], "da", 40.0))):
        alt.Chart.from_dict(spec, validate=True)  # raises on a spec the schema does not allow
