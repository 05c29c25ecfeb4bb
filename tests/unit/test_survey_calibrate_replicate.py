"""Behaviour of calibrate(), replicate designs and the formula extensions
beyond the R parity fixtures: the two raking implementations agree, calibrated
weights hit their totals, errors name what is wrong, fast paths equal slow ones."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from barometer import weighting
from barometer.survey import ReplicateDesign, as_replicate, regterm_test
from barometer.survey._glm import model_matrix, parse_formula, resolve

from survey_reference import POP_SCHWIDE, POP_TYPES, make_design


def dclus1():
    return make_design("dclus1")


def margins_dict():
    return {"stype": POP_TYPES.set_index("stype")["Freq"].astype(float),
            "sch.wide": POP_SCHWIDE.set_index("sch.wide")["Freq"].astype(float)}


def raking_totals():
    return {"(Intercept)": 6194.0, "stypeH": 755.0, "stypeM": 1018.0, "sch.wideYes": 5122.0}


def test_three_raking_implementations_agree():
    """weighting.rake (the generator's IPF), Design.rake (R rake) and
    calibrate(calfun='raking') (R grake) converge to the same weights."""
    d = dclus1()
    ipf = weighting.rake(d.data, pd.Series(d.weights), margins_dict(), max_iter=500, tol=1e-13).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raked = d.rake([POP_TYPES, POP_SCHWIDE], maxit=500, epsilon=1e-13).weights
    cal = d.calibrate("~ stype + sch.wide", raking_totals(), calfun="raking", epsilon=1e-13).weights
    np.testing.assert_allclose(raked, ipf, rtol=1e-9)
    np.testing.assert_allclose(cal, ipf, rtol=1e-9)
    assert not np.allclose(ipf, d.weights, rtol=1e-3)  # the raking did something


@pytest.mark.parametrize("calfun,bounds", [("linear", (-np.inf, np.inf)), ("linear", (0.6, 2.0)),
                                           ("raking", (-np.inf, np.inf)), ("logit", (0.6, 2.0))])
def test_calibrated_weights_hit_totals_within_bounds(calfun, bounds):
    d = dclus1()
    pop = {"(Intercept)": 6194.0, "stypeH": 755.0, "stypeM": 1018.0, "api99": 3914069.0}
    c = d.calibrate("~ stype + api99", pop, calfun=calfun, bounds=bounds)
    f = resolve(parse_formula("__y ~ stype + api99"), lambda col: pd.api.types.is_numeric_dtype(d.data[col]))
    X, names, _ = model_matrix(f, np.arange(d.n), d._num, d._codes)
    np.testing.assert_allclose(c.weights @ X, [pop[n] for n in names], rtol=1e-6)
    g = c.weights / d.weights
    assert g.min() >= bounds[0] - 1e-9 and g.max() <= bounds[1] + 1e-9
    # a calibration variable's own total has (almost) no variance left
    assert c.total("api99").se < 1e-6 * d.total("api99").se


def test_calibrate_errors():
    d = dclus1()
    with pytest.raises(ValueError, match="lack model-matrix column"):
        d.calibrate("~ stype", {"(Intercept)": 6194.0, "stypeH": 755.0})
    with pytest.raises(ValueError, match="match no model-matrix column"):
        d.calibrate("~ stype", {"(Intercept)": 6194.0, "stypeH": 755.0, "stypeM": 1018.0, "x": 1.0})
    with pytest.raises(ValueError, match="calfun must be one of"):
        d.calibrate("~ stype", [6194.0, 755.0, 1018.0], calfun="ratio")
    with pytest.raises(ValueError, match="requires finite bounds"):
        d.calibrate("~ stype", [6194.0, 755.0, 1018.0], calfun="logit")
    with pytest.raises(ValueError, match="one-sided"):
        d.calibrate("api00 ~ stype", [6194.0, 755.0, 1018.0])
    with pytest.raises(ValueError, match="Calibration failed"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d.calibrate("~ stype", [6194.0, 755.0, 1018.0], calfun="logit", bounds=(0.99, 1.01), maxit=5)


def test_formula_column_order_and_coding():
    d = dclus1()
    f = resolve(parse_formula("y ~ ell:stype + stype"), lambda c: pd.api.types.is_numeric_dtype(d.data[c]))
    assert f.term_labels == ["stype", "ell:stype"]
    _, names, assign = model_matrix(f, np.arange(d.n), d._num, d._codes)
    # stype's main effect is in the model: contrasts in the interaction too (R's TermCode)
    assert names == ["(Intercept)", "stypeH", "stypeM", "ell:stypeE", "ell:stypeH", "ell:stypeM"]
    assert list(assign) == [0, 1, 1, 2, 2, 2]
    f = resolve(parse_formula("y ~ stype*awards"), lambda c: pd.api.types.is_numeric_dtype(d.data[c]))
    _, names, _ = model_matrix(f, np.arange(d.n), d._num, d._codes)
    assert names == ["(Intercept)", "stypeH", "stypeM", "awardsYes", "stypeH:awardsYes", "stypeM:awardsYes"]
    with pytest.raises(ValueError, match="unsupported term"):
        parse_formula("y ~ a + * b")


def test_regterm_test_unknown_term():
    g = dclus1().glm("api00 ~ ell*stype")
    with pytest.raises(ValueError, match="Terms didn't match"):
        regterm_test(g, "meals")
    a, b = regterm_test(g, "stype:ell"), regterm_test(g, "ell:stype")
    assert a.F == b.F and a.df == 2


def test_quasipoisson_rejects_negative_counts():
    with pytest.raises(ValueError, match="negative values"):
        dclus1().glm("growth ~ ell", family="quasipoisson")


def test_replicate_argument_errors():
    d = dclus1()
    with pytest.raises(ValueError, match="must supply the correct rho"):
        ReplicateDesign(d.data, np.ones((d.n, 4)), type="Fay")
    with pytest.raises(ValueError, match="Must provide rscales"):
        ReplicateDesign(d.data, np.ones((d.n, 4)), weights="pw", type="JKn")
    with pytest.raises(ValueError, match=r"\(n, R\)"):
        ReplicateDesign(d.data, np.ones((3, 4)), weights="pw")
    with pytest.raises(ValueError, match="JK1 for a stratified"):
        as_replicate(make_design("dstrat"), "JK1")
    with pytest.raises(ValueError, match="unstratified"):
        as_replicate(d, "BRR")
    with pytest.raises(ValueError, match="fewer than 2 PSUs"):
        as_replicate(make_design("dlonely", "adjust"), "BRR")
    with pytest.raises(ValueError, match="uncalibrated"):
        as_replicate(make_design("dclus1_ps"), "JK1")


def test_replicate_fast_by_equals_domain_loop_and_float32():
    r = as_replicate(make_design("dstrat"), "JKn")
    fast = r.by("awards", "mean", "api00")
    for lv, est, se in zip(fast["awards"], fast["estimate"], fast["se"]):
        e = r.subset((r.data["awards"] == lv).to_numpy()).mean("api00")
        assert np.isclose(e.estimate, est, rtol=1e-12) and np.isclose(e.se, se, rtol=1e-10)
    dense = ReplicateDesign(r.data.assign(__pw=r.weights), r.repweights(), weights="__pw", type="JKn",
                            rscales=r.rscales, scale=r.scale)
    single = ReplicateDesign(r.data.assign(__pw=r.weights), r.repweights(), weights="__pw", type="JKn",
                             rscales=r.rscales, scale=r.scale, dtype=np.float32)
    a, b, c = r.mean("api00"), dense.mean("api00"), single.mean("api00")
    assert np.isclose(a.se, b.se, rtol=1e-12) and np.isclose(a.se, c.se, rtol=1e-5)
    assert r.degf() == dense.degf() == 197  # 200 schools in 3 strata: rank 198, minus 1


def test_replicate_mse_differs_only_by_centring():
    d = make_design("dstrat")
    a, b = as_replicate(d, "BRR").mean("api00"), as_replicate(d, "BRR", mse=True).mean("api00")
    assert a.estimate == b.estimate and b.var >= a.var
