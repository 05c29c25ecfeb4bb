"""Multistage Taylor-linearisation variance, a vectorised port of R survey's
``svyrecvar`` -> ``multistage`` -> ``onestage`` -> ``onestrat``.

Everything works on whole-sample arrays.  A design keeps *all* rows of the data
it was built on; two row masks tell what R would hold:

``present``
    rows that are still in R's design object.  ``subset()`` of an uncalibrated
    design physically drops rows in R (``[.survey.design2``); we only clear
    ``present``.  The per-stratum PSU counts (``fpc$sampsize``) are kept from
    the full design, exactly as R keeps them, so absent PSUs act as the zero
    rows R pads with in ``onestrat``.
``weight == 0``
    rows outside a domain of a calibrated design (R sets ``prob = Inf``).

For one stage, R computes per stratum h with n_h sampled units::

    f_h = (N_h - n_h)/N_h  (1 without fpc; 1 if N_h = Inf)
    V_h = f_h n_h/(n_h - 1) * sum_j (T_hj - mean_h T)(T_hj - mean_h T)'

where ``T_hj`` are unit totals of the influence values and the mean runs over
all n_h units of the full sample.  Everything that does not depend on the
influence values (scales, lonely-PSU decisions, stage multipliers) is computed
once per design in a :class:`VariancePlan`; a variance is then a few
``np.bincount`` passes and one ``D' diag(u) D`` product per stage.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Stage", "OneHot", "VariancePlan", "recvar", "LonelyPSUError"]


class LonelyPSUError(ValueError):
    """A stratum has a single PSU and ``lonely_psu='fail'``."""


@dataclass
class Stage:
    """One sampling stage, row-aligned integer codes.

    strata   : stratum code of each row at this stage (0..S-1)
    clusters : sampling-unit code of each row at this stage (0..K-1), globally
               unique (nested in the stratum and in earlier stages)
    npsu     : per stratum, number of units sampled (length S), from the full design
    popsize  : per row population size at this stage, or None (no fpc)
    strata_labels : printable label of each stratum code (for error messages)
    unit_stratum : stratum code of each unit (length K)
    unit_first_row : first row of each unit (length K)
    identity : every row is its own unit (``clusters == arange(n)``)
    """

    strata: np.ndarray
    clusters: np.ndarray
    npsu: np.ndarray
    popsize: np.ndarray | None
    strata_labels: np.ndarray
    unit_stratum: np.ndarray
    unit_first_row: np.ndarray
    identity: bool = False

    def __post_init__(self):
        npsu_row = self.npsu[self.strata]
        if self.popsize is None:
            self.f_row = np.ones(len(self.strata))
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                self.f_row = np.where(np.isinf(self.popsize), 1.0, (self.popsize - npsu_row) / self.popsize)
        # is the fpc factor the same for every row of a stratum? (then a
        # subset's variance plan is its parent's: see VariancePlan.restrict)
        S = len(self.npsu)
        f_s = np.zeros(S)
        f_s[self.strata] = self.f_row  # any row's value per stratum
        self.f_uniform = bool(np.array_equal(f_s[self.strata], self.f_row, equal_nan=True))
        f_unit = self.f_row[self.unit_first_row]
        n_unit = self.npsu[self.unit_stratum]
        self.unit_scale = np.where(n_unit > 1, f_unit * n_unit / np.maximum(n_unit - 1, 1), f_unit)

    @property
    def n_strata(self) -> int:
        return len(self.npsu)

    @property
    def n_units(self) -> int:
        return len(self.unit_stratum)


class OneHot:
    """A sparse n x p matrix with at most one non-zero per row.

    Row i holds ``values[i]`` in column ``cols[i]``.  Used for domain
    statistics (``by``) so that 1e6 rows x L domains never becomes dense.
    """

    def __init__(self, values: np.ndarray, cols: np.ndarray, p: int):
        self.values = np.asarray(values, dtype=float)
        self.cols = np.asarray(cols, dtype=np.int64)
        self.p = int(p)

    def dense(self) -> np.ndarray:
        out = np.zeros((len(self.values), self.p))
        out[np.arange(len(self.values)), self.cols] = self.values
        return out


def rowsum(x, codes: np.ndarray, k: int) -> np.ndarray:
    """Sum rows of ``x`` (dense (m, p) or OneHot) by integer ``codes`` -> (k, p)."""
    if isinstance(x, OneHot):
        flat = codes.astype(np.int64) * x.p + x.cols
        return np.bincount(flat, weights=x.values, minlength=k * x.p).reshape(k, x.p)
    p = x.shape[1]
    out = np.empty((k, p))
    for j in range(p):  # loop over columns, never rows
        out[:, j] = np.bincount(codes, weights=x[:, j], minlength=k)
    return out


def _onehot_element(x: OneHot, st: Stage, u: np.ndarray, centre_s: np.ndarray, U_h: np.ndarray,
                    rows: np.ndarray | None, diag_only: bool):
    """One element-sampling stage's variance of a OneHot's column totals by
    bincounts over stratum x column: never the n x p matrix of unit totals.

    Row j (stratum h, column c_j, value v_j, multiplier u_j) deviates from the
    stratum means m[h] (S x p, 0 where the stratum is not centred) by
    ``v_j e_c - m[h]``; units not among ``rows`` (value 0) by ``-m[h]``.  With
    ``Uc[h, l]`` the multipliers of the given rows of stratum h in column l,
    ``B[l, h] = sum u_j (v_j - m[h, l])`` over those rows:

    * ``V[l, l] = sum_{c_j = l} u_j (v_j - m[h_j, l])^2 + sum_h (U_h - Uc[h, l]) m[h, l]^2``
      (centred terms: no cancellation),
    * ``V[l, k] = -(B m)[l, k] - (B m)[k, l] + sum_h (U_h - Uc[h, l] - Uc[h, k]) m[h, l] m[h, k]``.
    """
    S, p = st.n_strata, x.p
    s = st.strata if rows is None else st.strata[rows]
    uu = u if rows is None else u[rows]
    cols, vals = x.cols, x.values
    cell = s * p + cols
    m = np.bincount(cell, weights=vals, minlength=S * p).reshape(S, p) / st.npsu[:, None]
    if not centre_s.all():
        m[~centre_s] = 0.0
    dev = vals - m.ravel()[cell]
    Uc = np.bincount(cell, weights=uu, minlength=S * p).reshape(S, p)
    rest = U_h[:, None] - Uc
    # a stratum whose units are all in one column has rest 0 there; summed in
    # another order it can come out as +-1e-16 U_h (see the dense branch)
    rest[np.abs(rest) <= 1e-10 * np.abs(U_h)[:, None]] = 0.0
    diag = np.bincount(cols, weights=uu * dev * dev, minlength=p) + (rest * m * m).sum(axis=0)
    if diag_only:
        return diag
    B = np.bincount(cols * S + s, weights=uu * dev, minlength=p * S).reshape(p, S)
    Bm = B @ m
    Um = (Uc * m).T @ m
    V = (m * U_h[:, None]).T @ m - Um - Um.T - Bm - Bm.T
    V[np.diag_indices(p)] = diag
    return V


class VariancePlan:
    """Everything of ``svyrecvar`` that depends on the design, not on x.

    Per stage: the multiplier ``u`` of each unit (scale f n/(n-1), product of
    earlier-stage sampling fractions, R's nstrat/nokstrat for ``average``; 0
    for strata R skips or zeroes) and whether its stratum is centred.
    Raises :class:`LonelyPSUError` for ``lonely_psu='fail'`` exactly where R
    would (a present stratum with one unit and a non-zero fpc factor).
    """

    def __init__(self, stages: list[Stage], present: np.ndarray, lonely_psu: str):
        self.stages = stages
        self.present = present
        self.units: list[tuple[np.ndarray, np.ndarray]] = []
        self.u_strata: list[np.ndarray] = []  # sum of u over the units of each stratum
        self.nan = False
        self.lonely_psu = lonely_psu
        # Whether the plan holds, unchanged, for any subset of ``present``:
        # it depends on ``present`` only through which strata are present
        # (an absent stratum contributes nothing, whatever its multiplier),
        # unless R's 'average' rescales by the number of lonely strata present
        # or the fpc factor varies within a stratum (the 'certainty' test).
        self.reusable = all(st.f_uniform for st in stages) and not (
            lonely_psu == "average" and any((st.npsu == 1).any() for st in stages))
        n = len(present)
        mult_row = np.ones(n)
        for k, st in enumerate(stages):
            S = st.n_strata
            pres_s = np.bincount(st.strata, weights=present, minlength=S) > 0
            big = np.bincount(st.strata, weights=present & (st.f_row >= 1e-7), minlength=S) > 0
            zero_s = pres_s & ~big
            lonely_s = pres_s & ~zero_s & (st.npsu == 1)
            na_s = np.zeros(S, dtype=bool)
            centre_s = np.ones(S, dtype=bool)
            drop_s = ~pres_s | zero_s
            if lonely_s.any():
                if lonely_psu == "fail":
                    first = np.flatnonzero(lonely_s)[0]
                    raise LonelyPSUError(
                        f"Stratum ({st.strata_labels[first]}) has only one PSU at stage {k + 1}"
                        f" ({int(lonely_s.sum())} such strata). Use lonely_psu='adjust', 'average',"
                        " 'certainty' or 'remove' (R: options(survey.lonely.psu=...))."
                    )
                if lonely_psu == "adjust":
                    centre_s = ~lonely_s  # deviation from 0 rather than the stratum mean
                elif lonely_psu in ("certainty", "remove"):
                    drop_s = drop_s | lonely_s  # one centred unit -> 0
                elif lonely_psu == "average":
                    na_s = lonely_s
                    drop_s = drop_s | lonely_s
                else:  # pragma: no cover - validated in Design
                    raise ValueError(f"Can't handle lonely_psu={lonely_psu!r}")
            us = st.unit_stratum
            if k == 0:
                unit_mult = np.ones(st.n_units)
                nstrat, nok = pres_s.sum(), (pres_s & ~na_s).sum()
                gfac_s = np.full(S, nstrat / nok if nok else np.nan)
                if nstrat and not nok:  # R: 0 * nstrat/0
                    self.nan = True
            else:
                unit_mult = mult_row[st.unit_first_row]
                prev = stages[k - 1]
                # R calls onestage once per unit of the previous stage: the
                # nstrat/nokstrat rescaling is per such group of strata
                strat_first = np.zeros(S, dtype=np.int64)
                strat_first[us] = st.unit_first_row
                groups = prev.clusters[strat_first]
                G = int(groups.max()) + 1 if S else 0
                nstrat_g = np.bincount(groups, weights=pres_s, minlength=G)
                nok_g = np.bincount(groups, weights=pres_s & ~na_s, minlength=G)
                with np.errstate(divide="ignore", invalid="ignore"):
                    gfac_s = (nstrat_g / nok_g)[groups]
                if ((nstrat_g > 0) & (nok_g == 0)).any():
                    self.nan = True
            u = np.where(drop_s[us], 0.0, st.unit_scale * unit_mult * gfac_s[us])
            if np.isnan(u).any():
                self.nan = True
            self.units.append((u, centre_s))
            self.u_strata.append(np.bincount(us, weights=u, minlength=S))
            if st.popsize is None:  # later stages only with a fpc (R multistage)
                break
            with np.errstate(divide="ignore", invalid="ignore"):
                mult_row = mult_row * (st.npsu[st.strata] / st.popsize)

    def restrict(self, present: np.ndarray) -> "VariancePlan | None":
        """This plan for a design whose ``present`` rows are a subset of ours
        (a domain), or None when the plan must be made afresh."""
        if not self.reusable or self.nan:
            return None
        new = copy.copy(self)
        new.present = present
        return new

    def pattern_variance(self, H: np.ndarray, codes: np.ndarray, wv: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Variance of the column totals of x with ``x[rows[i]] = wv[i] *
        H[codes[i]]`` (0 on other rows), for a one-stage element sample: the
        influence of a GLM whose rows share their pattern's values (see
        :func:`._compress.patterns`), without the n x p matrix.

        Per stratum h the rows deviate from the stratum mean m_h; grouped
        into cells c = (h, pattern g) with multipliers U_c = sum u, u-weighted
        mean weight wbar_c and Q_c = sum u (w - wbar_c)^2, a cell contributes
        ``Q_c H_g H_g' + U_c d_c d_c'`` with ``d_c = wbar_c H_g - m_h`` (the
        cross term sums to 0), and the units not among ``rows`` ``rest_h
        m_h m_h'``, as in :meth:`variance`: sums of positive semi-definite
        terms, no cancellation."""
        st = self.stages[0]
        if len(self.stages) != 1 or not st.identity:  # pragma: no cover - callers check
            raise ValueError("pattern_variance needs a one-stage element-sampling design")
        p = H.shape[1]
        if self.nan:
            return np.full((p, p), np.nan)
        if not self.present.any():
            return np.zeros((p, p))
        u, centre_s = self.units[0]
        U_h = self.u_strata[0]
        S, G = st.n_strata, H.shape[0]
        wv = np.where(self.present[rows], wv, 0.0)
        s = st.strata[rows]
        uu = u[rows]
        key = s.astype(np.int64) * G + codes
        if S * G <= max(1 << 22, 4 * len(rows)):
            cell, C = key, S * G
        else:
            cell, uniq = pd.factorize(key)
            C = len(uniq)
            key = np.asarray(uniq, dtype=np.int64)
        Wc = np.bincount(cell, weights=wv, minlength=C)
        Uc = np.bincount(cell, weights=uu, minlength=C)
        Ac = np.bincount(cell, weights=uu * wv, minlength=C)
        with np.errstate(divide="ignore", invalid="ignore"):
            wbar = np.where(Uc > 0, Ac / Uc, 0.0)
        dev = wv - wbar[cell]
        Qg = np.bincount(codes, weights=uu * dev * dev, minlength=G)
        used = np.flatnonzero((Wc != 0) | (Uc != 0))
        ukey = used if cell is key else key[used]
        cs, cg = ukey // G, ukey % G
        m = rowsum(Wc[used][:, None] * H[cg], cs, S) / st.npsu[:, None]
        if not centre_s.all():
            m[~centre_s] = 0.0
        D = wbar[used][:, None] * H[cg] - m[cs]
        rest = U_h - np.bincount(s, weights=uu, minlength=S)
        rest[np.abs(rest) <= 1e-10 * np.abs(U_h)] = 0.0  # as in variance()
        rest = np.maximum(rest, 0.0)
        V = (H * Qg[:, None]).T @ H + (D * Uc[used][:, None]).T @ D + (m * rest[:, None]).T @ m
        return (V + V.T) / 2

    def variance(self, x, rows: np.ndarray | None = None, diag_only: bool = False, freq: np.ndarray | None = None):
        """Variance of the column totals of x (rows ``rows`` of the data, or all).

        ``freq`` (element sampling only): row ``rows[i]`` stands for
        ``freq[i]`` rows of the same stratum with the same x and multiplier.
        """
        if freq is not None and (isinstance(x, OneHot) or rows is None
                                 or not (len(self.stages) == 1 and self.stages[0].identity)):
            raise ValueError("freq needs rows of a one-stage element-sampling design")
        p = x.p if isinstance(x, OneHot) else x.shape[1]
        if self.nan:
            return np.full(p, np.nan) if diag_only else np.full((p, p), np.nan)
        if not self.present.any():
            return np.zeros(p) if diag_only else np.zeros((p, p))
        total = None
        for st, (u, centre_s), U_h in zip(self.stages, self.units, self.u_strata):
            if st.identity and isinstance(x, OneHot):
                c = _onehot_element(x, st, u, centre_s, U_h, rows, diag_only)
                total = c if total is None else total + c
                continue
            if st.identity:
                # element sampling: units are rows; only the given rows are
                # non-zero, the others contribute u * mean_h mean_h' each
                s = st.strata if rows is None else st.strata[rows]
                uu = u if rows is None else u[rows]
                if freq is not None:
                    uu = uu * freq
                rest = U_h - np.bincount(s, weights=uu, minlength=st.n_strata)
                # a stratum whose units are all given has rest 0; summed in
                # another order (freq) it can come out as +-1e-16 U_h, which a
                # huge mean (a share of 0 on the logit scale) would magnify
                rest[np.abs(rest) <= 1e-10 * np.abs(U_h)] = 0.0
                if diag_only or x.shape[1] == 1:  # column by column on contiguous 1-d arrays
                    xf = np.asfortranarray(x)
                    c = np.empty(xf.shape[1])
                    for j in range(xf.shape[1]):
                        xj = xf[:, j]
                        mj = np.bincount(s, weights=xj if freq is None else xj * freq,
                                         minlength=st.n_strata) / st.npsu
                        if not centre_s.all():
                            mj[~centre_s] = 0.0
                        Dj = xj - mj[s]
                        c[j] = np.dot(uu * Dj, Dj) + np.dot(rest, mj * mj)
                    if not diag_only:  # one column: its 1 x 1 covariance
                        c = c.reshape(1, 1)
                    total = c if total is None else total + c
                    continue
                m = rowsum(x if freq is None else x * freq[:, None], s, st.n_strata) / st.npsu[:, None]
                if not centre_s.all():
                    m[~centre_s] = 0.0
                D = x - m[s]
                if diag_only:
                    c = uu @ (D * D) + rest @ (m * m)
                else:
                    Du = D * np.sqrt(uu)[:, None]
                    mr = m * np.sqrt(np.maximum(rest, 0.0))[:, None]
                    c = Du.T @ Du + mr.T @ mr
                total = c if total is None else total + c
                continue
            else:
                codes = st.clusters if rows is None else st.clusters[rows]
                T = rowsum(x, codes, st.n_units)
            us = st.unit_stratum
            means = rowsum(T, us, st.n_strata) / st.npsu[:, None]
            if centre_s.all():
                T -= means[us]
            else:
                T -= np.where(centre_s[us][:, None], means[us], 0.0)
            if diag_only:
                c = u @ (T * T)
            else:
                Tu = T * np.sqrt(u)[:, None]
                c = Tu.T @ Tu
            total = c if total is None else total + c
        return total


def recvar(
    x,
    stages: list[Stage],
    present: np.ndarray,
    lonely_psu: str = "fail",
    calibrations: list | None = None,
    diag_only: bool = False,
    plan: VariancePlan | None = None,
    rows: np.ndarray | None = None,
    freq: np.ndarray | None = None,
):
    """Variance (p x p, or its diagonal) of the totals of the columns of ``x``.

    ``x`` is (n, p) (or a :class:`OneHot`, or (len(rows), p) with ``rows``,
    increasing row numbers unless ``freq`` is given) of weighted influence
    values, zero on rows with zero weight.  Stage 2 and later
    enter only when a fpc was given (R: ``if (!is.null(fpcs) && NCOL(clusters) >
    1)``), each multiplied by the product of earlier sampling fractions n/N.
    """
    if plan is None:
        plan = VariancePlan(stages, present, lonely_psu)
    n = len(present)
    if rows is not None and freq is None and len(rows) == n and (n == 0 or (rows[0] == 0 and rows[-1] == n - 1)):
        rows = None  # rows without freq are increasing (np.flatnonzero): these are all rows, in order
    if calibrations:
        if freq is not None:
            raise ValueError("freq is for uncalibrated designs")
        if isinstance(x, OneHot):
            x = x.dense()
        if rows is not None:
            full = np.zeros((n, x.shape[1]))
            full[rows] = x
            x, rows = full, None
        x = calibration_residuals(np.asarray(x, dtype=float), calibrations, present)
    else:
        pr = present if rows is None else present[rows]
        if not pr.all():
            if isinstance(x, OneHot):
                x = OneHot(np.where(pr, x.values, 0.0), x.cols, x.p)
            else:
                x = np.where(pr[:, None], x, 0.0)
    return plan.variance(x, rows=rows, diag_only=diag_only, freq=freq)


def calibration_residuals(x: np.ndarray, calibrations: list, present: np.ndarray) -> np.ndarray:
    """R ``svyrecvar``'s postStrata step: replace x by residuals within post-strata.

    postStratify: ``x - psw * rowsum(x*oldw/psw, ps) / sum(oldw in ps)``;
    rake: ten sweeps of ``x - psw * ave(x/psw, margin)`` over the margins.
    Rows not present are excluded from the group sums and means.
    """
    x = np.where(present[:, None], x, 0.0)
    for cal in calibrations:
        if cal["kind"] == "post":
            codes, psw, oldw = cal["codes"], cal["weights"].copy(), cal["oldweights"]
            zeroes = (psw == 0) & (oldw == 0)
            psw[zeroes] = 1.0
            G = int(codes.max()) + 1
            ow = np.where(present, oldw, 0.0)
            denom = np.bincount(codes, weights=ow, minlength=G)
            with np.errstate(divide="ignore", invalid="ignore"):
                num = rowsum(np.where(present[:, None], x * (oldw / psw)[:, None], 0.0), codes, G)
                psmeans = num / denom[:, None]
            x = x - psmeans[codes] * psw[:, None]
            x = np.where(present[:, None], x, 0.0)
        elif cal["kind"] == "rake":
            for _ in range(10):
                for codes, psw in cal["margins"]:
                    G = int(codes.max()) + 1
                    cnt = np.bincount(codes, weights=present.astype(float), minlength=G)
                    with np.errstate(divide="ignore", invalid="ignore"):
                        r = np.where(present[:, None], x / psw[:, None], 0.0)
                        avg = rowsum(r, codes, G) / cnt[:, None]
                    x = x - psw[:, None] * avg[codes]
                    x = np.where(present[:, None], x, 0.0)
        elif cal["kind"] == "greg":  # calibrate(): see _calibrate.greg_residuals
            from ._calibrate import greg_residuals

            x = np.where(present[:, None], greg_residuals(x, cal), 0.0)
        else:  # pragma: no cover
            raise ValueError(cal["kind"])
    return x
