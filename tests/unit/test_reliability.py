"""se_pct, deff and cv of every estimates row; the CV limits (unreliable mark,
suppression) of data/report/disclosure.yaml; tests of differences between
independent samples (Denmark-Norway, edition to edition)."""

import io
import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from barometer import disclosure, estimates, i18n, rowformat, trends, yamlio
from barometer.codebook import load_codebook
from barometer.dataset import Dataset
from barometer.estimates import COLUMNS
from barometer.rowformat import format_row, p_phrase, suppressed_note
from barometer.survey import Design

R = disclosure.Rules(min_base=20, min_cell=5, cv_flag=0.3, cv_suppress=0.5)


def _tiny(y, strata=None, N=None, country="dk", edition="2018"):
    """One stratum per entry of ``strata`` (default: two of equal size, N = 500 each)."""
    cb = load_codebook("2018", "dk")
    n = len(y)
    strata = strata or ["a"] * (n // 2) + ["b"] * (n - n // 2)
    df = pd.DataFrame({"stratum": strata, "stratum_N": N or 500, "innovative": 1.0, "gov_level": 3,
                       "m_collab_any_external": [float(v) for v in y]})
    df["weight"] = df["stratum_N"] / df.groupby("stratum")["stratum"].transform("size")
    return Dataset(edition, country, df, cb, Design(df, strata="stratum", weights="weight", fpc="stratum_N"), True)


def _stratified_var(y, strata, N):
    """Textbook variance of a stratified share with fpc, and the share."""
    df = pd.DataFrame({"y": y, "h": strata, "N": N})
    tot = df.groupby("h")["N"].first().sum()
    p = sum(g["N"].iloc[0] / tot * g["y"].mean() for _, g in df.groupby("h"))
    var = sum((g["N"].iloc[0] / tot) ** 2 * (1 - len(g) / g["N"].iloc[0]) * g["y"].var(ddof=1) / len(g)
              for _, g in df.groupby("h"))
    return p, var


# -- the new columns -------------------------------------------------------------------
def test_share_has_se_deff_and_cv_by_hand():
    y = [1] * 10 + [0] * 10 + [1] * 5 + [0] * 15
    strata, N = ["a"] * 20 + ["b"] * 20, [100] * 20 + [300] * 20
    row = estimates.share(_tiny(y, strata, N), "collab_any_external", "innovations", "f")
    p, var = _stratified_var(y, strata, N)
    assert row["se_pct"] == pytest.approx(100 * math.sqrt(var), rel=1e-9)
    assert row["cv"] == pytest.approx(math.sqrt(var) / p, rel=1e-9)
    # R's deff: the variance over that of simple random sampling without replacement of n from N = sum(w)
    w = np.array([100 / 20] * 20 + [300 / 20] * 20)
    yy = np.array(y, dtype=float)
    n, Nw = len(y), w.sum()
    s2 = np.sum(w * (yy - p) ** 2) / Nw * n / (n - 1)
    v_srs = s2 / n * (Nw - n) / Nw
    assert row["deff"] == pytest.approx(var / v_srs, rel=1e-9)
    assert not row["unreliable"]


def test_counts_and_suppressed_rows_have_no_se_deff_or_cv():
    ds = _tiny([1, 0] * 20)
    count = estimates.count(ds, "innovations", "f").iloc[0]
    assert all(math.isnan(count[c]) for c in ("se_pct", "deff", "cv")) and not count["unreliable"]
    small = estimates.share(_tiny([1, 0] * 9), "collab_any_external", "innovations", "f")
    assert small["suppressed"] and all(math.isnan(small[c]) for c in ("se_pct", "deff", "cv"))


def test_every_row_builder_gives_the_contract_columns():
    from barometer import method

    ds = _tiny([1, 0] * 20)
    frames = [estimates.shares(ds, ["collab_any_external"], "innovations", "f"), estimates.count(ds, "innovations", "f"),
              pd.DataFrame([estimates.count_row("f", "m", "dk", "p", "c", 10)], columns=COLUMNS),
              pd.DataFrame([method._count_row("f", ds, "m", "c", 10)], columns=COLUMNS)]
    for f in frames:
        assert list(f.columns) == COLUMNS
        assert f[list(COLUMNS)].notna().any(axis=1).all()
    counted = pd.concat(frames[1:])
    assert counted[["se_pct", "deff", "cv"]].isna().all().all()


def test_csv_has_the_new_columns_and_blanks_them_for_suppressed_rows():
    rows = pd.DataFrame([
        estimates._row("f", "a", "dk", "p", est=40.0, lo=30.0, hi=50.0, n=100, se=5.0, deff=1.2, cv=0.125),
        estimates._row("f", "b", "dk", "p", est=10.0, lo=5.0, hi=20.0, n=100, se=4.0, deff=1.1, cv=0.4,
                       unreliable=True),
        estimates._row("f", "c", "dk", "p", est=9.0, lo=5.0, hi=20.0, n=100, se=4.0, deff=1.1, cv=0.45,
                       unreliable=True, suppressed=True)], columns=COLUMNS)
    back = pd.read_csv(io.StringIO(estimates.to_csv_text(rows)))
    assert list(back.columns) == COLUMNS
    assert back["se_pct"].tolist()[:2] == [5.0, 4.0] and back["cv"].tolist()[:2] == [0.125, 0.4]
    assert back.loc[2, ["se_pct", "deff", "cv", "estimate_pct"]].isna().all()
    assert back["unreliable"].tolist() == [False, True, False]  # a hidden number carries no mark either


def test_rows_without_the_new_columns_get_them_blank():
    old = pd.DataFrame([{c: v for c, v in estimates._row("f", "a", "dk", "p", n=3).items()
                         if c not in estimates.RELIABILITY_COLUMNS}])
    out = estimates.with_reliability(old)
    assert list(out[COLUMNS].columns) == COLUMNS and out["se_pct"].isna().all() and not out["unreliable"].any()


# -- the CV rule -------------------------------------------------------------------------
@pytest.mark.parametrize("cv,unreliable,suppressed", [
    (0.1, False, False), (0.3, False, False), (0.31, True, False), (0.5, True, False), (0.51, False, True),
    (float("nan"), False, False)])
def test_cv_limits(cv, unreliable, suppressed):
    assert R.unreliable(cv) is (unreliable or suppressed)  # a suppressed row shows no mark (below)
    assert bool(R.cv_reason(cv)) is suppressed
    rows = pd.DataFrame([estimates._row("f", "m", "dk", "p", est=20.0, lo=10.0, hi=30.0, n=100, se=20 * cv,
                                        cv=cv)], columns=COLUMNS)
    out = disclosure.protect(rows, r=R)
    assert out["suppressed"].tolist() == [suppressed] and out["unreliable"].tolist() == [unreliable]
    assert math.isnan(out["cv"].iloc[0]) is (suppressed or math.isnan(cv))


def test_share_is_marked_or_suppressed_by_its_cv(monkeypatch):
    ds = _tiny([1] * 5 + [0] * 35)  # p = 1/8 on 40 answers: CV about 0.4
    row = estimates.share(ds, "collab_any_external", "innovations", "f")
    assert 0.3 < row["cv"] < 0.5 and row["unreliable"] and not row["suppressed"]
    monkeypatch.setattr(disclosure, "rules", lambda: disclosure.Rules(20, 5, cv_flag=0.2, cv_suppress=0.3))
    hidden = estimates.share(ds, "collab_any_external", "innovations", "f")
    assert hidden["suppressed"] and math.isnan(hidden["estimate_pct"]) and math.isnan(hidden["cv"])
    # a check that is never published (the targets) can skip the CV rule
    kept = estimates.share(ds, "collab_any_external", "innovations", "f", reliability=False)
    assert not kept["suppressed"] and not kept["unreliable"]


def test_the_limits_are_read_from_the_settings_file():
    raw = yamlio.load_file(disclosure.SETTINGS)
    r = disclosure.rules()
    assert (r.cv_flag, r.cv_suppress) == (float(raw["cv_flag"]), float(raw["cv_suppress"]))
    assert (r.cv_flag, r.cv_suppress) == (0.3, 0.5)  # the documented defaults


@pytest.mark.parametrize("flag,suppress,msg", [
    ("high", 0.5, "cv_flag: 'high' is not a number"), (0.3, -1, "cv_suppress must be a positive number"),
    (0, 0.5, "cv_flag must be a positive number"), (0.6, 0.5, r"cv_flag \(0.6\) must not be above cv_suppress"),
    (True, 0.5, "not a number")])
def test_bad_cv_limits_are_refused(flag, suppress, msg):
    with pytest.raises(disclosure.DisclosureError, match=msg):
        disclosure.check_cv_limits(flag, suppress)


def test_unreliable_mark_reads_in_value_words_and_note():
    row = estimates._row("f", "m", "dk", "p", est=12.0, lo=5.0, hi=20.0, n=100, se=4.2, cv=0.35, unreliable=True)
    for lang in ("da", "en"):
        f = format_row(row, lang)
        assert f.unreliable and f.value.endswith(i18n.t("unreliable_mark", lang)) and f.words == rowformat.in_words(f.value, lang)
        note = suppressed_note(pd.DataFrame([row]), lang)
        assert note.startswith(i18n.t("unreliable_mark", lang)) and "0" in note
    plain = format_row({**row, "unreliable": False}, "da")
    assert not plain.unreliable and plain.value == "12\u00a0%"
    assert suppressed_note(pd.DataFrame([{**row, "unreliable": False}]), "da") == ""
    assert "usikkert skøn" in format_row(row, "da").value and "unreliable estimate" in format_row(row, "en").value


def test_figure_shows_the_mark_in_chart_table_and_download(tmp_path):
    import altair as alt

    import barometer.display as display
    from barometer.report import Chapter

    ch = Chapter("front", output_dir=str(tmp_path))
    rows = pd.DataFrame([
        estimates._row("innovative_by_level", "innovative", "dk", "workplaces", c, est=e, lo=e - 5, hi=e + 5, n=300,
                       se=s, deff=1.1, cv=s / e, unreliable=R.unreliable(s / e))
        for c, e, s in (("state_workplaces", 60.0, 3.0), ("regional_workplaces", 10.0, 4.0),
                        ("municipal_workplaces", 50.0, 2.5))], columns=COLUMNS)
    shown = []
    orig, display.show_html = display.show_html, shown.append
    try:
        data = ch.bar_data(rows, population_labels=True)
        ch.figure("innovative_by_level", rows, alt.Chart(data).mark_text().encode(text="value_text:N"))
    finally:
        display.show_html = orig
    markup = shown[0]
    assert "(usikkert skøn)" in " ".join(data["value_text"])  # the chart's value labels
    assert len(re.findall(r"<td[^>]*>[^<]*\(usikkert skøn\)</td>", markup)) == 1  # the data table
    assert i18n.t("unreliable_note", "da", cv_flag="0,3") in markup
    est = pd.read_csv(tmp_path / "estimates" / "innovative_by_level.csv")
    assert est["unreliable"].tolist() == [False, True, False]
    assert est["cv"].iloc[1] == pytest.approx(0.4)


# -- differences between independent samples ---------------------------------------------
def test_difference_p_of_independent_shares_by_hand():
    ya, yb = [1, 0] * 30, [1 if i % 10 < 3 else 0 for i in range(60)]  # 30 and 18 of 60, in both strata
    a, b = _tiny(ya), _tiny(yb, country="no")
    ea = estimates.estimate(a, "collab_any_external", "innovations")
    eb = estimates.estimate(b, "collab_any_external", "innovations")
    strata = ["a"] * 30 + ["b"] * 30
    pa, va = _stratified_var(ya, strata, [500] * 60)
    pb, vb = _stratified_var(yb, strata, [500] * 60)
    df_a = df_b = 60 - 2  # PSUs minus strata
    welch = (va + vb) ** 2 / (va ** 2 / df_a + vb ** 2 / df_b)
    t = (pa - pb) / math.sqrt(va + vb)
    assert estimates.difference_p(ea, eb) == pytest.approx(2 * stats.t.sf(abs(t), welch), rel=1e-9)
    assert estimates.difference_p(ea, eb) < 0.05 < estimates.difference_p(ea, ea)


def test_changes_between_editions_are_tested_on_the_later_row():
    data = {"2018": _tiny([1, 0] * 30, edition="2018"), "2021": _tiny([1, 0] * 15 + [0, 1] * 15, edition="2021"),
            "2024": _tiny([1, 0, 0, 0, 0] * 12, edition="2024")}
    rows = [estimates.share(data[e], "collab_any_external", "innovations", "t", category=e) for e in data]
    rows = [{**r, "harmonised": "collab_any_external"} for r in rows]
    out = trends.test_changes(data, rows[::-1])  # any order in: edition order out
    assert [r["category"] for r in out] == ["2018", "2021", "2024"]
    assert math.isnan(out[0]["p_value"]) and "change_from" not in out[0]
    assert out[1]["change_from"] == "2018" and out[1]["p_value"] > 0.05
    assert out[2]["change_from"] == "2021" and out[2]["p_value"] < 0.05
    e = {k: estimates.estimate(v, "collab_any_external", "innovations") for k, v in data.items()}
    assert out[2]["p_value"] == pytest.approx(estimates.difference_p(e["2024"], e["2021"]), rel=1e-12)
    # a suppressed figure is not tested
    data["2021"] = _tiny([1, 0] * 9, edition="2021")
    rows[1] = {**estimates.share(data["2021"], "collab_any_external", "innovations", "t", category="2021"),
               "harmonised": "collab_any_external"}
    out = trends.test_changes(data, rows)
    assert math.isnan(out[1]["p_value"]) and math.isnan(out[2]["p_value"])


def test_danish_norwegian_difference_is_on_the_norwegian_row():
    from barometer.report import Chapter

    ch = Chapter("norway")
    spec = ch.figure_spec("nordic_collaboration")
    rows = pd.concat([estimates.shares(ch.data(c), spec["measures"], spec["population"], "nordic_collaboration")
                      for c in ("dk", "no")], ignore_index=True)
    rows.loc[(rows["country"] == "dk") & (rows["measure"] == spec["measures"][0]), "suppressed"] = True
    out = ch.test_countries(rows, spec)
    assert out.loc[out["country"] == "dk", "p_value"].isna().all()
    no = out[out["country"] == "no"].set_index("measure")["p_value"]
    assert math.isnan(no[spec["measures"][0]])  # one side suppressed: not tested
    m = spec["measures"][1]
    a, b = (estimates.estimate(ch.data(c), m, spec["population"]) for c in ("no", "dk"))
    assert no[m] == pytest.approx(estimates.difference_p(a, b), rel=1e-12)
    sig = set(no[no < 0.05].index)
    labels = ch.comparison_data(out).drop_duplicates("measure").set_index("measure")["label"]
    assert {k for k, v in labels.items() if v.endswith(" *")} == sig
    words = ch.country_differences(out)
    assert (i18n.t("dk_no_significant", "da", items="")[:30] in words) is bool(sig)
    assert ch.label(spec["measures"][0], "dk") in words.split(i18n.t("dk_no_untested", "da", items="")[:20])[-1]


def test_p_in_a_sentence():
    assert p_phrase(0.0123, "da") == "p = 0,012" and p_phrase(0.00001, "en") == "p < 0.001"
