"""The :class:`Design` object (R: ``svydesign`` / ``survey.design2``)."""

from __future__ import annotations

import copy
import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from . import _compress, _dist
from ._glm import FAMILIES, glm_fit, glm_fit_patterns, model_matrix, parse_formula, resolve
from ._results import CIProp, Estimate, GLMResult, domain_row, tquantile  # noqa: F401 - the result types, re-exported
from ._variance import LonelyPSUError, OneHot, Stage, VariancePlan, recvar

LONELY = ("fail", "adjust", "average", "certainty", "remove")


NUM_CACHE = 6  # converted (non-float64) numeric columns kept per design family: see Design._num


def _as_list(x) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    return list(x)


def _factorize(values) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(pd.Series(values) if not isinstance(values, pd.Series) else values, sort=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _interact(*codes: np.ndarray) -> np.ndarray:
    """Codes of the interaction of several integer code vectors (0..K-1)."""
    out = codes[0].astype(np.int64)
    for c in codes[1:]:
        out = out * (int(c.max()) + 1) + c
    # pandas' hash factorize, sorted: numpy 2's np.unique is slow on 1e6 distinct ints
    codes, _ = pd.factorize(out, sort=True)
    return codes.astype(np.int64)


def _first_rows(codes: np.ndarray, k: int) -> np.ndarray:
    """First row of each code 0..k-1 (every code occurs)."""
    first = np.full(k, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes), dtype=np.int64))
    return first


def _make_stage(strata: np.ndarray, clusters: np.ndarray, popsize, labels, identity: bool = False) -> Stage:
    n = len(clusters)
    K = int(clusters.max()) + 1 if n else 0
    if identity:  # every row its own unit: one array for rows, units and first rows
        first = np.arange(n, dtype=np.int64)
        if clusters.dtype == first.dtype and np.array_equal(clusters, first):
            first = clusters
        unit_stratum = strata
    else:
        first = _first_rows(clusters, K)
        unit_stratum = strata[first]
    S = int(strata.max()) + 1 if n else 0
    npsu = np.bincount(unit_stratum, minlength=S).astype(float)
    return Stage(strata, clusters, npsu, popsize, labels, unit_stratum, first, identity)


class Design:
    """A complex-survey design, R's ``svydesign(ids, strata, weights, fpc, nest)``.

    Parameters
    ----------
    data : DataFrame
    ids : None (each row its own PSU, R ``id=~1``), a column, or a list of
        columns for multistage designs (PSU first).
    strata : None or a column (a list gives strata per stage, as in R).
    weights : None or a column of sampling weights.  Without weights but with
        ``fpc``, weights are ``prod(N/n)`` over stages (R's rule).
    fpc : None, a column or a list (one per stage): population counts, or
        sampling fractions when every value is <= 1 (R ``as.fpc``).
    nest : relabel PSUs within strata (R ``nest=TRUE``).
    lonely_psu : R's ``options(survey.lonely.psu=)``: ``"fail"`` (default,
        a ``ValueError`` naming the stratum), ``"adjust"``, ``"average"``,
        ``"certainty"``, ``"remove"``.
    check_strata : check that PSUs are nested in strata (default ``not nest``).
    """

    def __init__(
        self,
        data: pd.DataFrame,
        ids: str | Sequence[str] | None = None,
        strata: str | Sequence[str] | None = None,
        weights: str | None = None,
        fpc: str | Sequence[str] | None = None,
        nest: bool = False,
        lonely_psu: str = "fail",
        check_strata: bool | None = None,
    ):
        if not isinstance(data, pd.DataFrame):
            raise TypeError("data must be a pandas DataFrame")
        if lonely_psu not in LONELY:
            raise ValueError(f"lonely_psu must be one of {LONELY}, got {lonely_psu!r}")
        id_cols, strata_cols, fpc_cols = _as_list(ids), _as_list(strata), _as_list(fpc)
        wanted = id_cols + strata_cols + fpc_cols + ([weights] if weights is not None else [])
        missing = [c for c in wanted if c not in data.columns]
        if missing:
            raise KeyError(f"design column(s) not in data: {missing}")
        self.data = data
        self.n = n = len(data)
        self.lonely_psu = lonely_psu
        self.nest = nest
        self.has_strata = bool(strata_cols)
        self._cache: dict = {}  # column-derived arrays, shared by subsets
        self._own: dict = {}  # design-derived (plan, degf), per object
        self._calibrations: list = []

        # --- ids: each stage interacted with the earlier ones (R) -------------
        if id_cols:
            raw_ids = []
            for c in id_cols:
                codes, _ = _factorize(data[c])
                if (codes < 0).any():
                    raise ValueError(f"missing values in `id' (column {c!r})")
                raw_ids.append(codes)
            id_cols_ = list(id_cols)

            def id_label(stage: int, row: int) -> str:
                return str(data[id_cols_[stage]].iloc[row])
        else:
            raw_ids = [np.arange(n, dtype=np.int64)]

            def id_label(stage: int, row: int) -> str:
                return str(row + 1)
        nstage = len(raw_ids)

        if strata_cols:
            raw_strata, strata_uniques = [], []
            for c in strata_cols:
                codes, uniq = _factorize(data[c])
                if (codes < 0).any():
                    raise ValueError(f"missing values in `strata' (column {c!r})")
                raw_strata.append(codes)
                strata_uniques.append(uniq)
        else:
            raw_strata = [np.zeros(n, dtype=np.int64)]
            strata_uniques = [np.array(["1"], dtype=object)]

        if raw_ids[0].max(initial=0) == raw_ids[0].min(initial=0) and not (nest and self.has_strata):
            raise ValueError("Design has only one primary sampling unit")
        clus = [raw_ids[0]]
        for i in range(1, nstage):
            clus.append(_interact(*raw_ids[: i + 1]))
        if nest and self.has_strata:
            NS = len(raw_strata)
            clus = [_interact(*raw_strata[: min(i + 1, NS)], clus[i]) for i in range(nstage)]
        if check_strata is None:
            check_strata = not nest
        if check_strata and self.has_strata:
            K0 = int(clus[0].max()) + 1
            lo = np.full(K0, np.iinfo(np.int64).max)
            hi = np.full(K0, -1)
            np.minimum.at(lo, clus[0], raw_strata[0])
            np.maximum.at(hi, clus[0], raw_strata[0])
            if (lo != hi).any():
                bad = int(np.flatnonzero(lo != hi)[0])
                row = int(np.flatnonzero(clus[0] == bad)[0])
                nstr = len(set(raw_strata[0][clus[0] == bad].tolist()))
                raise ValueError(
                    "Clusters not nested in strata at top level; you may want nest=True."
                    f" (PSU {id_label(0, row)} of column {id_cols[0]!r} appears in"
                    f" {nstr} strata)"
                )
        strat = [raw_strata[0]]
        NS = len(raw_strata)
        for i in range(1, nstage):
            strat.append(_interact(raw_strata[min(i, NS - 1)], clus[i - 1]))

        # --- sample sizes and fpc (R as.fpc) ---------------------------------
        sampsize = []
        for i in range(nstage):
            K = int(clus[i].max()) + 1
            first = _first_rows(clus[i], K)
            npsu = np.bincount(strat[i][first], minlength=int(strat[i].max()) + 1)
            sampsize.append(npsu[strat[i]].astype(float))
        popsize: list[np.ndarray] | None = None
        if fpc_cols:
            if len(fpc_cols) != nstage:
                raise ValueError(
                    f"fpc has {len(fpc_cols)} column(s) but the design has {nstage} stage(s)"
                )
            fmat = np.column_stack([self._numeric(c, what="fpc") for c in fpc_cols])
            if np.isnan(fmat).any():
                raise ValueError("missing values in `fpc'")
            ispop = bool((fmat > 1).any())
            if ispop != bool((fmat >= 1).all()):
                raise ValueError("Must have all fpc>=1 or all fpc<=1")
            with np.errstate(divide="ignore"):
                popsize = [fmat[:, i] if ispop else sampsize[i] / fmat[:, i] for i in range(nstage)]
            for i in range(nstage):
                if (popsize[i] < sampsize[i]).any():
                    r = int(np.flatnonzero(popsize[i] < sampsize[i])[0])
                    raise ValueError(
                        f"FPC implies >100% sampling in some strata (row {r}, stage {i + 1}:"
                        f" popsize={popsize[i][r]:g}, sampsize={sampsize[i][r]:g})"
                    )
                lo = np.full(int(strat[i].max()) + 1, np.inf)
                hi = np.full_like(lo, -np.inf)
                np.minimum.at(lo, strat[i], popsize[i])
                np.maximum.at(hi, strat[i], popsize[i])
                if (lo != hi).any():
                    warnings.warn(f"`fpc' varies within strata at stage {i + 1}", stacklevel=2)

        # --- weights ----------------------------------------------------------
        if weights is not None:
            w = self._numeric(weights, what="weights")
            if np.isnan(w).any():
                raise ValueError(f"missing values in `weights' (column {weights!r})")
            if (w < 0).any():
                r = int(np.flatnonzero(w < 0)[0])
                raise ValueError(f"negative weights in column {weights!r} (row {r}: {w[r]:g})")
            if np.isinf(w).any():
                raise ValueError(f"infinite weights in column {weights!r}")
        elif popsize is not None:
            if any((p > 1e12).any() for p in popsize):
                raise ValueError("Weights not supplied and can't be computed from fpc.")
            w = np.prod([popsize[i] / sampsize[i] for i in range(nstage)], axis=0)
        else:
            warnings.warn("No weights or probabilities supplied, assuming equal probability", stacklevel=2)
            w = np.ones(n)
        self._w = w.astype(float)
        self._w_root = self._w  # the weights domains keep on their rows (see _compress)
        self._present = np.ones(n, dtype=bool)

        # --- stages -----------------------------------------------------------
        stages = []
        for i in range(nstage):
            if i == 0:
                labels = strata_uniques[0]
            else:
                # stage-i strata are (stratum x earlier unit): label them readably
                first = _first_rows(strat[i], int(strat[i].max()) + 1)
                labels = (
                    np.asarray(data[id_cols[i - 1]].iloc[first].astype(str), dtype=object)
                    if id_cols
                    else (first + 1).astype(str).astype(object)
                )
            stages.append(
                _make_stage(
                    strat[i], clus[i], None if popsize is None else popsize[i], labels,
                    identity=(i == 0 and not id_cols and not (nest and self.has_strata)),
                )
            )
        self._stages = stages

    # ------------------------------------------------------------------ basics
    def _numeric(self, col: str, what: str = "variable") -> np.ndarray:
        if col not in self.data.columns:
            raise KeyError(f"{what} column {col!r} not in data")
        s = self.data[col]
        try:
            return s.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{what} column {col!r} is not numeric (dtype {s.dtype}); use C({col}) in a"
                " formula or recode it"
            ) from exc

    def _num(self, col: str) -> np.ndarray:
        """The column as float64 values (NaN missing).  A float64 column is a
        view of the data and stays cached; a compact one (0/1 or codes held
        as float32, int8, nullable integers) is converted, and only the last
        ``NUM_CACHE`` such conversions are kept (shared by the design's
        domains), so memory does not grow by 8 bytes a row per column read."""
        key = ("num", col)
        cache = self._cache
        if key in cache:
            return cache[key]
        recent = cache.setdefault("num_recent", {})
        if col in recent:
            recent[col] = recent.pop(col)  # most recent last
            return recent[col]
        v = self._numeric(col)
        if self.data[col].dtype == np.float64:  # to_numpy gave a view
            cache[key] = v
        else:
            recent[col] = v
            while len(recent) > NUM_CACHE:
                recent.pop(next(iter(recent)))
        return v

    def _codes(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        """Integer codes (sorted levels, -1 for missing) of a column, cached."""
        key = ("codes", col)
        if key not in self._cache:
            if col not in self.data.columns:
                raise KeyError(f"column {col!r} not in data")
            self._cache[key] = _factorize(self.data[col])
        return self._cache[key]

    def _mask(self, mask) -> np.ndarray:
        if isinstance(mask, str):
            m = self._num(mask) == 1
        elif isinstance(mask, np.ndarray) and mask.dtype == bool:
            m = mask
        else:
            m = np.asarray(mask)
            if m.dtype == object or m.dtype.kind not in "biuf":
                m = pd.array(mask, dtype="boolean").to_numpy(dtype=bool, na_value=False)
            m = m.astype(float)
            m = np.where(np.isnan(m), 0.0, m).astype(bool)
        if m.shape != (self.n,):
            raise ValueError(f"subset mask has length {m.size}, design has {self.n} rows")
        return m

    @property
    def weights(self) -> np.ndarray:
        """Current sampling weights (0 outside a domain)."""
        return self._w.copy()

    @property
    def calibrated(self) -> bool:
        return bool(self._calibrations)

    def __len__(self) -> int:
        """Rows R's design object would have (``nrow(design)``)."""
        return int(self._present.sum())

    def __repr__(self) -> str:
        st = self._stages[0]
        return (
            f"<Design: {len(self)} rows, {len(self._stages)} stage(s), {st.n_strata} strata,"
            f" {st.n_units} PSUs, fpc={'yes' if st.popsize is not None else 'no'},"
            f" calibrated={self.calibrated}>"
        )

    def degf(self) -> int:
        """R ``degf``: PSUs minus strata among rows with non-zero weight."""
        if "degf" not in self._own:
            inset = self._w != 0
            st = self._stages[0]
            if st.identity:  # every row its own PSU
                k = int(np.count_nonzero(inset))
            else:
                k = int(np.count_nonzero(np.bincount(st.clusters, weights=inset, minlength=st.n_units)))
            h = int(np.count_nonzero(np.bincount(st.strata, weights=inset, minlength=st.n_strata)))
            self._own["degf"] = k - h
        return self._own["degf"]

    def _mean_weight(self) -> float:
        """Mean weight over the rows of R's design object (svyglm's rescaling)."""
        return float((self._w * self._present).sum() / np.count_nonzero(self._present))

    def _plan(self) -> VariancePlan:
        if "plan" not in self._own:
            plan = None
            parent = self._own.get("parent")
            if parent is not None:  # a domain: the parent's plan usually holds
                try:
                    plan = parent._plan().restrict(self._present)
                except LonelyPSUError:  # the parent has a lonely PSU this domain may not have
                    plan = None
            if plan is None:
                plan = VariancePlan(self._stages, self._present, self.lonely_psu)
            self._own["plan"] = plan
            self._own.pop("parent", None)
        return self._own["plan"]

    def subset(self, mask) -> "Design":
        """Domain design (R ``subset.survey.design``): all PSUs stay for variance.

        ``mask`` is a boolean array/Series over all rows of ``data`` (NA counts
        as False, like R) or the name of a 0/1 column.  Out-of-domain rows get
        weight 0; for an uncalibrated design they also leave the design object,
        as R drops them, while the per-stratum PSU counts stay those of the full
        design (R pads with zero PSU totals).
        """
        m = self._mask(mask)
        new = self._copy()
        new._w = np.where(m, self._w, 0.0)
        if not self._calibrations:
            new._present = self._present & m
        new._own["parent"] = self
        return new

    def _complete(self, cols: Sequence[str]) -> "Design":
        """R's ``na.rm=TRUE``: drop rows with a missing value in ``cols`` by subsetting."""
        bad = np.zeros(self.n, dtype=bool)
        for c in cols:
            bad |= np.isnan(self._num(c))
        bad &= self._present
        if not bad.any():
            return self
        return self.subset(~bad)

    def _var(self, x, diag_only: bool = False, rows: np.ndarray | None = None, freq: np.ndarray | None = None):
        """svyrecvar of influence values x (all rows, or the rows ``rows``;
        with ``freq``, row ``rows[i]`` stands for ``freq[i]`` identical rows,
        see :mod:`._compress`)."""
        return recvar(
            x, self._stages, self._present, self.lonely_psu, self._calibrations, diag_only,
            plan=self._plan(), rows=rows, freq=freq,
        )

    def _copy(self) -> "Design":
        new = copy.copy(self)
        new._own = {}
        return new

    # -------------------------------------------------------------- estimators
    def _analysis(self, cols: Sequence[str]):
        """NA-free design, rows with positive weight, their weights and values."""
        d = self._complete(cols)
        idx = np.flatnonzero(d._w > 0)
        return d, idx, d._w[idx], [d._num(c)[idx] for c in cols]

    def mean(self, y: str, factor: bool = False, deff: bool | str = False):
        """R ``svymean(~y, design, na.rm=TRUE)``: ratio sum(w y)/sum(w);
        influence ``(y - mean) w / sum(w)``.

        ``factor=True`` gives every level's share with their covariance (R
        ``svymean(~factor(y))``, and R's default for a character column), an
        :class:`Estimates`; ``deff=True`` / ``"replace"`` adds R's design effect
        (see :mod:`._describe`)."""
        if deff or factor:
            from ._describe import mean_or_total

            return mean_or_total(self, y, "mean", factor, deff)
        from ._describe import values_mean

        d, idx, w, (yv,) = self._analysis([y])
        # R: colSums over an empty design is 0 (an all-missing domain gives 0,
        # SE 0); a 0/1 y on a stratified element sample takes the grouped rows
        avg, v = values_mean(d, idx, yv)
        return Estimate(avg, v, "mean", y)

    def total(self, y: str, factor: bool = False, deff: bool | str = False):
        """R ``svytotal(~y, design, na.rm=TRUE)``: sum(w y); influence ``w y``.
        ``factor`` and ``deff`` as for :meth:`mean`."""
        if deff or factor:
            from ._describe import mean_or_total

            return mean_or_total(self, y, "total", factor, deff)
        d, idx, w, (yv,) = self._analysis([y])
        x = (yv * w)[:, None]
        return Estimate(float(x.sum()), float(d._var(x, rows=idx)[0, 0]), "total", y)

    def ratio(self, numerator: str, denominator: str) -> Estimate:
        """R ``svyratio(~y, ~x, design, na.rm=TRUE)``: T_y / T_x with influence
        ``w (y - R x) / T_x``."""
        d, idx, w, (yv, xv) = self._analysis([numerator, denominator])
        ty, tx = np.dot(w, yv), np.dot(w, xv)
        r = ty / tx
        infl = ((yv - r * xv) / tx * w)[:, None]
        return Estimate(float(r), float(d._var(infl, rows=idx)[0, 0]), "ratio", f"{numerator}/{denominator}")

    # ------------------------------------------------------------------ ciprop
    def ciprop(self, y: str, method: str = "logit", level: float = 0.95, df: float | None = None) -> CIProp:
        """R ``svyciprop(~y, design, method, level, df=degf(design))``.

        ``df=None`` is R's default ``degf(design)``; pass ``df=np.inf`` for
        normal quantiles.  Rows with missing ``y`` are dropped by subsetting
        (R with ``na.rm=TRUE``).  ``se`` is the SE of the proportion (R's
        ``SE(svyciprop(...))``), whatever the interval method.
        """
        from ._ciprop import ciprop as _ciprop

        return _ciprop(self, y, method=method, level=level, df=df)

    # ---------------------------------------------------------------------- by
    def by(self, by: str, statistic: str = "mean", y: str | None = None, denominator: str | None = None,
           covmat: bool = False, deff: bool | str = False, **kw):
        """R ``svyby(~y, ~by, design, svymean|svytotal|svyratio|svyciprop, na.rm=TRUE)``.

        One row per level of ``by`` (sorted, among rows with non-zero weight),
        columns ``by``, ``estimate``, ``se`` (and ``ci_l``, ``ci_u`` for
        ``ciprop``).  Each domain keeps all PSUs.  ``deff=True`` adds
        ``deff``/``deft`` columns (mean, total); ``covmat=True`` (mean, total,
        ratio) returns an :class:`Estimates` with the covariance of the domain
        estimates instead (R ``covmat=TRUE``; see :mod:`._describe`).
        """
        if covmat or deff:
            from ._describe import by_stats

            return by_stats(self, by, statistic, y, denominator, covmat=covmat, deff=deff)
        if y is None:
            raise ValueError("by() needs the analysis variable y")
        codes, levels = self._codes(by)
        live = (self._w != 0) & (codes >= 0)
        used = np.flatnonzero(np.bincount(codes[live], minlength=len(levels)))
        rows = []
        fast = statistic in ("mean", "total") and not (
            self.lonely_psu == "average" and any((st.npsu == 1).any() for st in self._stages)
        )
        if fast:
            d = self._complete([y])
            lookup = np.full(len(levels) + 1, -1, dtype=np.int64)
            lookup[used] = np.arange(len(used))
            g = lookup[codes]  # codes == -1 (missing) -> lookup[-1] == -1
            inl = g >= 0
            w = np.where(inl, d._w, 0.0)
            g = np.where(inl, g, 0)
            yv = np.where(w > 0, d._num(y), 0.0)
            L = len(used)
            if statistic == "mean":
                psum = np.bincount(g, weights=w, minlength=L)
                nrow = np.bincount(g, weights=(d._present & inl), minlength=L)
                with np.errstate(divide="ignore", invalid="ignore"):
                    est = np.bincount(g, weights=w * yv, minlength=L) / psum
                est[nrow == 0] = 0.0  # R: an all-missing domain gives 0, SE 0
                with np.errstate(divide="ignore", invalid="ignore"):
                    vals = np.where(w > 0, (yv - est[g]) * w / psum[g], 0.0)
            else:
                est = np.bincount(g, weights=w * yv, minlength=L)
                vals = yv * w
            idx = np.flatnonzero(w > 0)
            v = d._var(OneHot(vals[idx], g[idx], L), diag_only=True, rows=idx)
            v[np.isnan(est)] = np.nan  # R: 0/0 weights in an empty calibrated domain
            return pd.DataFrame({by: levels[used], "estimate": est, "se": np.sqrt(v)})
        for lv in used:
            rows.append(domain_row(self.subset(codes == lv), statistic, {by: levels[lv]}, y, denominator, **kw))
        return pd.DataFrame(rows)

    # ------------------------------------------- descriptive statistics (issue 15)
    def var(self, y: str) -> Estimate:
        """R ``svyvar(~y, design, na.rm=TRUE)``: the population variance with
        its SE (see :mod:`._describe`)."""
        from ._describe import svyvar

        return svyvar(self, y)

    def quantile(self, y: str, quantiles=(0.5,), alpha: float = 0.05, interval_type: str = "mean",
                 qrule: str = "math", ci: bool = True, df: float | None = None) -> pd.DataFrame:
        """R ``svyquantile(~y, design, quantiles, alpha, interval.type, qrule,
        ci, df, na.rm=TRUE)`` (survey 4.x): see :mod:`._quantile`."""
        from ._quantile import svyquantile

        return svyquantile(self, y, quantiles, alpha=alpha, interval_type=interval_type, qrule=qrule, ci=ci, df=df)

    def ttest(self, y: str, group: str | None = None, level: float = 0.95):
        """R ``svyttest(y ~ 1, design)`` or ``svyttest(y ~ group, design)``
        (see :mod:`._describe`)."""
        from ._describe import svyttest

        return svyttest(self, y, group, level=level)

    def table(self, *cols: str, Ntotal=None, round: bool = False):
        """R ``svytable(~a + b, design, Ntotal, round)``: weighted counts
        (see :mod:`._table`)."""
        from ._table import svytable

        return svytable(self, cols, Ntotal=Ntotal, round_=round)

    def crosstab(self, row: str, col: str, Ntotal=None, round: bool = False) -> pd.DataFrame:
        """Weighted two-way table (``svytable(~row + col)``) as a DataFrame."""
        return self.table(row, col, Ntotal=Ntotal, round=round)

    # --------------------------------------------------------------------- glm
    def glm(self, formula: str, family: str = "gaussian") -> GLMResult:
        """R ``svyglm(formula, design, family)`` with ``summary.svyglm`` p-values.

        IRLS with weights ``w/mean(w)`` (R's ``rescale=TRUE``), sandwich
        variance ``svyrecvar(estfun %*% (X'WX)^-1)`` with ``estfun = X * working
        residual * working weight``, t p-values on ``df_resid = degf + 1 - ncoef``.
        Rows with a missing model variable are dropped by subsetting the
        design (R's ``na.omit`` followed by ``design[-nas, ]``).  Levels of
        ``C(col)`` are those of the fitted rows; the first sorted level is the
        reference.  Formulas take R's ``*``, ``:`` and ``-`` with R's column
        names and order (see the package docstring); ``family``: gaussian,
        quasibinomial or quasipoisson (R ``quasipoisson()``: log link).
        """
        if family not in FAMILIES:
            raise ValueError(
                f"family must be 'gaussian', 'quasibinomial' or 'quasipoisson', got {family!r}")
        fam = FAMILIES[family]
        f = parse_formula(formula)
        missing = [c for c in f.columns if c not in self.data.columns]
        if missing:
            raise KeyError(f"formula column(s) not in data: {missing}")
        resolve(f, lambda c: pd.api.types.is_numeric_dtype(self.data[c]))
        scale = self._mean_weight()
        num_cols = [f.response] + [t.column for t in f.terms if t.kind == "num"]
        d = self._complete(num_cols)
        for t in f.terms:
            if t.kind == "cat":
                isna = (self._codes(t.column)[0] < 0) & d._present
                if isna.any():
                    d = d.subset(~isna)
        good = d._w > 0
        idx = np.flatnonzero(good)
        rows, freq = idx, None
        codes = self._glm_codes(d, f, idx)
        groups = self._glm_groups(d, idx, codes)  # identical rows counted once (exact; see _compress)
        if groups is not None:
            rows, freq = groups.rep, groups.freq
        fit = V = None
        if groups is None and codes is not None:  # same values, varying weights: fit the patterns
            pat = _compress.patterns(idx, codes)
            if pat is not None:
                rep, code = pat
                X, names, assign = model_matrix(f, rep, d._num, d._codes)
                pw = d._w[idx] / scale
                out = glm_fit_patterns(X, d._num(f.response)[idx], pw, code, fam)
                if out is not None:
                    fit, sw = out
                    # a row's estfun %*% Ainv is its prior weight times its pattern's
                    H = (X * (fit.working_resid * fit.working_weights / sw)[:, None]) @ fit.cov_unscaled
                    if _compress.element_design(d):
                        V = d._plan().pattern_variance(H, code, pw, idx)
                    else:  # clusters or calibration: the influence matrix, built once
                        V = d._var(H[code] * pw[:, None], rows=idx)
        if fit is None:
            X, names, assign = model_matrix(f, rows, d._num, d._codes)
            y = d._num(f.response)[rows]
            pw = d._w[rows] / scale
            fit = glm_fit(X, y, pw, fam, freq=freq)
            # estfun %*% Ainv (R svy.varcoef), on the fitted rows only
            infl = (X * (fit.working_resid * fit.working_weights)[:, None]) @ fit.cov_unscaled
            V = d._var(infl, rows=rows, freq=freq)
        p = len(names)
        se = np.sqrt(np.diag(V))
        df_resid = d.degf() + 1 - p
        tv = fit.coef / se
        pv = 2 * _dist.t_sf(np.abs(tv), df_resid) if df_resid > 0 else np.full(p, np.nan)
        idx = pd.Index(names)
        res = GLMResult(
            params=pd.Series(fit.coef, index=idx),
            se=pd.Series(se, index=idx),
            tvalues=pd.Series(tv, index=idx),
            pvalues=pd.Series(pv, index=idx),
            df_resid=df_resid,
            cov=pd.DataFrame(V, index=idx, columns=idx),
            naive_cov=pd.DataFrame(fit.cov_unscaled, index=idx, columns=idx),
            family=family,
            formula=formula,
            deviance=fit.deviance,
            iterations=fit.iterations,
            converged=fit.converged,
        )
        res.term_labels, res.assign = list(f.term_labels), list(assign)
        return res

    @staticmethod
    def _glm_codes(d: "Design", f, idx: np.ndarray):
        """Value codes of the fitted rows' response and model variables (for
        :mod:`._compress`), or None when a numeric one has too many values."""
        if not len(idx):
            return None
        limit = max(2, int(len(idx) * _compress.MAX_GROUPS_PER_ROW))
        codes = []
        for t in [None] + list(f.terms):
            if t is None or t.kind == "num":
                vc = _compress.value_codes(d._num(f.response if t is None else t.column)[idx], limit)
                if vc is None:
                    return None
                codes.append(vc)
            else:
                c, levels = d._codes(t.column)
                codes.append((c[idx], max(1, len(levels))))
        return codes

    @staticmethod
    def _glm_groups(d: "Design", idx: np.ndarray, codes):
        """Groups of identical fitted rows (same cell, response and terms), or None."""
        if codes is None or _compress.cells(d) is None:
            return None
        return _compress.group(d, idx, codes)

    # ------------------------------------------------------------------- chisq
    def chisq(self, a: str, b: str, statistic: str = "F"):
        """R ``svychisq(~a + b, design, statistic)``: ``F`` (Rao-Scott second
        order, the default), ``Chisq`` (first order; ``statistic`` is Pearson's
        X^2 and ``ndf`` the df of the scaled chi-square), ``Wald``, ``adjWald``.
        Rows with a missing ``a`` or ``b`` are dropped by subsetting."""
        from ._chisq import chisq as _chisq

        return _chisq(self, a, b, statistic)

    # ------------------------------- calibrate(), replicate weights (R calibrate, as.svrepdesign)
    def calibrate(self, formula: str, population, calfun: str = "linear", bounds=(-np.inf, np.inf),
                  maxit: int = 50, epsilon: float = 1e-7, force: bool = False) -> "Design":
        """R ``calibrate(design, formula, population, calfun, bounds, maxit, epsilon, force)``.

        ``formula`` is one-sided (``"~ stype + sch.wide"``, interactions
        allowed; non-numeric columns are factors), ``population`` the
        totals of its model-matrix columns as R names them (a dict or Series
        such as ``{"(Intercept)": 6194, "stypeH": 755, "stypeM": 1018}``, or a
        sequence in column order).  ``calfun``: ``"linear"`` (GREG),
        ``"raking"``, ``"logit"`` (finite ``bounds`` on g needed).  The result's
        variances use the residuals of the influence values on the
        calibration variables (R ``svyrecvar`` with a ``greg_calibration``);
        see :mod:`._calibrate`."""
        from ._calibrate import calibrate

        return calibrate(self, formula, population, calfun=calfun, bounds=bounds, maxit=maxit,
                         epsilon=epsilon, force=force)

    def as_replicate(self, type: str = "auto", **kw):
        """R ``as.svrepdesign(design, type, ...)``: a :class:`ReplicateDesign`
        (see :func:`barometer.survey.as_replicate`)."""
        from ._replicate import as_replicate

        return as_replicate(self, type, **kw)

    # ------------------------------------------------------------- calibration
    def _cell_codes(self, cols: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
        """Codes of the cross-classification of ``cols`` and its key table."""
        for c in cols:
            if c not in self.data.columns:
                raise KeyError(f"calibration column {c!r} not in data")
            if self.data[c][self._present].isna().any():
                raise ValueError(f"missing values in calibration variable {c!r}")
        keys = self.data[list(cols)]
        codes = [np.where(self._present, _factorize(keys[c])[0], 0) for c in cols]
        cc = _interact(*codes)  # dense 0..k-1 codes
        first = _first_rows(cc, int(cc.max()) + 1)
        return cc, keys.iloc[first].reset_index(drop=True)

    def poststratify(self, strata: str | Sequence[str], population: pd.DataFrame, partial: bool = False) -> "Design":
        """R ``postStratify(design, ~strata, population)``.

        ``population`` is a DataFrame with the post-stratum column(s) and one
        more column of population counts (R's ``Freq``).  Weights are scaled so
        that each post-stratum's weighted total equals its population count;
        the variance then uses residuals from post-stratum means (R's
        ``svyrecvar`` postStrata step).  Subsets of the result keep every row
        with weight 0 (R: calibrated designs are never physically subset).
        """
        cols = _as_list(strata)
        if not isinstance(population, pd.DataFrame):
            raise TypeError("population must be a DataFrame of strata columns and a count column")
        if not all(c in population.columns for c in cols):
            raise ValueError("Stratifying variables don't match")
        other = [c for c in population.columns if c not in cols]
        if len(other) != 1:
            raise ValueError("stratifying variables don't match: population needs exactly one count column")
        codes, keys = self._cell_codes(cols)
        sample = np.bincount(codes, weights=np.where(self._present, self._w, 0.0), minlength=len(keys))
        pop = population.rename(columns={other[0]: "__pop"}).copy()
        kk = keys.copy()
        for c in cols:  # match on the data's representation of the key
            if pd.api.types.is_numeric_dtype(kk[c]) and not pd.api.types.is_numeric_dtype(pop[c]):
                pop[c] = pd.to_numeric(pop[c])
            elif not pd.api.types.is_numeric_dtype(kk[c]) and pd.api.types.is_numeric_dtype(pop[c]):
                pop[c] = pop[c].astype(str)
                kk[c] = kk[c].astype(str)
            elif not pd.api.types.is_numeric_dtype(kk[c]):
                pop[c] = pop[c].astype(str)
                kk[c] = kk[c].astype(str)
        kk["__code"] = np.arange(len(kk))
        kk["__freq"] = sample
        both = kk.merge(pop, on=cols, how="outer")
        samplezero = both["__freq"].isna() | (both["__freq"] == 0)
        popzero = both["__pop"].isna() | (both["__pop"] == 0)
        both = both[~(samplezero & popzero)]
        samplezero = samplezero[both.index]
        popzero = popzero[both.index]
        if (popzero & ~samplezero).any():
            raise ValueError(
                "Strata in sample absent from population: "
                f"{both.loc[popzero & ~samplezero, cols].to_dict('records')}"
            )
        onlypop = samplezero & ~popzero
        if onlypop.any():
            if not partial:
                raise ValueError(
                    "Some strata absent from sample: use partial=True to ignore them: "
                    f"{both.loc[onlypop, cols].to_dict('records')}"
                )
            warnings.warn("Some strata absent from sample: ignored", stacklevel=2)
            both = both[~onlypop]
        reweight = np.full(len(keys), np.nan)
        have = both["__code"].notna()
        reweight[both.loc[have, "__code"].astype(int).to_numpy()] = (
            both.loc[have, "__pop"].to_numpy(float) / both.loc[have, "__freq"].to_numpy(float)
        )
        rw = reweight[codes]
        oldw = self._w.copy()
        neww = np.where(self._present, oldw * rw, 0.0)
        neww = np.where(np.isnan(neww) & (oldw == 0), 0.0, neww)
        new = self._copy()
        new._w = neww
        new._calibrations = self._calibrations + [
            {"kind": "post", "codes": codes, "weights": neww.copy(), "oldweights": np.where(self._present, oldw, 0.0)}
        ]
        return new

    def rake(self, margins: Sequence, maxit: int = 10, epsilon: float = 1.0) -> "Design":
        """R ``rake(design, sample.margins, population.margins, control=list(maxit, epsilon))``.

        ``margins`` is a list of population tables, each a DataFrame of the
        margin column(s) plus one count column (or ``(columns, table)``
        pairs).  Iterative post-stratification until the full weighted cross
        table moves by less than ``epsilon`` (``epsilon < 1`` is relative to
        the weight sum, as in R).  Variance: R's raking residuals (ten sweeps
        of within-margin centring).
        """
        specs = []
        for m in margins:
            if isinstance(m, tuple):
                cols, table = _as_list(m[0]), m[1]
            else:
                table = m
                cols = list(table.columns[:-1])
            specs.append((cols, table))
        eps = epsilon * self._w[self._present].sum() if epsilon < 1 else epsilon
        allcols = [c for cols, _ in specs for c in cols]
        full, _ = self._cell_codes(list(dict.fromkeys(allcols)))

        def table(d):
            return np.bincount(full, weights=np.where(d._present, d._w, 0.0), minlength=int(full.max()) + 1)

        old_cal = self._calibrations
        design = self
        oldtable = table(design)
        converged = False
        it = 0
        while it < maxit:
            design = design._copy()
            design._calibrations = []
            for cols, tab in specs:
                design = design.poststratify(cols, tab)
            newtable = table(design)
            delta = np.max(np.abs(oldtable - newtable))
            if delta < eps:
                converged = True
                break
            oldtable = newtable
            it += 1
        rec = {"kind": "rake", "margins": [(c["codes"], c["weights"]) for c in design._calibrations]}
        design = design._copy()
        design._calibrations = old_cal + [rec]
        if not converged:
            warnings.warn(f"Raking did not converge after {it} iterations.", stacklevel=2)
        return design
