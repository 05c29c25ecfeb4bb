"""The result types of the estimators (R: ``svystat``, ``svyciprop``, ``svyglm``)
and the t/normal quantile they share: a leaf module, so that the estimators'
modules and :mod:`barometer.survey.design` import them without a cycle."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _dist


def tquantile(p, df):
    """qt with R's convention that df = Inf gives the normal quantile."""
    if df is None or np.isinf(df):
        return _dist.norm_ppf(p)
    if df <= 0:
        return np.nan * np.asarray(p, dtype=float)
    return _dist.t_ppf(p, df)


@dataclass
class Estimate:
    """A design-based estimate: ``estimate``, ``var``, ``se`` and ``confint``."""

    estimate: float
    var: float
    statistic: str = ""
    name: str = ""
    df: float | None = None  # degf of the design, where the estimator records it
    deff: float | None = None  # R deff=TRUE (see Design.mean)

    @property
    def se(self) -> float:
        return float(np.sqrt(self.var))

    @property
    def cv(self) -> float:
        """R ``cv()``: SE / estimate."""
        from ._contrast import cv

        return cv(self)

    @property
    def deft(self) -> float | None:
        """sqrt(deff) (Kish's deft), when a design effect was asked for."""
        return None if self.deff is None else float(np.sqrt(self.deff))

    def confint(self, level: float = 0.95, df: float | None = None) -> tuple[float, float]:
        """Wald interval; ``df=None`` -> normal (R ``confint``), else Student t with ``df``."""
        a = (1 - level) / 2
        fac = tquantile(np.array([a, 1 - a]), df)
        lo, hi = self.estimate + self.se * fac
        return float(lo), float(hi)

    def __float__(self) -> float:
        return float(self.estimate)

    def __repr__(self) -> str:
        return f"<{self.statistic} {self.name}: {self.estimate:.6g} (SE {self.se:.6g})>"


@dataclass
class CIProp:
    """R ``svyciprop``: ``estimate``, ``se`` (of the proportion) and ``ci``."""

    estimate: float
    var: float
    ci: tuple[float, float]
    method: str
    level: float
    df: float

    @property
    def se(self) -> float:
        return float(np.sqrt(self.var))

    @property
    def cv(self) -> float:
        """R ``cv(svyciprop)``: SE of the proportion / the proportion."""
        return float(self.se / self.estimate) if self.estimate != 0 else float("nan")

    def __repr__(self) -> str:
        return f"<svyciprop {self.method}: {self.estimate:.6g} [{self.ci[0]:.6g}, {self.ci[1]:.6g}]>"


@dataclass
class GLMResult:
    """R ``svyglm`` + ``summary.svyglm``."""

    params: pd.Series
    se: pd.Series
    tvalues: pd.Series
    pvalues: pd.Series
    df_resid: float
    cov: pd.DataFrame
    naive_cov: pd.DataFrame
    family: str
    formula: str
    deviance: float
    iterations: int
    converged: bool
    # the model's terms, for regterm_test (R keeps them in the fit's ``terms``; the data are not kept alive)
    term_labels: list = field(default_factory=list, repr=False)
    assign: list = field(default_factory=list, repr=False)

    def confint(self, level: float = 0.95, df: float | None = None) -> pd.DataFrame:
        """Wald interval as R ``confint.svyglm`` (default ddf = ``df_resid``)."""
        ddf = self.df_resid if df is None else df
        if ddf <= 0:
            return pd.DataFrame({"lower": np.nan, "upper": np.nan}, index=self.params.index)
        tlevel = 1 - 2 * _dist.norm_cdf(tquantile((1 - level) / 2, ddf))
        a = (1 - tlevel) / 2
        z = _dist.norm_ppf([a, 1 - a])
        return pd.DataFrame(
            {"lower": self.params + z[0] * self.se, "upper": self.params + z[1] * self.se}
        )

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"estimate": self.params, "se": self.se, "t": self.tvalues, "p": self.pvalues}
        )


def domain_row(dom, statistic: str, label: dict, y: str, denominator=None, **kw) -> dict:
    """One row of ``by`` (R ``svyby``) computed on one domain: ``mean``, ``total``,
    ``ratio`` or ``ciprop``.  Shared by linearisation and replicate designs."""
    if statistic in ("mean", "total"):
        e = getattr(dom, statistic)(y)
        return {**label, "estimate": e.estimate, "se": e.se}
    if statistic == "ratio":
        if denominator is None:
            raise ValueError("statistic='ratio' needs denominator=")
        e = dom.ratio(y, denominator)
        return {**label, "estimate": e.estimate, "se": e.se}
    if statistic == "ciprop":
        r = dom.ciprop(y, **kw)
        return {**label, "estimate": r.estimate, "se": r.se, "ci_l": r.ci[0], "ci_u": r.ci[1]}
    raise ValueError(f"unknown statistic {statistic!r}: mean, total, ratio or ciprop")
