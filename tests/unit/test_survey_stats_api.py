"""The API of barometer.survey's descriptive statistics (issue 15): result
types, argument errors as one clear message, and R's conventions at the
edges (empty domains, constant variables, aliased groups)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from barometer.survey import Design, Estimate, Estimates, TestResult, compare, contrast, cv, difference


@pytest.fixture()
def d():
    rng = np.random.default_rng(3)
    n = 60
    df = pd.DataFrame({
        "st": np.repeat(["a", "b", "c"], 20),
        "psu": np.repeat(np.arange(12), 5),
        "w": rng.uniform(1, 5, n),
        "y": rng.normal(5, 2, n),
        "ind": (rng.random(n) < 0.4).astype(float),
        "g": rng.choice(["x", "y", "z"], n),
        "k": rng.integers(1, 4, n),
        "one": 1.0,
    })
    df.loc[3, "y"] = np.nan
    return Design(df, ids="psu", strata="st", weights="w")


def test_result_types(d):
    assert isinstance(d.mean("g", factor=True), Estimates)
    assert isinstance(d.total("k", factor=True), Estimates)
    e = d.mean("y", deff=True)
    assert isinstance(e, Estimate) and e.deff > 0 and math.isclose(e.deft, math.sqrt(e.deff))
    assert d.mean("y").deff is None and d.mean("y").deft is None
    assert isinstance(d.by("g", "mean", "y", covmat=True), Estimates)
    assert list(d.by("g", "total", "y", deff=True).columns) == ["g", "estimate", "se", "deff", "deft"]
    assert isinstance(d.ttest("y"), TestResult) and isinstance(d.ttest("y", "ind"), TestResult)
    assert list(d.quantile("y", [0.5]).columns) == ["quantile", "ci_l", "ci_u", "se"]
    assert list(d.quantile("y", [0.5], ci=False).columns) == ["quantile"]
    assert isinstance(d.table("g"), pd.Series) and isinstance(d.crosstab("g", "k"), pd.DataFrame)
    assert isinstance(d.table("g", "k", "st").index, pd.MultiIndex)
    f = d.mean("g", factor=True)
    assert f["x"].estimate == f.estimate["x"] and list(f.to_frame().columns) == ["estimate", "se"]
    assert np.allclose(cv(f), f.se / f.estimate) and math.isclose(cv(d.mean("y")), d.mean("y").cv)
    t = d.by("g", "mean", "y")
    assert np.allclose(cv(t), t["se"] / t["estimate"])
    assert math.isclose(d.ciprop("ind").cv, d.ciprop("ind").se / d.ciprop("ind").estimate)


def test_wilson_interval_contains_the_share_and_is_the_score_interval(d):
    r = d.ciprop("ind", method="wilson")
    assert r.ci[0] < r.estimate < r.ci[1]
    m = d.mean("ind")
    n = m.estimate * (1 - m.estimate) / m.var
    from scipy import stats

    t = stats.t.ppf(0.975, d.degf())
    # the score interval solves (p - c)^2 = t^2 c (1 - c) / n at both ends
    for c in r.ci:
        assert math.isclose((m.estimate - c) ** 2, t * t * c * (1 - c) / n, rel_tol=1e-9)


def test_argument_errors(d):
    f = d.mean("g", factor=True)
    with pytest.raises(ValueError, match="3 weights for 3|has 2 weights for 3"):
        contrast(f, [1, -1])
    with pytest.raises(ValueError, match="unknown estimate name"):
        contrast(f, {"nope": 1})
    with pytest.raises(TypeError, match="covmat=True"):
        contrast(d.by("g", "mean", "y"), [1, -1, 0])
    with pytest.raises(ValueError, match="statistic must be mean, total or ratio"):
        d.by("g", "ciprop", "ind", covmat=True)
    with pytest.raises(ValueError, match="deff is available for mean and total"):
        d.by("g", "ratio", "y", denominator="w", deff=True)
    with pytest.raises(ValueError, match="deff must be"):
        d.mean("y", deff="sometimes")
    with pytest.raises(ValueError, match="group must be binary"):
        d.ttest("y", "g")
    with pytest.raises(ValueError, match="group must be binary"):
        d.ttest("y", "k")
    with pytest.raises(ValueError, match="qrule must be one of"):
        d.quantile("y", qrule="nearest")
    with pytest.raises(ValueError, match="interval_type must be one of"):
        d.quantile("y", interval_type="wald")
    with pytest.raises(ValueError, match="between 0 and 1"):
        d.quantile("y", [1.5])
    with pytest.raises(KeyError, match="nope"):
        d.table("nope")
    with pytest.raises(ValueError, match="needs the designs' degrees of freedom"):
        difference(d.mean("y"), d.mean("y"))
    with pytest.raises(ValueError, match="df must be"):
        difference(d.mean("y"), d.mean("y"), df="satterthwaite", df_a=3, df_b=4)
    with pytest.raises(ValueError, match="unknown statistic"):
        compare(d, d, "y", statistic="median")


def test_edges_follow_r(d):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # a constant has no design effect (R: 0/0 or rounding noise)
        assert np.isnan(d.mean("one", deff=True).deff)
        # an aliased group (constant in the domain): NA as R, df = degf of the rows fitted
        sub = d.subset((d.data["ind"] == 1).to_numpy())
        r = sub.ttest("y", "ind")
        assert np.isnan(r.statistic) and np.isnan(r.p) and r.df == sub._complete(["y"]).degf()
        # svyvar of an empty domain is 0 (R's empty design), of one row NA
        none = d.subset(np.zeros(len(d.data), dtype=bool))
        assert none.var("y").estimate == 0.0
        one = d.subset(np.arange(len(d.data)) == 0)
        assert np.isnan(one.var("y").estimate)
    # a difference with itself as an independent sample: 0, variance doubled
    r = compare(d, d, "y")
    assert r.estimate == 0 and math.isclose(r.var, 2 * d.mean("y").var) and math.isclose(r.p, 1.0)
    assert math.isclose(r.df, d.degf() * 2)  # Welch-Satterthwaite with equal halves
    cp = compare(d, d, "ind", statistic="ciprop")
    assert math.isclose(cp.var, 2 * d.ciprop("ind").var)


def test_difference_without_sampling_error():
    """Both variances 0 (two censuses): an exact difference, not a ZeroDivisionError."""
    a, b = Estimate(0.4, 0.0, "mean", "y", 10), Estimate(0.25, 0.0, "mean", "y", 12)
    for df in ("welch", "min", np.inf, 7):
        r = difference(a, b, df=df)
        assert r.estimate == pytest.approx(0.15) and r.se == 0.0
        assert r.statistic == np.inf and r.p == 0.0 and r.ci == (r.estimate, r.estimate)
    assert difference(a, b).df == 10  # Welch with no variance: min(df_a, df_b)
    r = difference(b, a)
    assert r.statistic == -np.inf and r.p == 0.0
    same = difference(a, Estimate(0.4, 0.0, "mean", "y", 12))
    assert same.estimate == 0.0 and same.statistic == 0.0 and same.p == 1.0 and same.ci == (0.0, 0.0)
    # one side without variance is an ordinary test on the other's
    r = difference(a, Estimate(0.25, 0.0025, "mean", "y", 12))
    assert math.isclose(r.statistic, 0.15 / 0.05) and r.df == 12 and 0 < r.p < 0.05
