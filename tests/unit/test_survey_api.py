"""The calling conventions the report relies on (shape of results, not numbers:
numbers are checked against R in test_survey_parity*.py)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from barometer.survey import CIProp, Design, Estimate, GLMResult


@pytest.fixture(scope="module")
def report_like():
    rng = np.random.default_rng(7)
    n = 2400
    strata = rng.integers(1, 25, n)
    df = pd.DataFrame({"stratum": strata})
    size = df.groupby("stratum")["stratum"].transform("size")
    df["stratum_N"] = size * rng.uniform(2, 8, 25)[strata - 1]
    df["stratum_N"] = np.ceil(df["stratum_N"])
    df["weight"] = df["stratum_N"] / size
    df["population_flag"] = (rng.random(n) < 0.9).astype(int)
    df["collab_private"] = (rng.random(n) < 0.35).astype(float)
    df.loc[rng.random(n) < 0.02, "collab_private"] = np.nan
    df["partner"] = (rng.random(n) < 0.4).astype(int)
    df["innovation_type"] = rng.choice(["product", "process", "organisation"], n)
    df["subsector"] = pd.array(rng.choice(["state", "region", "municipality"], n), dtype="string")
    df["quality"] = (rng.random(n) < 0.5 + 0.1 * df["partner"]).astype(int)
    return df


def test_report_calls(report_like):
    df = report_like
    t0 = time.perf_counter()
    d = Design(df, strata="stratum", weights="weight", fpc="stratum_N")
    dom = d.subset(df["population_flag"] == 1)
    r = dom.ciprop("collab_private", method="logit")
    assert isinstance(r, CIProp)
    assert 0 < r.ci[0] < r.estimate < r.ci[1] < 1
    assert r.se > 0
    mask = (df["partner"] == 1) | (df["quality"] >= 0)
    g = d.subset(mask).glm("quality ~ partner + C(innovation_type) + C(subsector)", family="quasibinomial")
    assert isinstance(g, GLMResult)
    assert list(g.params.index) == [
        "(Intercept)", "partner", "C(innovation_type)process", "C(innovation_type)product",
        "C(subsector)region", "C(subsector)state",
    ]
    assert 0 <= g.pvalues["partner"] <= 1
    assert g.df_resid == d.degf() + 1 - 6
    assert time.perf_counter() - t0 < 5  # a few milliseconds normally


def test_estimate_objects_and_confint(report_like):
    d = Design(report_like, strata="stratum", weights="weight", fpc="stratum_N")
    m = d.mean("quality")
    assert isinstance(m, Estimate) and m.var == pytest.approx(m.se**2)
    lo, hi = m.confint()
    assert (hi - lo) / 2 == pytest.approx(stats.norm.ppf(0.975) * m.se)
    lo, hi = m.confint(level=0.9, df=d.degf())
    assert (hi - lo) / 2 == pytest.approx(stats.t.ppf(0.95, d.degf()) * m.se)
    t = d.total("quality")
    assert t.estimate == pytest.approx(float((report_like["weight"] * report_like["quality"]).sum()))
    assert "mean quality" in repr(m)


def test_by_dataframe(report_like):
    d = Design(report_like, strata="stratum", weights="weight", fpc="stratum_N")
    t = d.by("subsector", "mean", "collab_private")
    assert list(t.columns) == ["subsector", "estimate", "se"]
    assert list(t["subsector"]) == ["municipality", "region", "state"]
    t2 = d.by("subsector", "ciprop", "collab_private", method="logit")
    assert list(t2.columns) == ["subsector", "estimate", "se", "ci_l", "ci_u"]
    np.testing.assert_allclose(t2["se"], t["se"], rtol=1e-12)


def test_subset_by_column_name_equals_mask(report_like):
    d = Design(report_like, strata="stratum", weights="weight", fpc="stratum_N")
    a = d.subset("population_flag").ciprop("collab_private")
    b = d.subset(report_like["population_flag"].to_numpy() == 1).ciprop("collab_private")
    assert a.ci == b.ci and a.estimate == b.estimate


def test_chisq_result(report_like):
    d = Design(report_like, strata="stratum", weights="weight", fpc="stratum_N")
    s = d.chisq("innovation_type", "subsector")
    assert s.ndf > 0 and s.ddf > 0 and 0 <= s.p <= 1
    assert s.table.shape == (3, 3)
