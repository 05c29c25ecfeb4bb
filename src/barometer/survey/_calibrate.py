"""R ``calibrate()`` for :class:`~barometer.survey.Design` (``survey:::calibrate.survey.design2``,
``regcalibrate.survey.design2`` and ``grake``).

Calibration model: the model matrix ``X`` of a one-sided formula (R's
``model.matrix``: intercept, treatment contrasts, interactions) over the
design's rows, with population totals ``t_X`` named by its columns.  New
weights ``w g`` with

* ``calfun="linear"`` without bounds (GREG, R's ``regcalibrate``):
  ``g = 1 + X (X'WX)^-1 (t_X - X'w)``, one solve;
* otherwise R's ``grake`` Newton iterations on ``g = 1 + F(X eta)`` with
  ``F`` the calibration function (linear with bounds, ``raking`` = exp,
  ``logit`` with finite bounds ``(L, U)``), the same start, step halving,
  rescaling of the weights when every ``t_X / X'w > 20``, ``MASS::ginv`` of
  the Jacobian and stopping rule ``max |misfit| / (1 + |t_X|) < epsilon``.

Variance (R ``svyrecvar`` for a ``greg_calibration`` at stage 0): the
influence values ``x`` of an estimator are replaced by ``w_c * qr.resid(qr(X
sqrt(w)), x / w_c)`` with ``w_c = g sqrt(w)``: the residuals of the influence
values from their weighted regression on the calibration variables
(computed by :func:`_projector` / :func:`_resid`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import scipy.linalg

from ._glm import model_matrix, parse_formula, resolve

CALFUNS = ("linear", "raking", "logit")
EPS = np.finfo(float).eps


def _fm1(calfun: str, u, lo, hi):
    if calfun == "linear":
        return np.minimum(np.maximum(u + 1, lo), hi) - 1
    if calfun == "raking":
        return np.minimum(np.maximum(np.exp(u), lo), hi) - 1
    A = (hi - lo) / ((hi - 1) * (1 - lo))
    eAu = np.exp(A * u)
    return (lo * (hi - 1) + hi * (1 - lo) * eAu) / (hi - 1 + (1 - lo) * eAu) - 1


def _df(calfun: str, u, lo, hi):
    inside = (u < hi - 1) & (u > lo - 1)
    if calfun == "linear":
        return inside.astype(float)
    if calfun == "raking":
        return np.where(inside, np.exp(u), 0.0)
    A = (hi - lo) / ((hi - 1) * (1 - lo))
    eAu = np.exp(A * u)
    den = hi - 1 + (1 - lo) * eAu
    return hi * (1 - lo) * eAu * A / den - ((lo * (hi - 1) + hi * (1 - lo) * eAu) * ((1 - lo) * eAu * A)) / den**2


def _ginv(T: np.ndarray) -> np.ndarray:
    """MASS::ginv: SVD pseudo-inverse, singular values below 256 eps * max dropped."""
    U, s, Vt = np.linalg.svd(T)
    keep = s > max(256 * EPS * (s[0] if len(s) else 0.0), 0.0)
    return (Vt[keep].T / s[keep]) @ U[:, keep].T


def grake(mm, ww, calfun, lo, hi, population, epsilon, maxit):
    """R ``survey:::grake`` (``variance=NULL``): the g-weights and whether it failed."""
    sample_total = ww @ mm
    eta = np.zeros(mm.shape[1])
    xeta = mm @ eta
    g = 1 + _fm1(calfun, xeta, lo, hi)
    deriv = _df(calfun, xeta, lo, hi)
    it = 1
    with np.errstate(divide="ignore", invalid="ignore"):
        scales = population / sample_total
    scale = None
    if np.min(scales) > 20:
        scale = float(np.mean(scales))
        ww = ww * scale
        sample_total = sample_total * scale
        if np.isfinite([lo, hi]).any():
            warnings.warn(f"Bounds were set but will be interpreted after rescaling by {scale:.3g}", stacklevel=3)
    failed = None
    while True:
        T = (mm * (ww * deriv)[:, None]).T @ mm
        misfit = population - sample_total - (ww * _fm1(calfun, xeta, lo, hi)) @ mm
        deta = _ginv(T) @ misfit
        eta = eta + deta
        with np.errstate(over="ignore", invalid="ignore"):
            xeta = mm @ eta
            g = 1 + _fm1(calfun, xeta, lo, hi)
            deriv = _df(calfun, xeta, lo, hi)
        while it < maxit and not (np.isfinite(g).all() and np.isfinite(deriv).all()):
            it += 1
            deta = deta / 2
            eta = eta - deta
            with np.errstate(over="ignore", invalid="ignore"):
                xeta = mm @ eta
                g = 1 + _fm1(calfun, xeta, lo, hi)
                deriv = _df(calfun, xeta, lo, hi)
        misfit = population - sample_total - (ww * _fm1(calfun, xeta, lo, hi)) @ mm
        if np.all(np.abs(misfit) / (1 + np.abs(population)) < epsilon):
            break
        it += 1
        if it > maxit:
            failed = float(np.max(np.abs(misfit) / (1 + np.abs(population))))
            warnings.warn(f"Failed to converge: eps={failed:g} in {it} iterations", stacklevel=3)
            break
    if scale is not None:
        g = g * scale
    return g, failed


def _population(population, names: list[str]) -> np.ndarray:
    if isinstance(population, dict):
        population = pd.Series(population, dtype=float)
    if isinstance(population, pd.Series) and not isinstance(population.index, pd.RangeIndex):
        given = [str(i) for i in population.index]
        missing = [n for n in names if n not in given]
        if missing:
            raise ValueError(
                f"population totals lack model-matrix column(s) {missing}; the model matrix has {names},"
                f" the population {given}")
        extra = [g for g in given if g not in names]
        if extra:
            raise ValueError(f"population totals for {extra} match no model-matrix column ({names})")
        pop = pd.Series(population.to_numpy(dtype=float), index=given)
        return pop[names].to_numpy(dtype=float)
    pop = np.asarray(population, dtype=float).ravel()
    if len(pop) != len(names):
        raise ValueError(
            f"Population and sample totals are not the same length: {len(pop)} totals for the"
            f" model-matrix columns {names}")
    return pop


def calibrate(design, formula: str, population, calfun: str = "linear", bounds=(-np.inf, np.inf),
              maxit: int = 50, epsilon: float = 1e-7, force: bool = False):
    """R ``calibrate(design, formula, population, calfun=, bounds=, maxit=, epsilon=, force=)``."""
    if calfun not in CALFUNS:
        raise ValueError(f"calfun must be one of {CALFUNS}, got {calfun!r}")
    if isinstance(bounds, dict):
        lo, hi = float(bounds.get("lower", -np.inf)), float(bounds.get("upper", np.inf))
    else:
        lo, hi = (float(b) for b in bounds)
    if calfun == "logit" and not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError("Logit calibration requires finite bounds")
    rhs = formula.strip()
    if not rhs.startswith("~"):
        raise ValueError(f"calibration formula must be one-sided, like '~ stype + sch.wide', got {formula!r}")
    f = parse_formula("__calibration__ " + rhs)
    missing = [t.column for t in f.terms if t.column not in design.data.columns]
    if missing:
        raise KeyError(f"calibration column(s) not in data: {missing}")
    resolve(f, lambda c: pd.api.types.is_numeric_dtype(design.data[c]))
    rows = np.flatnonzero(design._present)
    for t in f.terms:
        bad = (np.isnan(design._num(t.column)) if t.kind == "num" else design._codes(t.column)[0] < 0)[rows]
        if bad.any():
            raise ValueError(f"missing values in calibration variable {t.column!r}")
    mm, names, _ = model_matrix(f, rows, design._num, design._codes)
    ww = design._w[rows]
    pop = _population(population, names)
    sample_total = ww @ mm
    if (sample_total == 0).any():  # R drops all-zero columns with a zero total
        zz = (pop == 0) & np.all(mm == 0, axis=0)
        mm, pop = mm[:, ~zz], pop[~zz]
        names = [n for n, z in zip(names, zz) if not z]
    whalf = np.sqrt(ww)
    if calfun == "linear" and np.isinf(lo) and np.isinf(hi) and lo < 0 < hi:
        A = mm * whalf[:, None]
        tT = np.linalg.solve(A.T @ A, pop - sample_total)
        g = 1 + mm @ tT
    else:
        g, failed = grake(mm, ww, calfun, lo, hi, pop, epsilon, maxit)
        if failed is not None and not force:
            raise ValueError(f"Calibration failed (max relative misfit {failed:g} after {maxit} iterations);"
                             " force=True keeps the weights")
    # orthonormal basis of the columns of X sqrt(w) (R's qr with its rank rule)
    proj = _projector(mm * whalf[:, None])
    new = design._copy()
    neww = design._w.copy()
    neww[rows] = ww * g
    new._w = neww
    new._calibrations = design._calibrations + [
        {"kind": "greg", "rows": rows, "proj": proj, "w": g * whalf}
    ]
    return new


def _projector(A: np.ndarray) -> dict:
    """What ``qr.resid`` on the columns of A needs (R: ``qr(A)``, tolerance 1e-7).

    Well-conditioned A (after scaling its columns): A itself with the
    Cholesky factor of A'A, residuals by the normal equations plus one step
    of iterative refinement (a few BLAS-2 passes, no n x q basis); otherwise
    an orthonormal basis from a pivoted Householder QR with R's rank rule."""
    norms = np.sqrt((A * A).sum(axis=0))
    if len(norms) and norms.min() > 0:
        As = A / norms
        try:
            R1 = scipy.linalg.cholesky(As.T @ As, lower=False)
            dg = np.abs(np.diag(R1))
            if dg.min() > 1e-4 * dg.max():  # cond(As) below ~1e4
                return {"A": As, "R": R1}
        except np.linalg.LinAlgError:
            pass
    Qf, R, _ = scipy.linalg.qr(A, mode="economic", pivoting=True)
    d = np.abs(np.diag(R))
    rank = int(np.sum(d > 1e-7 * d[0])) if len(d) else 0
    return {"Q": Qf[:, :rank]}


def _resid(P: dict, y: np.ndarray) -> np.ndarray:
    if "Q" in P:
        Q = P["Q"]
        return y - Q @ (Q.T @ y)
    A, R = P["A"], P["R"]
    r = y
    for _ in range(2):  # solve, then refine once
        c = scipy.linalg.cho_solve((R, False), A.T @ r)
        r = r - A @ c
    return r


def greg_residuals(x: np.ndarray, cal: dict) -> np.ndarray:
    """``w * qr.resid(qr, x / w)`` on the calibrated rows (R ``svyrecvar``)."""
    rows, w = cal["rows"], cal["w"]
    with np.errstate(divide="ignore", invalid="ignore"):
        xr = np.where(w[:, None] != 0, x[rows] / w[:, None], 0.0)
    xr = _resid(cal["proj"], xr)
    out = x.copy()
    out[rows] = xr * w[:, None]
    return out
