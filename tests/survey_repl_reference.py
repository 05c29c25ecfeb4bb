"""Shared helpers for the replicate-weight / calibration / interaction parity
tests: rebuild the designs described by make_reference_repl.R's output and
recompute each record with barometer.survey.

The output of the R script is ``{"designs": {name: spec}, "records": {key: values}}``
with keys ``design|op|args`` (see tests/fixtures/survey/make_reference_repl.R).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from barometer.survey import Design, ReplicateDesign, as_replicate, regterm_test

from survey_reference import FIXTURES, read_api

TIGHT, LOOSE = 1e-8, 1e-5


def load(path: Path = FIXTURES / "r_reference_repl.json") -> dict:
    return json.loads(Path(path).read_text())


def fixture_bases() -> dict:
    """The linearisation designs of the saved reference (as make_reference_repl.R)."""
    strat = read_api("apistrat.csv")
    clus1 = read_api("apiclus1.csv")
    nh = pd.read_csv(FIXTURES / "nhanes.csv")
    nh["female"] = (nh["RIAGENDR"] == 2).astype(float)
    nh["racec"] = "r" + nh["race"].astype(str)
    nh["bmiish"] = 20 + nh["race"] * 2 + nh["female"] * 3 + (nh["SDMVSTRA"] % 7)
    nh["cnt"] = nh["SDMVPSU"] + (nh["SDMVSTRA"] % 3) + nh["female"]
    mu = pd.read_csv(FIXTURES / "mu284.csv")
    scd = pd.read_csv(FIXTURES / "scd.csv")
    scd["wt5"] = 5.0
    scd["fpc5"] = 5.0
    scd["one"] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "apistrat": Design(strat, strata="stype", weights="pw", fpc="fpc"),
            "apiclus1": Design(clus1, ids="dnum", weights="pw", fpc="fpc"),
            "nhanes": Design(nh, ids="SDMVPSU", strata="SDMVSTRA", weights="WTMEC2YR", nest=True),
            "mu284": Design(mu, ids=["id1", "id2"], fpc=["n1", "n2"]),
            "scd": scd,
            "scd_des": Design(scd, ids="ambulance", strata="ESA", weights="one", fpc="fpc5", nest=True),
        }


def live_bases(data: pd.DataFrame) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "strat": Design(data, ids="psu", strata="st", weights="w"),
            "unstrat": Design(data, ids="psu", weights="w"),
        }


def _num(v):
    if isinstance(v, str):
        return {"Inf": math.inf, "-Inf": -math.inf}[v]
    return v


def _arr(v):
    return np.atleast_1d(np.asarray([np.nan if x is None else _num(x) for x in np.atleast_1d(v)], dtype=float))


def _noise(estimate) -> float:
    """Absolute tolerance of an SE: rounding noise of the estimate (an SE of
    a calibration variable's own total is ~1e-11 in R and here)."""
    return max(1e-12, 1e-9 * float(np.nanmax(np.abs(_arr(estimate)))))


def build(name: str, spec: dict, bases: dict):
    """The Python design for one entry of ``designs``."""
    if spec["kind"] == "base":
        return bases[name]
    base = bases[spec["base"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if spec["kind"] == "cal":
            pop = dict(zip(np.atleast_1d(spec["pop_names"]), _arr(spec["pop"])))
            lo, hi = _arr(spec["bounds"])
            return base.calibrate(spec["formula"], pop, calfun=spec["calfun"], bounds=(lo, hi))
        if spec["kind"] == "rep":
            if "unit_weights" in spec:  # R's random bootstrap replicates
                U = np.asarray(spec["unit_weights"], dtype=float)
                if U.ndim == 1:
                    U = U[:, None]
                idx = np.asarray(spec["index"], dtype=int) - 1
                data = base.data.copy()
                data["__pw"] = base.weights
                return ReplicateDesign(data, U[idx], weights="__pw", type="bootstrap", combined_weights=False,
                                       scale=spec["scale"], rscales=_arr(spec["rscales"]), mse=spec["mse"])
            return as_replicate(base, spec["type"], rho=spec["rho"], mse=spec["mse"])
        if spec["kind"] == "svrep":
            return ReplicateDesign(base, spec["repweights"], weights=spec.get("weights"), type=spec["type"],
                                   combined_weights=spec["combined"], rho=spec.get("rho"),
                                   scale=spec.get("scale"),
                                   rscales=None if spec.get("rscales") is None else _arr(spec["rscales"]),
                                   mse=spec["mse"])
    raise KeyError(spec["kind"])


class Checker:
    """Compares and remembers the largest relative difference seen."""

    def __init__(self):
        self.worst = (0.0, "")
        self.by_tol: dict[float, tuple[float, str]] = {}
        self.count = 0

    def close(self, got, want, rel: float, what: str, abs_: float = 1e-12) -> None:
        got = np.atleast_1d(np.asarray(got, dtype=float))
        want = _arr(want)
        assert got.shape == want.shape, (what, got, want)
        both_nan = np.isnan(got) & np.isnan(want)
        ok = both_nan | np.isclose(got, want, rtol=rel, atol=abs_)
        with np.errstate(all="ignore"):
            d = np.where(both_nan, 0.0, np.abs(got - want) / np.maximum(np.abs(want), 1e-300))
        d = np.where(np.abs(got - want) <= abs_, 0.0, d)
        self.count += got.size
        if d.size and np.nanmax(d) > self.worst[0]:
            self.worst = (float(np.nanmax(d)), what)
        if d.size and np.nanmax(d) >= self.by_tol.get(rel, (0.0, ""))[0]:
            self.by_tol[rel] = (float(np.nanmax(d)), what)
        assert ok.all(), f"{what}: got {got}, R {want}"


def tolerance(name: str, spec: dict, op: str) -> float:
    if op == "glm":
        return LOOSE
    if spec["kind"] == "cal" and (spec["calfun"] != "linear" or np.isfinite(_arr(spec["bounds"])).any()):
        return LOOSE  # iterative calibration
    return TIGHT


def check(key: str, want: dict, designs: dict, specs: dict, chk: Checker) -> None:
    name, op, *args = key.split("|")
    d = designs[name]
    tol = tolerance(name, specs[name], op)
    if op == "degf":
        assert d.degf() == want["value"], (key, d.degf(), want["value"])
    elif op == "weights":
        w = d.weights[d._present] if hasattr(d, "_present") else d.weights
        chk.close(w[: len(_arr(want["head"]))], want["head"], tol, key)
        chk.close(w.sum(), want["sum"], tol, key)
        chk.close((w * w).sum(), want["ss"], tol, key)
    elif op in ("mean", "total"):
        e = getattr(d, op)(args[0])
        chk.close(e.estimate, want["estimate"], tol, key)
        chk.close(e.se, want["se"], tol, key, abs_=_noise(want["estimate"]))
    elif op == "ratio":
        e = d.ratio(*args[0].split(","))
        chk.close(e.estimate, want["estimate"], tol, key)
        chk.close(e.se, want["se"], tol, key, abs_=_noise(want["estimate"]))
    elif op == "ciprop":
        r = d.ciprop(args[0], method=args[1])
        chk.close(r.estimate, want["estimate"], tol, key)
        chk.close(r.se, want["se"], tol, key)
        chk.close(r.ci, [want["ci_l"], want["ci_u"]], tol, key)
    elif op == "by":
        by, stat, y = args
        kw = {}
        if stat == "ratio":
            y, kw["denominator"] = y.split(",")
        if stat == "ciprop":
            kw["method"] = "logit"
        res = d.by(by, stat, y, **kw)
        assert [str(v) for v in res[by]] == [str(v) for v in np.atleast_1d(want["level"])], key
        chk.close(res["estimate"], want["estimate"], tol, key)
        chk.close(res["se"], want["se"], tol, key, abs_=_noise(want["estimate"]))
        if stat == "ciprop":
            chk.close(res["ci_l"], want["ci_l"], tol, key)
            chk.close(res["ci_u"], want["ci_u"], tol, key)
    elif op == "glm":
        formula, family = args
        g = d.glm(formula, family=family)
        assert list(g.params.index) == list(np.atleast_1d(want["names"])), (key, list(g.params.index))
        chk.close(g.params, want["coef"], tol, key + " coef")
        chk.close(g.se, want["se"], tol, key + " se")
        chk.close(g.pvalues, want["p"], tol, key + " p", abs_=1e-10)
        assert g.df_resid == want["df_resid"], (key, g.df_resid, want["df_resid"])
        for t in want.get("tests") or []:
            a = regterm_test(g, t["term"])
            chk.close(a.F, t["F"], tol, f"{key} regTermTest {t['term']} F")
            assert a.df == t["df"] and a.ddf == t["ddf"], (key, t, a)
            chk.close(a.p, t["p"], tol, f"{key} regTermTest {t['term']} p", abs_=1e-10)
            b = regterm_test(g, "~" + t["term"], df=np.inf)
            chk.close(b.chisq, t["chisq_inf"], tol, f"{key} regTermTest {t['term']} chisq")
            chk.close(b.p, t["p_inf"], tol, f"{key} regTermTest {t['term']} p(Inf)", abs_=1e-10)
    else:
        raise KeyError(op)


def check_design_spec(name: str, spec: dict, d) -> None:
    """A replicate design's scale, rscales and number of replicates are R's."""
    if spec["kind"] == "rep":
        assert d.n_replicates == spec["nrep"], (name, d.n_replicates, spec["nrep"])
        assert np.isclose(d.scale, spec["scale"], rtol=1e-12), (name, d.scale, spec["scale"])
        assert np.allclose(d.rscales, _arr(spec["rscales"]), rtol=1e-12), name
    if spec["kind"] == "svrep":
        assert np.isclose(d.scale, spec["r_scale"], rtol=1e-12), (name, d.scale, spec["r_scale"])
        assert np.allclose(d.rscales, _arr(spec["r_rscales"]), rtol=1e-12), name
