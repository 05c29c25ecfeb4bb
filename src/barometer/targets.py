"""The published figures the synthetic data are calibrated to.

``data/targets/published_targets.csv`` keeps every published number with its
source: ``edition, country, population, measure, published_pct, n_obs, source``.
The generator reads its targets from here (never from code), and the tests
and the build check that ``estimates.csv`` reproduces them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import keep
from .paths import DATA_DIR

TARGETS_FILE = DATA_DIR / "targets" / "published_targets.csv"
KEY = ["edition", "country", "population", "measure"]


def load_targets(path: Path | None = None, edition: str | None = None, country: str | None = None) -> pd.DataFrame:
    t = pd.read_csv(path or TARGETS_FILE, dtype={"edition": str, "country": str, "population": str,
                                                  "measure": str, "source": str})
    t["country"] = t["country"].str.lower()
    t["published_pct"] = pd.to_numeric(t["published_pct"], errors="coerce")
    t["n_obs"] = pd.to_numeric(t["n_obs"], errors="coerce").astype("Int64")
    if edition is not None:
        t = t[t["edition"] == str(edition)]
    if country is not None:
        t = t[t["country"] == country.lower()]
    return t.reset_index(drop=True)


def target(edition: str, country: str, population: str, measure: str) -> pd.Series:
    t = load_targets(edition=edition, country=country)
    row = t[(t["population"] == population) & (t["measure"] == measure)]
    if len(row) != 1:
        raise KeyError(f"no published target for {edition}/{country}/{population}/{measure}")
    return row.iloc[0]


def target_share(edition: str, country: str, population: str, measure: str) -> float:
    """The published percentage as a share (0-1)."""
    return float(target(edition, country, population, measure)["published_pct"]) / 100.0


def compare(estimates: pd.DataFrame, edition: str, country: str) -> pd.DataFrame:
    """Join published targets to an estimates table (``estimates.csv`` layout).

    Returns one row per target with ``estimate_pct``, ``n_obs_est`` and
    ``ok`` (rounded estimate equal to the published percentage, and n_obs
    equal where the target gives one).
    """
    t = load_targets(edition=edition, country=country)
    est = estimates.copy()
    est["country"] = est["country"].str.lower()
    # the edition comparison publishes other editions' figures with the edition in `category`
    cat = est["category"].fillna("").astype(str)
    est = est[~(cat.str.fullmatch(r"[0-9]{4}") & (cat != str(edition)))]
    est = est.drop_duplicates(["country", "population", "measure"])
    m = t.merge(est[["country", "population", "measure", "estimate_pct", "n_obs"]],
                on=["country", "population", "measure"], how="left", suffixes=("", "_est"))
    pct_ok = m["published_pct"].isna() | (
        (m["estimate_pct"] + 1e-9).round(0).sub(m["published_pct"]).abs().lt(0.5))
    n_ok = m["n_obs"].isna() | (m["n_obs"] == m["n_obs_est"])
    m["ok"] = (pct_ok & n_ok & m["n_obs_est"].notna()).astype(bool)
    return m


def _model_key(ds, edition: str, country: str) -> tuple:
    return (id(ds), str(edition), country, keep.stamps(TARGETS_FILE))


@keep.kept(_model_key)  # the preview's build process: once per loaded sample (kept while its files are unchanged)
def check_model(ds, edition: str, country: str) -> pd.DataFrame:
    """The published targets of ``edition``/``country`` estimated straight from
    the sample ``ds`` (a :class:`barometer.dataset.Dataset`), *without*
    disclosure control: it checks that the synthetic model reproduces the
    published figures, whatever the build's ``--min-base`` hides.  Same
    columns as :func:`compare`.  The unsuppressed numbers are for this check
    only and must never be written into a published file."""
    import numpy as np

    from . import estimates
    from .dataset import population_mask

    t = load_targets(edition=edition, country=country)
    est_pct, n_est = [], []
    for row in t.itertuples(index=False):
        if row.measure == "answers":
            est_pct.append(np.nan)
            n_est.append(int(population_mask(ds.df, row.population).sum()))
            continue
        got = estimates.share(ds, row.measure, row.population, "target", min_base=0, min_cell=0,
                              reliability=False)
        est_pct.append(got["estimate_pct"])
        n_est.append(got["n_obs"])
    m = t.assign(estimate_pct=pd.Series(est_pct, index=t.index, dtype="float64"),
                 n_obs_est=pd.Series(n_est, index=t.index, dtype="Int64"))
    pct_ok = m["published_pct"].isna() | (
        (m["estimate_pct"] + 1e-9).round(0).sub(m["published_pct"]).abs().lt(0.5))
    n_ok = m["n_obs"].isna() | (m["n_obs"] == m["n_obs_est"])
    m["ok"] = (pct_ok & n_ok & m["n_obs_est"].notna()).astype(bool)
    return m
