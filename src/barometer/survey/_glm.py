"""A tiny model formula and an exact port of R's ``glm.fit`` IRLS loop.

Formula grammar (enough for the report, no patsy):  ``y ~ term + term + ...``
where a term is a numeric column name, ``C(col)`` (categorical, treatment
coding, reference = first sorted level) or ``1``/``0``/``-1`` to keep or drop
the intercept.  Column names are R-style: ``(Intercept)``, ``x``, ``C(g)b``.

``glm_fit`` follows ``stats::glm.fit`` step by step (same starting values
``mustart = (w*y + 0.5)/(w + 1)`` for the binomial families, same convergence
rule ``|dev - devold|/(|dev| + 0.1) < 1e-8``, maxit 25, the working weights of
the last iteration for ``cov.unscaled``), so that coefficients agree with R to
rounding error rather than to the convergence tolerance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy.special import xlogy

DBL_EPS = np.finfo(float).eps
THRESH, MTHRESH, INVEPS = 30.0, -30.0, 1.0 / DBL_EPS


@dataclass
class Term:
    kind: str  # "num" or "cat"
    column: str
    label: str


@dataclass
class Formula:
    response: str
    terms: list[Term]
    intercept: bool

    @property
    def columns(self) -> list[str]:
        return [self.response] + [t.column for t in self.terms]


_CAT = re.compile(r"^C\(\s*([^()]+?)\s*\)$")


def parse_formula(formula: str) -> Formula:
    if formula.count("~") != 1:
        raise ValueError(f"formula must look like 'y ~ x1 + C(x2)', got {formula!r}")
    lhs, rhs = (s.strip() for s in formula.split("~"))
    if not lhs:
        raise ValueError(f"formula {formula!r} has no response")
    intercept = True
    terms: list[Term] = []
    parts = re.split(r"([+-])", rhs)
    sign = "+"
    for raw in parts:
        tok = raw.strip()
        if tok in ("+", "-"):
            sign = tok
            continue
        if not tok:
            continue
        if tok in ("0", "1"):
            intercept = (tok == "1") if sign == "+" else (tok == "0")
            sign = "+"
            continue
        if sign == "-":
            raise ValueError(f"only '- 1' may be subtracted in formula {formula!r}")
        m = _CAT.match(tok)
        if m:
            terms.append(Term("cat", m.group(1).strip(), tok))
        elif re.match(r"^[A-Za-z_.][\w.]*$", tok):
            terms.append(Term("num", tok, tok))
        else:
            raise ValueError(
                f"unsupported term {tok!r} in formula {formula!r}: only numeric columns,"
                " C(column) and an intercept are supported"
            )
    return Formula(lhs, terms, intercept)


def design_matrix(f: Formula, idx: np.ndarray, numeric, factor) -> tuple[np.ndarray, list[str]]:
    """Model matrix for the rows ``idx``.

    ``numeric(col)`` gives a float column, ``factor(col)`` (codes, levels) with
    codes sorted by level.  Levels of ``C(col)`` are those seen in ``idx``;
    the first is the reference when an intercept (or an earlier factor) is there.
    """
    m = len(idx)
    blocks: list[tuple[str, object]] = []
    names: list[str] = []
    if f.intercept:
        names.append("(Intercept)")
        blocks.append(("one", None))
    seen_cat = False
    for t in f.terms:
        if t.kind == "num":
            names.append(t.label)
            blocks.append(("num", numeric(t.column)[idx]))
        else:
            codes, levels = factor(t.column)
            c = codes[idx]
            used = np.flatnonzero(np.bincount(c[c >= 0], minlength=len(levels)))
            start = 1 if (f.intercept or seen_cat) else 0
            seen_cat = True
            for lv in used[start:]:
                names.append(f"{t.label}{levels[lv]}")
                blocks.append(("dummy", (c, lv)))
    X = np.empty((m, len(names)))
    for j, (kind, val) in enumerate(blocks):
        if kind == "one":
            X[:, j] = 1.0
        elif kind == "num":
            X[:, j] = val
        else:
            c, lv = val
            X[:, j] = c == lv
    return X, names


# ---- families ---------------------------------------------------------------

def _logit_linkinv(eta):
    """R's C ``logit_linkinv``: exp clamped to [eps, 1/eps] beyond |eta| > 30."""
    e = np.exp(np.clip(eta, MTHRESH, THRESH))
    out = e / (1.0 + e)
    if np.any(np.abs(eta) > THRESH):
        tmp = np.where(eta < MTHRESH, DBL_EPS, np.where(eta > THRESH, INVEPS, e))
        out = tmp / (1.0 + tmp)
    return out


def _logit_mu_eta(eta):
    e = np.exp(np.clip(eta, MTHRESH, THRESH))
    out = e / ((1.0 + e) ** 2)
    if np.any(np.abs(eta) > THRESH):
        out = np.where((eta > THRESH) | (eta < MTHRESH), DBL_EPS, out)
    return out


def _ylogy(y, mu):
    """R's ``y_log_y``: y*log(y/mu), 0 where y == 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return xlogy(y, y / mu)


class Binomial:
    name = "quasibinomial"

    @staticmethod
    def linkfun(mu):
        return np.log(mu / (1.0 - mu))

    linkinv = staticmethod(_logit_linkinv)
    mu_eta = staticmethod(_logit_mu_eta)

    @staticmethod
    def variance(mu):
        return mu * (1.0 - mu)

    @staticmethod
    def dev_resids(y, mu, wt):
        return 2.0 * wt * (_ylogy(y, mu) + _ylogy(1.0 - y, 1.0 - mu))

    @staticmethod
    def deviance(y, mu, wt, binary=None):
        """sum(dev_resids); for 0/1 responses a single log per row."""
        if binary is None:
            binary = bool(np.all((y == 0) | (y == 1)))
        if binary:
            return float(-2.0 * np.dot(wt, np.log(np.where(y == 1, mu, 1.0 - mu))))
        return float(np.sum(2.0 * wt * (_ylogy(y, mu) + _ylogy(1.0 - y, 1.0 - mu))))

    @staticmethod
    def initialize(y, wt):
        if np.any((y < 0) | (y > 1)):
            raise ValueError("y values must be 0 <= y <= 1 for family='quasibinomial'")
        y = np.where(wt == 0, 0.0, y)
        return y, (wt * y + 0.5) / (wt + 1.0)


class Gaussian:
    name = "gaussian"

    @staticmethod
    def linkfun(mu):
        return mu

    @staticmethod
    def linkinv(eta):
        return eta

    @staticmethod
    def mu_eta(eta):
        return np.ones_like(eta)

    @staticmethod
    def variance(mu):
        return np.ones_like(mu)

    @staticmethod
    def dev_resids(y, mu, wt):
        return wt * (y - mu) ** 2

    @staticmethod
    def deviance(y, mu, wt, binary=None):
        return float(np.dot(wt, (y - mu) ** 2))

    @staticmethod
    def initialize(y, wt):
        return y, y.copy()


FAMILIES = {"quasibinomial": Binomial, "binomial": Binomial, "gaussian": Gaussian}


@dataclass
class GlmFit:
    coef: np.ndarray
    eta: np.ndarray
    mu: np.ndarray
    working_resid: np.ndarray
    working_weights: np.ndarray
    cov_unscaled: np.ndarray
    deviance: float
    iterations: int
    converged: bool


def glm_fit(X: np.ndarray, y: np.ndarray, w: np.ndarray, family, maxit: int = 25, epsilon: float = 1e-8,
            freq: np.ndarray | None = None) -> GlmFit:
    """``stats::glm.fit`` on rows with ``w > 0`` (R's ``good`` rows).

    ``freq``: row i stands for ``freq[i]`` identical rows (same x, y and prior
    weight; see :mod:`._compress`): every sum over rows counts it that often,
    while starting values use the row's own weight, as R does per row."""
    y, mu = family.initialize(y.astype(float), w)
    binary = bool(np.all((y == 0) | (y == 1)))
    wf = w if freq is None else w * freq  # weights of the sums
    eta = family.linkfun(mu)
    mu = family.linkinv(eta)
    devold = family.deviance(y, mu, wf, binary)
    coef = None
    conv = False
    it = 0
    for it in range(1, maxit + 1):
        mu_eta = family.mu_eta(eta)
        z = eta + (y - mu) / mu_eta
        ww = w * mu_eta**2 / family.variance(mu)
        Xw = X * (ww if freq is None else ww * freq)[:, None]
        A = X.T @ Xw
        try:
            coef = np.linalg.solve(A, Xw.T @ z)
        except np.linalg.LinAlgError as exc:
            raise ValueError("model matrix is singular (aliased terms or empty level in the domain)") from exc
        eta = X @ coef
        mu = family.linkinv(eta)
        dev = family.deviance(y, mu, wf, binary)
        if abs(dev - devold) / (abs(dev) + 0.1) < epsilon:
            conv = True
            break
        devold = dev
    resid = (y - mu) / family.mu_eta(eta)
    cov_unscaled = np.linalg.inv(A)
    return GlmFit(coef, eta, mu, resid, ww, cov_unscaled, dev, it, conv)


def glm_fit_intercept(y: np.ndarray, w: np.ndarray, family=Binomial, maxit: int = 25, epsilon: float = 1e-8,
                      binary: bool | None = None, freq: np.ndarray | None = None):
    """``glm.fit`` for ``y ~ 1``: the same iterations as :func:`glm_fit`, but
    after the first one (per-row starting values) mu is one number, so each
    iteration is O(1) on the sums of w and w*y.

    Returns (coef, mu, deviance, influence) where influence is R's
    ``estfun %*% Ainv`` per row: ``w (y - mu) / (mu.eta(eta) sum(w))``-type
    working residual x working weight x (X'WX)^-1.

    ``freq`` (0/1 ``y``, binomial, positive weights): row i stands for
    ``freq[i]`` identical rows (:mod:`._compress`).
    """
    y = y.astype(float)
    binary = bool(np.all((y == 0) | (y == 1))) if binary is None else binary
    if freq is not None and not (family is Binomial and binary and bool((w > 0).all())):
        raise ValueError("freq needs a 0/1 response, the binomial family and positive weights")
    if family is Binomial and binary and bool((w > 0).all()):
        # iteration 1 in closed form.  With mustart = (w y + 0.5)/(w + 1) and
        # y in {0, 1}: mu(1 - mu) = (w + 0.5) r / (w + 1) with r = 0.5/(w + 1)
        # for both answers, eta = +-log(1 + 2w), y - mu = +-r, and the
        # starting deviance is -2 sum w log(1 - r): 8 array passes, not 30.
        r = 0.5 / (w + 1.0)
        g = (w + 0.5) * r / (w + 1.0)  # mu (1 - mu) = mu.eta = variance
        wf = w if freq is None else w * freq
        devold = float(-2.0 * np.dot(wf, np.log1p(-r)))
        sw = float(wf.sum())
        swy = float(np.dot(wf, y))
        sww = float(np.dot(wf, g))
        a = wf * (g * np.log1p(2.0 * w) + r)  # w g z for y = 1 (minus it for y = 0)
        coef = float((2.0 * np.dot(y, a) - a.sum()) / sww)
        const = 0.0
        ww = None
        a_inv = 1.0 / sww
    else:
        y, mu = family.initialize(y, w)
        eta = family.linkfun(mu)
        mu = family.linkinv(eta)
        devold = family.deviance(y, mu, w, binary)
        sw = float(w.sum())
        swy = float(np.dot(w, y))
        # constant part of the binomial deviance: 2 sum w [y log y + (1-y) log(1-y)]
        const = 0.0 if binary else float(2.0 * np.dot(w, _ylogy(y, np.ones_like(y)) + _ylogy(1 - y, np.ones_like(y))))
        # iteration 1: per-row eta
        mu_eta = family.mu_eta(eta)
        z = eta + (y - mu) / mu_eta
        ww = w * mu_eta**2 / family.variance(mu)
        coef = float(np.dot(ww, z) / ww.sum())
        a_inv = 1.0 / float(ww.sum())
    ww_scale = None  # working weights are w * ww_scale after iteration 1
    it, conv = 1, False
    while True:
        e = np.array([coef])
        m = float(family.linkinv(e)[0])
        dev = float(const - 2.0 * (swy * np.log(m) + (sw - swy) * np.log1p(-m)))
        if abs(dev - devold) / (abs(dev) + 0.1) < epsilon:
            conv = True
            break
        if it >= maxit:
            break
        devold = dev
        it += 1
        me = float(family.mu_eta(e)[0])
        ww_scale = me**2 / (m * (1 - m))
        a_inv = 1.0 / (sw * ww_scale)
        coef = coef + (swy / sw - m) / me
    me = float(family.mu_eta(np.array([coef]))[0])
    if ww_scale is None:  # converged in iteration 1: its per-row working weights
        if ww is None:
            mu0 = (w * y + 0.5) / (w + 1.0)
            ww = w * mu0 * (1.0 - mu0)
        infl = (y - m) / me * ww * a_inv
    else:
        infl = (y - m) * w * (ww_scale * a_inv / me)
    return coef, m, dev, infl, a_inv, it, conv
