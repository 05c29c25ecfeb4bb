"""Write a respondent table in each format researchers receive.

Used to check the readers (every format must give the same estimates) and to
hand the synthetic sample to people who want to try their own tools on it::

    python -m barometer.writers --format sav --out /tmp/respondents.sav
    python -m barometer.writers --format csv --encoding cp1252 --sep ";" --out /tmp/r.csv

SPSS and Stata files carry the codebook's variable labels and Danish value
labels, as Statistics Denmark's files do.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .codebook import Codebook, load_codebook

FORMATS = ("csv", "parquet", "xlsx", "sav", "dta")


def _labelled(df: pd.DataFrame, codebook: Codebook | None) -> tuple[pd.DataFrame, dict, dict]:
    """Numbers as float64 (NaN for missing), strings as str ('' for missing),
    and the value and variable labels of the codebook's variables."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            out[col] = s.astype("float64")
        else:
            out[col] = s.astype(object).where(s.notna(), "").astype(str)
    value_labels, column_labels = {}, {}
    if codebook is not None:
        for var in codebook.variables.values():
            if var.name not in out.columns:
                continue
            column_labels[var.name] = var.label["da"][:80]
            if var.values and pd.api.types.is_numeric_dtype(out[var.name]):
                value_labels[var.name] = {float(k): v["da"][:80] for k, v in var.values.items()}
    return out, value_labels, column_labels


def write_table(df: pd.DataFrame, path: str | Path, fmt: str | None = None, codebook: Codebook | None = None,
                encoding: str = "utf-8", sep: str = ",", decimal: str = ".") -> Path:
    """Write ``df`` to ``path`` as ``fmt`` (default: from the extension)."""
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        df.to_csv(path, index=False, encoding=encoding, sep=sep, decimal=decimal, lineterminator="\n")
    elif fmt == "parquet":
        df.to_parquet(path, index=False)
    elif fmt == "xlsx":
        df.to_excel(path, index=False, engine="openpyxl")
    else:
        import pyreadstat

        data, value_labels, column_labels = _labelled(df, codebook)
        if fmt == "sav":
            pyreadstat.write_sav(data, str(path), column_labels=column_labels,
                                 variable_value_labels=value_labels)
        else:
            # Stata value labels need whole-number codes: give them only where every code is one
            ok = {k: {int(c): t for c, t in v.items()} for k, v in value_labels.items()
                  if np.all(np.isnan(data[k]) | (data[k] == np.round(data[k])))}
            pyreadstat.write_dta(data, str(path), column_labels=column_labels, variable_value_labels=ok)
    return path


def write_sample(edition: str, country: str, path: str | Path, fmt: str | None = None, **kw) -> Path:
    """The synthetic respondents of an edition, written as ``fmt``."""
    from . import synth
    from .readers import read_table

    cb = load_codebook(edition, country)
    df = read_table(synth.ensure(edition, country), cb)
    return write_table(df, path, fmt, codebook=cb, **kw)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m barometer.writers",
                                 description="Write the synthetic respondents in another file format.")
    ap.add_argument("--edition", default="2018")
    ap.add_argument("--country", choices=["dk", "no"], default="dk")
    ap.add_argument("--format", choices=FORMATS, default=None, help="default: from the extension of --out")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--encoding", default="utf-8", help="CSV only: utf-8, utf-8-sig, cp1252, latin-1")
    ap.add_argument("--sep", default=",", help="CSV only: ',' or ';' (';' writes a decimal comma)")
    a = ap.parse_args(argv)
    try:
        p = write_sample(a.edition, a.country, a.out, a.format, encoding=a.encoding, sep=a.sep,
                         decimal="," if a.sep == ";" else ".")
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
