"""Caption rules in code (barometer.figures, barometer.method): the N of a test is the
N of its models, a headline above an observational test claims no cause, and two
respondent counts that differ are explained."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from barometer import figures, method
from barometer.params import ParameterError
from barometer.reportconfig import report_config

EDITIONS = ("2018", "2021", "2024")


@pytest.mark.parametrize("text", [
    "Samarbejde fører til bedre kvalitet",
    "Innovationer udviklet i samarbejde med andre fører oftere til bedre kvalitet",
    "Partnere giver bedre kvalitet",
    "Samarbejde øger kvaliteten",
    "Innovations made with partners more often lead to better quality",
    "Collaboration leads to better quality",
    "Collaboration causes better quality",
    "Collaboration increases quality",
    "Collaboration results in better quality",
])
def test_causal_wording_is_found(text):
    assert figures.causal_wording(text)


@pytest.mark.parametrize("text", [
    "Innovationer udviklet i samarbejde med andre er oftere forbundet med bedre kvalitet",
    "Innovations developed with others are more often associated with better quality",
    "Bedre kvalitet i innovationer med og uden inspiration fra udlandet",
])
def test_association_wording_passes(text):
    assert figures.causal_wording(text) is None


def test_causal_headline_above_a_test_is_refused():
    with pytest.raises(ParameterError, match=r"figure q: the headline says 'fører oftere til', a causal claim"):
        figures.check_headline("q", "Samarbejde fører oftere til bedre kvalitet", has_test=True)
    figures.check_headline("q", "64 % af innovationerne har givet bedre kvalitet", has_test=False)  # no test: no rule


@pytest.mark.parametrize("edition", EDITIONS)
def test_no_edition_headlines_a_test_with_a_cause(edition):
    tested = {fid: spec for fid, spec in report_config(edition)["figures"].items() if figures.is_test(spec)}
    assert tested, f"edition {edition} has no tested figure"
    for fid, spec in tested.items():
        for lang in ("da", "en"):
            headline = spec["headline"][lang]
            assert figures.causal_wording(headline) is None, (edition, fid, lang, headline)


def _innovations(n_ref: int, n_a: int, n_b: int, n_both: int, n_other: int) -> pd.DataFrame:
    """Innovations made without partners, with partner a, b, both, or with a partner not in the figure."""
    rows = ([(1, 0, 0, 0)] * n_ref + [(0, 1, 0, 0)] * n_a + [(0, 0, 1, 0)] * n_b
            + [(0, 1, 1, 0)] * n_both + [(0, 0, 0, 1)] * n_other)
    df = pd.DataFrame(rows, columns=["m_collab_none", "m_collab_a", "m_collab_b", "m_collab_c"])
    df["innovative"] = 1
    df["m_value_quality"] = np.arange(len(df)) % 2
    df["subsector"] = 1
    return df


SPEC = {"type": "outcome", "population": "innovations", "outcome": "value_quality", "reference": "collab_none",
        "partners": ["collab_a", "collab_b"], "controls": ["C(subsector)"]}


def test_caption_n_of_a_test_is_the_models_not_the_largest_bar():
    df = _innovations(n_ref=30, n_a=50, n_b=20, n_both=10, n_other=7)
    n = figures.analysis_n(df, SPEC)
    assert n == 30 + 50 + 20 + 10  # everyone in a model: the reference and every partner group, once
    assert n != max(df["m_collab_a"].sum(), df["m_collab_b"].sum(), df["m_collab_none"].sum())


def test_caption_n_leaves_out_missing_outcome_and_controls():
    df = _innovations(n_ref=30, n_a=50, n_b=20, n_both=10, n_other=0)
    df.loc[0, "m_value_quality"] = np.nan
    df.loc[1, "subsector"] = np.nan
    df.loc[2, "innovative"] = 0  # not an innovation: outside the population
    assert figures.analysis_n(df, SPEC) == 110 - 3


def test_two_respondent_counts_that_differ_are_found_by_level():
    df = pd.DataFrame({"innovative": [1, 0, np.nan, 1, 1, np.nan], "gov_level": [3, 3, 3, 1, 2, 2]})
    assert method.item_nonresponse(df) == [("all", 6, 4), ("2", 2, 1), ("3", 3, 2)]
    assert method.item_nonresponse(df.dropna()) == []


def test_running_text_writes_pct_in_danish():
    from barometer.rowformat import format_row

    row = {"estimate_pct": 60.2, "ci_low_pct": 58.0, "ci_high_pct": 62.0, "n_obs": 1322, "p_value": float("nan"),
           "suppressed": False}
    assert format_row(row, "da").words == "60\u00a0pct."
    assert format_row(row, "da").value == "60\u00a0%"  # tables and charts keep the sign
    assert format_row(row, "en").words == "60%"


def test_a_sentence_ending_on_pct_has_one_full_stop(tmp_path):
    import yaml

    from barometer.content import load_content, render_factbox
    from barometer.rowformat import tidy_stops

    assert tidy_stops("den politiske ledelse 19 pct.. Borgerne") == "den politiske ledelse 19 pct. Borgerne"
    assert tidy_stops("Andelen er 19 pct. i begge lande.") == "Andelen er 19 pct. i begge lande."
    box = {"id": "fb", "kind": "factbox", "chapter": "collaboration", "title": {"da": "T", "en": "T"},
           "measures": ["voluntary_involved"], "note": {"da": "Kilde.", "en": "Source."},
           "text": {"da": "Danmark {voluntary_involved_dk}, Norge {voluntary_involved_no}.",
                    "en": "Denmark {voluntary_involved_dk}, Norway {voluntary_involved_no}."}}
    (tmp_path / "2018" / "factboxes").mkdir(parents=True)
    (tmp_path / "2018" / "factboxes" / "fb.yaml").write_text(yaml.safe_dump(box, allow_unicode=True), encoding="utf-8")
    html = render_factbox(load_content("2018", tmp_path).get("fb"), "da",
                          {"voluntary_involved_dk": "16 pct.", "voluntary_involved_no": "8 pct."})
    assert "Danmark 16 pct., Norge 8 pct.</p>" in html


@pytest.mark.parametrize("lang,word", [("da", "igur"), ("en", "igure")])
def test_a_cross_reference_that_opens_a_sentence_has_a_capital(lang, word):
    from barometer.report import Chapter

    ch = Chapter("norway", lang=lang)
    opening = ch._markup("De norske tal er færre. [[fig:no_sector]] viser dem.")
    inside = ch._markup("Se [[fig:no_sector]], og: [[fig:no_sector]] igen.")
    assert f">F{word} " in opening and f">f{word} " not in opening
    assert inside.count(f">f{word} ") == 2 and f">F{word} " not in inside
    assert f">F{word} " in ch._markup("[[fig:no_sector]] viser dem.")


def _texts(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _texts(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _texts(v, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


@pytest.mark.parametrize("edition", EDITIONS)
def test_no_comparison_in_any_text_is_worded_as_a_cause(edition):
    """'X more often leads to Y' is how a comparison of groups turns into a causal claim: no
    headline, caption or prose of any edition, in either language, says a group 'more often'
    leads to, gives or causes something (the tests behind them are observational)."""
    import re

    comparison = re.compile(r"\b(?:oftere|hyppigere|more often|more frequently)\b", re.IGNORECASE)
    found = [(path, text[max(0, m.start() - 40):m.end() + 30]) for path, text in _texts(report_config(edition))
             for m in comparison.finditer(text) if figures.causal_wording(text[m.end():m.end() + 30])]
    assert not found, found


@pytest.mark.parametrize("p, marks", [
    ([np.nan, 0.001, 0.2, 0.03], "marks"),   # some significant, some not: a * says which
    ([np.nan, 0.001, 0.002, 0.0], "all"),    # a * on every tested bar says nothing
    ([np.nan, 0.3, 0.06], "none"),
    ([np.nan, 0.01], "marks"),               # one test: its mark is the result
    ([np.nan, np.nan], None),                # nothing tested
])
def test_significance_marks_only_where_they_discriminate(p, marks):
    assert figures.significance_marks(p) == marks


def test_a_figure_where_every_difference_is_significant_says_so_once_in_its_caption():
    """The quality-by-partner figure (2018): every partner type differs significantly from
    'no collaboration' in the synthetic sample, so no bar carries a *; the caption says it."""
    from barometer.report import Chapter

    ch = Chapter("collaboration", "2018", "dk", "da", "", "")
    ds = ch.data()
    from barometer import estimates

    spec = ch.figure_spec("quality_by_partner")
    rows = estimates.outcome_by_partner(ds, spec["outcome"], spec["partners"], "quality_by_partner",
                                        controls=spec["controls"], reference=spec["reference"])
    assert figures.significance_marks(rows["p_value"]) == "all"
    data = ch.bar_data(rows, reference="collab_none", significance=True)
    assert not any(label.endswith("*") for label in data["label"])
    caption = ch.caption("quality_by_partner", rows).full()
    assert "Alle forskelle til referencen er signifikante" in caption and "* signifikant" not in caption
    mixed = rows.assign(p_value=[np.nan, 0.2] + [0.001] * (len(rows) - 2))
    assert sum(label.endswith(" *") for label in ch.bar_data(mixed, reference="collab_none", significance=True)["label"]) \
        == len(rows) - 2
    assert "* signifikant forskellig fra referencen" in ch.caption("quality_by_partner", mixed).full()
