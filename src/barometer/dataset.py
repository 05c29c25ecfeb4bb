"""One edition's survey data, ready to estimate from.

:func:`load` reads the respondent file (the synthetic sample unless a path
is given), applies the codebook (missing codes, derived variables), computes
the weights and builds the survey design.  Chapter notebooks call it once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError
from . import synth, validation
from .codebook import Codebook, load_codebook
from .measures import indicator, measures_spec, population_mask  # noqa: F401 - also used from here
from .readers import read_table
from .survey import Design
from .weighting import WeightingError, check_weights, stratum_weights


class DataError(InputError):
    """The input data do not fit the codebook or the design."""


@dataclass(repr=False)
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

    def summary(self) -> dict[str, str]:
        """What a researcher may see of the data: counts and the design, never a row."""
        meta = self.codebook.meta["design"]
        return {"edition": f"{self.edition}-{self.country}", "data": "synthetic sample" if self.synthetic else
                "the file given with --data", "respondents": f"{len(self.df):,}",
                "columns": f"{self.df.shape[1]:,}", "strata": f"{self.df[meta['strata']].nunique():,}",
                "weights": f"sum {self.df['weight'].sum():,.0f} (population), min {self.df['weight'].min():.3g}, "
                           f"max {self.df['weight'].max():.3g}",
                "period": str(self.period)}

    def __repr__(self) -> str:  # never the data frame: it holds ids, names and free text
        s = self.summary()
        return (f"<Dataset {s['edition']}, {s['data']}: {s['respondents']} respondents, {s['columns']} columns, "
                f"{s['strata']} strata; weights {s['weights']}>")

    __str__ = __repr__

    def _repr_html_(self) -> str:
        import html

        rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in self.summary().items())
        return f'<table class="dataset-summary"><caption>Dataset</caption>{rows}</table>'


def _frame_for(data_path: Path, synthetic: bool, edition: str, country: str, frame_path: Path | None):
    if frame_path is not None:
        return read_table(frame_path)
    if synthetic:
        return pd.read_csv(synth.sample_dir(edition, country) / "frame.csv")
    return None


_PROVIDED: dict = {}  # (edition, country, data_path, frame_path) -> (Dataset, file stamps)


def file_stamps(files) -> list:
    """(path, size, mtime) of each file: a loaded dataset is current while these are unchanged."""
    out = []
    for f in files:
        st = os.stat(f)
        out.append((str(f), st.st_size, st.st_mtime_ns))
    return out


def provide(datasets: dict) -> None:
    """Hand this process datasets loaded already (``{(edition, country,
    data_path, frame_path): (Dataset, file_stamps)}``): :func:`load` returns
    each once, while its files are unchanged, instead of reading them again.
    A warm worker provides its datasets to the report kernels it forks
    (:mod:`barometer.build.warmup`); elsewhere nothing is provided."""
    _PROVIDED.clear()
    _PROVIDED.update(datasets)


def _current(stamps: list) -> bool:
    try:
        return file_stamps(f for f, _, _ in stamps) == stamps
    except OSError:
        return False


def _take_provided(key: tuple):
    hit = _PROVIDED.pop(key, None)
    if hit is None:
        return None
    ds, stamps = hit
    if not _current(stamps):
        return None
    from .display import record_use

    for f in ds.files:  # what the report used, as if it had read the files itself
        record_use(f)
    return ds


#: a long-lived process's loaded datasets, same keys as _PROVIDED (None: not kept, see keep_loaded)
_KEPT: list = [None]


def keep_loaded(on: bool = True) -> None:
    """Let :func:`load` keep what it loaded and return it again while its files are
    unchanged (the preview's build process, which outlives one build; it calls
    ``keep_loaded()`` again to forget them when a codebook or ``measures.yaml`` changed).
    Off (the default) also forgets them."""
    _KEPT[0] = {} if on else None


def load(edition: str = "2018", country: str = "dk", data_path: str | Path | None = None,
         frame_path: str | Path | None = None) -> Dataset:
    """Load, check and weight one edition's respondents.

    ``data_path`` empty or None means the synthetic sample (generated on first
    use).  Weights: Denmark ``N_h / r_h`` from the ``stratum_N`` column (the
    stratum population), checked against the frame when one is available;
    Norway raked to the frame's unit-type and region margins.
    """
    key = (edition, country, str(data_path or ""), str(frame_path or ""))
    kept = _KEPT[0]
    if kept is not None and key in kept and _current(kept[key][1]):
        return kept[key][0]
    ds = _load(edition, country, data_path, frame_path)
    if kept is not None:
        kept[key] = (ds, file_stamps(ds.files))
    return ds


def _load(edition: str, country: str, data_path: str | Path | None, frame_path: str | Path | None) -> Dataset:
    """What :func:`load` does when it has nothing kept."""
    provided = _take_provided((edition, country, str(data_path or ""), str(frame_path or "")))
    if provided is not None:
        return provided
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
