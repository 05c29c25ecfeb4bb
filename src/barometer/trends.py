"""The edition comparison: trends where definitions match, and plain words where they do not.

Which editions a chapter compares comes from its report config
(``trends: {editions: [...]}``), which figures from the config's figures of
``kind: trend`` (one panel per measure, a line through the comparable
editions) and ``kind: not_comparable`` (the editions' figures side by side,
each with its own definition, no line).  What is comparable comes from the
harmonisation table (:mod:`barometer.harmonisation`), never from code.
Every row goes into ``estimates.csv`` with the edition in ``category``.

Each change between consecutive comparable editions of a measure is tested
design-based as a difference between two independent samples
(:func:`barometer.estimates.difference_p`: ``barometer.survey.difference``,
variances add); its two-sided p-value is the ``p_value`` of the later
edition's row (blank for the first edition and where either share is
suppressed), the chart marks a significant change (p < 0.05) with ``*``
beside the later figure, and a sentence under the figure says which changes
hold.
"""

from __future__ import annotations

import pandas as pd

from . import charts, display, estimates, harmonisation, i18n, templates
from .dataset import Dataset, load
from .estimates import ALPHA, COLUMNS
from .rowformat import chart_rows, format_row, p_phrase


def editions(ch) -> list[str]:
    return [str(e) for e in ch.cfg["trends"]["editions"]]


def datasets(ch) -> dict[str, Dataset]:
    """The Danish data of every compared edition (the chapter's own as built)."""
    return {e: ch.data("dk") if e == ch.edition else load(e, "dk") for e in editions(ch)}


def _rows(ch, data: dict[str, Dataset], fig_id: str, measure: str, which: str) -> list[dict]:
    h = harmonisation.rows(measure, editions(ch))
    h = h[h["comparable"] == which] if which else h
    out = []
    for r in h.itertuples():
        if not r.source_measure:
            continue
        row = estimates.share(data[r.edition], r.source_measure, r.population, fig_id, category=r.edition)
        out.append({**row, "harmonised": measure, "definition": r.definition,
                    "comparable": r.comparable, "note": r.note_da if ch.lang == "da" else r.note_en})
    return out


def trend_rows(ch, data: dict[str, Dataset], fig_id: str) -> pd.DataFrame:
    """Comparable editions only, for measures with at least two of them."""
    rows = []
    for m in ch.figure_spec(fig_id)["measures"]:
        if len(harmonisation.comparable(m, editions(ch))) >= 2:
            rows += test_changes(data, _rows(ch, data, fig_id, m, "yes"))
    return pd.DataFrame(rows)


def test_changes(data: dict[str, Dataset], rows: list[dict]) -> list[dict]:
    """Rows of one measure in comparable editions, with the p-value of the
    change from the previous edition's figure on each later row
    (``change_from``: that edition)."""
    out = sorted((dict(r) for r in rows), key=lambda r: str(r["category"]))
    for prev, cur in zip(out, out[1:]):
        cur["change_from"] = prev["category"]
        if prev["suppressed"] or cur["suppressed"]:
            continue
        a = estimates.estimate(data[cur["category"]], cur["measure"], cur["population"])
        b = estimates.estimate(data[prev["category"]], prev["measure"], prev["population"])
        cur["p_value"] = estimates.difference_p(a, b)
    return out


def changes_text(ch, rows: pd.DataFrame) -> str:
    """In words: which changes between comparable editions are significant."""
    sig, not_sig = [], []
    by_key = {(r.harmonised, r.category): r for r in rows.itertuples()}
    for r in rows.itertuples():
        if pd.isna(r.p_value) or not isinstance(getattr(r, "change_from", None), str):
            continue
        prev = by_key[(r.harmonised, r.change_from)]
        item = i18n.t("trend_item", ch.lang, label=_label(ch, r.measure), first=r.change_from, second=r.category,
                      v1=format_row(prev, ch.lang).words, v2=format_row(r, ch.lang).words,
                      p=p_phrase(float(r.p_value), ch.lang))
        (sig if r.p_value < ALPHA else not_sig).append(item)
    return " ".join(i18n.t(k, ch.lang, items="; ".join(v))
                    for k, v in (("trend_significant", sig), ("trend_not_significant", not_sig)) if v)


def split_rows(ch, data: dict[str, Dataset], fig_id: str) -> pd.DataFrame:
    """Every edition's figure of the measures, each under its own definition."""
    rows = []
    for m in ch.figure_spec(fig_id)["measures"]:
        rows += _rows(ch, data, fig_id, m, "")
    df = pd.DataFrame(rows).drop_duplicates(["measure", "category"])
    return df.sort_values(["category", "measure"], kind="stable").reset_index(drop=True)


def _n_text(ch, rows: pd.DataFrame) -> str:
    """The N of each edition's rows, as the caption and the downloads give it."""
    n = rows.groupby("category")["n_obs"].max()
    return i18n.t("n_obs", ch.lang, n=", ".join(f"{e}: {i18n.number(v, ch.lang)}" for e, v in n.items()))


def _caption(ch, fig_id: str, rows: pd.DataFrame, tested: bool = False):
    from .figures import Caption

    spec = ch.figure_spec(fig_id)
    return Caption([(spec["caption"][ch.lang], False), (_n_text(ch, rows), False), (i18n.t("ci_note", ch.lang), True)]
                   + ([(i18n.t("trend_tested", ch.lang), True)] if tested else []))


def _values(ch, rows: pd.DataFrame) -> dict[str, str]:
    return {f"{r.measure}_{r.category}": format_row(r, ch.lang).words for r in rows.itertuples()}


def trend_figure(ch, data: dict[str, Dataset], fig_id: str) -> pd.DataFrame:
    rows = trend_rows(ch, data, fig_id)
    chart_data = chart_rows(rows.assign(label=[_label(ch, m) for m in rows["measure"]], edition=rows["category"]),
                            ch.lang, fields=("value_text",), fill=False)  # a line does not go through 0
    sig = (chart_data["p_value"] < ALPHA).to_numpy()
    chart_data["value_text"] = [t + " *" if s else t for t, s in zip(chart_data["value_text"], sig)]
    headline = ch.figure_spec(fig_id)["headline"][ch.lang].format(**_values(ch, rows))
    ch.figure(fig_id, rows[COLUMNS], charts.trend(chart_data, ch.lang), headline=headline,
              caption=_caption(ch, fig_id, rows, tested=True), n_text=_n_text(ch, rows))
    if "after" in ch.figure_spec(fig_id):
        ch.prose(ch.figure_spec(fig_id)["after"], **_values(ch, rows))
    words = changes_text(ch, rows)
    if words:
        display.show_html(str(templates.macro("blocks/text.html.j2", "prose")(words)))
    return rows


def split_figure(ch, data: dict[str, Dataset], fig_id: str) -> pd.DataFrame:
    """The figures that must not be read as a trend, bar by bar, and the
    harmonisation notes that say why, as a list under the figure."""
    rows = split_rows(ch, data, fig_id)
    chart_data = chart_rows(rows.assign(
        label=[f"{e}: {_label(ch, m, e)}" for e, m in zip(rows["category"], rows["measure"])]),
        ch.lang, fields=("value_text",)).assign(colour=["main" if c == "yes" else "muted" for c in rows["comparable"]])
    headline = ch.figure_spec(fig_id)["headline"][ch.lang].format(**_values(ch, rows))
    ch.figure(fig_id, rows[COLUMNS], charts.bars_ci(chart_data, ch.lang, color_field="colour",
                                                    colors=charts.ROLE_COLOURS),
              headline=headline, caption=_caption(ch, fig_id, rows), n_text=_n_text(ch, rows),
              table_labels={f"{m}@{e}": lab for m, e, lab in zip(rows["measure"], rows["category"], chart_data["label"])})
    h = pd.concat([harmonisation.rows(m, editions(ch)) for m in ch.figure_spec(fig_id)["measures"]])
    notes = h[h["comparable"] == "no"].drop_duplicates(["edition", "note_en"])
    items = [(r.edition, r.note_da if ch.lang == "da" else r.note_en) for r in notes.itertuples()]
    if "after" in ch.figure_spec(fig_id):
        ch.prose(ch.figure_spec(fig_id)["after"], **_values(ch, rows))
    display.show_html(str(templates.macro("blocks/harmonisation.html.j2", "notes")(items)))
    return rows


def _label(ch, measure: str, edition: str | None = None) -> str:
    """The label of ``measure`` as defined in ``edition`` (default: the newest
    compared edition that has it)."""
    from .codebook import load_codebook
    from .measures import measures_spec

    for e in [edition] if edition else list(reversed(editions(ch))):
        spec = measures_spec(e)["measures"].get(measure)
        if spec is None:
            continue
        if "label" in spec:
            return spec["label"][ch.lang]
        cb = load_codebook(e, "dk")
        if spec["var"] in cb.variables or spec["var"] in cb.derived:
            return cb.label(spec["var"], ch.lang)
    return measure


def definitions_table(ch) -> None:
    """The harmonisation table for the compared editions, as readers see it."""
    t = harmonisation.load()
    t = t[t["edition"].isin(editions(ch))]
    yes, no = ({"da": "ja", "en": "yes"}[ch.lang], {"da": "nej", "en": "no"}[ch.lang])
    head = {"da": ("Mål", "Udgave", "Sammenlignelig", "Note"), "en": ("Measure", "Edition", "Comparable", "Note")}
    body = [(_label(ch, r.measure, r.edition) if _label(ch, r.measure, r.edition) != r.measure else _label(ch, r.measure),
             r.edition, yes if r.comparable == "yes" else no, r.note_da if ch.lang == "da" else r.note_en)
            for r in t.itertuples()]
    display.show_html(str(templates.macro("blocks/harmonisation.html.j2", "table")(head[ch.lang], body)))
