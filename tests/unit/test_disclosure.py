"""Disclosure control: small bases, small cells, secondary suppression, settings."""

import re
import math

import numpy as np
import pandas as pd
import pytest

from barometer import disclosure, estimates
from barometer.codebook import load_codebook
from barometer.dataset import Dataset
from barometer.estimates import COLUMNS
from barometer.survey import Design

R = disclosure.Rules(min_base=20, min_cell=5)


def _tiny(y):
    cb = load_codebook("2018", "dk")
    n = len(y)
    df = pd.DataFrame({"stratum": ["a"] * (n // 2) + ["b"] * (n - n // 2), "stratum_N": 500, "innovative": 1.0,
                       "gov_level": 3, "m_collab_any_external": [float(v) for v in y]})
    df["weight"] = df["stratum_N"] / df.groupby("stratum")["stratum"].transform("size")
    return Dataset("2018", "dk", df, cb, Design(df, strata="stratum", weights="weight", fpc="stratum_N"), True)


@pytest.mark.parametrize("n_yes,n,suppressed", [
    (0, 40, False), (1, 40, True), (4, 40, True), (5, 40, False), (35, 40, False), (36, 40, True), (39, 40, True),
    (40, 40, False), (10, 19, True), (10, 20, False)])
def test_share_suppressed_for_small_base_cell_or_complement(n_yes, n, suppressed):
    row = estimates.share(_tiny([1] * n_yes + [0] * (n - n_yes)), "collab_any_external", "innovations", "f")
    assert row["suppressed"] is suppressed
    assert math.isnan(row["estimate_pct"]) is suppressed and math.isnan(row["ci_low_pct"]) is suppressed
    assert row["n_obs"] == n


def _rows(n_obs, suppressed, est=None):
    k = len(n_obs)
    return pd.DataFrame({"figure_id": "f", "measure": "m", "country": "dk", "population": "p",
                         "category": [f"c{i}" for i in range(k)],
                         "estimate_pct": est or [50.0] * k, "ci_low_pct": 40.0, "ci_high_pct": 60.0,
                         "n_obs": n_obs, "p_value": 0.01, "suppressed": suppressed}, columns=COLUMNS)


def test_secondary_suppression_hides_the_next_smallest_cell():
    rows = _rows([300, 25, 40, 90], [False, True, False, False])
    out = disclosure.secondary(rows, r=R)
    assert out["suppressed"].tolist() == [False, True, True, False]
    assert out.loc[[1, 2], ["estimate_pct", "ci_low_pct", "ci_high_pct", "p_value"]].isna().all().all()
    assert out.loc[[0, 3], "estimate_pct"].notna().all()
    assert out["n_obs"].tolist() == [300, 25, 40, 90]  # bases stay published


def test_secondary_suppression_until_hidden_cells_are_not_a_small_count():
    # two hidden counts 1 + 2 = 3 could still be told apart from the total: hide a third
    rows = _rows([1, 2, 30, 60], [True, True, False, False])
    assert disclosure.secondary(rows, r=R)["suppressed"].tolist() == [True, True, True, False]
    assert disclosure.secondary(_rows([30, 60], [False, False]), r=R)["suppressed"].tolist() == [False, False]


def test_protect_partition_flags_small_bases_and_applies_secondary():
    rows = _rows([400, 12, 35], [False, False, False])
    out = disclosure.protect(rows, partition=True, r=R)
    assert out["suppressed"].tolist() == [False, True, True]
    assert disclosure.protect(rows, partition=False, r=R)["suppressed"].tolist() == [False, True, False]


def test_protect_counts_hides_small_counts_and_keeps_total():
    rows = pd.DataFrame([
        {"figure_id": "t", "measure": "respondents", "category": c, "n_obs": n, "estimate_pct": np.nan,
         "suppressed": False, "country": "dk", "population": "w", "ci_low_pct": np.nan, "ci_high_pct": np.nan,
         "p_value": np.nan} for c, n in [("state", 3), ("region", 41), ("municipality", 900), ("all", 944)]
    ] + [{"figure_id": "t", "measure": "frame_units", "category": "state", "n_obs": 3, "estimate_pct": np.nan,
          "suppressed": False, "country": "dk", "population": "w", "ci_low_pct": np.nan, "ci_high_pct": np.nan,
          "p_value": np.nan}])
    out = disclosure.protect_counts(estimates.with_reliability(rows)[COLUMNS], r=R)
    assert out["suppressed"].tolist() == [True, True, False, False, False]
    assert out["n_obs"].isna().tolist() == [True, True, False, False, False]


def test_protect_units_for_a_municipality_table():
    table = pd.DataFrame({"municipality": ["Aarhus", "Læsø", "Fanø", "Odense", "Vejle"],
                          "n_obs": [210, 8, 25, 150, 60], "n_yes": [120, 4, 3, 149, 30],
                          "estimate_pct": [57.0, 50.0, 12.0, 99.3, 50.0]})
    out = disclosure.protect_units(table, numerator="n_yes", r=R)
    # Læsø: base 8 < 20; Fanø: 3 yes; Odense: 1 'no' (complement). Three hidden: no secondary needed.
    assert out["suppressed"].tolist() == [False, True, True, True, False]
    assert out["estimate_pct"].isna().tolist() == [False, True, True, True, False]
    assert out["n_yes"].isna().tolist() == [False, True, True, True, False]
    one = disclosure.protect_units(table.iloc[[0, 1, 3, 4]].assign(n_yes=[120, 10, 100, 30]), numerator="n_yes", r=R)
    assert one["suppressed"].tolist() == [False, True, False, True]  # Vejle (next smallest base) hidden too


def test_min_base_from_settings_and_configure():
    assert disclosure.rules() == disclosure.Rules(min_base=20, min_cell=5)
    disclosure.configure(50)
    try:
        assert disclosure.rules().min_base == 50
        row = estimates.share(_tiny([1] * 20 + [0] * 20), "collab_any_external", "innovations", "f")
        assert row["suppressed"] and row["n_obs"] == 40
        with pytest.raises(disclosure.DisclosureError, match="'twenty' is not a whole number"):
            disclosure.configure("twenty")
    finally:
        disclosure.configure(None)
    assert disclosure.rules().min_base == 20


def test_no_setting_travels_through_the_environment(monkeypatch):
    monkeypatch.setenv("BAROMETER_MIN_BASE", "50")
    assert disclosure.rules().min_base == 20


@pytest.mark.parametrize("value", ["0", "4", "-20", "2.5", ""])
def test_bad_min_base_is_refused(value):
    with pytest.raises(disclosure.DisclosureError, match="--min-base"):
        disclosure.check_min_base(value)


def test_suppressed_cells_show_a_mark_with_footnote_and_blank_csv(tmp_path):
    from barometer.report import Chapter

    ch = Chapter("front", output_dir=str(tmp_path))
    rows = _rows([300, 12, 40], [False, False, False], est=[100 / 3, 50.0, 2 / 3]).assign(
        category=["state_workplaces", "regional_workplaces", "municipal_workplaces"], measure="innovative")
    shown = []
    import barometer.display as display

    orig, display.show_html = display.show_html, shown.append
    try:
        with pytest.raises(disclosure.DisclosureError, match=r"2 cell\(s\) must be suppressed before the chart is "
                                                             r"drawn \(regional_workplaces, municipal_workplaces\)"):
            ch.figure("innovative_by_level", rows, _chart())
        assert not shown and not (tmp_path / "estimates").exists()
        ch.figure("innovative_by_level", ch.protect("innovative_by_level", rows), _chart())
    finally:
        display.show_html = orig
    markup = shown[0]
    assert len(re.findall(r"<td[^>]*>\.\.</td>", markup)) == 2  # the small base and, by secondary suppression, the next smallest
    assert "Ikke vist af hensyn til diskretion: bygger på færre end 20 besvarelser" in markup
    est = pd.read_csv(tmp_path / "estimates" / "innovative_by_level.csv")
    assert est["suppressed"].tolist() == [False, True, True]
    assert est.loc[1:, ["estimate_pct", "ci_low_pct", "ci_high_pct", "p_value"]].isna().all().all()
    # written with estimates.csv's number format: a fan-out's estimates.csv is these files merged as they are
    first = (tmp_path / "estimates" / "innovative_by_level.csv").read_text().splitlines()[1]
    assert ",33.333333,40.000000,60.000000," in first


def _chart():
    import altair as alt

    return alt.Chart(pd.DataFrame({"x": [1]})).mark_bar().encode(x="x:Q")
