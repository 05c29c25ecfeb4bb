"""From measures to the tidy estimates table the report publishes.

Every number the report shows is one row of ``estimates.csv``::

    figure_id, measure, country, population, category,
    estimate_pct, ci_low_pct, ci_high_pct, n_obs, p_value, suppressed,
    se_pct, deff, cv, unreliable

Percentages are design-based (:mod:`barometer.survey`): the share of a
population with 95 % confidence intervals from R's ``svyciprop`` logit
method, and p-values from design-based tests.  ``se_pct`` is the share's
standard error in percentage points, ``deff`` its design effect (R's
``svymean(deff=TRUE)``: the variance over that of simple random sampling of
the same size) and ``cv`` its coefficient of variation (SE / share); all three
are blank for a row without a share (a count) and for a suppressed row.
``unreliable`` is True where the CV is above the reliability limit
(:mod:`barometer.disclosure`).

Differences between independent samples (Denmark and Norway, two editions)
are tested with :func:`difference_p` (``barometer.survey.difference``:
variances add, Welch-Satterthwaite degrees of freedom from the two designs'
``degf()``; the same as ``barometer.survey.compare`` of the two domain
designs).  Disclosure control
(:mod:`barometer.disclosure`) is applied here, before anything is written: a
share whose base has fewer than ``min_base`` respondents, or whose answer (or
its complement) is given by 1-4 respondents, or whose CV is above
``cv_suppress``, is suppressed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import disclosure
from .dataset import Dataset
from .measures import measures_spec, population_mask

COLUMNS = ["figure_id", "measure", "country", "population", "category", "estimate_pct",
           "ci_low_pct", "ci_high_pct", "n_obs", "p_value", "suppressed", "se_pct", "deff", "cv", "unreliable"]
NUMBER_COLUMNS = ("estimate_pct", "ci_low_pct", "ci_high_pct", "p_value", "se_pct", "deff", "cv")
ALPHA = 0.05  # a difference is called significant when its two-sided p-value is below this
CI_METHOD = "logit"
LEVEL = 0.95
FLOAT_FORMAT = "%.6f"  # every CSV of estimates rows: estimates.csv, the figure files, the fan-out's merge


def to_csv_text(rows: pd.DataFrame) -> str:
    """Rows of the estimates table as CSV text, exactly as ``estimates.csv``
    writes them (the build, the figure files and the download use this)."""
    out = with_reliability(rows)[COLUMNS].copy()
    for c in NUMBER_COLUMNS:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    out["unreliable"] = disclosure.flags(out["unreliable"])
    out = disclosure.blank(out)  # a suppressed row: blank numbers (the base stays), suppressed=True
    out["n_obs"] = out["n_obs"].astype("int64")
    out["suppressed"] = out["suppressed"].astype(bool)
    out["category"] = out["category"].fillna("").astype(str)
    return out.to_csv(index=False, lineterminator="\n", float_format=FLOAT_FORMAT)


RELIABILITY_COLUMNS = ("se_pct", "deff", "cv", "unreliable")


def with_reliability(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with the reliability columns (blank, not unreliable) where a
    caller's rows lack them: rows made by hand, e.g. counts, have no SE."""
    missing = [c for c in RELIABILITY_COLUMNS if c not in rows.columns]
    if not missing:
        return rows
    out = rows.copy()
    for c in missing:
        out[c] = False if c == "unreliable" else np.nan
    return out


def _row(figure_id, measure, country, population, category="", est=np.nan, lo=np.nan, hi=np.nan,
         n=0, p=np.nan, suppressed=False, se=np.nan, deff=np.nan, cv=np.nan, unreliable=False) -> dict:
    return {"figure_id": figure_id, "measure": measure, "country": country, "population": population,
            "category": category, "estimate_pct": est, "ci_low_pct": lo, "ci_high_pct": hi,
            "n_obs": int(n), "p_value": p, "suppressed": bool(suppressed),
            "se_pct": se, "deff": deff, "cv": cv, "unreliable": bool(unreliable)}


def count_row(figure_id, measure, country, population, category, n: int, pct: float = np.nan) -> dict:
    """A row that counts respondents (``pct``: a plain percentage such as a
    response rate, no interval): no SE, design effect or CV."""
    return _row(figure_id, measure, country, population, category, est=pct, n=n)


def _domain(ds: Dataset, measure: str, population: str, extra_mask: pd.Series | None):
    y = ds.df[f"m_{measure}"].to_numpy(dtype="float64", na_value=np.nan)
    mask = population_mask(ds.df, population).to_numpy(dtype=bool) & ~np.isnan(y)
    if extra_mask is not None:
        mask &= extra_mask.fillna(False).astype(bool).to_numpy(dtype=bool)
    return mask, int(np.count_nonzero(mask)), int(np.count_nonzero(mask & (y == 1)))


def estimate(ds: Dataset, measure: str, population: str, extra_mask: pd.Series | None = None):
    """The design-based share of ``population`` with ``measure`` (a
    :class:`barometer.survey.CIProp`, logit interval), with no disclosure
    control: for tests of differences, never for publication by itself."""
    mask, _, _ = _domain(ds, measure, population, extra_mask)
    return ds.design.subset(mask).ciprop(f"m_{measure}", method=CI_METHOD, level=LEVEL)


def share(ds: Dataset, measure: str, population: str, figure_id: str, category: str = "",
          extra_mask: pd.Series | None = None, min_base: int | None = None, min_cell: int | None = None,
          reliability: bool = True) -> dict:
    """Weighted share (%) of ``population`` with ``measure``, with a 95 % CI,
    its SE (percentage points), design effect and CV, or a suppressed row when
    disclosure control says so (``min_base`` and ``min_cell`` override the
    rules' minimum base and smallest cell; ``reliability=False`` skips the CV
    rule, for checks that are never published)."""
    mask, n, n_yes = _domain(ds, measure, population, extra_mask)
    rules = disclosure.rules()
    if min_base is not None or min_cell is not None:
        rules = disclosure.Rules(min_base=rules.min_base if min_base is None else min_base,
                                 min_cell=rules.min_cell if min_cell is None else min_cell,
                                 cv_flag=rules.cv_flag, cv_suppress=rules.cv_suppress)
    if rules.share_reason(n, n_yes):
        return _row(figure_id, measure, ds.country, population, category, n=n, suppressed=True)
    dom = ds.design.subset(mask)
    r = dom.ciprop(f"m_{measure}", method=CI_METHOD, level=LEVEL)
    m = dom.mean(f"m_{measure}", deff=True)  # R svymean(deff=TRUE): same SE as the ciprop's
    cv = float(r.cv) if r.estimate > 0 else float("nan")
    if reliability and rules.cv_reason(cv):
        return _row(figure_id, measure, ds.country, population, category, n=n, suppressed=True)
    lo, hi = r.ci
    deff = float(m.deff) if m.deff is not None else float("nan")
    return _row(figure_id, measure, ds.country, population, category,
                100 * float(r.estimate), 100 * float(lo), 100 * float(hi), n,
                se=100 * float(r.se), deff=deff, cv=cv, unreliable=reliability and rules.unreliable(cv))


def difference_p(a, b) -> float:
    """Two-sided p-value of ``a - b`` for shares (:func:`estimate`) from
    independent samples: ``barometer.survey.difference`` (variances add,
    Welch-Satterthwaite df from the designs' ``degf()`` the shares carry)."""
    from .survey import difference

    if not float(a.var) + float(b.var) > 0:  # no variance on either side (e.g. 0 % against 0 %): no test
        return float("nan")
    return float(difference(a, b).p)


def shares(ds: Dataset, measures: list[str], population: str, figure_id: str, **kw) -> pd.DataFrame:
    return pd.DataFrame([share(ds, m, population, figure_id, **kw) for m in measures], columns=COLUMNS)


def count(ds: Dataset, population: str, figure_id: str, measure: str = "answers") -> pd.DataFrame:
    """Number of respondents in a population (no percentage)."""
    n = int(population_mask(ds.df, population).sum())
    return pd.DataFrame([count_row(figure_id, measure, ds.country, population, "", n)], columns=COLUMNS)


def outcome_by_partner(ds: Dataset, outcome: str, partners: list[str], figure_id: str,
                       controls: list[str], population: str = "innovations",
                       reference: str = "collab_none") -> pd.DataFrame:
    """Share with ``outcome`` among innovations made with each partner type,
    and among those made without any collaboration (the reference).

    ``p_value`` of each partner row tests, design-based, whether the outcome
    differs from the reference when controlling for ``controls``: a
    quasibinomial survey GLM (R's ``svyglm``) of the outcome on an indicator
    of the partner, fitted to innovations made with that partner or with no
    partner at all.
    """
    df = ds.df
    pop = population_mask(df, population)
    out_y = df[f"m_{outcome}"]
    ref = df[f"m_{reference}"] == 1
    rows = [share(ds, outcome, population, figure_id, category=reference, extra_mask=ref)]
    rhs = " + ".join(controls)
    for p in partners:
        with_p = df[f"m_{p}"] == 1
        row = share(ds, outcome, population, figure_id, category=p, extra_mask=with_p)
        if not row["suppressed"]:
            mask = (pop & out_y.notna() & (with_p | ref)).to_numpy()
            fit = ds.design.subset(mask).glm(f"m_{outcome} ~ m_{p} + {rhs}", family="quasibinomial")
            row["p_value"] = float(fit.pvalues[f"m_{p}"])
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def label(ds: Dataset, measure: str, lang: str) -> str:
    spec = measures_spec(ds.edition)["measures"][measure]
    if "label" in spec:
        return spec["label"][lang]
    return ds.codebook.label(spec["var"], lang)
