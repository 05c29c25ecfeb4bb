"""From measures to the tidy estimates table the report publishes.

Every number the report shows is one row of ``estimates.csv``::

    figure_id, measure, country, population, category,
    estimate_pct, ci_low_pct, ci_high_pct, n_obs, p_value, suppressed

Percentages are design-based (:mod:`barometer.survey`): the share of a
population with 95 % confidence intervals from R's ``svyciprop`` logit
method, and p-values from design-based tests.  Disclosure control
(:mod:`barometer.disclosure`) is applied here, before anything is written: a
share whose base has fewer than ``min_base`` respondents, or whose answer (or
its complement) is given by 1-4 respondents, is suppressed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import disclosure
from .dataset import Dataset
from .measures import measures_spec, population_mask

COLUMNS = ["figure_id", "measure", "country", "population", "category", "estimate_pct",
           "ci_low_pct", "ci_high_pct", "n_obs", "p_value", "suppressed"]
CI_METHOD = "logit"
LEVEL = 0.95


def to_csv_text(rows: pd.DataFrame) -> str:
    """Rows of the estimates table as CSV text, exactly as ``estimates.csv``
    writes them (the build, the figure files and the download use this)."""
    out = rows[COLUMNS].copy()
    for c in ("estimate_pct", "ci_low_pct", "ci_high_pct", "p_value"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    out = disclosure.blank(out)  # a suppressed row: blank numbers (the base stays), suppressed=True
    out["n_obs"] = out["n_obs"].astype("int64")
    out["suppressed"] = out["suppressed"].astype(bool)
    out["category"] = out["category"].fillna("").astype(str)
    return out.to_csv(index=False, lineterminator="\n", float_format="%.6f")


def _row(figure_id, measure, country, population, category="", est=np.nan, lo=np.nan, hi=np.nan,
         n=0, p=np.nan, suppressed=False) -> dict:
    return {"figure_id": figure_id, "measure": measure, "country": country, "population": population,
            "category": category, "estimate_pct": est, "ci_low_pct": lo, "ci_high_pct": hi,
            "n_obs": int(n), "p_value": p, "suppressed": bool(suppressed)}


def share(ds: Dataset, measure: str, population: str, figure_id: str, category: str = "",
          extra_mask: pd.Series | None = None, min_base: int | None = None, min_cell: int | None = None) -> dict:
    """Weighted share (%) of ``population`` with ``measure``, with a 95 % CI,
    or a suppressed row when disclosure control says so (``min_base`` and
    ``min_cell`` override the rules' minimum base and smallest cell)."""
    y = ds.df[f"m_{measure}"].to_numpy(dtype="float64", na_value=np.nan)
    mask = population_mask(ds.df, population).to_numpy(dtype=bool) & ~np.isnan(y)
    if extra_mask is not None:
        mask &= extra_mask.fillna(False).astype(bool).to_numpy(dtype=bool)
    n = int(np.count_nonzero(mask))
    rules = disclosure.rules()
    if min_base is not None or min_cell is not None:
        rules = disclosure.Rules(min_base=rules.min_base if min_base is None else min_base,
                                 min_cell=rules.min_cell if min_cell is None else min_cell)
    if rules.share_reason(n, int(np.count_nonzero(mask & (y == 1)))):
        return _row(figure_id, measure, ds.country, population, category, n=n, suppressed=True)
    r = ds.design.subset(mask).ciprop(f"m_{measure}", method=CI_METHOD, level=LEVEL)
    lo, hi = r.ci
    return _row(figure_id, measure, ds.country, population, category,
                100 * float(r.estimate), 100 * float(lo), 100 * float(hi), n)


def shares(ds: Dataset, measures: list[str], population: str, figure_id: str, **kw) -> pd.DataFrame:
    return pd.DataFrame([share(ds, m, population, figure_id, **kw) for m in measures], columns=COLUMNS)


def count(ds: Dataset, population: str, figure_id: str, measure: str = "answers") -> pd.DataFrame:
    """Number of respondents in a population (no percentage)."""
    n = int(population_mask(ds.df, population).sum())
    return pd.DataFrame([_row(figure_id, measure, ds.country, population, n=n)], columns=COLUMNS)


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
