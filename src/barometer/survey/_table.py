"""R ``svytable(~a + b + ..., design, Ntotal, round)``: weighted counts.

The table is R's ``xtabs(weights ~ a + b)`` on the design's rows: rows with a
missing value in any of the variables are left out; levels are those present
among the remaining rows (sorted), rows with weight 0 (a domain of a
calibrated design) count 0.  ``Ntotal``:

* ``None``: the weighted counts (estimated population counts);
* a number (or ``len(Ntotal) <= 1``, or a design without strata): the table
  is rescaled to sum to ``sum(Ntotal)``, e.g. ``Ntotal=len(design)`` gives
  counts on the sample scale (what ``svychisq`` uses), ``Ntotal=100``
  percentages;
* a DataFrame of first-stage stratum labels and population sizes (R:
  ``Ntotal[, 1]`` and ``Ntotal[, 2]``): each stratum's table is rescaled to
  its size, then the strata are summed.

``round=True`` rounds the cells (half to even, as R).  One variable gives a
Series, two a DataFrame (rows x columns), more a Series with a MultiIndex.
The response form ``svytable(y ~ a)`` is not implemented.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _codes(design, col: str, keep: np.ndarray):
    if col not in design.data.columns:
        raise KeyError(f"column {col!r} not in data")
    codes, levels = design._codes(col)
    used = np.flatnonzero(np.bincount(codes[keep], minlength=len(levels)))
    remap = np.full(len(levels) + 1, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return np.where(codes >= 0, remap[codes], -1), levels[used]


def svytable(design, cols, Ntotal=None, round_: bool = False):
    cols = list(cols)
    if not cols:
        raise ValueError("table() needs at least one variable")
    keep = design._present.copy()
    for c in cols:
        if c not in design.data.columns:
            raise KeyError(f"column {c!r} not in data")
        keep &= design._codes(c)[0] >= 0
    coded = [_codes(design, c, keep) for c in cols]
    sizes = [len(lv) for _, lv in coded]
    cell = np.zeros(design.n, dtype=np.int64)
    for codes, lv in coded:
        cell = cell * len(lv) + np.where(keep, codes, 0)
    ncell = int(np.prod(sizes)) if sizes else 0
    w = np.where(keep, design._w, 0.0)
    per_stratum = Ntotal is not None and isinstance(Ntotal, pd.DataFrame) and len(Ntotal) > 1 and design.has_strata
    if not per_stratum:
        tab = np.bincount(cell[keep], weights=w[keep], minlength=ncell)
        if Ntotal is not None:
            total = float(np.sum(np.asarray(Ntotal.iloc[:, -1] if isinstance(Ntotal, pd.DataFrame) else Ntotal,
                                            dtype=float)))
            tab = tab * total / tab.sum()
    else:
        st = design._stages[0]
        S = st.n_strata
        h = st.strata[keep]
        cnt = np.bincount(h * ncell + cell[keep], weights=w[keep], minlength=S * ncell).reshape(S, ncell)
        present_s = np.flatnonzero(np.bincount(st.strata[design._present], minlength=S))
        labels = {str(v): float(n) for v, n in zip(Ntotal.iloc[:, 0], Ntotal.iloc[:, 1])}
        tab = np.zeros(ncell)
        for s in present_s:
            lab = str(st.strata_labels[s])
            if lab not in labels:
                raise ValueError(f"Ntotal has no population size for stratum {lab!r}")
            tot = cnt[s].sum()
            tab += cnt[s] * (labels[lab] / tot)
    if round_:
        tab = np.round(tab)
    tab = tab.reshape(sizes)
    if len(cols) == 1:
        return pd.Series(tab, index=pd.Index(coded[0][1], name=cols[0]))
    if len(cols) == 2:
        return pd.DataFrame(tab, index=pd.Index(coded[0][1], name=cols[0]),
                            columns=pd.Index(coded[1][1], name=cols[1]))
    idx = pd.MultiIndex.from_product([lv for _, lv in coded], names=cols)
    return pd.Series(tab.ravel(), index=idx)
