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
import pandas as pd

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


def design_matrix(f: Formula, data: pd.DataFrame, rows: np.ndarray, numeric) -> tuple[np.ndarray, list[str]]:
    """Model matrix on all rows; categorical levels are taken from ``rows``."""
    n = len(data)
    cols, names = [], []
    if f.intercept:
        cols.append(np.ones(n))
        names.append("(Intercept)")
    for t in f.terms:
        if t.kind == "num":
            cols.append(numeric(t.column))
            names.append(t.label)
        else:
            s = data[t.column]
            codes, uniques = pd.factorize(s, sort=True)
            used = np.unique(codes[rows & (codes >= 0)])
            levels = used  # sorted level codes seen in the fitted rows
            start = 1 if f.intercept or any(tt.kind == "cat" for tt in f.terms[: f.terms.index(t)]) else 0
            for lv in levels[start:]:
                cols.append((codes == lv).astype(float))
                names.append(f"{t.label}{uniques[lv]}")
    X = np.column_stack(cols) if cols else np.zeros((n, 0))
    return X, names


# ---- families ---------------------------------------------------------------

def _logit_linkinv(eta):
    tmp = np.where(eta < MTHRESH, DBL_EPS, np.where(eta > THRESH, INVEPS, np.exp(np.clip(eta, MTHRESH, THRESH))))
    return tmp / (1.0 + tmp)


def _logit_mu_eta(eta):
    e = np.exp(np.clip(eta, MTHRESH, THRESH))
    return np.where((eta > THRESH) | (eta < MTHRESH), DBL_EPS, e / ((1.0 + e) ** 2))


def _ylogy(y, mu):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, y * np.log(y / mu), 0.0)


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


def glm_fit(X: np.ndarray, y: np.ndarray, w: np.ndarray, family, maxit: int = 25, epsilon: float = 1e-8) -> GlmFit:
    """``stats::glm.fit`` on rows with ``w > 0`` (R's ``good`` rows)."""
    y, mu = family.initialize(y.astype(float), w)
    eta = family.linkfun(mu)
    mu = family.linkinv(eta)
    devold = float(np.sum(family.dev_resids(y, mu, w)))
    coef = None
    conv = False
    it = 0
    for it in range(1, maxit + 1):
        mu_eta = family.mu_eta(eta)
        z = eta + (y - mu) / mu_eta
        ww = w * mu_eta**2 / family.variance(mu)
        XtW = X.T * ww
        A = XtW @ X
        try:
            coef_new = np.linalg.solve(A, XtW @ z)
        except np.linalg.LinAlgError as exc:
            raise ValueError("model matrix is singular (aliased terms or empty level in the domain)") from exc
        coef = coef_new
        eta = X @ coef
        mu = family.linkinv(eta)
        dev = float(np.sum(family.dev_resids(y, mu, w)))
        if abs(dev - devold) / (abs(dev) + 0.1) < epsilon:
            conv = True
            break
        devold = dev
    resid = (y - mu) / family.mu_eta(eta)
    cov_unscaled = np.linalg.inv(A)
    return GlmFit(coef, eta, mu, resid, ww, cov_unscaled, dev, it, conv)
