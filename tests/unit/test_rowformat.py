"""One row formatter: a suppressed value reads the same in every chart, table, card, text and CSV."""

import io
import re

import pandas as pd
import pytest

from barometer import display, i18n, rowformat, units
from barometer.estimates import COLUMNS, to_csv_text

MARK = i18n.t("suppressed_mark", "da")
NOTE = "Ikke vist af hensyn til diskretion"


def _rows(measures=("collab_private", "collab_citizens"), country="dk", category=("", ""), **extra):
    # the suppressed row still carries numbers, as a careless caller might leave them: none may show
    return pd.DataFrame([
        {"figure_id": "collab_partners", "measure": measures[0], "country": country, "population": "innovations",
         "category": category[0], "estimate_pct": 55.0, "ci_low_pct": 40.0, "ci_high_pct": 70.0, "n_obs": 12,
         "p_value": 0.2, "suppressed": True, **extra},
        {"figure_id": "collab_partners", "measure": measures[1], "country": country, "population": "innovations",
         "category": category[1], "estimate_pct": 61.25, "ci_low_pct": 55.5, "ci_high_pct": 66.75, "n_obs": 400,
         "p_value": float("nan"), "suppressed": False, **extra}], columns=COLUMNS + list(extra))


def test_format_row_shows_the_mark_without_numbers():
    rows = _rows()
    hidden, shown = (rowformat.format_row(r, "da", decimals=1) for r in rows.itertuples())
    assert (hidden.value, hidden.ci, hidden.n, hidden.suppressed) == (MARK, "", "12", True)
    assert hidden.words == i18n.t("suppressed", "da")
    assert (shown.value, shown.ci, shown.n) == ("61,2\u00a0%", "55,5–66,8", "400")
    assert rowformat.format_row(dict(rows.iloc[1]), "en").value == "61%"
    assert NOTE in rowformat.suppressed_note(rows, "da") and rowformat.suppressed_note(rows.iloc[1:], "da") == ""


@pytest.fixture()
def chapter(monkeypatch, dk2018, no2018):
    from barometer.report import Chapter

    ch = Chapter("collaboration")
    ch._datasets.update(dk=dk2018, no=no2018)
    shown = []
    monkeypatch.setattr(display, "show_html", shown.append)
    return ch, shown


def _cells(markup):
    return re.findall(r"<td[^>]*>(.*?)</td>", markup)


def test_every_place_shows_a_suppressed_value_the_same_way(chapter, tmp_path):
    import altair as alt

    ch, shown = chapter
    rows = _rows()
    # chart rows: bars, the Danish-Norwegian comparison
    for data in (ch.bar_data(rows), ch.comparison_data(rows)):
        assert data.loc[0, ["value_text", "ci_text"]].tolist() == [MARK, ""]
        assert data.loc[0, "estimate_pct"] == 0  # drawn as nothing, not as the hidden 55
    # texts: alt text and prose values say it in words
    assert ch.values(rows)["collab_private"] == i18n.t("suppressed", "da")
    assert i18n.t("suppressed", "da") in ch.alt_text("Overskrift", ch.protect("collab_partners", rows), {})
    # the figure: data table, footnote, embedded CSV
    protected = ch.protect("collab_partners", rows)
    ch.figure("collab_partners", protected, alt.Chart(pd.DataFrame({"x": [1]})).mark_bar().encode(x="x:Q"),
              headline="Overskrift")
    fig = shown[-1]
    assert _cells(fig)[2:4] == [MARK, ""] and NOTE in fig[fig.index("<figcaption>"):fig.index("</figcaption>")]
    csv = pd.read_csv(io.StringIO(re.search(r'class="figure-csv">(.*?)</script>', fig, re.S).group(1)))
    assert csv.loc[0, "suppressed"] and csv.loc[0, ["estimate_pct", "ci_low_pct", "ci_high_pct"]].isna().all()
    # the CSV text itself never shows a suppressed number, whatever the rows hold
    direct = pd.read_csv(io.StringIO(to_csv_text(rows)))
    assert direct.loc[0, ["estimate_pct", "ci_low_pct", "ci_high_pct", "p_value"]].isna().all()
    assert direct.loc[0, "n_obs"] == 12 and direct.loc[1, "estimate_pct"] == 61.25
    # an aggregate table
    ch.table("method_sample", rows)
    assert _cells(shown[-1])[-2:] == ["400", "61,2\u00a0%"] and MARK in _cells(shown[-1]) and NOTE in shown[-1]
    # key-figure cards
    ch.key_figures("key_figures", cards=[(r, "tekst") for _, r in rows.iterrows()])
    assert f'<span class="key-value">{MARK}</span>' in shown[-1] and NOTE in shown[-1]


def test_unit_reports_show_a_suppressed_value_as_the_chapters_do(monkeypatch, dk2018):
    from barometer.report import UnitReport

    rep = UnitReport("region", str(units.units("region")[0].code))
    rep._datasets["dk"] = dk2018
    shown, drawn = [], []
    monkeypatch.setattr(display, "show_html", shown.append)
    real_unit, real_units = units.unit_vs_nation_chart, units.units_chart
    monkeypatch.setattr(units, "unit_vs_nation_chart", lambda d, *a: drawn.append(d) or real_unit(d, *a))
    monkeypatch.setattr(units, "units_chart", lambda d, *a: drawn.append(d) or real_units(d, *a))
    rows = _rows(measures=("innovative", "innovative"), category=("unit", "nation"), by="region",
                 unit=rep.unit.code)
    rep.unit_figure(rows)
    assert drawn[-1].loc[0, "value_text"] == MARK and drawn[-1].loc[0, "estimate_pct"] == 0
    assert _cells(shown[-1])[2:4] == [MARK, ""] and NOTE in shown[-1]
    rep.units_overview(rows)
    ours = [d for d in drawn[1:] if len(d)]  # the overview's chart of the measure the rows have
    assert len(ours) == 1 and ours[0]["value_text"].tolist() == [MARK] and ours[0]["estimate_pct"].tolist() == [0]
    assert sum(NOTE in s for s in shown) == 2  # the unit's figure and the overview's figure of that measure


def test_chart_rows_leaves_trend_lines_unfilled():
    out = rowformat.chart_rows(_rows().assign(estimate_pct=[float("nan"), 61.25]), "da", fields=("value_text",),
                               fill=False)
    assert out["value_text"].tolist() == [MARK, "61\u00a0%"] and pd.isna(out.loc[0, "estimate_pct"])
    assert "ci_text" not in out
