"""Charts: one Altair theme and a few chart builders, rendered to SVG.

A chart is built from rows of the estimates table (never from microdata), so
what a reader sees is exactly what ``estimates.csv`` publishes.  SVG comes
from vl-convert: no browser and no network are needed.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import vl_convert as vlc

from . import i18n

FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
PALETTE = {
    "main": "#1f5a7a",       # deep blue: the measure
    "accent": "#b35617",     # orange: the key figure / significant (4.9:1 on white: WCAG AA for text too)
    "muted": "#9aa5ad",      # grey: reference or not significant
    "dk": "#b5283b",
    "no": "#1f5a7a",
    "text": "#1d2a33",
}
WIDTH = 520


def _config(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (chart.configure(font=FONT, background="white")
            .configure_view(strokeWidth=0)
            .configure_axis(labelFontSize=12, titleFontSize=12, labelColor=PALETTE["text"],
                            titleColor=PALETTE["text"], gridColor="#e6e9eb", domainColor="#c4cbd0")
            .configure_legend(labelFontSize=12, titleFontSize=12, orient="bottom"))


def bars_ci(data: pd.DataFrame, lang: str, color_field: str | None = None,
            colors: dict[str, str] | None = None, x_max: float = 100) -> alt.Chart:
    """Horizontal bars of ``estimate_pct`` by ``label`` with 95 % CI rules.

    ``data`` columns: label, estimate_pct, ci_low_pct, ci_high_pct, value_text
    and optionally a ``color_field`` with keys of ``colors``.
    """
    order = list(data["label"])
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=420))
    x_title = i18n.t("percent_axis", lang)
    if color_field:
        dom = list(colors)
        color = alt.Color(f"{color_field}:N", scale=alt.Scale(domain=dom, range=[colors[k] for k in dom]), legend=None)
    else:
        color = alt.value(PALETTE["main"])
    base = alt.Chart(data)
    bars = base.mark_bar(height=16, cornerRadiusEnd=2).encode(
        y=y, x=alt.X("estimate_pct:Q", title=x_title, scale=alt.Scale(domain=[0, x_max])), color=color,
        tooltip=_tooltip(data, lang))
    rules = base.mark_rule(color=PALETTE["text"], strokeWidth=1.2).encode(
        y=y, x="ci_low_pct:Q", x2="ci_high_pct:Q")
    labels = base.mark_text(align="left", dx=4, dy=-9, fontSize=11, color=PALETTE["text"]).encode(
        y=y, x="ci_high_pct:Q", text="value_text:N")
    return (bars + rules + labels).properties(width=WIDTH, height=alt.Step(34))


def grouped(data: pd.DataFrame, lang: str) -> alt.Chart:
    """Danish vs Norwegian bars per measure (columns: label, country_label,
    estimate_pct, value_text, country)."""
    colors = {i18n.t("denmark", lang): PALETTE["dk"], i18n.t("norway", lang): PALETTE["no"]}
    y = alt.Y("country_label:N", title=None, sort=list(colors), axis=alt.Axis(labelLimit=200))
    base = alt.Chart(data)
    bars = base.mark_bar(height=14).encode(
        y=y, x=alt.X("estimate_pct:Q", title=i18n.t("percent_axis", lang), scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("country_label:N", scale=alt.Scale(domain=list(colors), range=list(colors.values())),
                        legend=None),
        tooltip=_tooltip(data, lang, country=True))
    rules = base.mark_rule(color=PALETTE["text"], strokeWidth=1.2).encode(y=y, x="ci_low_pct:Q", x2="ci_high_pct:Q")
    text = base.mark_text(align="left", dx=4, fontSize=11, color=PALETTE["text"]).encode(
        y=y, x="ci_high_pct:Q", text="value_text:N")
    layered = (bars + rules + text).properties(width=WIDTH - 80, height=alt.Step(20))
    return layered.facet(row=alt.Row("label:N", title=None, sort=list(dict.fromkeys(data["label"])),
                                     header=alt.Header(labelAngle=0, labelAlign="left", labelAnchor="start", labelFontSize=12,
                                                       labelFontWeight="bold", labelOrient="top")),
                         spacing=4)


def _tooltip(data: pd.DataFrame, lang: str, country: bool = False) -> list:
    """Tooltip lines: what the bar is, the share, its 95 % CI and N (texts
    already formatted in the report's language)."""
    tip = [alt.Tooltip("label:N", title=i18n.t("col_category", lang))]
    if country:
        tip.append(alt.Tooltip("country_label:N", title=i18n.t("col_country", lang)))
    tip.append(alt.Tooltip("value_text:N", title=i18n.t("col_share", lang)))
    if "ci_text" in data:
        tip.append(alt.Tooltip("ci_text:N", title=i18n.t("col_ci", lang)))
    if "n_text" in data:
        tip.append(alt.Tooltip("n_text:N", title=i18n.t("col_n", lang)))
    return tip


def to_spec(chart) -> dict:
    """The themed Vega-Lite specification (data inline): what the website
    draws interactively and the build saves as ``figures/<id>.vl.json``."""
    return _config(chart).to_dict()


def to_svg(chart) -> str:
    """Static SVG of a chart (themed), without a browser."""
    svg = vlc.vegalite_to_svg(_config(chart).to_dict())
    return svg[svg.find("<svg"):]


def to_png(chart, scale: float = 2.0) -> bytes:
    return vlc.vegalite_to_png(_config(chart).to_dict(), scale=scale)

ROLE_COLOURS = {"main": PALETTE["main"], "accent": PALETTE["accent"], "muted": PALETTE["muted"]}


def trend(data: pd.DataFrame, lang: str) -> alt.Chart:
    """One small panel per measure: the share in each edition with its 95 % CI,
    joined by a line (only comparable editions are given).  Columns: label,
    edition, estimate_pct, ci_low_pct, ci_high_pct, value_text."""
    x = alt.X("edition:O", title=None, axis=alt.Axis(labelAngle=0))
    y_scale = alt.Scale(domain=[0, 100])
    base = alt.Chart(data)
    line = base.mark_line(color=PALETTE["main"], strokeWidth=2).encode(
        x=x, y=alt.Y("estimate_pct:Q", title=i18n.t("percent_axis", lang), scale=y_scale))
    rules = base.mark_rule(color=PALETTE["text"], strokeWidth=1.2).encode(x=x, y="ci_low_pct:Q", y2="ci_high_pct:Q")
    points = base.mark_point(filled=True, size=60, color=PALETTE["accent"]).encode(
        x=x, y="estimate_pct:Q", tooltip=[alt.Tooltip("edition:O", title=""), alt.Tooltip("value_text:N", title="%")])
    text = base.mark_text(align="left", dx=7, dy=-8, fontSize=11, color=PALETTE["text"]).encode(
        x=x, y="estimate_pct:Q", text="value_text:N")
    layered = (line + rules + points + text).properties(width=220, height=130)
    return layered.facet(facet=alt.Facet("label:N", title=None, sort=list(dict.fromkeys(data["label"])),
                                         header=alt.Header(labelFontSize=11, labelFontWeight="bold",
                                                           labelLimit=275)),
                         columns=2, spacing=14)
