"""R ``svychisq`` for survey.design2: Rao-Scott ``F`` and ``Chisq``, ``Wald``, ``adjWald``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _dist
from ._variance import OneHot

STATISTICS = ("F", "Chisq", "Wald", "adjWald")


@dataclass
class ChisqResult:
    """``statistic``, ``ndf``, ``ddf`` (inf for ``Chisq``), ``p``; ``method`` as R prints it."""

    statistic: float
    ndf: float
    ddf: float
    p: float
    method: str
    table: pd.DataFrame

    def __repr__(self) -> str:
        return f"<svychisq {self.method}: {self.statistic:.6g}, ndf={self.ndf:.6g}, ddf={self.ddf:.6g}, p={self.p:.4g}>"


def _codes(design, col):
    s = design.data[col]
    pres = design._present
    codes, uniq = pd.factorize(s, sort=True)
    used = np.flatnonzero(np.bincount(codes[pres & (codes >= 0)], minlength=len(uniq)))
    remap = np.full(len(uniq) + 1, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    out = np.where(codes >= 0, remap[codes], -1)
    return out, np.asarray(uniq, dtype=object)[used]


def chisq(design, a: str, b: str, statistic: str = "F") -> ChisqResult:
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {STATISTICS}, got {statistic!r}")
    for c in (a, b):
        if c not in design.data.columns:
            raise KeyError(f"column {c!r} not in data")
    ra, la = _codes(design, a)
    cb, lb = _codes(design, b)
    nr, nc = len(la), len(lb)
    if nr < 2 or nc < 2:
        raise ValueError(f"svychisq needs at least two levels of {a!r} and {b!r} in the design")
    d = design
    na_rows = ((ra < 0) | (cb < 0)) & d._present
    if na_rows.any():  # R: na.rm=TRUE
        d = d.subset(~na_rows)
    pres = d._present & (ra >= 0) & (cb >= 0)  # rows with both factors observed
    w = np.where(pres, d._w, 0.0)
    cell = np.where(pres, ra + nr * cb, 0)
    ncell = nr * nc
    # R: N = nrow(model.matrix(...)) and nu from design$cluster, both taken
    # before missing values are dropped
    N = int(design._present.sum())
    st = design._stages[0]
    p0 = design._present
    nu = int(np.count_nonzero(np.bincount(st.clusters[p0], minlength=st.n_units))) - int(
        np.count_nonzero(np.bincount(st.strata[p0], minlength=st.n_strata))
    )

    # Pearson X^2 on the weighted table rescaled to N (svytable(..., Ntotal=N))
    tab = np.bincount(cell, weights=w, minlength=ncell).reshape(nc, nr).T
    tab = tab * N / tab.sum()
    E = np.outer(tab.sum(1), tab.sum(0)) / tab.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        X2 = float(np.sum((tab - E) ** 2 / E))
    table = pd.DataFrame(tab, index=pd.Index(la, name=a), columns=pd.Index(lb, name=b))

    rows = np.tile(np.arange(nr), nc)
    cols = np.repeat(np.arange(nc), nr)
    # every observed row is in exactly one cell: the cell indicators weighted
    # are a OneHot (never an n x cells matrix), and every column R's svychisq
    # builds from them is a linear map of it, so their covariance is
    # K' V K with V the cells' covariance (bincounts over stratum x cell on
    # an element sample, see _variance._onehot_element)
    obs = np.flatnonzero(pres)
    Vcell = d._var(OneHot(w[obs], cell[obs], ncell), rows=obs)
    cells_w = np.bincount(cell[obs], weights=w[obs], minlength=ncell)

    if statistic in ("Wald", "adjWald"):
        K = np.hstack([np.eye(ncell), (rows[:, None] == np.arange(nr)[None, :]).astype(float),
                       (cols[:, None] == np.arange(nc)[None, :]).astype(float), np.ones((ncell, 1))])
        cells = cells_w @ K
        Vc = K.T @ Vcell @ K
        tot = cells[ncell + nr + nc]
        rt = cells[ncell : ncell + nr]
        ct = cells[ncell + nr : ncell + nr + nc]
        J = np.hstack(
            [
                np.eye(ncell),
                -(rows[:, None] == np.arange(nr)[None, :]).astype(float) * np.repeat(ct / tot, nr)[:, None],
                -(cols[:, None] == np.arange(nc)[None, :]).astype(float) * np.tile(rt / tot, nc)[:, None],
                (np.outer(rt, ct).T.ravel() / tot**2)[:, None],
            ]
        )
        Y = cells[:ncell] - np.outer(rt, ct).T.ravel() / tot
        V = J @ Vc @ J.T
        use = np.arange(ncell).reshape(nc, nr).T[1:, 1:].T.ravel()
        use = np.sort(use)
        wald = float(Y[use] @ np.linalg.solve(V[np.ix_(use, use)], Y[use]))
        numdf = (nc - 1) * (nr - 1)
        if statistic == "Wald":
            stat_, ddf = wald / numdf, nu
        else:
            ddf = nu - numdf + 1
            stat_ = wald * ddf / (numdf * nu)
        p = float(_dist.f_sf(stat_, numdf, ddf))
        return ChisqResult(stat_, float(numdf), float(ddf), p, "Design-based Wald test of association", table)

    # Rao-Scott: design effect matrix Delta on the interaction contrasts
    # the cell shares' influence (I_cell - mean2) w / sum w is the OneHot
    # times M' = I - 1 mean2': V = M Vcell M' / psum^2
    psum = w.sum()
    mean2 = cells_w / psum
    M = np.eye(ncell) - mean2[:, None]
    V = M @ Vcell @ M.T / (psum * psum)
    X1 = np.column_stack(
        [np.ones(ncell)]
        + [(rows == i).astype(float) for i in range(1, nr)]
        + [(cols == j).astype(float) for j in range(1, nc)]
    )
    X12 = np.column_stack(
        [((rows == i) & (cols == j)).astype(float) for j in range(1, nc) for i in range(1, nr)]
    )
    beta, *_ = np.linalg.lstsq(X1, X12, rcond=None)
    Cmat = X12 - X1 @ beta
    with np.errstate(divide="ignore"):
        inv = np.where(mean2 == 0, 0.0, 1.0 / mean2)
    iD = np.diag(inv)
    denom = Cmat.T @ (iD / N) @ Cmat
    numr = Cmat.T @ iD @ V @ iD @ Cmat
    Delta = np.linalg.solve(denom, numr)
    trD = float(np.trace(Delta))
    d0 = trD**2 / float(np.trace(Delta @ Delta))
    if statistic == "F":
        stat_ = X2 / trD
        p = float(_dist.f_sf(stat_, d0, d0 * nu))
        return ChisqResult(stat_, d0, d0 * nu, p, "Pearson's X^2: Rao & Scott adjustment", table)
    k = Delta.shape[1]
    p = float(_dist.chi2_sf(X2 / np.mean(np.diag(Delta)), k))
    return ChisqResult(X2, float(k), np.inf, p, "Pearson's X^2: Rao & Scott adjustment", table)
