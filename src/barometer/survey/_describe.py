"""Factor means and totals, design effects, domain covariances, ``svyvar``
and ``svyttest`` -- R survey 4.x semantics.

Factor means/totals (R ``svymean(~factor(x))``, ``svytotal``)
    every level of ``x`` among the design's rows (levels sorted, as
    ``factor()``), rows with a missing ``x`` dropped by subsetting
    (``na.rm=TRUE``); the covariance is that of the indicator columns'
    influence values, so the shares sum to 1 and the covariance rows sum to 0.
    On a stratified element sample the rows are grouped (:mod:`._compress`).

Design effects (R ``deff=TRUE`` / ``deff="replace"``)
    ``deff = V_design / V_srs`` with, for a mean, ``V_srs = s2 (N - n)/(N n)``
    (R's default: simple random sampling *without* replacement from the
    design's estimated population size ``N = sum(w)``; NaN with a warning
    when ``N < n``) or ``s2 / n`` with ``deff="replace"``; for a total the same
    times ``N^2``.  ``s2 = svyvar(y)``, ``n`` the rows with non-zero weight.
    ``deft = sqrt(deff)``.  The default does not depend on whether the design
    has a fpc: it is R's.

Domain covariance (R ``svyby(..., covmat=TRUE)``)
    the influence values of every domain estimate go through one
    ``svyrecvar`` of the full design (R survey >= 4.0; R 4.1 misaligns them
    when the analysis variable has missing values, later versions and this
    code put zeros there).  On a stratified element sample the covariance is
    assembled from bincounts over stratum x domain, never an n x domains
    matrix.  With ``lonely_psu="average"`` R's per-domain SEs (and ``deff``)
    use each domain's own count of lonely strata, its covariance the full
    design's: ``Estimates.se`` is the latter, ``by(..., deff=True)`` the former.

``svyvar``
    ``n/(n-1) * svymean((y - ybar)^2)`` with its SE; ``n`` counts the rows with
    non-zero weight and a non-missing ``y`` (R survey >= 4.2; 4.1 also counted
    rows with a missing ``y``).

``svyttest``
    one sample: ``t = mean/SE`` on ``degf(design) - 1`` df (R, ``degf`` before
    dropping missing values), CI ``mean +- qt(.975, df) SE``; two groups:
    ``svyglm(y ~ group)`` (gaussian), ``t`` of the group coefficient on its
    residual df (``degf + 1 - 2``), CI from ``confint.svyglm``.  ``group``
    must be 0/1 or 1/2 or have two levels.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from . import _compress, _dist
from ._contrast import Estimates, TestResult
from ._variance import OneHot


# ----------------------------------------------------------------- helpers
def _factor_codes(design, y: str):
    """Codes 0..L-1 over the design's present rows (-1 missing) and levels."""
    if y not in design.data.columns:
        raise KeyError(f"column {y!r} not in data")
    codes, levels = design._codes(y)
    pres = design._present & (codes >= 0)
    used = np.flatnonzero(np.bincount(codes[pres], minlength=len(levels)))
    remap = np.full(len(levels) + 1, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return np.where(codes >= 0, remap[codes], -1), levels[used]


def _srs_var(n: float, psum: float, s2, statistic: str, deff) -> np.ndarray:
    """R's variance under simple random sampling for deff (see module doc)."""
    s2 = np.asarray(s2, dtype=float)
    if deff == "replace":
        v = s2 / n
    elif statistic == "mean" and psum < n:
        warnings.warn("Sample size greater than population size: are weights correctly scaled?", stacklevel=4)
        return np.full_like(s2, np.nan)
    else:
        v = s2 * (psum - n) / (psum * n)
    return v * psum * psum if statistic == "total" else v


def _check_deff(deff):
    if deff not in (False, True, "replace"):
        raise ValueError(f"deff must be False, True or 'replace', got {deff!r}")


# ------------------------------------------------------------ mean / total
def mean_or_total(design, y: str, statistic: str, factor, deff):

    _check_deff(deff)
    if not factor:
        base = design.mean if statistic == "mean" else design.total
        e = base(y, factor=False)
        e.df = design.degf()
        if deff:
            d, idx, w, (yv,) = design._analysis([y])
            n, psum = float(len(idx)), float(w.sum())
            with np.errstate(divide="ignore", invalid="ignore"):
                ybar = np.dot(yv, w) / psum
                s2 = n / (n - 1) * np.dot(w, (yv - ybar) ** 2) / psum if n > 1 else np.nan
            if n and np.ptp(yv) == 0:
                s2 = np.nan  # a constant: no design effect (R's 0/0, or rounding noise)
            with np.errstate(divide="ignore", invalid="ignore"):
                e.deff = float(e.var / _srs_var(n, psum, s2, statistic, deff))
        return e
    return factor_stat(design, y, statistic, deff)


def factor_stat(design, y: str, statistic: str, deff=False) -> Estimates:
    codes, levels = _factor_codes(design, y)
    d = design
    isna = (codes < 0) & design._present
    if isna.any():
        d = design.subset(~isna)
    L = len(levels)
    idx = np.flatnonzero(d._w > 0)
    g = codes[idx]
    w = d._w[idx]
    groups = _compress.group(d, idx, [(g, max(L, 1))])
    if groups is not None:
        rows, freq = groups.rep, groups.freq
        gw, gg = d._w[rows], codes[rows]
        wf = gw * freq
    else:
        rows, freq, gw, gg, wf = idx, None, w, g, w
    W = np.bincount(gg, weights=wf, minlength=L)
    psum = float(W.sum())
    if statistic == "mean":
        est = W / psum if d._present.any() else np.zeros(L)
    else:
        est = W
    if not L:
        V = np.zeros((0, 0))
    elif groups is not None:  # few groups: the dense influence matrix is small
        ind = np.zeros((len(rows), L))
        ind[np.arange(len(rows)), gg] = 1.0
        x = (ind - est[None, :]) * (gw / psum)[:, None] if statistic == "mean" else ind * gw[:, None]
        V = d._var(x, rows=rows, freq=freq)
    else:
        # the indicators as a one-hot matrix A (never n x L dense): a total's
        # influence is A (values w); a mean's is (A - b p') with b = A 1
        # (values w / sum w), so its covariance is M V_A M', M = I - p 1'
        if statistic == "mean":
            VA = d._var(OneHot(gw / psum, gg, L), rows=rows)
            M = np.eye(L) - est[:, None]
            V = M @ VA @ M.T
        else:
            V = d._var(OneHot(gw, gg, L), rows=rows)
    idx_ = pd.Index(levels, name=y)
    dseries = None
    if deff:
        _check_deff(deff)
        n = float(len(idx))
        p = W / psum
        # svyvar of each indicator: n/(n-1) * sum w (I - p)^2 / sum w
        s2 = n / (n - 1) * (W * (1 - p) ** 2 + (psum - W) * p * p) / psum if n > 1 else np.full(L, np.nan)
        s2 = np.where((W == 0) | (W == psum), np.nan, s2)  # a level of every or no row: no deff
        with np.errstate(divide="ignore", invalid="ignore"):
            dseries = pd.Series(np.diag(V) / _srs_var(n, psum, s2, statistic, deff), index=idx_)
    return Estimates(pd.Series(est, index=idx_), pd.DataFrame(V, index=idx_, columns=idx_), statistic,
                     design.degf(), dseries)


# ------------------------------------------------------------------- svyby
def by_stats(design, by: str, statistic: str, y, denominator, covmat=False, deff=False):
    """svyby with ``covmat`` and/or ``deff`` (see the module docstring)."""
    if y is None:
        raise ValueError("by() needs the analysis variable y")
    if statistic not in ("mean", "total", "ratio"):
        raise ValueError(f"covmat/deff: statistic must be mean, total or ratio, got {statistic!r}")
    if deff and statistic == "ratio":
        raise ValueError("deff is available for mean and total")
    _check_deff(deff)
    codes, levels = design._codes(by)
    live = (design._w != 0) & (codes >= 0)
    used = np.flatnonzero(np.bincount(codes[live], minlength=len(levels)))
    L = len(used)
    cols = [y] if statistic != "ratio" else [y, denominator]
    if statistic == "ratio" and denominator is None:
        raise ValueError("statistic='ratio' needs denominator=")
    d = design._complete(cols)
    lookup = np.full(len(levels) + 1, -1, dtype=np.int64)
    lookup[used] = np.arange(L)
    g = lookup[codes]
    inl = g >= 0
    w = np.where(inl, d._w, 0.0)
    g = np.where(inl, g, 0)
    yv = np.where(w > 0, d._num(y), 0.0)
    psum = np.bincount(g, weights=w, minlength=L)
    nrow = np.bincount(g, weights=(d._present & inl), minlength=L)
    with np.errstate(divide="ignore", invalid="ignore"):
        if statistic == "mean":
            est = np.bincount(g, weights=w * yv, minlength=L) / psum
            est[nrow == 0] = 0.0
            vals = np.where(w > 0, (yv - est[g]) * w / psum[g], 0.0)
        elif statistic == "total":
            est = np.bincount(g, weights=w * yv, minlength=L)
            vals = yv * w
        else:
            xv = np.where(w > 0, d._num(denominator), 0.0)
            tx = np.bincount(g, weights=w * xv, minlength=L)
            est = np.bincount(g, weights=w * yv, minlength=L) / tx
            vals = np.where(w > 0, (yv - est[g] * xv) * w / tx[g], 0.0)
    idx = np.flatnonzero(w > 0)
    oh = OneHot(vals[idx], g[idx], L)
    lv = pd.Index(levels[used], name=by)
    V = d._var(oh, rows=idx)  # L x L by bincounts on element samples (_variance._onehot_element)
    v = np.diag(V).copy()
    if design.lonely_psu == "average" and any((st.npsu == 1).any() for st in design._stages):
        # R's svyby SEs come from each domain's own design, whose 'average'
        # rescaling counts the lonely strata present in the domain; R's covmat
        # (and ours) is one svyrecvar of the full design
        se = design.by(by, statistic, y, denominator=denominator)["se"].to_numpy()
        v = se * se
    v[np.isnan(est)] = np.nan
    dser = None
    if deff:
        n = np.bincount(g[idx], minlength=L).astype(float)
        ybar = np.bincount(g[idx], weights=w[idx] * yv[idx], minlength=L) / psum
        ss = np.bincount(g[idx], weights=w[idx] * (yv[idx] - ybar[g[idx]]) ** 2, minlength=L)
        gi = g[idx]
        lo = np.full(L, np.inf)
        hi = np.full(L, -np.inf)
        np.minimum.at(lo, gi, yv[idx])
        np.maximum.at(hi, gi, yv[idx])
        with np.errstate(divide="ignore", invalid="ignore"):
            s2 = n / (n - 1) * ss / psum
            s2[lo == hi] = np.nan  # constant in the domain: no deff
            if deff == "replace":
                vs = s2 / n
            else:
                vs = s2 * (psum - n) / (psum * n)
                if statistic == "mean" and (psum < n).any():
                    warnings.warn("Sample size greater than population size: are weights correctly scaled?",
                                  stacklevel=3)
                    vs[psum < n] = np.nan
            if statistic == "total":
                vs = vs * psum * psum
            dser = pd.Series(v / vs, index=lv)
    if covmat:
        return Estimates(pd.Series(est, index=lv), pd.DataFrame(V, index=lv, columns=lv), statistic,
                         design.degf(), dser)
    out = pd.DataFrame({by: levels[used], "estimate": est, "se": np.sqrt(v)})
    if dser is not None:
        out["deff"] = dser.to_numpy()
        out["deft"] = np.sqrt(out["deff"])
    return out


# ------------------------------------------------------------------ svyvar
def values_mean(d, idx: np.ndarray, values: np.ndarray):
    """svymean of ``values`` (on rows ``idx``, positive weight) of the NA-free
    design ``d``: (estimate, variance); 0/1 values use the grouped path."""
    groups = None
    # 0/1 values (a share; quantile's y <= q) of a design whose rows group
    if len(idx) and _compress.cells(d) is not None and bool(np.all((values == 0) | (values == 1))):
        groups = _compress.group(d, idx, [(values.astype(np.int64), 2)])
    if groups is not None:
        pos = np.empty(d.n, dtype=np.int64)
        pos[idx] = np.arange(len(idx))
        rows, freq = groups.rep, groups.freq
        v = values[pos[rows]]
        w = d._w[rows]
        wf = w * freq
    else:
        rows, freq, v = idx, None, values
        w = wf = d._w[idx]
    psum = wf.sum()
    if not d._present.any():
        return 0.0, 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        avg = float(np.dot(v, wf) / psum)
        x = ((v - avg) * w / psum)[:, None]
    var = float(d._var(x, rows=rows, freq=freq)[0, 0])
    return avg, (np.nan if np.isnan(avg) else var)


def svyvar(design, y: str):
    from ._results import Estimate

    d, idx, w, (yv,) = design._analysis([y])
    n = len(idx)
    if n == 0:  # R: an empty (all-missing) domain gives 0, SE 0; 0/0 when its rows stay with weight 0
        z = 0.0 if not d._present.any() else float("nan")
        return Estimate(z, z, "variance", y, design.degf())
    if n == 1:  # R >= 4.2: NA
        return Estimate(float("nan"), float("nan"), "variance", y, design.degf())
    xbar = np.dot(yv, w) / w.sum()
    z = (yv - xbar) ** 2 * n / (n - 1)
    est, var = values_mean(d, idx, z)
    return Estimate(est, var, "variance", y, design.degf())


# ---------------------------------------------------------------- svyttest
def svyttest(design, y: str, group: str | None = None, level: float = 0.95) -> TestResult:
    from ._results import tquantile

    if group is None:
        e = design.mean(y, factor=False)
        df = design.degf() - 1
        t = e.estimate / e.se
        p = float(2 * _dist.t_sf(abs(t), df)) if df > 0 else float("nan")
        q = tquantile(1 - (1 - level) / 2, df)
        ci = (e.estimate - q * e.se, e.estimate + q * e.se)
        return TestResult(e.estimate, e.se, float(t), float(df), p, (float(ci[0]), float(ci[1])), level,
                          "Design-based one-sample t-test")
    if group not in design.data.columns:
        raise KeyError(f"column {group!r} not in data")
    numeric = pd.api.types.is_numeric_dtype(design.data[group]) or pd.api.types.is_bool_dtype(design.data[group])
    term = group if numeric else f"C({group})"
    d = design._complete([y] + ([group] if numeric else []))
    gc = d._codes(group)[0] if not numeric else None
    if gc is not None and ((gc < 0) & d._present).any():
        d = d.subset(~((gc < 0) & d._present))
    live = d._w > 0
    vals = d._num(group)[live] if numeric else d._codes(group)[0][live]
    if len(np.unique(vals)) < 2:  # R: the group coefficient is NA (aliased)
        nan = float("nan")
        return TestResult(nan, nan, nan, float(d.degf()), nan, (nan, nan), level, "Design-based t-test")
    binary = (np.isin(vals, (0, 1)).all() or np.isin(vals, (1, 2)).all()) if numeric else len(np.unique(vals)) == 2
    if not binary:
        raise ValueError(f"group must be binary: {group!r} needs two levels, or values 0/1 or 1/2")
    g = design.glm(f"{y} ~ {term}", family="gaussian")
    est, se = float(g.params.iloc[1]), float(g.se.iloc[1])
    ci = g.confint(level).iloc[1]
    return TestResult(est, se, float(g.tvalues.iloc[1]), float(g.df_resid), float(g.pvalues.iloc[1]),
                      (float(ci["lower"]), float(ci["upper"])), level, "Design-based t-test")
