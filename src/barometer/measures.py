"""Measures and populations: what a published share counts, and of whom
(``data/report/measures.yaml``, with per-edition overrides).

A leaf module: the data loader and the synthetic-data generator both use it.
"""

from __future__ import annotations

import functools

import pandas as pd

from . import yamlio
from .codebook import Codebook, evaluate
from .paths import DATA_DIR


@functools.cache
def measures_spec(edition: str | None = None) -> dict:
    """Populations and measures (``data/report/measures.yaml``); with an
    edition, its overrides (``editions: <edition>: <measure>: {...}``) applied."""
    raw = yamlio.load_file(DATA_DIR / "report" / "measures.yaml")
    spec = {"populations": raw["populations"], "measures": dict(raw["measures"])}
    overrides = raw.get("editions", {}).get(str(edition), {}) if edition is not None else {}
    for name, keys in overrides.items():
        if name not in spec["measures"]:
            raise KeyError(f"measures.yaml: edition {edition} overrides unknown measure {name!r}")
        spec["measures"][name] = {**spec["measures"][name], **keys}
    return spec


def indicator(df: pd.DataFrame, codebook: Codebook, measure: str) -> pd.Series:
    """0/1 indicator of a measure, NaN where the respondent is outside the
    variable's universe or did not answer."""
    spec = measures_spec(codebook.edition)["measures"].get(measure)
    if spec is None:
        raise KeyError(f"unknown measure {measure!r}: define it in data/report/measures.yaml")
    var = spec["var"]
    if var not in df.columns:
        raise KeyError(f"measure {measure!r} needs variable {var!r}, which the "
                       f"{codebook.edition}-{codebook.country} data do not have")
    x = pd.to_numeric(df[var], errors="coerce").astype("float64")
    y = x.isin(spec["yes"]).astype("float64").where(x.notna())
    if var in codebook.variables:
        y = y.where(codebook.universe_mask(df, codebook[var].universe))
    return y


def population_mask(df: pd.DataFrame, population: str) -> pd.Series:
    spec = measures_spec()["populations"].get(population)
    if spec is None:
        raise KeyError(f"unknown population {population!r}: define it in data/report/measures.yaml")
    return evaluate(df, spec["query"]).fillna(False).astype(bool)
