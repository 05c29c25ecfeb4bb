"""``svyciprop(method="likelihood")``: R's profile-likelihood interval.

A port of survey's ``confint.svyglm(method="likelihood")`` for the intercept-only
quasibinomial model: the profile is tracked with ``MASSprofile_glm`` (steps of
``zmax/5`` standard errors, at most 9 each way, signed root deviance scaled by
the design-based dispersion ``svyvar`` of Pearson residuals), the nominal level
is adjusted by the design effect ``lambda = V_sandwich / V_model``, and the
interval is read off R's ``spline`` (Forsythe-Malcolm-Moler) + ``approx``
exactly as ``confint_profile`` does.
"""

from __future__ import annotations

import numpy as np

from . import _dist
from ._glm import Binomial


def fmm_spline(x: np.ndarray, y: np.ndarray):
    """Coefficients (b, c, d) of R's ``spline_coef`` with method ``fmm``."""
    n = len(x)
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    b = np.zeros(n)
    c = np.zeros(n)
    d = np.zeros(n)
    if n < 2:
        raise ValueError("spline needs two points")
    if n < 3:
        t = (y[1] - y[0]) / (x[1] - x[0])
        b[:] = t
        return b, c, d
    nm1 = n - 1
    # 0-based translation of the 1-based C code
    d[0] = x[1] - x[0]
    c[1] = (y[1] - y[0]) / d[0]
    for i in range(1, nm1):
        d[i] = x[i + 1] - x[i]
        b[i] = 2.0 * (d[i - 1] + d[i])
        c[i + 1] = (y[i + 1] - y[i]) / d[i]
        c[i] = c[i + 1] - c[i]
    b[0] = -d[0]
    b[nm1] = -d[n - 2]
    c[0] = c[nm1] = 0.0
    if n > 3:
        c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        c[nm1] = c[n - 2] / (x[nm1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
        c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
        c[nm1] = -c[nm1] * d[n - 2] * d[n - 2] / (x[nm1] - x[n - 4])
    for i in range(1, n):
        t = d[i - 1] / b[i - 1]
        b[i] = b[i] - t * d[i - 1]
        c[i] = c[i] - t * c[i - 1]
    c[nm1] = c[nm1] / b[nm1]
    for i in range(n - 2, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[nm1] = (y[nm1] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[nm1])
    for i in range(0, nm1):
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] = 3.0 * c[i]
    c[nm1] = 3.0 * c[nm1]
    d[nm1] = d[n - 2]
    return b, c, d


def spline(x, y, n: int | None = None):
    """R ``spline(x, y)`` (fmm, ``n = 3*length(x)`` points from min to max)."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    o = np.argsort(x, kind="stable")
    x, y = x[o], y[o]
    ux, inv = np.unique(x, return_inverse=True)
    if len(ux) < len(x):  # ties = mean
        y = np.bincount(inv, weights=y) / np.bincount(inv)
        x = ux
    n = 3 * len(o) if n is None else n
    b, c, d = fmm_spline(x, y)
    u = np.linspace(x[0], x[-1], n)
    i = np.clip(np.searchsorted(x, u, side="right") - 1, 0, len(x) - 1)
    dx = u - x[i]
    return u, y[i] + dx * (b[i] + dx * (c[i] + dx * d[i]))


def approx(x, y, xout):
    """R ``approx(x, y, xout)`` with ``rule=1`` (NA outside) and ``ties=mean``."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    ux, inv = np.unique(x, return_inverse=True)
    uy = np.bincount(inv, weights=y) / np.bincount(inv)
    return np.interp(xout, ux, uy, left=np.nan, right=np.nan)


def qf_upper(a: float, d1: float, d2: float) -> float:
    """R ``qf(a, d1, d2, lower.tail=FALSE)``, accurate for tiny ``a`` (scipy's
    ``f.isf`` overflows there): via the Beta(d1/2, d2/2) representation."""
    b = _dist.beta_isf(a, d1 / 2, d2 / 2)
    one_minus_b = _dist.beta_ppf(a, d2 / 2, d1 / 2)
    return float(d2 / d1 * b / one_minus_b)


def likelihood_ci(d, y: str, coef: float, v: float, fit, good, level: float, df: float, W):
    """``good``: the fitted rows (indices or mask); ``W``: their prior weights."""
    """Profile-likelihood interval on the logit scale (R ``confint.svyglm``)."""
    fam = Binomial
    naive = float(fit.cov_unscaled[0, 0])
    lam = v / naive
    if df is None or np.isinf(df):
        alpha = _dist.norm_cdf(_dist.norm_ppf((1 - level) / 2) * np.sqrt(lam)) / 2
    elif df <= 0:
        raise ValueError("zero or negative denominator df")
    else:
        alpha = _dist.norm_cdf(_dist.t_ppf((1 - level) / 2, df) * np.sqrt(lam)) / 2

    yv = d._num(y)[good]
    # rows of the glm's model frame: rows of the design object with y observed
    n = int((d._present & ~np.isnan(d._num(y))).sum())
    p = 1
    mu0 = float(fam.linkinv(np.array([coef]))[0])
    dev0 = fit.deviance
    # design-based dispersion: svyvar of Pearson residuals
    w_all = d._w
    r = np.zeros(d.n)
    # residuals.svyglm(type="pearson"): sqrt(prior weight / rescaled design weight)
    pwts = w_all[good] / w_all[d._present].mean()
    r[good] = (yv - mu0) * np.sqrt(W / pwts) / np.sqrt(mu0 * (1 - mu0))
    nn = int((w_all != 0).sum())
    psum = w_all.sum()
    rbar = (w_all * r).sum() / psum
    disp = float((w_all * (r - rbar) ** 2).sum() * nn / (nn - 1) / psum)

    zmax = np.sqrt(qf_upper(alpha, 1, n - p))
    delta = zmax / 5
    se = np.sqrt(v)
    zs, bs = [0.0], [coef]
    for sgn in (-1, 1):
        step, z = 0, 0.0
        while True:
            step += 1
            if not (step < 10 and abs(z) < zmax):
                break
            bi = coef + sgn * step * delta * se
            mu = fam.linkinv(np.array([bi]))[0]
            dev = float(np.sum(fam.dev_resids(yv, np.full(len(yv), mu), W)))
            zz = (dev - dev0) / disp
            if zz > -0.001:
                zz = max(zz, 0.0)
            else:
                raise ValueError("profiling has found a better solution, so original fit had not converged")
            z = sgn * np.sqrt(zz)
            zs.append(z)
            bs.append(bi)
    zs = np.array(zs)
    bs = np.array(bs)
    o = np.argsort(zs, kind="stable")
    zs, bs = zs[o], bs[o]
    cutoff = np.array([_dist.norm_ppf(2 * alpha), _dist.norm_isf(2 * alpha)])
    sx, sy = spline(bs, zs)
    return approx(sy, sx, cutoff)

