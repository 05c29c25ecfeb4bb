"""Estimates on small hand-checked frames, number formats, disclosure control."""

import math

import pandas as pd
import pytest

from barometer import estimates, i18n
from barometer.codebook import load_codebook
from barometer.dataset import Dataset
from barometer.survey import Design


def _tiny(y, strata, N):
    cb = load_codebook("2018", "dk")
    df = pd.DataFrame({"stratum": strata, "stratum_N": N, "innovative": 1.0, "gov_level": 3,
                       "collab_none": [1 - v for v in y], "collab_any_external": [float(v) for v in y]})
    df["weight"] = df["stratum_N"] / df.groupby("stratum")["stratum"].transform("size")
    df["m_collab_any_external"] = df["collab_any_external"]
    design = Design(df, strata="stratum", weights="weight", fpc="stratum_N")
    return Dataset("2018", "dk", df, cb, design, synthetic=True)


def test_stratified_share_and_se_by_hand():
    # stratum a: N=100, n=20, 10 yes; stratum b: N=300, n=20, 5 yes
    y = [1] * 10 + [0] * 10 + [1] * 5 + [0] * 15
    ds = _tiny(y, ["a"] * 20 + ["b"] * 20, [100] * 20 + [300] * 20)
    row = estimates.share(ds, "collab_any_external", "innovations", "f")
    p = (100 * 0.5 + 300 * 0.25) / 400
    assert row["estimate_pct"] == pytest.approx(100 * p)
    # textbook stratified variance of a proportion with fpc
    var = sum((Nh / 400) ** 2 * (1 - 20 / Nh) * ph * (1 - ph) * 20 / 19 / 20
              for Nh, ph in ((100, 0.5), (300, 0.25)))
    se = math.sqrt(var)
    # logit interval of R's svyciprop, with the design's degrees of freedom (40 - 2)
    from scipy import stats
    t = stats.t.ppf(0.975, 38)
    lo = 1 / (1 + math.exp(-(math.log(p / (1 - p)) - t * se / (p * (1 - p)))))
    hi = 1 / (1 + math.exp(-(math.log(p / (1 - p)) + t * se / (p * (1 - p)))))
    assert row["ci_low_pct"] == pytest.approx(100 * lo, rel=1e-9)
    assert row["ci_high_pct"] == pytest.approx(100 * hi, rel=1e-9)
    assert row["n_obs"] == 40 and not row["suppressed"]


def test_small_base_is_suppressed():
    y = [1, 0] * 9
    ds = _tiny(y, ["a"] * 18, [50] * 18)
    row = estimates.share(ds, "collab_any_external", "innovations", "f")
    assert row["suppressed"] and math.isnan(row["estimate_pct"]) and row["n_obs"] == 18


def test_columns_are_the_contract():
    assert estimates.COLUMNS == ["figure_id", "measure", "country", "population", "category", "estimate_pct",
                                 "ci_low_pct", "ci_high_pct", "n_obs", "p_value", "suppressed",
                                 "se_pct", "deff", "cv", "unreliable"]


@pytest.mark.parametrize("x,lang,decimals,expected", [
    (1942, "da", 0, "1.942"), (1942, "en", 0, "1,942"), (79.44, "da", 1, "79,4"), (79.44, "en", 1, "79.4"),
    (1234567.891, "da", 2, "1.234.567,89")])
def test_number_formats(x, lang, decimals, expected):
    assert i18n.number(x, lang, decimals) == expected


def test_percent_formats():
    assert i18n.pct(79, "da") == "79\u00a0%"
    assert i18n.pct(79, "en") == "79%"
    assert i18n.pct(float("nan"), "da") == "–"
