"""R ``svyciprop``: confidence intervals for proportions, every method.

``logit`` and ``likelihood`` fit ``svyglm(y ~ 1, family=quasibinomial)`` (the
estimate is ``expit`` of its intercept, the Wald interval uses
``qt(alpha/2, df)`` via ``confint.svyglm``'s level adjustment); ``xlogit`` and
``asin`` transform ``svymean`` with the delta method (``svycontrast``);
``beta`` uses the Korn-Graubard effective sample size; ``mean`` is the Wald
interval of ``svymean``; ``wilson`` (R survey >= 4.5, from Stas Kolenikov) is
the Wilson score interval with the effective sample size ``n = p(1-p)/var``
and ``t = qt(1 - alpha/2, df)``::

    (p + t^2/(2n) -+ t/(2n) sqrt(4 n p (1-p) + t^2)) / (1 + t^2/n)  ``se`` is always ``sqrt(vcov(svymean))``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from . import _compress, _dist
from ._glm import Binomial, glm_fit_intercept

METHODS = ("logit", "likelihood", "asin", "beta", "mean", "xlogit", "wilson")


def expit(eta):
    return np.exp(eta) / (1 + np.exp(eta))


def _tq(p, df):
    from ._results import tquantile

    return tquantile(p, df)


def _intercept_fit(d, idx, yv, w, scale: float, binary: bool | None = None, freq=None):
    """svyglm(y ~ 1, design, family=quasibinomial) on the NA-free design ``d``
    (rows ``idx`` with positive weight): coefficient, fit summary and R's
    influence values ``estfun %*% Ainv``."""
    pw = w / scale
    coef, mu, dev, infl, a_inv, it, conv = glm_fit_intercept(yv, pw, Binomial, binary=binary, freq=freq)
    fit = SimpleNamespace(deviance=dev, cov_unscaled=np.array([[a_inv]]), iterations=it, converged=conv)
    return coef, infl, fit, mu, pw


def ciprop(design, y: str, method: str = "logit", level: float = 0.95, df: float | None = None):
    from ._results import CIProp

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if df is None:
        df = design.degf()  # R's default df = degf(design), before NA removal
    d = design._complete([y])
    alpha = 1 - level
    a = np.array([alpha / 2, 1 - alpha / 2])

    # svymean(~y, design, na.rm=TRUE), and for logit/likelihood also the
    # intercept-only svyglm: one variance pass for both influence columns
    idx = np.flatnonzero(d._w > 0)
    yv = d._num(y)[idx]
    binary = bool(np.all((yv == 0) | (yv == 1)))
    if method in ("logit", "likelihood") and not binary and ((yv < 0) | (yv > 1)).any():
        raise ValueError(f"y values must be 0 <= y <= 1 for method={method!r}")
    # rows with the same cell and answer count once (exact; see _compress)
    groups = _compress.group(d, idx, [(yv.astype(np.int64), 2)]) if binary and method != "likelihood" else None
    if groups is not None:
        rows, freq = groups.rep, groups.freq
        w, yv = d._w[rows], d._num(y)[rows]
        wf = w * freq
    else:
        rows, freq = idx, None
        w = wf = d._w[idx]
    psum = wf.sum()
    with np.errstate(all="ignore"):
        p = np.float64(np.dot(yv, wf) / psum) if d._present.any() else np.float64(0.0)
        cols = [(yv - p) * w / psum]
    glm = None
    if method in ("logit", "likelihood"):
        glm = _intercept_fit(d, rows, yv, w, design._mean_weight(), binary, freq)
        cols.append(glm[1])
    V = d._var(np.column_stack(cols), rows=rows, diag_only=True, freq=freq)
    var = np.float64(V[0]) if not np.isnan(p) else np.float64(np.nan)
    se = np.sqrt(var)
    with np.errstate(all="ignore"):
        est, ci = _interval(design, d, y, method, p, var, se, alpha, a, level, df, glm, V, idx)
    return CIProp(float(est), float(var), (float(ci[0]), float(ci[1])), method, level, float(df))


def _interval(design, d, y, method, p, var, se, alpha, a, level, df, glm, V, idx):

    if method == "mean":
        ci = p + se * _tq(a, df)
        est = p
    elif method == "xlogit":
        sx = se / (p * (1 - p))
        ci = expit(np.log(p / (1 - p)) + sx * _tq(a, df))
        est = p
    elif method == "asin":
        sx = se / (2 * np.sqrt(p) * np.sqrt(1 - p))
        ci = np.sin(np.arcsin(np.sqrt(p)) + sx * _tq(a, df)) ** 2
        est = p
    elif method == "wilson":
        n_eff = p * (1 - p) / var
        t = _tq(1 - alpha / 2, df)
        denom = 1 + t * t / n_eff
        root = np.sqrt(4 * n_eff * p * (1 - p) + t * t)
        ci = np.array([(p + t * t / (2 * n_eff) - t / (2 * n_eff) * root) / denom,
                       (p + t * t / (2 * n_eff) + t / (2 * n_eff) * root) / denom])
        est = p
    elif method == "beta":
        n_eff = p * (1 - p) / var
        n_eff = n_eff * (_tq(alpha / 2, len(design) - 1) / _tq(alpha / 2, design.degf())) ** 2
        ci = np.array(
            [
                _dist.beta_ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1),
                _dist.beta_ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p)),
            ]
        )
        est = p
    else:
        coef, _, fit, mu, pw = glm
        v = float(V[1])
        est = mu
        if method == "logit":
            if df <= 0:
                ci = np.array([np.nan, np.nan])
            else:
                tlevel = 1 - 2 * _dist.norm_cdf(_tq(alpha / 2, df))
                aa = (1 - tlevel) / 2
                z = _dist.norm_ppf([aa, 1 - aa])
                ci = expit(coef + np.sqrt(v) * z)
        else:
            from ._profile import likelihood_ci

            ci = expit(likelihood_ci(d, y, coef, v, fit, idx, level, df, pw))
    return est, ci
