"""Replicate-weight designs: R ``svrepdesign`` / ``as.svrepdesign`` and the
``svyrep.design`` methods of ``svymean``, ``svytotal``, ``svyratio``,
``svyciprop``, ``svyby`` and ``svyglm``.

A replicate design holds the full-sample weights ``w`` (R ``pweights``) and
R replicate weights, stored as a float matrix ``U`` (K x R) with a row index
(R's ``repweights_compressed``: K = the number of PSUs for
:func:`as_replicate`, K = n for weights read from columns).  Replicate r's
weight of row i is ``U[index_i, r]`` (R ``combined.weights=TRUE``) or
``U[index_i, r] * w_i`` (``combined.weights=FALSE``, what ``as.svrepdesign``
makes).  Every estimate is computed once with ``w`` and once per replicate;
the replicate totals of a few columns are one matrix product ``U' S`` with
``S`` the per-unit sums, so 1e6 rows x 80 replicates take well under a
second.  Variance (R ``svrVar``)::

    V = scale * sum_r rscales_r (theta_r - c)(theta_r - c)'

with ``c`` the mean of the replicates (over those with ``rscales > 0``), or
the full-sample estimate when ``mse=True`` (R ``mse=TRUE``).  Degrees of
freedom (R ``degf.svyrep.design``): the rank of the analysis weights of the
design's rows (``qr(..., tol=1e-5)$rank``) minus 1, recomputed for every
subset.  Subsets (domains, rows with missing values) drop rows as R's
``[.svyrep.design`` does.

GLMs (R ``svyglm.svyrep.design``): the full-sample fit with weights
``w / mean(w)``, then per replicate ``glm.fit`` with weights ``w_r / sum(w_r)``
started from the full-sample coefficients, iterated for all replicates at
once; ``df_resid = degf + 1 - ncoef``.
"""

from __future__ import annotations

import re
import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from . import _dist
from ._glm import FAMILIES, Binomial, _logit_linkinv, _logit_mu_eta, glm_fit, model_matrix, parse_formula, resolve
from ._hadamard import hadamard

TYPES = ("BRR", "Fay", "JK1", "JKn", "bootstrap", "other")
MAX_CELLS = 2_000_000_000  # K x R entries of the replicate matrix


def _label(v) -> str:
    """R's as.character of a stratum value."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _first_order(codes: np.ndarray) -> np.ndarray:
    """Codes renumbered by order of first appearance (R ``unique``/``match``)."""
    _, first = np.unique(codes, return_index=True)
    order = np.argsort(first, kind="stable")  # code values sorted by first row
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    uniq = np.unique(codes)
    pos = np.searchsorted(uniq, codes)
    return rank[pos]


def svrvar(thetas: np.ndarray, scale: float, rscales: np.ndarray, mse: bool, coef) -> np.ndarray:
    """R ``svrVar``: (p, p) from replicate estimates (R, p); replicates with a
    missing value are dropped (with R's warning)."""
    thetas = np.asarray(thetas, dtype=float)
    if thetas.ndim == 1:
        thetas = thetas[:, None]
    rs = np.asarray(rscales, dtype=float)
    bad = np.isnan(thetas).any(axis=1)
    if bad.any():
        if bad.all():
            raise ValueError("All replicates contained NAs")
        warnings.warn(f"{int(bad.sum())} replicates gave NA results and were discarded.", stacklevel=3)
        thetas, rs = thetas[~bad], rs[~bad]
    centre = np.asarray(coef, dtype=float) if mse else thetas[rs > 0].mean(axis=0)
    D = (thetas - centre) * np.sqrt(rs)[:, None]
    return (D.T @ D) * scale


def _rank(M: np.ndarray, tol: float = 1e-5) -> int:
    """Rank as R's ``qr(M, tol)`` (LINPACK dqrdc2, limited pivoting): columns
    are taken in order; one is set aside when its residual norm after the
    columns kept so far is below ``tol`` times its own norm.  A tall M is
    first reduced to its R factor (norms and residuals are unchanged).  With
    more than 400 columns, a pivoted QR with the same relative rule."""
    if M.size == 0:
        return 0
    A = np.linalg.qr(M, mode="r") if M.shape[0] > M.shape[1] else np.asarray(M, dtype=float)
    norms = np.sqrt((A * A).sum(axis=0))
    if A.shape[1] > 400:
        import scipy.linalg

        Rf, piv = scipy.linalg.qr(A, mode="r", pivoting=True)
        d = np.zeros(A.shape[1])
        k = min(Rf.shape)
        d[:k] = np.abs(np.diag(Rf))[:k]
        return int(np.count_nonzero((norms[piv] > 0) & (d >= tol * norms[piv])))
    Q = np.zeros((A.shape[0], min(A.shape)))
    k = 0
    for j in range(A.shape[1]):
        v = A[:, j]
        if norms[j] == 0 or k == Q.shape[1]:
            continue
        Qk = Q[:, :k]
        r = v - Qk @ (Qk.T @ v)
        r = r - Qk @ (Qk.T @ r)  # twice is enough (Kahan-Parlett)
        rn = float(np.sqrt(r @ r))
        if rn >= tol * norms[j]:
            Q[:, k] = r / rn
            k += 1
    return k


def _distinct_rows(U: np.ndarray, rows: np.ndarray, pw1: np.ndarray) -> np.ndarray | None:
    """The analysis weights ``U[rows] * pw1`` with rows that agree up to a
    positive factor merged: one row per pattern, scaled so that the Gram
    matrix (and so the rank and the column norms) is unchanged; None when
    nothing merges.  Patterns are told apart by two random projections of
    the rows scaled to max |value| 1, rounded to 11 significant digits."""
    Ur = U if len(rows) == U.shape[0] else U[rows]
    top = np.maximum(Ur.max(axis=1), -Ur.min(axis=1)).astype(float)
    live = (top > 0) & (pw1 != 0)
    rng = np.random.default_rng(20261201)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = (Ur @ rng.uniform(0.5, 1.5, (U.shape[1], 2))) / top[:, None]
    h, top, scale = h[live], top[live], (np.abs(pw1) * top)[live]
    where = np.flatnonzero(live)

    def rounded(x):
        big = max(float(np.abs(x).max()), 1e-300)
        return np.round(x, 10 - int(np.floor(np.log10(big))))

    c0, u0 = pd.factorize(rounded(h[:, 0]))
    c1, u1 = pd.factorize(rounded(h[:, 1]))
    codes, uniq = pd.factorize(c0.astype(np.int64) * (len(u1) + 1) + c1)
    G = len(uniq)
    if G >= len(h):
        return None
    first = np.full(G, len(h), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(h)))
    mult = np.sqrt(np.bincount(codes, weights=scale**2, minlength=G))
    return np.asarray(Ur[where[first]], dtype=float) / top[first, None] * mult[:, None]


class ReplicateDesign:
    """A replicate-weight design, R ``svrepdesign(data, repweights, weights,
    type, combined.weights, rho, scale, rscales, mse)``.

    Parameters
    ----------
    data : DataFrame
    repweights : a regular expression matching the replicate-weight columns
        (R's character ``repweights``, ``grep``), a list of columns, or an
        (n, R) array.
    weights : the column of full-sample weights (R ``weights``; default 1
        with R's warning).
    type : ``"BRR"`` (scale 1/R), ``"Fay"`` (needs ``rho``; scale
        1/(R (1-rho)^2)), ``"JK1"`` (scale default (R-1)/R with R's warning),
        ``"JKn"`` (needs ``rscales`` with combined weights), ``"bootstrap"``
        (scale 1/(R-1)), ``"other"``.
    combined_weights : the replicate columns are full weights (R's default
        ``TRUE``), not multipliers of ``weights``.
    scale, rscales, mse : as R (``mse=True``: deviations from the full-sample
        estimate rather than the mean of the replicates).
    dtype : float type of the stored replicate matrix (``np.float32`` halves
        the memory; R uses double).
    """

    def __init__(self, data: pd.DataFrame, repweights, weights: str | None = None, type: str = "BRR",
                 combined_weights: bool = True, rho: float | None = None, scale: float | None = None,
                 rscales=None, mse: bool = False, dtype=np.float64):
        if not isinstance(data, pd.DataFrame):
            raise TypeError("data must be a pandas DataFrame")
        if type not in TYPES:
            raise ValueError(f"type must be one of {TYPES}, got {type!r}")
        if type == "Fay" and rho is None:
            raise ValueError("With type='Fay' you must supply the correct rho")
        n = len(data)
        if isinstance(repweights, str):
            cols = [c for c in data.columns if re.search(repweights, str(c))]
            if not cols:
                raise ValueError(f"no column matches the replicate-weight pattern {repweights!r}")
            U = data[cols].to_numpy(dtype=dtype)
        elif isinstance(repweights, np.ndarray):
            U = np.asarray(repweights, dtype=dtype)
        else:
            cols = list(repweights)
            missing = [c for c in cols if c not in data.columns]
            if missing:
                raise KeyError(f"replicate-weight column(s) not in data: {missing}")
            U = data[cols].to_numpy(dtype=dtype)
        if U.ndim != 2 or U.shape[0] != n:
            raise ValueError(f"replicate weights must be (n, R) = ({n}, R), got {U.shape}")
        if np.isnan(U).any():
            raise ValueError("Missing values not allowed in 'repweights'")
        if weights is None:
            warnings.warn("No sampling weights provided: equal probability assumed", stacklevel=2)
            pw = np.ones(n)
        else:
            if weights not in data.columns:
                raise KeyError(f"weights column {weights!r} not in data")
            pw = data[weights].to_numpy(dtype=float, na_value=np.nan)
            if np.isnan(pw).any():
                raise ValueError("Missing values not allowed in 'weights'")
        nrep = U.shape[1]
        repwtmn, wtmn = float(U.mean()), float(pw.mean())
        if combined_weights and repwtmn < 5 and wtmn / repwtmn > 5:
            warnings.warn(f"Data do not look like combined weights: mean replication weight is {repwtmn:g}"
                          f" and mean sampling weight is {wtmn:g}", stacklevel=2)
        if not combined_weights and repwtmn > 5 and wtmn / repwtmn < 5:
            warnings.warn(f"Data look like combined weights: mean replication weight is {repwtmn:g}"
                          f" and mean sampling weight is {wtmn:g}", stacklevel=2)
        if rscales is not None:
            rscales = np.broadcast_to(np.asarray(rscales, dtype=float), (nrep,)).copy() \
                if np.size(rscales) in (1, nrep) else None
            if rscales is None:
                raise ValueError(f"rscales should have length 1 or ncol(repweights) = {nrep}")
        if type == "BRR":
            if scale is not None:
                warnings.warn("type='BRR' does not use 'scale=' argument", stacklevel=2)
            scale = 1 / nrep
        elif type == "Fay":
            scale = 1 / (nrep * (1 - rho) ** 2)
        elif type == "bootstrap":
            if scale is None:
                scale = 1 / (nrep - 1)
        elif type == "JK1" and scale is None:
            if not combined_weights:
                warnings.warn("scale (n-1)/n not provided: guessing from weights", stacklevel=2)
                scale = 1 / float(U[:, 0].max())
            else:
                warnings.warn("scale (n-1)/n not provided: guessing n=number of replicates", stacklevel=2)
                scale = (nrep - 1) / nrep
        elif type == "JKn" and rscales is None:
            if not combined_weights:
                warnings.warn("rscales (n-1)/n not provided:guessing from weights", stacklevel=2)
                rscales = 1 / U.max(axis=0).astype(float)
            else:
                raise ValueError("Must provide rscales for combined JKn weights")
        elif type == "other" and (rscales is None or scale is None):
            warnings.warn("scale or rscales not specified, set to 1", stacklevel=2)
        if rscales is None:
            rscales = np.ones(nrep)
        if scale is None:
            scale = 1.0
        self._setup(data, U, None, pw, type, float(scale), rscales, rho, combined_weights, bool(mse))

    @classmethod
    def _from_parts(cls, data, U, index, pw, type, scale, rscales, rho, combined, mse, selfrep=None):
        self = cls.__new__(cls)
        self._setup(data, U, index, pw, type, float(scale), np.asarray(rscales, dtype=float), rho, combined,
                    bool(mse), selfrep)
        return self

    def _setup(self, data, U, index, pw, type, scale, rscales, rho, combined, mse, selfrep=None):
        self.data = data
        self.n = len(data)
        self._U = U
        self._index = index  # None: row i uses U[i]
        self._pw = np.asarray(pw, dtype=float)
        self.type = type
        self.scale = scale
        self.rscales = rscales
        self.rho = rho
        self.combined_weights = combined
        self.mse = mse
        self._selfrep = selfrep
        self._present = np.ones(self.n, dtype=bool)
        self._cache: dict = {}
        self._own: dict = {}

    # --------------------------------------------------------------- basics
    from .design import Design as _D  # noqa: E402  (reuse the column helpers)

    _numeric = _D._numeric
    _num = _D._num
    _codes = _D._codes
    _mask = _D._mask
    del _D

    @property
    def n_replicates(self) -> int:
        return self._U.shape[1]

    @property
    def weights(self) -> np.ndarray:
        """Full-sample weights of the design's rows (0 on dropped rows)."""
        return np.where(self._present, self._pw, 0.0)

    def repweights(self) -> np.ndarray:
        """Analysis replicate weights (n, R) of all rows (R ``weights(design,
        "analysis")``; zero on rows the design dropped)."""
        rows = np.arange(self.n) if self._index is None else self._index
        out = np.asarray(self._U[rows], dtype=float)
        if not self.combined_weights:
            out = out * self._pw[:, None]
        return out * self._present[:, None]

    def __len__(self) -> int:
        return int(self._present.sum())

    def __repr__(self) -> str:
        return (f"<ReplicateDesign {self.type}: {len(self)} rows, {self.n_replicates} replicates,"
                f" scale={self.scale:.6g}{', mse' if self.mse else ''}>")

    def _copy(self) -> "ReplicateDesign":
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._own = {}
        return new

    def subset(self, mask) -> "ReplicateDesign":
        """R ``subset(design, ...)`` / ``design[i, ]``: the rows leave the design."""
        m = self._mask(mask)
        new = self._copy()
        new._present = self._present & m
        return new

    def _complete(self, cols: Sequence[str]) -> "ReplicateDesign":
        bad = np.zeros(self.n, dtype=bool)
        for c in cols:
            bad |= np.isnan(self._num(c))
        bad &= self._present
        return self if not bad.any() else self.subset(~bad)

    def degf(self) -> int:
        """R ``degf``: rank of the analysis replicate weights minus 1."""
        if "degf" not in self._own:
            rows = np.flatnonzero(self._present)
            pw1 = self._pw[rows] if not self.combined_weights else np.ones(len(rows))
            if self._index is None:
                small = _distinct_rows(self._U, rows, pw1) if len(rows) > 4 * self._U.shape[1] else None
                M = small if small is not None else np.asarray(self._U[rows], dtype=float) * pw1[:, None]
            else:  # one row per unit, scaled to the unit's rows: same Gram matrix
                K = self._U.shape[0]
                dsum = np.bincount(self._index[rows], weights=pw1 * pw1, minlength=K)
                used = np.flatnonzero(dsum > 0)
                M = np.asarray(self._U[used], dtype=float) * np.sqrt(dsum[used])[:, None]
            self._own["degf"] = _rank(M) - 1
        return self._own["degf"]

    # ---------------------------------------------------------- replicates
    def _pw1(self, rows):
        return self._pw[rows] if not self.combined_weights else np.ones(len(rows))

    def _rep_totals(self, Z: np.ndarray, rows: np.ndarray, drop_selfrep: bool = False) -> np.ndarray:
        """Replicate totals (R, p) of the columns of Z (values on ``rows``)."""
        a = self._pw1(rows)
        if drop_selfrep and self._selfrep is not None:
            a = np.where(self._selfrep[rows], 0.0, a)
        Zp = Z * a[:, None]
        if self._index is None:
            full = np.zeros((self.n, Z.shape[1]))
            full[rows] = Zp
            return np.asarray(self._U.T @ full, dtype=float)
        K = self._U.shape[0]
        S = np.empty((K, Z.shape[1]))
        idx = self._index[rows]
        for j in range(Z.shape[1]):
            S[:, j] = np.bincount(idx, weights=Zp[:, j], minlength=K)
        return np.asarray(self._U.T @ S, dtype=float)

    def _rep_group_totals(self, vals: np.ndarray, rows: np.ndarray, g: np.ndarray, L: int) -> np.ndarray:
        """Replicate totals (R, L) of ``vals`` summed within groups ``g`` (0..L-1)."""
        a = vals * self._pw1(rows)
        if self._index is None:
            M = sparse.csr_matrix((a, (rows, g)), shape=(self.n, L))
            return np.asarray((M.T @ self._U).T, dtype=float)
        K = self._U.shape[0]
        S = np.bincount(self._index[rows] * L + g, weights=a, minlength=K * L).reshape(K, L)
        return np.asarray(self._U.T @ S, dtype=float)

    def _all_selfrep(self) -> bool:
        return self._selfrep is not None and bool(self._selfrep[self._present].all())

    def _var(self, thetas, coef) -> np.ndarray:
        if self._all_selfrep():
            p = np.atleast_1d(coef).size
            return np.zeros((p, p))
        return svrvar(thetas, self.scale, self.rscales, self.mse, coef)

    def _coldiag_var(self, thetas: np.ndarray, coef: np.ndarray) -> np.ndarray:
        """Diagonal of svrVar, column by column (R, L) -> (L,)."""
        if self._all_selfrep():
            return np.zeros(thetas.shape[1])
        out = np.empty(thetas.shape[1])
        for j in range(thetas.shape[1]):
            col = thetas[:, j]
            if np.isnan(col).all():
                out[j] = np.nan
                continue
            out[j] = svrvar(col, self.scale, self.rscales, self.mse, coef[j])[0, 0]
        return out

    # ----------------------------------------------------------- estimators
    def mean(self, y: str):
        """R ``svymean(~y, design, na.rm=TRUE)`` on a replicate design."""
        from ._results import Estimate

        d = self._complete([y])
        rows = np.flatnonzero(d._present)
        yv = d._num(y)[rows]
        pw = d._pw[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            est = float(np.dot(pw, yv) / pw.sum())
            reps = d._rep_totals(np.column_stack([yv, np.ones(len(rows))]), rows)
            theta = reps[:, 0] / reps[:, 1]
        return Estimate(est, float(d._var(theta, est)[0, 0]), "mean", y)

    def total(self, y: str):
        """R ``svytotal(~y, design, na.rm=TRUE)`` on a replicate design."""
        from ._results import Estimate

        d = self._complete([y])
        rows = np.flatnonzero(d._present)
        yv = d._num(y)[rows]
        est = float(np.dot(d._pw[rows], yv))
        theta = d._rep_totals(yv[:, None], rows, drop_selfrep=True)[:, 0]
        return Estimate(est, float(d._var(theta, est)[0, 0]), "total", y)

    def ratio(self, numerator: str, denominator: str):
        """R ``svyratio(~y, ~x, design, na.rm=TRUE)`` on a replicate design."""
        from ._results import Estimate

        d = self._complete([numerator, denominator])
        rows = np.flatnonzero(d._present)
        yv, xv = d._num(numerator)[rows], d._num(denominator)[rows]
        pw = d._pw[rows]
        r = float(np.dot(pw, yv) / np.dot(pw, xv))
        reps = d._rep_totals(np.column_stack([yv, xv]), rows)
        theta = reps[:, 0] / reps[:, 1]
        return Estimate(r, float(d._var(theta, r)[0, 0]), "ratio", f"{numerator}/{denominator}")

    def ciprop(self, y: str, method: str = "logit", level: float = 0.95, df: float | None = None):
        """R ``svyciprop(~y, design, method, level, df=degf(design))`` on a
        replicate design: ``logit`` refits the intercept-only quasibinomial
        GLM per replicate (R ``svyglm.svyrep.design``); ``mean``, ``xlogit``,
        ``asin`` and ``beta`` use ``svymean`` and its replicate variance.
        ``likelihood`` is not available for replicate designs here."""
        from ._ciprop import METHODS, _interval, expit
        from ._results import CIProp

        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if method == "likelihood":
            raise ValueError("method='likelihood' is not implemented for replicate designs")
        if df is None:
            df = self.degf()
        m = self.mean(y)
        p, var = np.float64(m.estimate), np.float64(m.var)
        se = np.sqrt(var)
        alpha = 1 - level
        a = np.array([alpha / 2, 1 - alpha / 2])
        with np.errstate(all="ignore"):
            if method == "logit":
                coef, vcoef = self._intercept_glm(y)
                if df <= 0:
                    ci = np.array([np.nan, np.nan])
                else:
                    from ._results import tquantile

                    tlevel = 1 - 2 * _dist.norm_cdf(tquantile(alpha / 2, df))
                    aa = (1 - tlevel) / 2
                    z = _dist.norm_ppf([aa, 1 - aa])
                    ci = expit(coef + np.sqrt(vcoef) * z)
                est = float(_logit_linkinv(np.array([coef]))[0])
            else:
                est, ci = _interval(self, None, y, method, p, var, se, alpha, a, level, df, None, None, None)
        return CIProp(float(est), float(var), (float(ci[0]), float(ci[1])), method, level, float(df))

    def _intercept_glm(self, y: str) -> tuple[float, float]:
        """svyglm(y ~ 1, design, family=quasibinomial) on a replicate design:
        coefficient and its replicate variance.  Per replicate glm.fit from
        the full-sample coefficient is a scalar Newton iteration on the
        replicate's weighted mean (all replicates at once)."""
        from ._glm import _ylogy, glm_fit_intercept

        scale = float(self._pw[self._present].mean())
        d = self._complete([y])
        rows = np.flatnonzero(d._present)
        yv = d._num(y)[rows]
        if ((yv < 0) | (yv > 1)).any():
            raise ValueError("y values must be 0 <= y <= 1 for method='logit'")
        pw = d._pw[rows] / scale
        good = pw > 0
        coef, *_ = glm_fit_intercept(yv[good], pw[good], Binomial)
        binary = bool(np.all((yv == 0) | (yv == 1)))
        cols = [np.ones(len(rows)), yv]
        if not binary:
            cols.append(_ylogy(yv, np.ones_like(yv)) + _ylogy(1 - yv, np.ones_like(yv)))
        T = d._rep_totals(np.column_stack(cols), rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            pr = T[:, 1] / T[:, 0]
            const = 2 * T[:, 2] / T[:, 0] if not binary else np.zeros(len(pr))
        betas = _newton_intercept(pr, const, coef)
        v = float(d._var(betas, coef)[0, 0]) if not self._all_selfrep() else 0.0
        return float(coef), v

    def by(self, by: str, statistic: str = "mean", y: str | None = None, denominator: str | None = None,
           **kw) -> pd.DataFrame:
        """R ``svyby(~y, ~by, design, svymean|svytotal|svyratio|svyciprop)`` on a
        replicate design: one row per level (sorted, among rows with non-zero
        weight), columns ``by``, ``estimate``, ``se`` (``ci_l``, ``ci_u`` for
        ``ciprop``); each domain is the design's subset (R ``design[by == level, ]``)."""
        if y is None:
            raise ValueError("by() needs the analysis variable y")
        codes, levels = self._codes(by)
        live = self._present & (self._pw != 0) & (codes >= 0)
        used = np.flatnonzero(np.bincount(codes[live], minlength=len(levels)))
        if statistic in ("mean", "total"):
            d = self._complete([y])
            lookup = np.full(len(levels) + 1, -1, dtype=np.int64)
            lookup[used] = np.arange(len(used))
            g_all = lookup[codes]
            rows = np.flatnonzero(d._present & (g_all >= 0))
            g = g_all[rows]
            yv = d._num(y)[rows]
            pw = d._pw[rows]
            L = len(used)
            num = np.bincount(g, weights=pw * yv, minlength=L)
            rn = d._rep_group_totals(yv, rows, g, L)
            with np.errstate(divide="ignore", invalid="ignore"):
                if statistic == "mean":
                    den = np.bincount(g, weights=pw, minlength=L)
                    est = num / den
                    theta = rn / d._rep_group_totals(np.ones(len(rows)), rows, g, L)
                else:
                    est = num
                    theta = rn
            v = d._coldiag_var(theta, est)
            return pd.DataFrame({by: levels[used], "estimate": est, "se": np.sqrt(v)})
        from ._results import domain_row

        return pd.DataFrame([domain_row(self.subset(codes == lv), statistic, {by: levels[lv]}, y, denominator, **kw)
                             for lv in used])

    def glm(self, formula: str, family: str = "gaussian", chunk: int = 16):
        """R ``svyglm(formula, design, family)`` on a replicate design
        (``svyglm.svyrep.design`` + ``summary.svyglm``); see the module docstring.
        ``chunk``: replicates fitted together (memory ~ rows x chunk floats)."""
        from ._results import GLMResult

        if family not in FAMILIES:
            raise ValueError(
                f"family must be 'gaussian', 'quasibinomial' or 'quasipoisson', got {family!r}")
        fam = FAMILIES[family]
        f = parse_formula(formula)
        missing = [c for c in f.columns if c not in self.data.columns]
        if missing:
            raise KeyError(f"formula column(s) not in data: {missing}")
        resolve(f, lambda c: pd.api.types.is_numeric_dtype(self.data[c]))
        scale = float(self._pw[self._present].mean())  # R: pweights/mean(pweights), before NA removal
        bad = ~self._present.copy()
        for c in [f.response] + [t.column for t in f.terms if t.kind == "num"]:
            bad |= np.isnan(self._num(c))
        for t in f.terms:
            if t.kind == "cat":
                bad |= self._codes(t.column)[0] < 0
        rows = np.flatnonzero(~bad)
        X, names, assign = model_matrix(f, rows, self._num, self._codes)
        y = self._num(f.response)[rows]
        pw = self._pw[rows] / scale
        fit = glm_fit(X, y, pw, fam)
        p = len(names)
        if self._all_selfrep():
            V = np.zeros((p, p))
        else:
            betas = self._replicate_fits(X, y, rows, fam, fit.coef, chunk)
            V = self._var(betas, fit.coef)
        se = np.sqrt(np.diag(V))
        df_resid = self.degf() + 1 - p
        tv = fit.coef / se
        pv = 2 * _dist.t_sf(np.abs(tv), df_resid) if df_resid > 0 else np.full(p, np.nan)
        idx = pd.Index(names)
        res = GLMResult(
            params=pd.Series(fit.coef, index=idx), se=pd.Series(se, index=idx),
            tvalues=pd.Series(tv, index=idx), pvalues=pd.Series(pv, index=idx), df_resid=df_resid,
            cov=pd.DataFrame(V, index=idx, columns=idx),
            naive_cov=pd.DataFrame(fit.cov_unscaled, index=idx, columns=idx),
            family=family, formula=formula, deviance=fit.deviance, iterations=fit.iterations,
            converged=fit.converged,
        )
        res.term_labels, res.assign = list(f.term_labels), list(assign)
        return res

    def _replicate_fits(self, X, y, rows, fam, beta0, chunk: int, maxit: int = 25, epsilon: float = 1e-8):
        """glm.fit per replicate (weights w_r/sum(w_r), start beta0), chunks of
        replicates iterated together; each stops at its own convergence.
        X'W_rX of all replicates of a chunk is one product with the pairwise
        column products of X."""
        nrep = self.n_replicates
        m, p = X.shape
        betas = np.empty((nrep, p))
        a1 = self._pw1(rows)
        src = np.arange(self.n)[rows] if self._index is None else self._index[rows]
        y0 = y.astype(float)[:, None]
        binary = fam is Binomial and bool(np.all((y0 == 0) | (y0 == 1)))
        iu, ju = np.triu_indices(p)
        XX = X[:, iu] * X[:, ju] if m * len(iu) <= 60_000_000 else None

        def deviance(mu, W):
            if binary:
                return -2.0 * (W * np.log(np.where(y0 == 1, mu, 1.0 - mu))).sum(axis=0)
            return fam.dev_resids(y0, mu, W).sum(axis=0)

        eta0 = X @ beta0
        for c0 in range(0, nrep, chunk):
            c1 = min(nrep, c0 + chunk)
            W = np.asarray(self._U[src, c0:c1], dtype=float) * a1[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                W /= W.sum(axis=0)
            nc = c1 - c0
            B = np.repeat(beta0[None, :], nc, axis=0)
            eta = np.repeat(eta0[:, None], nc, axis=1)
            mu = fam.linkinv(eta)
            devold = deviance(mu, W)
            active = np.ones(nc, dtype=bool)
            for _ in range(maxit):
                act = np.flatnonzero(active)
                if not len(act):
                    break
                if len(act) == nc:  # views, no copies
                    e, m_, w_ = eta, mu, W
                else:
                    e, m_, w_ = eta[:, act], mu[:, act], W[:, act]
                me = fam.mu_eta(e)
                z = e + (y0 - m_) / me
                ww = w_ * me**2 / fam.variance(m_)
                XtWz = X.T @ (ww * z)
                newB = np.empty((len(act), p))
                if XX is not None:
                    tri = XX.T @ ww  # (p(p+1)/2, chunk)
                for k in range(len(act)):
                    if XX is not None:
                        A = np.empty((p, p))
                        A[iu, ju] = tri[:, k]
                        A[ju, iu] = tri[:, k]
                    else:
                        A = X.T @ (X * ww[:, k:k + 1])
                    newB[k] = np.linalg.solve(A, XtWz[:, k])
                B[act] = newB
                e = X @ newB.T
                m_ = fam.linkinv(e)
                if len(act) == nc:
                    eta, mu = e, m_
                else:
                    eta[:, act], mu[:, act] = e, m_
                dev = deviance(m_, w_)
                conv = np.abs(dev - devold[act]) / (np.abs(dev) + 0.1) < epsilon
                devold[act] = dev
                active[act[conv]] = False
            betas[c0:c1] = B
        return betas


def _newton_intercept(pr: np.ndarray, const: np.ndarray, beta0: float, maxit: int = 25,
                      epsilon: float = 1e-8) -> np.ndarray:
    """R's glm.fit for ``y ~ 1``, quasibinomial, weights summing to 1 with
    weighted mean ``pr``, started at ``beta0``, for every replicate."""
    def dev(m):
        with np.errstate(divide="ignore", invalid="ignore"):
            return const - 2 * (np.where(pr > 0, pr * np.log(m), 0.0) + np.where(pr < 1, (1 - pr) * np.log1p(-m), 0.0))

    coef = np.full(len(pr), float(beta0))
    m = _logit_linkinv(coef)
    devold = dev(m)
    active = ~np.isnan(pr)
    for _ in range(maxit):
        if not active.any():
            break
        me = _logit_mu_eta(coef)
        new = coef + (pr - m) / me  # sum(ww z)/sum(ww) with constant mu
        coef = np.where(active, new, coef)
        m = _logit_linkinv(coef)
        d = dev(m)
        conv = np.abs(d - devold) / (np.abs(d) + 0.1) < epsilon
        devold = np.where(active, d, devold)
        active &= ~conv
    coef[np.isnan(pr)] = np.nan
    return coef


# ------------------------------------------------------------ as.svrepdesign
def _jk1_unit(n: int) -> np.ndarray:
    U = np.full((n, n), n / (n - 1) if n > 1 else np.inf)
    np.fill_diagonal(U, 0.0)
    return U


def as_replicate(design, type: str = "auto", rho: float = 0.0, replicates: int = 50, seed=None,
                 mse: bool = False, dtype=np.float64) -> ReplicateDesign:
    """R ``as.svrepdesign(design, type, fay.rho=rho, replicates=, mse=)``.

    ``type``: ``"auto"`` (JK1 without strata, else JKn), ``"JK1"``,
    ``"JKn"``, ``"BRR"``, ``"Fay"`` (``rho``), ``"bootstrap"`` (R's
    ``bootweights``: ``replicates`` resamples of the PSUs within strata, with
    numpy's generator seeded by ``seed`` -- not R's random numbers; to
    reproduce R's replicates export them from R and use
    :class:`ReplicateDesign`).  First-stage PSUs, strata and population
    sizes are used (R drops the fpc of later stages, and the fpc altogether
    for BRR/Fay, with a warning).  Strata with a single PSU follow the
    design's ``lonely_psu`` (R ``options(survey.lonely.psu)``) in JKn; the
    replicates of strata sampled completely are dropped (R's
    ``survey.drop.replicates``).
    """
    types = ("auto", "JK1", "JKn", "BRR", "Fay", "bootstrap")
    if type not in types:
        raise ValueError(f"type must be one of {types}, got {type!r}")
    if design.calibrated:
        raise ValueError("as_replicate needs an uncalibrated design: calibration is not carried over")
    if not design._present.all() or (design._w == 0).any():
        raise ValueError("as_replicate needs the full design, not a domain or subset")
    if type == "auto":
        type = "JKn" if design.has_strata else "JK1"
    if type == "JK1" and design.has_strata:
        raise ValueError("Can't use JK1 for a stratified design")
    if type in ("JKn", "BRR", "Fay") and not design.has_strata:
        raise ValueError("Must use JK1 or bootstrap for an unstratified design")
    if type == "Fay" and rho == 0:
        type = "BRR"
    st = design._stages[0]
    psu = _first_order(st.clusters)  # units in order of first appearance (R unique(psu))
    K = int(psu.max()) + 1
    first = np.full(K, len(psu), dtype=np.int64)
    np.minimum.at(first, psu, np.arange(len(psu)))
    ustrata = st.strata[first]
    labels = np.array([_label(v) for v in st.strata_labels], dtype=object)
    popsize = st.popsize
    selfrep = None
    if popsize is not None:
        if type in ("BRR", "Fay"):
            warnings.warn("Finite population correction dropped in conversion", stacklevel=2)
            popsize = None
        else:
            if len(design._stages) > 1 and design._stages[1].popsize is not None:
                warnings.warn("Finite population corrections after first stage have been dropped", stacklevel=2)
            selfrep = popsize == st.npsu[st.strata]
    pw = design._w.copy()
    data = design.data
    if type == "JK1":
        if popsize is None:
            fpc = 1.0
        else:
            u = np.unique(popsize)
            if len(u) > 1:
                raise ValueError("More than one fpc value given")
            if u[0] < K:
                raise ValueError("Population size smaller than sample size. No can do.")
            fpc = (u[0] - K) / u[0]
        _guard(K, K)
        if fpc == 0:
            U = np.zeros((K, 0), dtype=dtype)
        else:
            U = _jk1_unit(K).astype(dtype)
        return ReplicateDesign._from_parts(data, U, psu, pw, "JK1", fpc * (K - 1) / K, np.ones(U.shape[1]),
                                           None, False, mse, selfrep)
    if type == "JKn":
        return _jkn(design, data, psu, ustrata, K, popsize, pw, mse, selfrep, dtype)
    if type in ("BRR", "Fay"):
        return _brr(data, psu, ustrata, labels, K, first, pw, rho, mse, dtype)
    return _boot(data, psu, ustrata, K, popsize, pw, replicates, seed, mse, selfrep, dtype, st)


def _guard(K: int, R: int) -> None:
    if K * R > MAX_CELLS:
        raise ValueError(f"{R} replicates over {K} PSUs are too many to store; use fewer PSUs or another type")


def _jkn(design, data, psu, ustrata, K, popsize, pw, mse, selfrep, dtype):
    st = design._stages[0]
    _guard(K, K)
    # strata in order of first appearance (R unique(strata))
    s_order = ustrata[np.sort(np.unique(ustrata, return_index=True)[1])]
    nstrat = len(s_order)
    U = np.ones((K, K), dtype=dtype)
    rscales = np.zeros(K)
    counter = 0
    lonely = design.lonely_psu
    for s in s_order:
        units = np.flatnonzero(ustrata == s)  # in unit (first appearance) order
        nh = len(units)
        if popsize is None:
            fpc = 1.0
        else:
            N = popsize[st.strata == s][0]
            fpc = (N - nh) / N
        if fpc == 0:
            continue  # jk1weights: no replicates for a stratum sampled completely
        if nh == 1:
            if lonely == "fail":
                raise ValueError(f"Stratum {_label(st.strata_labels[s])} has only one PSU"
                                 " (lonely_psu='fail'; R: options(survey.lonely.psu=...))")
            if lonely in ("remove", "certainty", "average"):
                continue
            U[:, counter] = np.where(ustrata == s, 0.0, nstrat / (nstrat - 1))
            rscales[counter] = (nstrat - 1) / nstrat
            counter += 1
            continue
        U[np.ix_(units, np.arange(counter, counter + nh))] = _jk1_unit(nh)
        rscales[counter:counter + nh] = fpc * (nh - 1) / nh
        counter += nh
    if counter == 0:
        raise ValueError("All strata were exhaustively sampled: you have the whole population")
    scale = 1.0
    if counter < K:
        U = np.ascontiguousarray(U[:, :counter])
        rscales = rscales[:counter]
        if lonely == "average":
            scale = K / counter
    return ReplicateDesign._from_parts(data, U, psu, pw, "JKn", scale, rscales, None, False, mse, selfrep)


def _brr(data, psu, ustrata, labels, K, first, pw, rho, mse, dtype):
    slab = labels[ustrata]  # as.character(strata) of each unit
    names, ssize = np.unique(slab, return_counts=True)  # table(): sorted names
    size_of = dict(zip(names, ssize))
    if (ssize < 2).any():
        raise ValueError("Some strata have fewer than 2 PSUs")
    oo = np.lexsort((first, slab))  # order(sunq, match)
    weights = np.full((K, 2), np.nan)
    wstrata = np.zeros(K, dtype=np.int64)
    upto = 0
    for group in ([nm for nm in names if size_of[nm] > 2], [nm for nm in names if size_of[nm] == 2]):
        for nm in group:
            size = size_of[nm]
            if size > 2 and size % 2 == 1:
                raise ValueError("Can't split with odd numbers of PSUs in a stratum")
            sel = oo[slab[oo] == nm]
            weights[sel, 0] = np.resize([0, 1], size)
            weights[sel, 1] = np.resize([1, 0], size)
            wstrata[sel] = upto + np.repeat(np.arange(1, size // 2 + 1), 2)
            upto += size // 2
    H = hadamard(upto)
    nrep = H.shape[1]
    _guard(K, nrep)
    h = H[1:upto + 1, :].astype(np.int64)  # rows 1 + ii
    col = h[wstrata - 1, :]  # (K, nrep): 0 -> first column, 1 -> second
    wa = np.where(col == 0, weights[:, [0]], weights[:, [1]])
    wb = np.where(col == 0, weights[:, [1]], weights[:, [0]])
    U = (wa * (2 - rho) + wb * rho).astype(dtype)
    kind = "BRR" if rho == 0 else "Fay"
    return ReplicateDesign._from_parts(data, U, psu, pw, kind, 1 / (nrep * (1 - rho) ** 2), np.ones(nrep),
                                       rho, False, mse)


def _boot(data, psu, ustrata, K, popsize, pw, replicates, seed, mse, selfrep, dtype, st):
    rng = np.random.default_rng(seed)
    _guard(K, replicates)
    U = np.zeros((K, replicates), dtype=dtype)
    s_order = ustrata[np.sort(np.unique(ustrata, return_index=True)[1])]
    for s in s_order:
        units = np.flatnonzero(ustrata == s)
        nh = len(units)
        if popsize is None:
            for r in range(replicates):
                U[units, r] = np.bincount(rng.integers(0, nh, nh), minlength=nh)
        else:
            N = popsize[st.strata == s][0]
            if N < nh:
                raise ValueError(f"Population size smaller than sample size in stratum {s}")
            if N > 100 * nh:
                warnings.warn(f"Sampling fraction <1% in stratum {s} treated as zero.", stacklevel=3)
            pool = np.resize(np.arange(nh), int(N))
            for r in range(replicates):
                U[units, r] = np.bincount(pool[rng.permutation(len(pool))[:nh]], minlength=nh)
    counts = np.bincount(ustrata)
    counts = counts[counts > 0]
    pps = 1 / np.mean(1 / counts)
    scale = pps / ((pps - 1) * (replicates - 1))
    return ReplicateDesign._from_parts(data, U, psu, pw, "bootstrap", scale, np.ones(replicates), None, False,
                                       mse, selfrep)
