"""Read a survey file in any of the formats researchers receive.

The format is taken from the file's content (magic bytes), not only its
extension: SPSS ``.sav``, Stata ``.dta``, Excel ``.xlsx``, Parquet and CSV.
Columns the codebook declares as strings (ids, names, free text) are read as
strings, so leading zeros survive.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


class ReadError(ValueError):
    """The file cannot be read as survey data."""


def sniff_format(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"$FL2") or head.startswith(b"$FL3"):
        return "sav"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"<stata_dta>") or head[:1] in (b"\x72", b"\x73", b"\x71", b"\x6e", b"\x6f") and path.suffix.lower() == ".dta":
        return "dta"
    return "csv"


def read_table(path: str | Path, codebook=None) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise ReadError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise ReadError(f"{path}: file is empty")
    fmt = sniff_format(path)
    strings = {v.name: "string" for v in codebook.variables.values() if v.type == "string"} if codebook else {}
    try:
        if fmt == "csv":
            df = pd.read_csv(path, dtype=strings, encoding="utf-8-sig")
        elif fmt == "parquet":
            df = pd.read_parquet(path)
        elif fmt == "xlsx":
            df = pd.read_excel(path, engine="openpyxl", dtype=strings)
        else:
            import pyreadstat

            reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
            df, _meta = reader(str(path))
    except ReadError:
        raise
    except Exception as exc:  # noqa: BLE001 - every reader error becomes one clear message
        raise ReadError(f"{path}: cannot be read as {fmt}: {exc}") from None
    for col in strings:
        if col in df.columns:
            df[col] = df[col].astype("string")
    return df
