"""Vectors of estimates with their covariance, linear contrasts of them, and
differences between independent samples.

* :class:`Estimates` -- several estimates and their covariance matrix (R's
  ``svystat`` with a matrix ``var``): factor means/totals, ``svyby(...,
  covmat=TRUE)``.
* :func:`contrast` -- R ``svycontrast(stat, contrasts)`` for linear
  contrasts: ``L theta`` with covariance ``L V L'``.  A coefficient R would
  report as NA is dropped when every contrast gives it weight 0, and makes
  the contrasts that use it NA (R's ``contrast()``).
* :func:`difference` -- the difference of two estimates from *independent*
  samples (two countries, two editions): the variances add,
  ``se = sqrt(v_a + v_b)``; the test statistic is ``t = (a - b) / se`` with
  degrees of freedom ``df``: ``"welch"`` (default) Welch-Satterthwaite
  ``(v_a + v_b)^2 / (v_a^2/df_a + v_b^2/df_b)`` with ``df_a``, ``df_b`` the
  designs' ``degf()``; ``"min"`` ``min(df_a, df_b)`` (conservative); ``inf``
  (normal); or a number.  Two-sided p ``2 pt(-|t|, df)`` and a Wald interval
  ``d +- qt(1 - alpha/2, df) se``.  R's survey has no function for this (it
  tests within one design: ``svyttest``, ``svycontrast`` on ``svyby``).
  Two estimates without sampling error (both variances 0: two censuses, or
  two domains every unit of which was taken) differ exactly: ``t = +-inf``,
  ``p = 0`` when they differ, and ``t = 0``, ``p = 1`` when they are equal;
  the interval is the single point ``d``; Welch's df is then ``min(df_a,
  df_b)``.
* :func:`cv` -- R ``cv()``: SE / estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from . import _dist


def _tq(p, df):
    from ._results import tquantile

    return tquantile(p, df)


@dataclass
class Estimates:
    """Several design-based estimates with their covariance matrix.

    ``estimate`` (Series), ``cov`` (DataFrame), ``se``/``var`` (Series),
    ``confint(level, df)``, ``cv``, ``deff``/``deft`` (when asked for),
    ``df`` (the design's degf).  ``est[level]`` is one :class:`Estimate`.
    """

    estimate: pd.Series
    cov: pd.DataFrame
    statistic: str = ""
    df: float | None = None
    deff: pd.Series | None = None

    @property
    def var(self) -> pd.Series:
        return pd.Series(np.diag(self.cov.to_numpy()), index=self.estimate.index)

    @property
    def se(self) -> pd.Series:
        return np.sqrt(self.var)

    @property
    def cv(self) -> pd.Series:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.se / self.estimate

    @property
    def deft(self) -> pd.Series | None:
        return None if self.deff is None else np.sqrt(self.deff)

    def confint(self, level: float = 0.95, df: float | None = None) -> pd.DataFrame:
        """Wald intervals (``df=None``: normal, as R ``confint``)."""
        a = (1 - level) / 2
        fac = _tq(np.array([a, 1 - a]), df)
        return pd.DataFrame({"lower": self.estimate + fac[0] * self.se, "upper": self.estimate + fac[1] * self.se})

    def __len__(self) -> int:
        return len(self.estimate)

    def __getitem__(self, key):
        from ._results import Estimate

        i = self.estimate.index.get_loc(key)
        return Estimate(float(self.estimate.iloc[i]), float(self.cov.iloc[i, i]), self.statistic, str(key), self.df,
                        None if self.deff is None else float(self.deff.iloc[i]))

    def to_frame(self) -> pd.DataFrame:
        """One row per estimate: ``estimate``, ``se`` (and ``deff``, ``deft``)."""
        out = pd.DataFrame({"estimate": self.estimate, "se": self.se})
        if self.deff is not None:
            out["deff"] = self.deff
            out["deft"] = self.deft
        return out

    def __repr__(self) -> str:
        return f"<{self.statistic} of {len(self)}:\n{self.to_frame()}>"


@dataclass
class TestResult:
    """A t test (R ``htest``): ``estimate``, ``se``, ``statistic`` (t), ``df``,
    ``p`` (two-sided), ``ci`` and ``method``."""

    __test__ = False  # not a pytest test class

    estimate: float
    se: float
    statistic: float
    df: float
    p: float
    ci: tuple[float, float]
    level: float
    method: str

    @property
    def var(self) -> float:
        return self.se**2

    def significant(self, alpha: float = 0.05) -> bool:
        return bool(self.p < alpha)

    def __repr__(self) -> str:
        return (f"<{self.method}: {self.estimate:.6g} (SE {self.se:.6g}), t={self.statistic:.4g},"
                f" df={self.df:.4g}, p={self.p:.4g}>")


def _as_stat(stat) -> tuple[np.ndarray, np.ndarray, list]:
    from ._results import Estimate

    if isinstance(stat, Estimates):
        return stat.estimate.to_numpy(float), stat.cov.to_numpy(float), list(stat.estimate.index)
    if isinstance(stat, Estimate):
        return np.array([stat.estimate]), np.array([[stat.var]]), [stat.name or "1"]
    if isinstance(stat, pd.DataFrame):
        raise TypeError("contrast() needs the covariance of the estimates: use by(..., covmat=True)")
    raise TypeError(f"contrast() takes Estimates or an Estimate, not {type(stat).__name__}")


def _weights_row(w, names: list, what: str) -> np.ndarray:
    if isinstance(w, Mapping):  # R match.names: missing names get weight 0
        keys = {str(k): v for k, v in w.items()}
        unknown = [k for k in keys if k not in [str(n) for n in names]]
        if unknown:
            raise ValueError(f"contrast {what}: unknown estimate name(s) {unknown}; estimates are {names}")
        return np.array([float(keys.get(str(n), 0.0)) for n in names])
    row = np.asarray(w, dtype=float).ravel()
    if row.shape != (len(names),):
        raise ValueError(f"contrast {what} has {row.size} weights for {len(names)} estimates")
    return row


def contrast(stat, weights, statistic: str = "contrast"):
    """R ``svycontrast(stat, contrasts)`` (linear contrasts).

    ``weights``: a sequence (one weight per estimate) or a mapping from
    estimate names to weights (absent names weigh 0) gives one contrast, an
    :class:`Estimate`; a mapping from contrast names to such, or a 2-d array
    (one contrast per row), gives :class:`Estimates` with their covariance.
    """
    from ._results import Estimate

    coef, var, names = _as_stat(stat)
    single = True
    if isinstance(weights, Mapping) and weights and all(
            isinstance(v, (Mapping, list, tuple, np.ndarray, pd.Series)) for v in weights.values()):
        labels = list(weights)
        L = np.vstack([_weights_row(weights[k], names, repr(k)) for k in labels])
        single = False
    else:
        arr = None if isinstance(weights, Mapping) else np.asarray(weights, dtype=float)
        if arr is not None and arr.ndim == 2:
            L = arr
            if L.shape[1] != len(names):
                raise ValueError(f"contrast matrix has {L.shape[1]} columns for {len(names)} estimates")
            labels = [f"contrast{i + 1}" for i in range(L.shape[0])]
            single = False
        else:
            L = _weights_row(weights, names, "")[None, :]
            labels = [statistic]
    # R contrast(): drop NA coefficients nobody uses; NA where one is used
    nas = np.isnan(var[:, 0])
    drop = nas & np.all(L == 0, axis=0)
    if drop.any():
        keep = ~drop
        L, coef, var = L[:, keep], coef[keep], var[np.ix_(keep, keep)]
    bad_in = np.isnan(coef)
    if bad_in.any():
        bad = (L[:, bad_in] != 0).any(axis=1)
        est = np.full(L.shape[0], np.nan)
        V = np.full((L.shape[0], L.shape[0]), np.nan)
        good = ~bad
        Lg = L[np.ix_(good, ~bad_in)]
        est[good] = Lg @ coef[~bad_in]
        V[np.ix_(good, good)] = Lg @ var[np.ix_(~bad_in, ~bad_in)] @ Lg.T
    else:
        est = L @ coef
        V = L @ var @ L.T
    df = getattr(stat, "df", None)
    if single:
        return Estimate(float(est[0]), float(V[0, 0]), "contrast", labels[0], df)
    idx = pd.Index(labels)
    return Estimates(pd.Series(est, index=idx), pd.DataFrame(V, index=idx, columns=idx), "contrast", df)


def cv(x):
    """R ``cv()``: SE / estimate of an Estimate, CIProp, Estimates or a
    ``by()`` table (columns ``estimate`` and ``se``)."""
    if isinstance(x, pd.DataFrame):
        with np.errstate(divide="ignore", invalid="ignore"):
            return x["se"] / x["estimate"]
    if isinstance(x, Estimates):
        return x.cv
    est, se = float(x.estimate), float(np.sqrt(x.var))
    return se / est if est != 0 else (float("nan") if se == 0 else float(np.copysign(np.inf, se)))


DF_RULES = ("welch", "min")


def _df_of(x, given, which: str) -> float | None:
    if given is not None:
        return float(given)
    df = getattr(x, "df", None)
    return None if df is None else float(df)


def difference(a, b, df="welch", df_a: float | None = None, df_b: float | None = None,
               level: float = 0.95) -> TestResult:
    """``a - b`` for estimates from independent samples: see the module docstring.

    ``a`` and ``b`` are Estimate or CIProp results (a proportion's SE is that
    of ``svymean``).  ``df_a``/``df_b`` default to the estimates' ``df`` (the
    design's ``degf()``, recorded by ``ciprop`` and by :func:`compare`)."""
    va, vb = float(a.var), float(b.var)
    d = float(a.estimate) - float(b.estimate)
    v = va + vb
    se = float(np.sqrt(v))
    if isinstance(df, str):
        if df not in DF_RULES:
            raise ValueError(f"df must be 'welch', 'min', inf or a number, got {df!r}")
        da, db = _df_of(a, df_a, "a"), _df_of(b, df_b, "b")
        if da is None or db is None:
            raise ValueError(f"df={df!r} needs the designs' degrees of freedom: pass df_a= and df_b=")
        if df == "min":
            ddf = min(da, db)
        else:
            den = (va * va / da if va else 0.0) + (vb * vb / db if vb else 0.0)
            ddf = v * v / den if den > 0 else min(da, db)
    else:
        ddf = float(df)
    if se == 0:  # no sampling error on either side: the difference is exact (module docstring)
        t = 0.0 if d == 0 else float(np.copysign(np.inf, d))
        return TestResult(d, se, t, float(ddf), 1.0 if d == 0 else 0.0, (d, d), level,
                          "Difference of independent estimates")
    t = d / se
    if np.isinf(ddf):
        p = float(2 * _dist.norm_sf(abs(t)))
    else:
        p = float(2 * _dist.t_sf(abs(t), ddf)) if ddf > 0 else float("nan")
    q = _tq(1 - (1 - level) / 2, ddf)
    return TestResult(d, se, float(t), float(ddf), p, (float(d - q * se), float(d + q * se)), level,
                      "Difference of independent estimates")


def compare(design_a, design_b, y: str, statistic: str = "mean", df="welch", level: float = 0.95,
            denominator: str | None = None, **kw) -> TestResult:
    """:func:`difference` of ``statistic`` (``mean``, ``total``, ``ratio`` or
    ``ciprop``) of ``y`` between two independent designs, with their
    ``degf()`` as ``df_a``, ``df_b``."""
    def one(d):
        if statistic == "ciprop":
            return d.ciprop(y, **kw)
        if statistic == "ratio":
            if denominator is None:
                raise ValueError("statistic='ratio' needs denominator=")
            return d.ratio(y, denominator)
        if statistic in ("mean", "total"):
            return getattr(d, statistic)(y, factor=False)
        raise ValueError(f"unknown statistic {statistic!r}: mean, total, ratio or ciprop")

    return difference(one(design_a), one(design_b), df=df, df_a=design_a.degf(), df_b=design_b.degf(), level=level)
