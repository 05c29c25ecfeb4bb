"""One edition's survey data, ready to estimate from.

:func:`load` reads the respondent file (the synthetic sample unless a path
is given), applies the codebook (missing codes, derived variables), computes
the weights and builds the survey design.  Chapter notebooks call it once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import synth, validation, yamlio
from .codebook import Codebook, evaluate, load_codebook
from .paths import DATA_DIR
from .readers import read_table
from .survey import Design
from .weighting import WeightingError, check_weights, stratum_weights


class DataError(ValueError):
    """The input data do not fit the codebook or the design."""


@dataclass
class Dataset:
    edition: str
    country: str
    df: pd.DataFrame
    codebook: Codebook
    design: Design
    synthetic: bool
    files: list[Path] = field(default_factory=list)

    @property
    def period(self) -> str:
        return self.codebook.meta["period"]


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


def _frame_for(data_path: Path, synthetic: bool, edition: str, country: str, frame_path: Path | None):
    if frame_path is not None:
        return read_table(frame_path)
    if synthetic:
        return pd.read_csv(synth.sample_dir(edition, country) / "frame.csv")
    return None


def load(edition: str = "2018", country: str = "dk", data_path: str | Path | None = None,
         frame_path: str | Path | None = None) -> Dataset:
    """Load, check and weight one edition's respondents.

    ``data_path`` empty or None means the synthetic sample (generated on first
    use).  Weights: Denmark ``N_h / r_h`` from the ``stratum_N`` column (the
    stratum population), checked against the frame when one is available;
    Norway raked to the frame's unit-type and region margins.
    """
    codebook = load_codebook(edition, country)
    synthetic = not data_path
    path = synth.ensure(edition, country) if synthetic else Path(data_path)
    raw = read_table(path, codebook)
    files = [path]
    design_meta = codebook.meta["design"]
    strata, n_col = design_meta["strata"], design_meta["stratum_population"]
    frame = _frame_for(path, synthetic, edition, country, Path(frame_path) if frame_path else None)
    frame_file = Path(frame_path) if frame_path else synth.sample_dir(edition, country) / "frame.csv"
    validation.validate(raw, codebook, path, frame, frame_file if frame is not None else None)
    if frame is not None:
        files.append(frame_file)
    df = codebook.prepare(raw)
    population = df.groupby(strata)[n_col].first().astype("float64")
    try:
        base = stratum_weights(df, population, stratum=strata)
    except WeightingError as exc:
        raise WeightingError(f"{path}: {exc}") from None
    df["weight"] = base.to_numpy()
    for measure in measures_spec()["measures"]:
        if measures_spec()["measures"][measure]["var"] in df.columns:
            df[f"m_{measure}"] = indicator(df, codebook, measure).to_numpy()
    design = Design(df, strata=strata, weights="weight", fpc=n_col)
    margins_cols = design_meta.get("calibration_margins")
    if margins_cols:
        # raked to the frame's margins; the design's variance then uses R's raking residuals
        if frame is None:
            raise DataError(f"{path}: the {country} weights are raked to the frame's margins of "
                            f"{margins_cols}; pass the frame with --frame")
        margins = [frame.groupby(c).size().rename("N").reset_index() for c in margins_cols]
        design = design.rake(margins, maxit=200, epsilon=1e-12)
        df["weight"] = design.weights
    check_weights(df["weight"], total=float(population.sum()), rtol=1e-8)
    return Dataset(edition=edition, country=country, df=df, codebook=codebook, design=design,
                   synthetic=synthetic, files=files)
