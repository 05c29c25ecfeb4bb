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

Influence values must already be zero on rows with zero weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Stage", "OneHot", "recvar", "LonelyPSUError"]


class LonelyPSUError(ValueError):
    """A stratum has a single PSU and ``lonely_psu='fail'``."""


@dataclass(frozen=True)
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
    """

    strata: np.ndarray
    clusters: np.ndarray
    npsu: np.ndarray
    popsize: np.ndarray | None
    strata_labels: np.ndarray
    unit_stratum: np.ndarray
    unit_first_row: np.ndarray

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
    """Sum rows of ``x`` (dense (n, p) or OneHot) by integer ``codes`` -> (k, p)."""
    if isinstance(x, OneHot):
        flat = codes.astype(np.int64) * x.p + x.cols
        return np.bincount(flat, weights=x.values, minlength=k * x.p).reshape(k, x.p)
    p = x.shape[1]
    out = np.empty((k, p))
    for j in range(p):  # loop over columns, never rows
        out[:, j] = np.bincount(codes, weights=x[:, j], minlength=k)
    return out


def _stage_contribution(
    x,
    st: Stage,
    present: np.ndarray,
    unit_mult: np.ndarray,
    groups: np.ndarray | None,
    lonely_psu: str,
    stage_no: int,
    diag_only: bool,
):
    """Sum over strata (and groups of strata) of ``onestrat`` for one stage.

    ``unit_mult`` is the product of earlier-stage sampling fractions for each
    unit of this stage; ``groups`` (per stratum) is the earlier-stage unit the
    stratum lies in (R calls ``onestage`` once per earlier-stage unit, and the
    ``average`` rescaling nstrat/nokstrat is per call).
    """
    S, K = st.n_strata, st.n_units
    # strata R would visit: those with at least one row still in the design
    pres_s = np.zeros(S, dtype=bool)
    pres_s[st.strata[present]] = True

    # f = (N - n)/N per row; R: all(f < 1e-7) in the stratum -> zero contribution
    npsu_row = st.npsu[st.strata]
    if st.popsize is None:
        f_row = np.ones(len(st.strata))
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            f_row = np.where(np.isinf(st.popsize), 1.0, (st.popsize - npsu_row) / st.popsize)
    # any(f >= 1e-7) among present rows of the stratum
    big = np.zeros(S, dtype=bool)
    sel = present & (f_row >= 1e-7)
    big[st.strata[sel]] = True
    zero_s = pres_s & ~big

    lonely_s = pres_s & ~zero_s & (st.npsu == 1)
    na_s = np.zeros(S, dtype=bool)
    centre_s = np.ones(S, dtype=bool)
    drop_s = ~pres_s | zero_s
    if lonely_s.any():
        if lonely_psu == "fail":
            first = np.flatnonzero(lonely_s)[0]
            raise LonelyPSUError(
                f"Stratum ({st.strata_labels[first]}) has only one PSU at stage {stage_no}"
                f" ({int(lonely_s.sum())} such strata). Use lonely_psu='adjust', 'average',"
                " 'certainty' or 'remove' (R: options(survey.lonely.psu=...))."
            )
        if lonely_psu == "adjust":
            centre_s = ~lonely_s  # lonely PSU deviates from 0 (the grand mean of centred x)
        elif lonely_psu in ("certainty", "remove"):
            drop_s = drop_s | lonely_s  # centred single row -> 0
        elif lonely_psu == "average":
            na_s = lonely_s
            drop_s = drop_s | lonely_s
        else:  # pragma: no cover - validated in Design
            raise ValueError(f"Can't handle lonely_psu={lonely_psu!r}")

    # unit (PSU) totals and stratum means over the npsu units of the full design
    T = rowsum(x, st.clusters, K)
    us = st.unit_stratum
    sums = rowsum(T, us, S)
    means = sums / st.npsu[:, None]
    D = T - np.where(centre_s[us][:, None], means[us], 0.0)

    f_unit = f_row[st.unit_first_row]
    n_unit = st.npsu[us].astype(float)
    scale = np.where(n_unit > 1, f_unit * n_unit / np.maximum(n_unit - 1, 1), f_unit)

    # nstrat / nokstrat rescaling for 'average' (per group of strata)
    if groups is None:
        nstrat = pres_s.sum()
        nok = (pres_s & ~na_s).sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            gfac_s = np.full(S, nstrat / nok if nok else np.nan)
    else:
        G = int(groups.max()) + 1 if len(groups) else 0
        nstrat_g = np.bincount(groups, weights=pres_s, minlength=G)
        nok_g = np.bincount(groups, weights=pres_s & ~na_s, minlength=G)
        with np.errstate(divide="ignore", invalid="ignore"):
            gfac_s = (nstrat_g / nok_g)[groups]
    u = np.where(drop_s[us], 0.0, scale * unit_mult * gfac_s[us])
    if np.isnan(u).any():
        return np.full(D.shape[1] if diag_only else (D.shape[1], D.shape[1]), np.nan)
    if diag_only:
        return (u[:, None] * D * D).sum(axis=0)
    Du = D * np.sqrt(u)[:, None]
    return Du.T @ Du


def recvar(
    x,
    stages: list[Stage],
    present: np.ndarray,
    lonely_psu: str = "fail",
    calibrations: list | None = None,
    diag_only: bool = False,
):
    """Variance (p x p, or its diagonal) of the totals of the columns of ``x``.

    ``x`` is (n, p) (or a :class:`OneHot`) of weighted influence values, zero on
    rows with zero weight.  Stage 2 and later enter only when a fpc was given
    (R: ``if (!is.null(fpcs) && NCOL(clusters) > 1)``), each multiplied by the
    product of the earlier stages' sampling fractions n/N.
    """
    if calibrations:
        x = x.dense() if isinstance(x, OneHot) else np.array(x, dtype=float, copy=True)
        x = calibration_residuals(x, calibrations, present)
    if isinstance(x, OneHot):
        x = OneHot(np.where(present, x.values, 0.0), x.cols, x.p)
    else:
        x = np.where(present[:, None], x, 0.0)
    p = x.p if isinstance(x, OneHot) else x.shape[1]
    if not present.any():
        return np.zeros(p) if diag_only else np.zeros((p, p))
    n = len(present)
    mult_row = np.ones(n)
    total = None
    for k, st in enumerate(stages):
        if k == 0:
            unit_mult = np.ones(st.n_units)
            groups = None
        else:
            unit_mult = mult_row[st.unit_first_row]
            prev = stages[k - 1]
            # each stratum of this stage lies inside one unit of the previous stage
            strat_first = np.zeros(st.n_strata, dtype=np.int64)
            strat_first[st.unit_stratum] = st.unit_first_row
            groups = prev.clusters[strat_first]
        c = _stage_contribution(x, st, present, unit_mult, groups, lonely_psu, k + 1, diag_only)
        total = c if total is None else total + c
        if st.popsize is None:
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            mult_row = mult_row * (st.npsu[st.strata] / st.popsize)
    return total


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
        else:  # pragma: no cover
            raise ValueError(cal["kind"])
    return x
