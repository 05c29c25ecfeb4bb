"""Property tests for barometer.survey (hypothesis, modest example counts)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from barometer.survey import Design

# derandomized, as test_survey_stats_properties: the same examples on every run, so CI cannot turn red on a
# new draw; a search with derandomize=False and more examples is worth running by hand after a change
SETTINGS = settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

# found by a random search: x and C(g) aliased (g == "a" exactly where x == 1); the row-by-row fit and the fit
# on patterns of identical rows must both refuse it (before, rounding let one of them return huge coefficients)
ALIASED = pd.DataFrame({"stratum": ["s0"] * 3 + ["s1"] * 3, "N": 9, "w": 3.0, "y": [0.0, 1, 0, 1, 1, 0],
                        "x": [0.0, 0, 1, 1, 1, 0], "g": ["b", "b", "a", "a", "a", "b"], "dom": True})


@st.composite
def clustered(draw):
    """A stratified cluster sample: 2-4 strata, 2-4 PSUs each, 1-4 rows per PSU."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    rows = []
    psu = 0
    for h in range(draw(st.integers(2, 4))):
        for _ in range(draw(st.integers(2, 4))):
            psu += 1
            for _ in range(int(rng.integers(1, 5))):
                rows.append((f"s{h}", psu))
    df = pd.DataFrame(rows, columns=["stratum", "psu"])
    n = len(df)
    df["w"] = rng.uniform(0.5, 10, n)
    df["y"] = rng.normal(10, 3, n)
    df["x"] = rng.uniform(1, 5, n)
    df["ind"] = (rng.random(n) < 0.4).astype(float)
    df.loc[df.index[0], "ind"] = 0.0
    df.loc[df.index[1], "ind"] = 1.0
    df["dom"] = rng.random(n) < 0.6
    df.loc[df.index[:2], "dom"] = True
    return df


def stats_of(d: Design):
    m, t, r = d.mean("y"), d.total("y"), d.ratio("y", "x")
    return np.array([m.estimate, m.se, t.estimate, t.se, r.estimate, r.se, d.mean("ind").se])


@SETTINGS
@given(clustered(), st.integers(0, 2**32 - 1))
def test_row_order_invariance(df, seed):
    perm = np.random.default_rng(seed).permutation(len(df))
    d1 = Design(df, ids="psu", strata="stratum", weights="w")
    d2 = Design(df.iloc[perm].reset_index(drop=True), ids="psu", strata="stratum", weights="w")
    np.testing.assert_allclose(stats_of(d1), stats_of(d2), rtol=1e-10)
    # domains too
    s1 = d1.subset(df["dom"].to_numpy())
    s2 = d2.subset(df["dom"].to_numpy()[perm])
    np.testing.assert_allclose(stats_of(s1), stats_of(s2), rtol=1e-10)
    g1 = d1.glm("y ~ x + C(stratum)")
    g2 = d2.glm("y ~ x + C(stratum)")
    np.testing.assert_allclose(g1.se.to_numpy(), g2.se.to_numpy(), rtol=1e-8)
    # logistic fits stop on R's deviance tolerance, and tiny samples may be
    # separated, so only the (well-defined) intercept-only model is compared
    np.testing.assert_allclose(d1.ciprop("ind").ci, d2.ciprop("ind").ci, rtol=1e-6)


@SETTINGS
@given(clustered(), st.floats(0.01, 1000))
def test_weight_scaling(df, c):
    d1 = Design(df, ids="psu", strata="stratum", weights="w")
    df2 = df.assign(w=df["w"] * c)
    d2 = Design(df2, ids="psu", strata="stratum", weights="w")
    m1, m2 = d1.mean("y"), d2.mean("y")
    assert np.isclose(m1.estimate, m2.estimate, rtol=1e-10)
    assert np.isclose(m1.se, m2.se, rtol=1e-10)
    t1, t2 = d1.total("y"), d2.total("y")
    assert np.isclose(t2.estimate, c * t1.estimate, rtol=1e-10)
    assert np.isclose(t2.se, c * t1.se, rtol=1e-10)
    r1, r2 = d1.ciprop("ind"), d2.ciprop("ind")
    np.testing.assert_allclose(r1.ci, r2.ci, rtol=1e-7)
    g1 = d1.glm("y ~ x", family="gaussian")
    g2 = d2.glm("y ~ x", family="gaussian")
    np.testing.assert_allclose(g1.se.to_numpy(), g2.se.to_numpy(), rtol=1e-8)


@st.composite
def srs(draw):
    n = draw(st.integers(3, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    N = n + draw(st.integers(0, 10_000))
    return pd.DataFrame({"y": rng.normal(0, 1, n) * draw(st.floats(0.1, 100)), "N": float(N)})


@SETTINGS
@given(srs())
def test_simple_random_sample_textbook(df):
    n, N = len(df), df["N"].iloc[0]
    y = df["y"].to_numpy()
    s2 = y.var(ddof=1)
    # without fpc: SE(mean) = s / sqrt(n)
    d = Design(df.assign(w=1.0), weights="w")
    assert np.isclose(d.mean("y").estimate, y.mean())
    assert np.isclose(d.mean("y").se, np.sqrt(s2 / n), rtol=1e-9)
    assert d.degf() == n - 1
    # with fpc as population count: SE = sqrt((1 - n/N) s^2 / n); total SE = N * that
    d = Design(df, fpc="N")
    se = np.sqrt((1 - n / N) * s2 / n)
    assert np.isclose(d.mean("y").se, se, rtol=1e-9, atol=1e-300)
    assert np.isclose(d.total("y").estimate, N * y.mean(), rtol=1e-10)
    assert np.isclose(d.total("y").se, N * se, rtol=1e-9, atol=1e-300)
    # the same fpc given as a sampling fraction (R: a fraction of exactly 1 is an error)
    if n < N:
        d = Design(df.assign(f=n / N), fpc="f")
        assert np.isclose(d.mean("y").se, se, rtol=1e-9, atol=1e-300)


@SETTINGS
@given(clustered())
def test_by_equals_subset(df):
    d = Design(df, ids="psu", strata="stratum", weights="w")
    t = d.by("dom", "mean", "y")
    for _, row in t.iterrows():
        e = d.subset((df["dom"] == row["dom"]).to_numpy()).mean("y")
        assert np.isclose(e.estimate, row["estimate"], rtol=1e-10)
        assert np.isclose(e.se, row["se"], rtol=1e-10)


@SETTINGS
@given(clustered())
def test_domain_keeps_all_psus(df):
    """A domain estimate with zero weights outside equals the full-design
    estimate of the domain-indicator variables (the classic identity)."""
    d = Design(df, ids="psu", strata="stratum", weights="w")
    dom = df["dom"].to_numpy()
    sub = d.subset(dom)
    full = Design(df.assign(yd=df["y"] * dom), ids="psu", strata="stratum", weights="w")
    assert np.isclose(sub.total("y").se, full.total("yd").se, rtol=1e-10)
    assert sub.degf() <= d.degf()


@st.composite
def lonely_fpc(draw):
    """Strata with 1-3 PSUs (lonely ones included), an fpc that may vary
    within a stratum, 1-3 rows per PSU, and two nested domains."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    vary = draw(st.booleans())
    rows, psu = [], 0
    for h in range(draw(st.integers(2, 5))):
        for _ in range(draw(st.integers(1, 3))):
            psu += 1
            for _ in range(int(rng.integers(1, 4))):
                rows.append((f"s{h}", psu, 10 + h + (int(rng.integers(0, 3)) if vary else 0)))
    df = pd.DataFrame(rows, columns=["stratum", "psu", "N"])
    n = len(df)
    df["w"] = rng.uniform(0.5, 10, n)
    df["y"] = rng.normal(10, 3, n)
    df["ind"] = (rng.random(n) < 0.5).astype(float)
    df["dom"] = rng.random(n) < 0.7
    df["dom2"] = rng.random(n) < 0.7
    df.loc[df.index[:2], ["dom", "dom2"]] = True
    return df


@SETTINGS
@given(lonely_fpc(), st.sampled_from(["fail", "adjust", "average", "certainty", "remove"]), st.booleans())
def test_domain_reuses_parent_variance_plan_exactly(df, lonely, use_fpc):
    """A domain takes its parent's variance plan (no per-domain set-up); the
    result must equal a plan made afresh for the domain, for every lonely-PSU
    rule, with or without an fpc that varies within strata, one or two
    subsetting steps deep (and a domain may lose the lonely PSU that makes
    its parent fail)."""
    from barometer.survey._variance import LonelyPSUError

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = Design(df, ids="psu", strata="stratum", weights="w", fpc="N" if use_fpc else None, lonely_psu=lonely)

    def results(d):
        try:
            return np.array([d.mean("y").se, d.total("ind").se, d.ciprop("ind").ci[0]])
        except LonelyPSUError:
            return "lonely"

    for dom in (full.subset(df["dom"].to_numpy()), full.subset(df["dom"].to_numpy()).subset(df["dom2"].to_numpy())):
        fresh = dom._copy()  # same rows and weights, no parent: plans its own variance
        got, want = results(dom), results(fresh)
        if isinstance(want, str) or isinstance(got, str):
            assert isinstance(got, str) and isinstance(want, str)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)


@st.composite
def stratified_binary(draw):
    """A stratified element sample with one weight per stratum (as the
    Danish design), 0/1 answers, a factor, a 0/1 covariate and a domain."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    sizes = [draw(st.integers(3, 30)) for _ in range(2)] + [draw(st.integers(1, 30)) for _ in range(draw(st.integers(0, 4)))]
    df = pd.DataFrame({"stratum": np.repeat([f"s{h}" for h in range(len(sizes))], sizes)})
    n_h = df.groupby("stratum")["stratum"].transform("size")
    df["N"] = n_h * rng.integers(1, 4, len(sizes))[df["stratum"].str[1:].astype(int)]
    df["w"] = df["N"] / n_h
    n = len(df)
    df["y"] = (rng.random(n) < rng.uniform(0.05, 0.95)).astype(float)
    df["x"] = (rng.random(n) < 0.5).astype(float)
    df["g"] = rng.choice(["a", "b", "c"], n)
    df["dom"] = rng.random(n) < 0.8
    df.loc[df.index[:4], "y"] = [0.0, 1.0, 0.0, 1.0]
    df.loc[df.index[:4], "x"] = [0.0, 0.0, 1.0, 1.0]
    df.loc[df.index[:6], "dom"] = True
    const = draw(st.sampled_from([None, None, None, 0.0, 1.0]))
    if const is not None:  # nobody (everybody) answers yes: the logit interval's edge case
        df["y"] = const
    return df


@SETTINGS
@given(stratified_binary(), st.sampled_from(["adjust", "certainty", "remove", "average"]), st.booleans(),
       st.sampled_from(["logit", "mean", "xlogit", "asin", "beta"]))
@example(ALIASED, "adjust", False, "logit")
def test_grouped_rows_equal_row_by_row(df, lonely, use_fpc, method):
    """Identical rows counted once (barometer.survey._compress) give the
    row-by-row results: shares with every interval method, and a
    quasibinomial GLM with a factor, in the whole sample and in a domain."""
    import warnings

    from barometer.survey import _compress

    def run(compress: bool):
        old = (_compress.MAX_CELLS_PER_ROW, _compress.MAX_GROUPS_PER_ROW, _compress.group)
        hits = []
        if compress:  # group even tiny samples
            _compress.MAX_CELLS_PER_ROW = _compress.MAX_GROUPS_PER_ROW = 1.0

            def counted(*a, **k):
                g = old[2](*a, **k)
                hits.append(g is not None)
                return g
            _compress.group = counted
        else:
            _compress.group = lambda *a, **k: None
            _compress.patterns = lambda *a, **k: None  # row by row, not by patterns either
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                d = Design(df, strata="stratum", weights="w", fpc="N" if use_fpc else None, lonely_psu=lonely)
                out = []
                for dd in (d, d.subset(df["dom"].to_numpy())):
                    r = dd.ciprop("y", method=method)
                    out += [r.estimate, r.se, *r.ci]
                    try:
                        g = dd.glm("y ~ x + C(g)", family="quasibinomial")
                        if g.converged and g.params.abs().max() < 8:
                            out += list(g.params) + list(g.se) + [g.df_resid]
                        else:  # (quasi-)separation: the fit drifts off, digits are noise
                            out.append(-2.0)
                    except ValueError:  # singular in a tiny domain: both paths must say so
                        out.append(-1.0)
            return np.array(out, dtype=float), hits
        finally:
            _compress.MAX_CELLS_PER_ROW, _compress.MAX_GROUPS_PER_ROW, _compress.group = old
            _compress.patterns = patterns

    patterns = _compress.patterns
    got, hits = run(True)
    want, _ = run(False)
    assert hits and all(hits)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, equal_nan=True)


@SETTINGS
@given(stratified_binary(), st.sampled_from(["adjust", "certainty", "remove", "average"]), st.booleans(),
       st.sampled_from(["quasibinomial", "gaussian", "quasipoisson"]), st.integers(0, 2**32 - 1),
       st.sampled_from(["element", "element", "cluster", "poststratified"]))
def test_glm_patterns_equal_row_by_row(df, lonely, use_fpc, family, seed, kind):
    """Weights varying inside strata: the GLM fitted on patterns of
    identical values with summed weights (barometer.survey._compress.patterns,
    VariancePlan.pattern_variance for element samples, the influence matrix
    for cluster samples and calibrated designs) gives the row-by-row
    coefficients, SEs and deviance, in the whole sample and in a domain,
    with a 0/1, a three-valued and a factor covariate and an interaction."""
    import warnings

    from barometer.survey import _compress

    rng = np.random.default_rng(seed)
    df = df.copy()
    df["w"] = df["w"] * rng.uniform(0.3, 3.0, len(df))
    df["k"] = rng.integers(0, 3, len(df)).astype(float)
    df["psu"] = df["stratum"] + "-" + (df.groupby("stratum").cumcount() // 3).astype(str)  # PSUs of 3 rows
    df["Npsu"] = 2 * df.groupby("stratum")["psu"].transform("nunique")
    patterns = _compress.patterns

    def run(by_patterns: bool):
        hits = []

        def counted(*a, **k):
            out = patterns(*a, **k)
            hits.append(out is not None)
            return out
        _compress.patterns = counted if by_patterns else (lambda *a, **k: None)
        old = _compress.MAX_GROUPS_PER_ROW
        _compress.MAX_GROUPS_PER_ROW = 1.0  # patterns even in tiny samples
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                d = Design(df, ids="psu" if kind == "cluster" else None, strata="stratum", weights="w",
                           fpc=None if not use_fpc else "Npsu" if kind == "cluster" else "N", lonely_psu=lonely)
                if kind == "poststratified":
                    levels = sorted(df["g"].unique())
                    d = d.poststratify("g", pd.DataFrame({"g": levels, "Freq": 100.0 * np.arange(2, 2 + len(levels))}))
                out = []
                for dd in (d, d.subset(df["dom"].to_numpy())):
                    for formula in ("y ~ x + k + C(g)", "y ~ x * C(g)"):
                        try:
                            g = dd.glm(formula, family=family)
                            usable = (g.converged and g.params.abs().max() < 8
                                      and np.linalg.cond(g.naive_cov.to_numpy()) < 1e10)
                        except ValueError:
                            usable = False
                        if usable:
                            out += list(g.params) + list(g.se) + [g.deviance, g.iterations, g.df_resid]
                        else:  # singular, aliased (summed in another order, singular or not) or
                            out.append(-1.0)  # (quasi-)separated in a tiny sample: digits are noise
            return np.array(out, dtype=float), hits
        finally:
            _compress.patterns = patterns
            _compress.MAX_GROUPS_PER_ROW = old

    got, hits = run(True)
    want, _ = run(False)
    assert hits and all(hits)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, equal_nan=True)
