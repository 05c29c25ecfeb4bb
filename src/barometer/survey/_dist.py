"""The distribution functions the survey estimators need (normal, Student t,
F, chi-square, beta), from :mod:`scipy.special`.

``scipy.stats`` costs about a second to import (issue 16) in every process and
kernel that imports :mod:`barometer.survey`; these are the same ufuncs
``scipy.stats`` calls (``norm``: ``ndtr``/``ndtri``; ``t``: ``stdtr``/
``stdtrit``; ``f``: ``fdtrc``; ``chi2``: ``chdtrc``; ``beta``: Boost's ``ibeta_inv``
(``_beta_ppf``) and ``betainccinv``), with the argument checks and support boundaries
``scipy.stats`` adds around them (NaN for a non-positive degree of freedom or
shape, the quantile at 0 and 1 the support's ends), so the results are
identical (a unit test compares them with ``scipy.stats`` on a grid with its
edge cases).
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import special as sc
from scipy.special import _ufuncs

# scipy.stats.beta.ppf calls this (Boost's ibeta_inv, argument order q, a, b);
# the public betaincinv differs from it for extreme tails (q ~ 1e-300)
_beta_ppf = getattr(_ufuncs, "_beta_ppf", None) or (lambda q, a, b: sc.betaincinv(a, b, q))

__all__ = [
    "beta_isf",
    "beta_ppf",
    "chi2_sf",
    "f_sf",
    "norm_cdf",
    "norm_isf",
    "norm_ppf",
    "norm_sf",
    "t_ppf",
    "t_sf",
]


def _out(v):
    v = np.asarray(v, dtype=float)
    return v[()] if v.ndim == 0 else v


def norm_cdf(x):
    return _out(sc.ndtr(np.asarray(x, dtype=float)))


def norm_sf(x):
    return _out(sc.ndtr(-np.asarray(x, dtype=float)))


def norm_ppf(q):
    return _out(sc.ndtri(np.asarray(q, dtype=float)))


def norm_isf(q):
    return _out(-sc.ndtri(np.asarray(q, dtype=float)))


def _sf_support(x, v, ok, lo):
    """scipy.stats' survival function around the ufunc value ``v``: 1 at or
    below the support's lower end ``lo``, 0 at +inf, NaN for bad parameters."""
    v = np.where(x <= lo, 1.0, np.where(x == np.inf, 0.0, v))
    return _out(np.where(ok & ~np.isnan(x), v, np.nan))


def t_sf(x, df):
    x, df = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(df, dtype=float))
    with np.errstate(invalid="ignore"):
        return _sf_support(x, sc.stdtr(df, -x), df > 0, -np.inf)


def t_ppf(q, df):
    if np.ndim(q) == 0 and np.ndim(df) == 0:  # one quantile (a CI's 0.975 at the design's df): asked again and again
        return _t_ppf_one(float(q), float(df))
    return _t_ppf(q, df)


@functools.lru_cache(maxsize=4096)
def _t_ppf_one(q: float, df: float):
    """:func:`t_ppf` of one pair, kept: ``stdtrit`` takes ~5 ms at a survey's df, and every
    interval of a design asks the same one."""
    return _t_ppf(q, df)


def _t_ppf(q, df):
    q, df = np.broadcast_arrays(np.asarray(q, dtype=float), np.asarray(df, dtype=float))
    with np.errstate(invalid="ignore"):
        v = sc.stdtrit(df, q)
        v = np.where(q == 0, -np.inf, np.where(q == 1, np.inf, v))  # stdtrit(df, 0) is +inf
        return _out(np.where((df > 0) & (q >= 0) & (q <= 1), v, np.nan))


def f_sf(x, dfn, dfd):
    x, dfn, dfd = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (x, dfn, dfd)))
    with np.errstate(invalid="ignore"):
        return _sf_support(x, sc.fdtrc(dfn, dfd, x), (dfn > 0) & (dfd > 0), 0.0)


def chi2_sf(x, df):
    x, df = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(df, dtype=float))
    with np.errstate(invalid="ignore"):
        return _sf_support(x, sc.chdtrc(df, x), df > 0, 0.0)


def beta_ppf(q, a, b):
    q, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (q, a, b)))
    with np.errstate(invalid="ignore"):
        ok = (a > 0) & (b > 0) & (q >= 0) & (q <= 1)
        return _out(np.where(ok, _beta_ppf(q, a, b), np.nan))


def beta_isf(q, a, b):
    q, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (q, a, b)))
    with np.errstate(invalid="ignore"):
        ok = (a > 0) & (b > 0) & (q >= 0) & (q <= 1)
        return _out(np.where(ok, sc.betainccinv(a, b, q), np.nan))
