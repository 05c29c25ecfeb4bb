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
from dataclasses import dataclass, field

import numpy as np
from scipy.special import xlogy

from . import _dist

DBL_EPS = np.finfo(float).eps
THRESH, MTHRESH, INVEPS = 30.0, -30.0, 1.0 / DBL_EPS


@dataclass
class Term:
    """A variable of the formula: ``kind`` "num", "cat" (``C(col)``, or a
    non-numeric column once :func:`resolve` has seen the data) or "auto"."""

    kind: str
    column: str
    label: str


@dataclass
class ModelTerm:
    """A term of the model (R ``attr(terms(f), "term.labels")``): a main
    effect or an interaction, as indices into ``Formula.terms``."""

    vars: tuple[int, ...]
    label: str


@dataclass
class Formula:
    response: str
    terms: list[Term]  # the variables, in order of first appearance (R's variable order)
    intercept: bool
    model_terms: list[ModelTerm] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [self.response] + [t.column for t in self.terms]

    @property
    def term_labels(self) -> list[str]:
        return [m.label for m in self.model_terms]


_CAT = re.compile(r"^C\(\s*([^()]+?)\s*\)$")
_NAME = re.compile(r"^[A-Za-z_.][\w.]*$")
_TOKEN = re.compile(r"\s*(C\(\s*[^()]+?\s*\)|[A-Za-z_.][\w.]*|\d+|[-+*:()])")


def parse_formula(formula: str) -> Formula:
    """R's formula algebra for ``y ~ rhs``: ``+``, ``*`` (``a*b`` = ``a + b +
    a:b``), ``:`` (interaction), parentheses, ``- term``, ``1``/``0``/``-1``
    for the intercept.  Terms are ordered as R's ``terms()`` orders them: by
    degree, otherwise in order of appearance; a term's label lists its
    variables in order of first appearance (``b:a`` if ``b`` came first)."""
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise ValueError(f"formula must look like 'y ~ x1 + C(x2)', got {formula!r}")
    lhs, rhs = (s.strip() for s in formula.split("~"))
    if not lhs:
        raise ValueError(f"formula {formula!r} has no response")
    if not _NAME.match(lhs):
        raise ValueError(f"unsupported response {lhs!r} in formula {formula!r}: a column name")
    toks, pos = [], 0
    rhs_s = rhs.rstrip()
    while pos < len(rhs_s):
        m = _TOKEN.match(rhs_s, pos)
        if not m:
            raise ValueError(
                f"unsupported term {rhs_s[pos:].strip()!r} in formula {formula!r}: only numeric columns,"
                " C(column), other columns (categorical), ':', '*', '+', '-' and the intercept are supported")
        toks.append(m.group(1))
        pos = m.end()
    variables: list[Term] = []
    index: dict[str, int] = {}
    state = {"i": 0, "intercept": True}

    def var(tok: str) -> frozenset:
        m = _CAT.match(tok)
        col, kind = (m.group(1).strip(), "cat") if m else (tok, "auto")
        key = tok if m else col
        if key not in index:
            index[key] = len(variables)
            variables.append(Term(kind, col, tok))
        return frozenset([index[key]])

    def peek():
        return toks[state["i"]] if state["i"] < len(toks) else None

    def take():
        tok = peek()
        state["i"] += 1
        return tok

    def bad(tok):
        raise ValueError(
            f"unsupported term {tok!r} in formula {formula!r}: only numeric columns,"
            " C(column), other columns (categorical), ':', '*', '+', '-' and the intercept are supported")

    def atom() -> list:
        tok = take()
        if tok is None:
            bad("")
        if tok == "(":
            out = expr()
            if take() != ")":
                bad("(")
            return out
        if tok in ("0", "1"):
            return [tok]  # intercept markers
        if tok.isdigit() or tok in "+-*:)":
            bad(tok)
        return [var(tok)]

    def inter() -> list:
        out = atom()
        while peek() == ":":
            take()
            right = atom()
            out = _product(out, right, bad)
        return out

    def prod() -> list:
        out = inter()
        while peek() == "*":
            take()
            right = inter()
            out = _merge(out, right) + _product(out, right, bad)
            out = _merge(out, [])
        return out

    def expr() -> list:
        out: list = []
        sign = "+"
        if peek() == "-":
            take()
            sign = "-"
        while True:
            part = prod()
            if sign == "+":
                out = _merge(out, part)
            else:
                for p in part:
                    if p in ("0", "1"):
                        out = [q for q in out if q not in ("0", "1")] + ["0" if p == "1" else "1"]
                    else:
                        out = [q for q in out if q != p]
            if peek() in ("+", "-"):
                sign = take()
                continue
            return out

    if not toks:
        raise ValueError(f"formula {formula!r} has no terms")
    items = expr()
    if state["i"] != len(toks):
        bad(toks[state["i"]])
    intercept = True
    terms: list[frozenset] = []
    for it in items:
        if it == "1":
            intercept = True
        elif it == "0":
            intercept = False
        elif it not in terms:
            terms.append(it)
    terms.sort(key=len)  # stable: R sorts terms by degree, keeping their order otherwise
    model_terms = [
        ModelTerm(tuple(sorted(t)), ":".join(variables[v].label for v in sorted(t))) for t in terms
    ]
    if any(v.column == lhs for v in variables):
        raise ValueError(f"the response {lhs!r} is also on the right-hand side of {formula!r}")
    return Formula(lhs, variables, intercept, model_terms)


def _merge(a: list, b: list) -> list:
    out = []
    for t in list(a) + list(b):
        if t not in out or t in ("0", "1"):
            out.append(t)
    return out


def _product(a: list, b: list, bad) -> list:
    out = []
    for x in a:
        for y in b:
            if x in ("0", "1") or y in ("0", "1"):
                bad(f"{x}:{y}")
            t = x | y
            if t not in out:
                out.append(t)
    return out


def resolve(f: Formula, is_numeric) -> Formula:
    """Give "auto" variables their kind from the data (R: numeric columns
    enter as they are, other columns as factors)."""
    for t in f.terms:
        if t.kind == "auto":
            t.kind = "num" if is_numeric(t.column) else "cat"
    return f


def model_matrix(f: Formula, idx: np.ndarray, numeric, factor) -> tuple[np.ndarray, list[str], np.ndarray]:
    """R ``model.matrix`` for the rows ``idx``: (X, column names, assign).

    ``numeric(col)`` gives a float column, ``factor(col)`` (codes, levels)
    with codes sorted by level.  Levels of a factor are those seen in ``idx``.
    A factor in a term is coded by treatment contrasts when the term without
    it is empty or contained in an earlier term, else by indicators (R's
    ``TermCode``); without an intercept the first factor of the first term
    that has one is coded by indicators (R's ``model.matrix``).  Columns of
    an interaction: products, the first variable varying fastest, names
    joined with ``:``; ``assign`` gives each column's term (0 = intercept).
    """
    m = len(idx)
    kinds = [t.kind for t in f.terms]
    if "auto" in kinds:  # pragma: no cover - resolve() first
        raise ValueError("formula variables need resolve() before model_matrix")
    sets = [frozenset(mt.vars) for mt in f.model_terms]
    codes_t: list[list[int]] = []
    for j, mt in enumerate(f.model_terms):
        row = []
        for v in mt.vars:
            if kinds[v] != "cat":
                row.append(1)
                continue
            rest = sets[j] - {v}
            row.append(1 if not rest or any(rest <= sets[k] for k in range(j)) else 2)
        codes_t.append(row)
    if not f.intercept:
        done = False
        for j, mt in enumerate(f.model_terms):
            for pos, v in enumerate(mt.vars):
                if kinds[v] == "cat":
                    codes_t[j][pos] = 2
                    done = True
                    break
            if done:
                break
    cache: dict[int, tuple] = {}

    def levels_of(v: int):
        if v not in cache:
            codes, levels = factor(f.terms[v].column)
            c = codes[idx]
            used = np.flatnonzero(np.bincount(c[c >= 0], minlength=len(levels)))
            cache[v] = (c, levels, used)
        return cache[v]

    cols: list = []  # per column: the factors whose product it is
    names: list[str] = []
    assign: list[int] = []
    if f.intercept:
        cols.append([])
        names.append("(Intercept)")
        assign.append(0)
    for j, mt in enumerate(f.model_terms):
        blocks: list[list[tuple[str, object]]] = []
        for pos, v in enumerate(mt.vars):
            t = f.terms[v]
            if kinds[v] == "num":
                blocks.append([(t.label, ("num", v))])
            else:
                c, levels, used = levels_of(v)
                keep = used[1:] if codes_t[j][pos] == 1 else used
                blocks.append([(f"{t.label}{levels[lv]}", ("dummy", v, lv)) for lv in keep])
        combos: list[list[tuple[str, object]]] = [[]]
        for blk in blocks:  # the first variable varies fastest
            combos = [prev + [b] for b in blk for prev in combos]
        for combo in combos:
            cols.append([spec for _, spec in combo])
            names.append(":".join(nm for nm, _ in combo))
            assign.append(j + 1)
    X = np.empty((m, len(cols)), order="F")  # contiguous columns
    for k, specs in enumerate(cols):  # filled in place: no list of n-vectors
        out = X[:, k]
        out[:] = 1.0
        for spec in specs:
            if spec[0] == "num":
                out *= numeric(f.terms[spec[1]].column)[idx]
            else:
                out *= levels_of(spec[1])[0] == spec[2]
    return X, names, np.asarray(assign, dtype=np.int64)


def design_matrix(f: Formula, idx: np.ndarray, numeric, factor) -> tuple[np.ndarray, list[str]]:
    """Model matrix for the rows ``idx`` (see :func:`model_matrix`)."""
    X, names, _ = model_matrix(f, idx, numeric, factor)
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


class Poisson:
    """R ``quasipoisson()``: log link, variance mu (R's ``poisson()`` C code
    clamps ``exp(eta)`` below at DBL_EPSILON)."""

    name = "quasipoisson"

    @staticmethod
    def linkfun(mu):
        return np.log(mu)

    @staticmethod
    def linkinv(eta):
        return np.maximum(np.exp(eta), DBL_EPS)

    @staticmethod
    def mu_eta(eta):
        return np.maximum(np.exp(eta), DBL_EPS)

    @staticmethod
    def variance(mu):
        return mu

    @staticmethod
    def dev_resids(y, mu, wt):
        with np.errstate(divide="ignore", invalid="ignore"):
            r = mu * wt
            pos = y > 0
            r = np.where(pos, wt * (xlogy(y, y / np.where(pos, mu, 1.0)) - (y - mu)), r)
        return 2.0 * r

    @classmethod
    def deviance(cls, y, mu, wt, binary=None):
        return float(np.sum(cls.dev_resids(y, mu, wt)))

    @staticmethod
    def initialize(y, wt):
        if np.any(y < 0):
            raise ValueError("negative values not allowed for family='quasipoisson'")
        return y, y + 0.1


FAMILIES = {"quasibinomial": Binomial, "binomial": Binomial, "gaussian": Gaussian, "quasipoisson": Poisson}


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
            freq: np.ndarray | None = None, start: np.ndarray | None = None, first=None) -> GlmFit:
    """``stats::glm.fit`` on rows with ``w > 0`` (R's ``good`` rows).

    ``freq``: row i stands for ``freq[i]`` identical rows (same x, y and prior
    weight; see :mod:`._compress`): every sum over rows counts it that often,
    while starting values use the row's own weight, as R does per row.

    ``first``: ``(X'WX, X'Wz, starting deviance)`` of the first iteration,
    summed over the original rows by :func:`glm_fit_patterns`; the rows here
    are then patterns whose ``w`` is the sum of their rows' prior weights
    (``ww`` stays None when the fit stops in that first iteration, whose
    working weights are per original row)."""
    y = y.astype(float)
    if first is not None:
        y, _ = family.initialize(y, w)  # its checks of y; the start is the rows'
    else:
        y, mu = family.initialize(y, w)
    binary = bool(np.all((y == 0) | (y == 1)))
    wf = w if freq is None else w * freq  # weights of the sums
    if first is None:
        eta = family.linkfun(mu) if start is None else X @ np.asarray(start, dtype=float)
        mu = family.linkinv(eta)
        devold = family.deviance(y, mu, wf, binary)
    else:
        devold = float(first[2])
    coef = None
    conv = False
    it = 0
    ww = None
    Xw = None
    for it in range(1, maxit + 1):
        if it == 1 and first is not None:
            A, rhs = first[0], first[1]
        else:
            mu_eta = family.mu_eta(eta)
            z = eta + (y - mu) / mu_eta
            ww = w * mu_eta**2 / family.variance(mu)
            wz = ww if freq is None else ww * freq
            if Xw is None:
                Xw = np.empty_like(X)
            np.multiply(X, wz[:, None], out=Xw)  # one buffer for every iteration
            A = X.T @ Xw
            rhs = Xw.T @ z
        if it == 1:
            _check_rank(A)
        try:
            coef = np.linalg.solve(A, rhs)
        except np.linalg.LinAlgError as exc:
            raise ValueError(SINGULAR) from exc
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


SINGULAR = "model matrix is singular (aliased terms or empty level in the domain)"
#: smallest eigenvalue of X'WX, scaled to unit diagonal, below which the columns are aliased:
#: cond(sqrt(W) X) above ~1e7, R's QR tolerance for lm (1e-7)
ALIASED = 1e-14


def _check_rank(A: np.ndarray) -> None:
    """Refuse aliased columns before the first solve.  An exactly collinear
    model matrix is rarely exactly singular in floating point, so ``solve``
    alone would return huge, meaningless coefficients on one path (rows) and
    refuse on another (patterns of identical rows), depending on rounding;
    the scale-free eigenvalue test gives both the same answer."""
    d = np.diag(A)
    if not np.all(d > 0) or not np.all(np.isfinite(A)):
        raise ValueError(SINGULAR)
    s = 1.0 / np.sqrt(d)
    ev = np.linalg.eigvalsh(A * s[:, None] * s[None, :])
    if ev[0] <= ALIASED * ev[-1]:
        raise ValueError(SINGULAR)


def glm_fit_patterns(X: np.ndarray, y_rows: np.ndarray, w_rows: np.ndarray, codes: np.ndarray, family,
                     maxit: int = 25, epsilon: float = 1e-8):
    """``glm.fit`` on rows that fall into patterns of identical values
    (:func:`._compress.patterns`), their weights varying: ``X`` holds one row
    per pattern, ``codes`` gives each original row's pattern (y is the same
    within a pattern).  The first iteration starts from per-row values
    (R's ``mustart`` uses each row's weight); its working weights and
    responses are summed per pattern.  From the second on, a row's eta, mu,
    working response and working weight / prior weight are its pattern's, so
    every iteration is a weighted fit of the patterns, weighted by their
    summed prior weights.  Returns (fit on the patterns, summed weights), or
    None when the fit stops in the first iteration (its working weights
    are per row: the caller fits row by row)."""
    G = X.shape[0]
    w = w_rows
    y = y_rows.astype(float)
    binary = bool(np.all((y == 0) | (y == 1)))
    if family is Binomial and binary and bool((w > 0).all()):
        ww, wz, devold = _binomial_first(y, w)
    else:
        yy, mu = family.initialize(y, w)
        eta = family.linkfun(mu)
        mu = family.linkinv(eta)
        devold = family.deviance(yy, mu, w, binary)
        mu_eta = family.mu_eta(eta)
        ww = w * mu_eta**2 / family.variance(mu)
        wz = ww * (eta + (yy - mu) / mu_eta)
    ww_g = np.bincount(codes, weights=ww, minlength=G)
    A = X.T @ (X * ww_g[:, None])
    rhs = X.T @ np.bincount(codes, weights=wz, minlength=G)
    sw = np.bincount(codes, weights=w, minlength=G)
    yg = np.empty(G)
    yg[codes] = y
    fit = glm_fit(X, yg, sw, family, maxit=maxit, epsilon=epsilon, first=(A, rhs, devold))
    if fit.working_weights is None:
        return None
    return fit, sw


def _binomial_first(y: np.ndarray, w: np.ndarray):
    """The binomial first IRLS iteration per row in closed form, 0/1 ``y``,
    positive ``w``: with ``mustart = (w y + 0.5)/(w + 1)``, mu (1 - mu) =
    (w + 0.5) r / (w + 1) with r = 0.5/(w + 1) for both answers, eta =
    +-log(1 + 2w), y - mu = +-r.  Returns working weights ``ww``, ``ww z``
    and the starting deviance ``-2 sum w log(1 - r)``."""
    r = 0.5 / (w + 1.0)
    g = (w + 0.5) * r / (w + 1.0)
    a = w * (g * np.log1p(2.0 * w) + r)  # w g z for y = 1, minus it for y = 0
    return w * g, np.where(y == 1, a, -a), float(-2.0 * np.dot(w, np.log1p(-r)))


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


# ---- regTermTest --------------------------------------------------------------

@dataclass
class TermTest:
    """R ``regTermTest(model, terms)`` (``method="Wald"``): ``F`` = Wald
    chi-square / ``df`` on (``df``, ``ddf``) degrees of freedom, or with
    ``ddf = inf`` the chi-square and its p-value."""

    terms: list[str]
    chisq: float
    F: float
    df: int
    ddf: float
    p: float

    def __repr__(self) -> str:
        if np.isinf(self.ddf):
            return f"<Wald test for {' '.join(self.terms)}: Chisq = {self.chisq:.6g} on {self.df} df, p = {self.p:.4g}>"
        return (f"<Wald test for {' '.join(self.terms)}: F = {self.F:.6g} on {self.df} and {self.ddf:g} df,"
                f" p = {self.p:.4g}>")


def _canonical(term: str) -> str:
    return ":".join(sorted(p.strip() for p in term.split(":")))


def regterm_test(model, terms, null=None, df: float | None = None) -> TermTest:
    """R ``regTermTest(model, test.terms, null, df, method="Wald")``.

    ``terms``: a term label or a list of them (``"C(g)"``, ``"stype"``,
    ``"x:g"``; the order of variables within an interaction does not matter,
    as R's ``canonicalOrder``), or a one-sided formula such as ``"~ a + a:b"``.
    ``df=None`` is R's default, the model's residual degrees of freedom
    (``model$df.residual`` = design df + 1 - number of coefficients); pass
    ``np.inf`` for the chi-square test.  Works for the results of
    ``Design.glm`` and ``ReplicateDesign.glm``.
    """
    
    if isinstance(terms, str):
        t = terms.strip()
        if t.startswith("~"):
            terms = parse_formula("__y__ " + t).term_labels
        else:
            terms = [t]
    terms = list(terms)
    labels = model.term_labels
    assign = model.assign
    canon = [_canonical(lb) for lb in labels]
    wanted = []
    for t in terms:
        c = _canonical(t)
        if c not in canon:
            raise ValueError(f"Terms didn't match: {t!r} is not a term of the model ({labels})")
        wanted.append(canon.index(c) + 1)
    index = np.flatnonzero(np.isin(assign, wanted))
    beta = model.params.to_numpy()[index]
    if null is not None:
        beta = beta - np.asarray(null, dtype=float)
    V = model.cov.to_numpy()[np.ix_(index, index)]
    chisq = float(beta @ np.linalg.solve(V, beta))
    k = len(index)
    ddf = model.df_resid if df is None else df
    if np.isinf(ddf):
        return TermTest(terms, chisq, chisq / k, k, float("inf"), float(_dist.chi2_sf(chisq, k)))
    F = chisq / k
    return TermTest(terms, chisq, F, k, float(ddf), float(_dist.f_sf(F, k, ddf)))
