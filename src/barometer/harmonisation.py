"""The harmonisation table: which editions' figures can be compared.

``data/harmonisation.csv`` has one row per measure and edition::

    measure, edition, population, source_measure, definition, comparable, note_da, note_en

``source_measure`` is the measure of that edition's data that gives the
figure (empty where the question was not asked), ``definition`` says in
words what is counted, and ``comparable`` (``yes``/``no``) whether the
edition's figure belongs to the measure's trend.  All comparable rows of a
measure share one definition; a row that is not comparable says why, in
Danish and English.  The edition-comparison chapter draws a trend line only
through comparable rows and shows the others apart, with their note.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from .errors import InputError
from .paths import DATA_DIR

HARMONISATION_FILE = DATA_DIR / "harmonisation.csv"
COLUMNS = ["measure", "edition", "population", "source_measure", "definition", "comparable", "note_da", "note_en"]


class HarmonisationError(InputError):
    """The harmonisation table is malformed or does not fit the codebooks."""


def read(path: Path | None = None) -> pd.DataFrame:
    df = pd.read_csv(path or HARMONISATION_FILE, dtype=str, keep_default_na=False)
    return df


def problems(df: pd.DataFrame) -> list[str]:
    """Everything wrong with a harmonisation table (empty if it is valid)."""
    from .codebook import CodebookError, load_codebook
    from .measures import measures_spec

    if list(df.columns) != COLUMNS:
        return [f"columns must be exactly {COLUMNS}, got {list(df.columns)}"]
    out = []
    dup = df[df.duplicated(["measure", "edition"], keep=False)]
    out += [f"row {i + 2}: {r.measure} {r.edition} appears twice" for i, r in dup.iterrows()]
    editions = sorted(df["edition"].unique())
    codebooks = {}
    for measure, rows in df.groupby("measure"):
        missing = sorted(set(editions) - set(rows["edition"]))
        if missing:
            out.append(f"{measure}: no row for edition(s) {missing}")
        defs = rows.loc[rows["comparable"] == "yes", "definition"].unique()
        if len(defs) > 1:
            out.append(f"{measure}: comparable rows have different definitions {list(defs)}")
    for i, r in df.iterrows():
        where = f"row {i + 2} ({r.measure}, {r.edition})"
        if r.comparable not in ("yes", "no"):
            out.append(f"{where}: comparable must be yes or no, got {r.comparable!r}")
        for col in ("measure", "edition", "population", "definition", "note_da", "note_en"):
            if not r[col].strip():
                out.append(f"{where}: {col} is empty")
        if r.comparable == "yes" and not r.source_measure:
            out.append(f"{where}: a comparable row needs a source_measure")
        spec = measures_spec(r.edition)
        if r.measure not in spec["measures"]:
            out.append(f"{where}: measure {r.measure!r} is not in data/report/measures.yaml")
        if r.population not in spec["populations"]:
            out.append(f"{where}: unknown population {r.population!r}")
        if r.source_measure:
            if r.source_measure not in spec["measures"]:
                out.append(f"{where}: source_measure {r.source_measure!r} is not in data/report/measures.yaml")
                continue
            try:
                if r.edition not in codebooks:
                    codebooks[r.edition] = load_codebook(r.edition, "dk")
                cb = codebooks[r.edition]
            except CodebookError as exc:
                out.append(f"{where}: {exc}")
                continue
            var = spec["measures"][r.source_measure]["var"]
            if var not in cb.variables and var not in cb.derived:
                out.append(f"{where}: variable {var!r} of {r.source_measure} is not in the {r.edition}-dk codebook")
    return out


@functools.cache
def load(path: Path | None = None) -> pd.DataFrame:
    """The validated table; :class:`HarmonisationError` lists every problem."""
    df = read(path)
    bad = problems(df)
    if bad:
        raise HarmonisationError(f"{path or HARMONISATION_FILE}:\n" + "\n".join(bad))
    return df


def rows(measure: str, editions: list[str]) -> pd.DataFrame:
    """The table's rows of ``measure`` for ``editions``, in edition order."""
    t = load()
    sel = t[(t["measure"] == measure) & t["edition"].isin(editions)]
    if len(sel) != len(editions):
        raise HarmonisationError(f"{measure}: the harmonisation table lacks editions "
                                 f"{sorted(set(editions) - set(sel['edition']))}")
    return sel.sort_values("edition").reset_index(drop=True)


def comparable(measure: str, editions: list[str]) -> list[str]:
    """The editions whose figures of ``measure`` form one trend."""
    r = rows(measure, editions)
    return list(r.loc[r["comparable"] == "yes", "edition"])
