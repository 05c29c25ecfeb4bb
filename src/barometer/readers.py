"""Read a survey file in any of the formats researchers receive.

The format is taken from the file's content (magic bytes), not from its
extension: SPSS ``.sav``/``.zsav``, Stata ``.dta``, Excel ``.xlsx``, Parquet
and text (CSV).  A text file may be UTF-8 (with or without a byte-order mark),
UTF-16 with a BOM, or Windows-1252/Latin-1 (detected, so ``æøå`` are not
garbled); separated by ``,``, ``;`` or tabs; with a decimal comma when the
separator is ``;`` or a tab.

Columns the codebook declares as strings (ids, names, free text) are read as
strings, so leading zeros survive.  Where a file carries value *labels*
instead of codes (SPSS/Stata value labels, or "Ja"/"Nej" typed into Excel),
they are mapped back to the codebook's codes; anything that matches no label
is left as it is, for :mod:`barometer.validation` to report.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from .errors import InputError


class ReadError(InputError):
    """The file cannot be read as survey data."""


FORMATS = ("csv", "parquet", "xlsx", "sav", "dta")
STATA_VERSIONS = {0x71, 0x72, 0x73, 0x6E, 0x6F, 0x70, 0x6C}  # 108-115 (binary header)


def sniff_format(path: Path) -> str:
    """``csv``, ``parquet``, ``xlsx``, ``sav`` or ``dta``, from the first bytes."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head.startswith((b"$FL2", b"$FL3")):
        return "sav"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"<stata_dta>"):
        return "dta"
    if len(head) >= 4 and head[0] in STATA_VERSIONS and head[1] in (1, 2) and head[2] == 1 and head[3] == 0:
        return "dta"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except zipfile.BadZipFile:
            raise ReadError(f"{path}: looks like a zip/Excel file but is damaged or truncated; "
                            "export it again") from None
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        raise ReadError(f"{path}: is a zip archive but not an Excel .xlsx workbook (contains "
                        f"{', '.join(names[:3])}); unpack it and pass the data file")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError(f"{path}: is an old Excel .xls (or other OLE) file; save it as .xlsx or CSV")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadError(f"{path}: is a binary file of unknown format; expected SPSS .sav, Stata .dta, "
                        "Excel .xlsx, Parquet or a CSV text file")
    return "csv"


def decode_text(raw: bytes) -> tuple[str, str]:
    """Text and the encoding it was found in: BOMs first, then strict UTF-8,
    then Windows-1252 (Danish files from Excel), then Latin-1."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    for enc in ("utf-8", "cp1252", "latin-1"):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte string")  # pragma: no cover


def _separator(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (";", "\t", ",")}
    sep = max(counts, key=counts.get)
    return sep if counts[sep] else ","


def _read_csv(path: Path, strings: dict) -> pd.DataFrame:
    try:
        text, enc = decode_text(path.read_bytes())
    except UnicodeDecodeError as exc:
        raise ReadError(f"{path}: not valid text in its declared encoding ({exc.reason} at byte {exc.start})") from None
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ReadError(f"{path}: file has no data (only blank lines)")
    header = text.splitlines()[0]
    sep = _separator(header)
    decimal = "," if sep in (";", "\t") else "."
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, decimal=decimal, dtype=strings, keep_default_na=False,
                         na_values=["", "NA", "NaN", "nan", "."])
    except pd.errors.ParserError as exc:
        raise ReadError(f"{path}: not a well-formed CSV ({enc}, separator {sep!r}): {str(exc).strip()}") from None
    if df.shape[1] <= 1:
        raise ReadError(f"{path}: found a single column {header[:60]!r}; expected a CSV file with a header "
                        "row and columns separated by ',' or ';'")
    unnamed = [c for c in df.columns if str(c).startswith("Unnamed: ")]
    if unnamed:
        raise ReadError(f"{path}: header row has {len(unnamed)} empty column name(s) "
                        f"(positions {[list(df.columns).index(c) + 1 for c in unnamed][:5]}); every column needs a name")
    return df


def _read_binary(path: Path, fmt: str, strings: dict) -> tuple[pd.DataFrame, dict]:
    labels: dict = {}
    if fmt == "parquet":
        df = pd.read_parquet(path)
    elif fmt == "xlsx":
        df = pd.read_excel(path, engine="openpyxl", dtype=strings, sheet_name=0)
    else:
        import pyreadstat

        reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
        df, meta = reader(str(path), user_missing=False)
        labels = meta.variable_value_labels or {}
    return df, labels


def read_table(path: str | Path, codebook=None) -> pd.DataFrame:
    """One respondent (or frame) file as a data frame, with value labels mapped
    to the codebook's codes when a codebook is given."""
    path = Path(path)
    if not path.exists():
        raise ReadError(f"{path}: file not found")
    if path.is_dir():
        raise ReadError(f"{path}: is a folder; pass the data file itself")
    if path.stat().st_size == 0:
        raise ReadError(f"{path}: file is empty")
    fmt = sniff_format(path)
    strings = {v.name: "string" for v in codebook.variables.values() if v.type == "string"} if codebook else {}
    labels: dict = {}
    try:
        if fmt == "csv":
            df = _read_csv(path, strings)
        else:
            df, labels = _read_binary(path, fmt, strings)
    except ReadError:
        raise
    except Exception as exc:  # noqa: BLE001 - every reader error becomes one clear message
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReadError(f"{path}: cannot be read as {fmt} (damaged or truncated?): {msg}") from None
    df.columns = [nfc(str(c).strip()) for c in df.columns]  # "Tårnby" typed as a+ring is the same name
    dup = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dup:
        raise ReadError(f"{path}: column names occur more than once: {dup[:5]}")
    if len(df) == 0:
        raise ReadError(f"{path}: has a header but no rows")
    for col in strings:
        if col in df.columns:
            df[col] = _as_string(df[col])
    if codebook is not None:
        df = map_labels(df, codebook, labels)
    return df


def _as_string(s: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(s) and s.dropna().eq(s.dropna().round()).all():
        s = s.astype("Int64")  # ids read as numbers by a binary format: 1234.0 -> "1234"
    out = s.astype("string").str.strip()
    return out.mask(out == "")


def nfc(text: str) -> str:
    """``text`` in Unicode NFC: "å" typed as "a" + combining ring (NFD, as
    macOS and some exports write it) becomes the one character "å"."""
    return unicodedata.normalize("NFC", text)


def _norm(x) -> str:
    """A label as it is matched: NFC, spacing collapsed, case ignored."""
    return nfc(" ".join(nfc(str(x)).split()).casefold())


_INVISIBLE = {"Cf", "Cc", "Co", "Cn", "Zl", "Zp"}  # format (zero-width, direction marks), control, unassigned


def invisible_chars(text: str) -> list[str]:
    """The characters of ``text`` one cannot see (or that look like others):
    zero-width and other format characters, controls, spaces other than the
    plain one, and combining marks left over after NFC."""
    return [ch for ch in nfc(text) if unicodedata.category(ch) in _INVISIBLE or unicodedata.category(ch) == "Mn"
            or (unicodedata.category(ch) == "Zs" and ch != " ")]


def skeleton(x) -> str:
    """A label with every invisible difference removed (NFKC, format and
    control characters dropped, spacing collapsed, case ignored): two texts
    with the same skeleton look the same to a reader."""
    text = unicodedata.normalize("NFKC", str(x))
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _INVISIBLE)
    return unicodedata.normalize("NFKC", " ".join(text.split()).casefold())


def map_labels(df: pd.DataFrame, codebook, file_labels: dict | None = None) -> pd.DataFrame:
    """Codes for labelled variables.

    * SPSS/Stata value labels: when every label the file gives a variable is a
      label of the codebook (Danish or English, case and spacing ignored), the
      file's codes are recoded to the codebook's (files are sometimes coded
      differently, e.g. 0/1 for no/yes).
    * Text columns (CSV, Excel, Parquet, SPSS strings): labels become codes, and
      digits become numbers; any other text is left for validation to report.
    """
    file_labels = file_labels or {}
    out = df.copy()
    for var in codebook.variables.values():
        if var.name not in out.columns or var.type == "string":
            continue
        by_label = {}
        for code, text in (var.values or {}).items():
            for lang_text in text.values():
                by_label[_norm(lang_text)] = code
        col = out[var.name]
        vl = file_labels.get(var.name)
        if vl and by_label and all(_norm(t) in by_label for t in vl.values()):
            recode = {k: by_label[_norm(t)] for k, t in vl.items()}
            missing = set(var.missing)
            recode = {k: v for k, v in recode.items() if not (k in missing and k == v)}
            col = col.map(lambda x, r=recode: r.get(x, x) if pd.notna(x) else x)
            out[var.name] = pd.to_numeric(col).astype("float64") if col.map(_is_number).all() else col
            continue
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        mapped = col.map(lambda x: _label_to_code(x, by_label))
        out[var.name] = (pd.to_numeric(mapped, errors="coerce").astype("float64")
                         if mapped.map(_is_number).all() else mapped.astype(object))
    return out


def _is_number(x) -> bool:
    return x is None or x is pd.NA or isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _label_to_code(x, by_label: dict):
    if x is None or x is pd.NA or (isinstance(x, float) and np.isnan(x)):
        return np.nan
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
        return x
    s = nfc(str(x).strip())
    if s == "":
        return np.nan
    try:
        v = float(s.replace(",", "."))
        return int(v) if v.is_integer() else v
    except ValueError:
        pass
    return by_label.get(_norm(s), x)
