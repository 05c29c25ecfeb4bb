"""Shared helpers for the parity tests of barometer.survey's descriptive
statistics (issue 15): the designs of tests/fixtures/survey/make_reference_stats.R
and the recomputation of each of its records.

``compare_record(key, want)`` returns ``(label, got, want, rel)`` tuples, one
per compared array; the tests assert them and report the largest relative
difference.
"""

from __future__ import annotations

import json
import math
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from barometer.survey import Design, compare, contrast
from survey_reference import FIXTURES, domain, make_design

TIGHT = 1e-8
NTOT_STRAT = pd.DataFrame({"stype": ["E", "H", "M"], "N": [4421.0, 755.0, 1018.0]})


def load_stats_reference(folder: Path = FIXTURES) -> dict:
    ref = json.loads((folder / "r_reference_stats.json").read_text())
    ref.pop("_meta", None)
    return ref


@lru_cache(maxsize=None)
def bundled(name: str) -> Design:
    """R's data(mu284) and data(nhanes) designs, from the CSVs beside the R script."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "mu284":
            d = pd.read_csv(FIXTURES / "mu284.csv")
            d["big"] = (d["y1"] > 45).astype(float)
            d["grp"] = np.where(d["id1"].isin([19, 45]), "a", "b")
            return Design(d, ids=["id1", "id2"], fpc=["n1", "n2"])
        if name == "nhanes":
            d = pd.read_csv(FIXTURES / "nhanes.csv")
            d["sex"] = np.where(d["RIAGENDR"] == 1, "m", "f")
            d["race_f"] = d["race"].astype(str)
            return Design(d, ids="SDMVPSU", strata="SDMVSTRA", weights="WTMEC2YR", nest=True)
    raise KeyError(name)


@lru_cache(maxsize=None)
def design(name: str, dom: str = "") -> Design:
    base = bundled(name) if name in ("mu284", "nhanes") else make_design(name)
    return domain(base, dom)


def _arr(x) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in np.atleast_1d(x)], dtype=float)


def _lv(x) -> list[str]:
    return [x] if isinstance(x, str) else list(x)


def _label(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _f(order_f: pd.DataFrame) -> np.ndarray:
    return np.asarray(order_f, dtype=float).ravel(order="F")


def compare_record(key: str, want: dict, resolve=None):
    """Recompute one R record; ``[(label, got, want), ...]``.  ``resolve(tag,
    domain)`` gives the design (default: the fixture designs)."""
    resolve = resolve or design
    tag, dom, op, *args = key.split("|")
    if op == "indep":
        a, b = resolve(tag, ""), resolve(dom, "")
        var = args[1]
        r = compare(a, b, var, statistic=args[0])
        rm = compare(a, b, var, statistic=args[0], df="min")
        return [("estimate", r.estimate, want["estimate"]), ("se", r.se, want["se"]), ("df", r.df, want["df"]),
                ("t", r.statistic, want["statistic"]), ("p", r.p, want["p"]), ("df_min", rm.df, want["df_min"]),
                ("p_min", rm.p, want["p_min"])]
    d = resolve(tag, dom)
    out = []
    if op == "deff":
        stat, var = args
        fn = getattr(d, stat)
        e, er = fn(var, factor=False, deff=True), fn(var, factor=False, deff="replace")
        out += [("estimate", e.estimate, want["estimate"]), ("se", e.se, want["se"]), ("deff", e.deff, want["deff"]),
                ("deff_replace", er.deff, want["deff_replace"]), ("cv", e.cv, want["cv"])]
    elif op == "factor":
        stat, var = args
        fn = getattr(d, stat)
        e, er = fn(var, factor=True, deff=True), fn(var, factor=True, deff="replace")
        assert [_label(v) for v in e.estimate.index] == _lv(want["level"]), (list(e.estimate.index), want["level"])
        out += [("estimate", e.estimate, want["estimate"]), ("cov", _f(e.cov), want["cov"]),
                ("deff", e.deff, want["deff"]), ("deff_replace", er.deff, want["deff_replace"])]
        if stat == "mean":  # shares sum to 1, covariance rows to 0 (also true of R's)
            assert math.isclose(float(e.estimate.sum()), 1.0, rel_tol=1e-12)
    elif op in ("by", "bycov"):
        by, stat, vars_ = args
        vv = vars_.split(",")
        den = vv[1] if stat == "ratio" else None
        if op == "bycov":
            e = d.by(by, stat, vv[0], denominator=den, covmat=True)
            assert [_label(v) for v in e.estimate.index] == _lv(want["level"])
            # R's SE column is each domain's own SE (the same as the covariance
            # diagonal except with lonely_psu="average"), its vcov the full design's
            se = d.by(by, stat, vv[0], denominator=den)["se"]
            out += [("estimate", e.estimate, want["estimate"]), ("se", se, want["se"]), ("cov", _f(e.cov), want["cov"])]
        else:
            t, tr = d.by(by, stat, vv[0], deff=True), d.by(by, stat, vv[0], deff="replace")
            assert [_label(v) for v in t[by]] == _lv(want["level"])
            out += [("estimate", t["estimate"], want["estimate"]), ("se", t["se"], want["se"]),
                    ("deff", t["deff"], want["deff"]), ("deff_replace", tr["deff"], want["deff_replace"])]
    elif op == "contrast":
        by, stat, var, name = args
        if by:
            est = d._complete([var]).by(by, stat, var, covmat=True)
        else:
            est = getattr(d, stat)(var, factor=True)
        if name == "all":
            names = _lv(want["names"])
            c = contrast(est, {k: want["weights"][k] for k in names})
            assert list(c.estimate.index) == names
            out += [("estimate", c.estimate, want["estimate"]), ("cov", _f(c.cov), want["cov"])]
        else:
            c = contrast(est, want["weights"])
            out += [("estimate", c.estimate, want["estimate"]), ("se", c.se, want["se"])]
    elif op == "table":
        spec = args[0].split(",")
        vs = [s for s in spec if "=" not in s and s != "round"]
        nt = [s for s in spec if s.startswith("N=")]
        N = None if not nt else (NTOT_STRAT if nt[0] == "N=strata" else float(nt[0][2:]))
        t = d.table(*vs, Ntotal=N, round="round" in spec)
        dims = want["dims"]
        dims = [_lv(dims[v]) for v in vs] if isinstance(dims, dict) else [_lv(dims)]
        if len(vs) == 1:
            got_dims, vals = [list(t.index)], t.to_numpy()
        elif len(vs) == 2:
            got_dims, vals = [list(t.index), list(t.columns)], _f(t)
        else:
            got_dims = [list(lv) for lv in t.index.levels]
            vals = t.to_numpy().reshape([len(x) for x in got_dims]).ravel(order="F")
        assert [[_label(v) for v in g] for g in got_dims] == dims, (got_dims, dims)
        out.append(("values", vals, want["values"]))
    elif op == "ttest":
        y, group = args
        r = d.ttest(y, group or None)
        out += [("t", r.statistic, want["statistic"]), ("df", r.df, want["df"]), ("p", r.p, want["p"]),
                ("estimate", r.estimate, want["estimate"]), ("ci", r.ci, want["ci"])]
    elif op == "var":
        e = d.var(args[0])
        out += [("estimate", e.estimate, want["estimate"]), ("se", e.se, want["se"])]
    elif op == "quantile":
        var, qrule, itype, alpha, df = args
        q = d.quantile(var, (0.1, 0.25, 0.5, 0.75, 0.9), alpha=float(alpha), interval_type=itype, qrule=qrule,
                       df=None if df == "degf" else math.inf)
        out += [(c, q[c], want[c]) for c in ("quantile", "ci_l", "ci_u", "se")]
    elif op == "wilson":
        var, level, df = args
        r = d.ciprop(var, method="wilson", level=float(level), df=None if df == "degf" else math.inf)
        out += [("estimate", r.estimate, want["estimate"])]
        if want["se"] is not None and want["se"] < 1e-9:
            # degenerate: a proportion of 0 or 1 in this domain; the SE is rounding
            # noise (R's 1e-18, ours 0) and the interval depends on that noise
            assert r.se < 1e-9
        else:
            out += [("se", r.se, want["se"]), ("ci", r.ci, want["ci"])]
    else:  # pragma: no cover
        raise KeyError(op)
    return [_degenerate_deff(p) for p in out]


def _degenerate_deff(pair):
    """A design effect of a variable that is constant in the domain is NaN
    here (documented in barometer.survey._describe); R divides 0 or rounding
    noise by 0 or by rounding noise and reports NaN, Inf, 0 or ~1e30.  Those
    entries are not compared; every other one is."""
    label, got, want = pair
    if not label.startswith("deff"):
        return pair
    g = np.atleast_1d(np.asarray(got, dtype=float))
    w = _arr(want)
    noise = np.isnan(g) & (~np.isfinite(w) | (w == 0) | (np.abs(w) > 1e20))
    return label, got, np.where(noise, np.nan, w)


def rel_diff(got, want) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(got, want, relative difference) as arrays; NaN where both are NaN."""
    g = np.atleast_1d(np.asarray(got, dtype=float))
    w = _arr(want)
    assert g.shape == w.shape, (g, w)
    scale = np.maximum(np.abs(w), 1e-300)
    with np.errstate(invalid="ignore"):
        rel = np.where(np.isnan(g) & np.isnan(w), 0.0, np.abs(g - w) / scale)
    return g, w, rel


def check(pairs, key: str, rel: float = TIGHT) -> float:
    """Assert every pair agrees to ``rel`` relative, or 1e-12 of the array's
    largest value absolute (rounding noise around 0); return the largest
    relative difference among the entries that are not noise.  Noise: an
    entry within that absolute tolerance, and an SE, CV or covariance below
    1e-9 of the estimate (a variable calibrated on itself, whose SE is ~1e-13
    in R and here; the existing parity tests treat it alike)."""
    worst = 0.0
    est = [np.nanmax(np.abs(_arr(w))) for label, _, w in pairs if label == "estimate" and np.isfinite(_arr(w)).any()]
    est_scale = max(est) if est else 1.0
    for label, got, want in pairs:
        g, w, r = rel_diff(got, want)
        atol = 1e-12 * max(1.0, float(np.nanmax(np.abs(w))) if np.isfinite(w).any() else 1.0)
        both_nan = np.isnan(g) & np.isnan(w)
        ok = both_nan | np.isclose(g, w, rtol=rel, atol=atol)
        assert ok.all(), f"{key} {label}: python {g} R {w}"
        meaningful = ~both_nan & (np.abs(w) > atol)
        if label in ("se", "cv"):
            meaningful &= np.abs(w) > 1e-9 * (1.0 if label == "cv" else est_scale)
        elif label == "cov":
            meaningful &= np.sqrt(np.abs(w)) > 1e-9 * est_scale
        if meaningful.any():
            worst = max(worst, float(np.max(r[meaningful])))
    return worst
