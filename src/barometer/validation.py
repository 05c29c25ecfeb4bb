"""Check a respondent file (and its frame) against the codebook before use.

Every problem is one line that names the file, the column, the data rows
(numbered from 1, the first row below the header; in SPSS/Stata the case
number) with the first few and a count, the offending values and what was
expected.  :func:`validate` collects *all* problems and raises one
:class:`ValidationError`; the build turns it into exit status 2 without
writing anything.

Column checks (codes, types, ranges, nulls, uniqueness) are a pandera schema
made from the codebook (:func:`schema`); a file that passes the same checks
made directly with pandas (:func:`_columns_pass`, never more lenient than the
schema) does not need it, so pandera is imported only for a file with a
problem, to describe it.  Design checks (strata, frame totals, weights,
universes) are plain pandas below it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .codebook import Codebook
from .readers import _norm, invisible_chars, skeleton

WEIGHT_COLUMN = "weight"  # optional: a weight column delivered with the data is checked, not used
SHOW = 5  # rows and values shown per problem


class ValidationError(InputError):
    """The input data do not fit the codebook or the design; ``problems`` has one line each."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        n = len(self.problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in the input data:\n" + "\n".join(self.problems))


# --------------------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------------------
def rows_text(index) -> str:
    """``data row 7`` or ``17 data rows (3, 17, 204, 311, 350, … 12 more)`` (1-based)."""
    idx = sorted({int(i) + 1 for i in index})
    if len(idx) == 1:
        return f"data row {idx[0]}"
    shown = ", ".join(map(str, idx[:SHOW]))
    more = f", … {len(idx) - SHOW} more" if len(idx) > SHOW else ""
    return f"{len(idx)} data rows ({shown}{more})"


def values_text(values) -> str:
    uniq = list(dict.fromkeys(_plain(v) for v in values))
    shown = ", ".join(show_value(v) for v in uniq[:SHOW])
    return shown + (f" and {len(uniq) - SHOW} other values" if len(uniq) > SHOW else "")


def show_value(v) -> str:
    """``repr(v)``, with every character one cannot see written as ``\\uXXXX``
    (``repr`` already escapes zero-width and odd spaces, not combining marks),
    so a value that differs from a label only invisibly looks different."""
    text = repr(v)
    if isinstance(v, str):
        text = "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) == "Mn" else ch for ch in text)
    return text


def _lookalikes(values, var) -> str:
    """"; 'Tår\\u200bnby' differs from the label 'Tårnby' only by invisible
    characters (U+200B ZERO WIDTH SPACE)" for values that look like a label."""
    if not var.values:
        return ""
    labels = {}
    for text in var.values.values():
        for label in text.values():
            labels.setdefault(skeleton(label), label)
    notes = []
    for v in dict.fromkeys(values):
        if not isinstance(v, str):
            continue
        label = labels.get(skeleton(v))
        if label is not None and _norm(v) != _norm(label):
            odd = ", ".join(dict.fromkeys(f"U+{ord(ch):04X} {unicodedata.name(ch, '?')}" for ch in invisible_chars(v)))
            notes.append(f"{show_value(v)} differs from the label {label!r} only by characters one cannot see"
                         + (f" ({odd})" if odd else " (another form of the same letters)"))
        if len(notes) == SHOW:
            break
    return "".join(f"; {n}: retype it" for n in notes)


def _plain(v):
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) or v == "":
        return "(empty)"
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return int(v) if float(v).is_integer() else float(v)
    return v


def _codes_text(var) -> str:
    codes = ", ".join(f"{c} ({t['da']})" for c, t in list(var.values.items())[:8])
    more = f", … {len(var.values)} codes in all" if len(var.values) > 8 else ""
    miss = f"; missing codes {', '.join(map(str, var.missing))}" if var.missing else ""
    return f"expected a code of the codebook: {codes}{more}{miss}, or empty"


# --------------------------------------------------------------------------------------
# column checks: a pandera schema made from the codebook
# --------------------------------------------------------------------------------------
def _numeric(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers, and a mask of the cells that hold something that is not a number."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64"), pd.Series(False, index=s.index)
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64"), pd.Series(False, index=s.index)
    num = pd.to_numeric(s.astype("string").str.strip().str.replace(",", ".", regex=False), errors="coerce")
    bad = s.notna() & num.isna() & (s.astype("string").str.strip() != "")
    return num.astype("float64"), bad


def _pandera():
    try:  # pandera >= 0.24
        import pandera.pandas as pa
    except ImportError:  # pragma: no cover - older pandera
        import pandera as pa
    return pa


@dataclass(frozen=True)
class _Rule:
    """What the codebook asks of one column (on the numeric view of a file)."""

    name: str
    required: bool              # a design variable: no cell may be empty
    unique: bool                # the respondent id
    codes: list | None          # the codes of its value labels and its missing codes
    whole: bool                 # an integer variable
    range: tuple | None         # an integer variable's range, both ends included


def _column_rules(codebook: Codebook) -> list[_Rule]:
    """The column rules of the codebook's variables: what :func:`schema` and
    :func:`_columns_pass` both check."""
    design = codebook.meta["design"]
    required = {design["strata"], design["stratum_population"], design["id"]}
    rules = []
    for var in codebook.variables.values():
        whole = var.type == "integer"
        rules.append(_Rule(var.name, var.name in required, var.name == design["id"],
                           sorted(set(var.values) | set(var.missing))
                           if var.type in ("category", "binary") and var.values else None,
                           whole, tuple(var.range) if whole and var.range else None))
    return rules


def _columns_pass(view: pd.DataFrame, codebook: Codebook) -> bool:
    """Whether the numeric view passes every check of :func:`schema`, checked with pandas
    alone (as pandera does: a check skips empty cells; a design variable may have none;
    the id is unique).  Never more lenient than the schema: where in doubt it says no,
    and the schema decides."""
    for r in _column_rules(codebook):
        if r.name not in view.columns:
            continue
        s = view[r.name]
        if (r.required and s.isna().any()) or (r.unique and s.duplicated().any()):
            return False
        if r.codes is None and not r.whole:
            continue
        v = s.dropna()
        if not pd.api.types.is_numeric_dtype(v):
            return False
        if r.codes is not None and not v.isin(r.codes).all():
            return False
        if r.whole and not (v == np.round(v)).all():
            return False
        if r.range and not ((v >= r.range[0]) & (v <= r.range[1])).all():
            return False
    return True


def schema(codebook: Codebook):
    """Column checks of the codebook's variables on the numeric view of a file (a pandera
    ``DataFrameSchema``)."""
    pa = _pandera()
    cols = {}
    for r in _column_rules(codebook):
        checks = []
        if r.codes is not None:
            checks.append(pa.Check.isin(r.codes, name="codes"))
        if r.whole:
            checks.append(pa.Check(lambda s: s == np.round(s), element_wise=False, name="whole"))
        if r.range:
            checks.append(pa.Check.in_range(r.range[0], r.range[1], name="range"))
        cols[r.name] = pa.Column(None, checks=checks, nullable=not r.required, unique=r.unique, required=False)
    return pa.DataFrameSchema(cols, strict=False, coerce=False)


def _column_problems(raw: pd.DataFrame, codebook: Codebook, where: str) -> tuple[list[str], pd.DataFrame]:
    out: list[str] = []
    bad_cells: dict[str, set] = {}
    view = pd.DataFrame(index=raw.index)
    for var in codebook.variables.values():
        if var.name not in raw.columns:
            continue
        col = raw[var.name]
        if var.type == "string":
            view[var.name] = col.astype("string")
            continue
        num, bad = _numeric(col)
        if bad.any():
            bad_cells[var.name] = set(col.index[bad])
            out.append(f"{where}: column {var.name!r} ({var.type}): text {values_text(col[bad])} in "
                       f"{rows_text(col.index[bad])}: expected numbers"
                       + (f" or their labels ({', '.join(repr(t['da']) for t in list(var.values.values())[:4])})"
                          if var.values else "") + _lookalikes(col[bad], var))
        view[var.name] = num
    if _columns_pass(view, codebook):
        return out, view
    from .privacy import text_repr_unguarded

    pa = _pandera()
    try:
        with text_repr_unguarded():  # pandera puts the failing column's text in a message we never show
            schema(codebook).validate(view, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        for (col, check), g in fc.groupby(["column", "check"], sort=False, dropna=False):
            var = codebook.variables.get(col)
            if var is None:
                continue
            keep = ~g["index"].isin(bad_cells.get(col, set()))
            idx, vals, check = g["index"][keep].dropna(), g["failure_case"][keep], str(check)
            if not len(idx) and "unique" not in check:
                continue
            if check.startswith(("codes", "isin")):
                msg = f"values {values_text(vals)} in {rows_text(idx)} are not codes of its value labels: {_codes_text(var)}"
            elif check.startswith("whole"):
                msg = f"values {values_text(vals)} in {rows_text(idx)}: expected whole numbers"
            elif check.startswith(("range", "in_range")):
                msg = f"values {values_text(vals)} in {rows_text(idx)}: expected {var.range[0]} to {var.range[1]}"
            elif "not_nullable" in check:
                msg = f"empty in {rows_text(idx)}: every respondent needs a value (design variable)"
            elif "field_uniqueness" in str(check) or "unique" in str(check):
                dup = raw[col][raw[col].duplicated(keep=False) & raw[col].notna()]
                verb = "ids occur" if dup.nunique() > 1 else "id occurs"
                msg = (f"{dup.nunique()} {verb} ({values_text(dup)}) more than once, in {rows_text(dup.index)}: "
                       "expected one row per respondent; remove the duplicated rows")
            else:
                msg = f"values {values_text(vals)} in {rows_text(idx)} fail the check {check}"
            out.append(f"{where}: column {col!r}: {msg}")
    return out, view


# --------------------------------------------------------------------------------------
# design checks
# --------------------------------------------------------------------------------------
def stratum_keys(s: pd.Series) -> pd.Series:
    """Stratum codes as text, so that 3, 3.0 and "3" are the same stratum."""
    num = pd.to_numeric(s, errors="coerce")
    if num.notna().sum() == s.notna().sum() and (num.dropna() == num.dropna().round()).all():
        return num.astype("Int64").astype("string")
    return s.astype("string").str.strip()


def _design_problems(view: pd.DataFrame, raw: pd.DataFrame, codebook: Codebook, where: str,
                     frame: pd.DataFrame | None, frame_where: str) -> list[str]:
    out = []
    design = codebook.meta["design"]
    strata, n_col = design["strata"], design["stratum_population"]
    s, n = stratum_keys(view[strata]), view[n_col]
    ok = s.notna() & n.notna()
    size = s[ok].value_counts()
    for h in size[size == 1].index:
        rows = s.index[s == h]
        out.append(f"{where}: column {strata!r}: stratum {h!r} has one respondent only, in {rows_text(rows)}: "
                   "its variance cannot be estimated; collapse it with a neighbouring stratum")
    spread = n[ok].groupby(s[ok]).agg(["min", "max", "size"])
    for h, r in spread[spread["min"] != spread["max"]].iterrows():
        rows = s.index[s == h]
        out.append(f"{where}: column {n_col!r}: values {values_text(n[s == h].dropna().unique())} differ within "
                   f"stratum {h!r}, in {rows_text(rows)}: expected one population count per stratum")
    few = spread[(spread["min"] == spread["max"]) & (spread["max"] < spread["size"])]
    for h, r in few.iterrows():
        out.append(f"{where}: column {n_col!r}: stratum {h!r} has {int(r['size'])} respondents but a population "
                   f"of {_plain(r['max'])}: expected at least as many workplaces as respondents")
    if WEIGHT_COLUMN in raw.columns:
        w, bad_text = _numeric(raw[WEIGHT_COLUMN])
        for mask, what in ((w.isna() | bad_text, "are missing or not numbers"), (w <= 0, "are zero or negative"),
                           (np.isinf(w), "are infinite")):
            if mask.any():
                shown = w[mask].astype(object).where(w[mask].notna(), raw[WEIGHT_COLUMN][mask])
                out.append(f"{where}: column {WEIGHT_COLUMN!r}: weights {values_text(shown)} in "
                           f"{rows_text(raw.index[mask])} {what}: expected positive numbers")
    for g, items in codebook.groups.items():
        cap = codebook.variables[items[0]].max_chosen
        present = [c for c in items if c in view.columns]
        if cap and present:
            chosen = (view[present] == 1).sum(axis=1)
            over = chosen > cap
            if over.any():
                out.append(f"{where}: columns of {g} ({present[0]} … {present[-1]}): {values_text(chosen[over])} items "
                           f"chosen in {rows_text(view.index[over])}: expected at most {cap}")
    if frame is not None:
        out += _frame_problems(s[ok], n[ok], frame, strata, n_col, where, frame_where)
    return out


def _frame_problems(s, n, frame, strata, n_col, where, frame_where) -> list[str]:
    if strata not in frame.columns:
        return [f"{frame_where}: column {strata!r} is missing: the frame needs the stratum of every unit "
                f"(columns found: {', '.join(map(str, frame.columns[:8]))})"]
    counts = stratum_keys(frame[strata]).value_counts()
    pop = n.groupby(s).first()
    out = []
    unknown = sorted(set(pop.index) - set(counts.index))
    if unknown:
        rows = s.index[s.isin(unknown)]
        out.append(f"{where}: column {strata!r}: strata {values_text(unknown)} in {rows_text(rows)} are not in the "
                   f"frame {frame_where}: expected strata of the frame")
    empty = sorted(set(counts.index) - set(pop.index))
    if empty:
        out.append(f"{frame_where}: column {strata!r}: {len(empty)} strata of the frame have no respondents "
                   f"({values_text(empty)}): collapse them with a neighbouring stratum")
    common = pop.index.intersection(counts.index)
    off = pop[common][pop[common] != counts[common]]
    if len(off):
        pairs = ", ".join(f"{h!r}: {_plain(off[h])} in the data, {int(counts[h])} in the frame"
                          for h in list(off.index)[:SHOW])
        out.append(f"{where}: column {n_col!r}: the frame's unit counts do not match the data's population counts "
                   f"in {len(off)} strata ({pairs}{' …' if len(off) > SHOW else ''}): expected equal totals; "
                   "is it the frame of the same edition?")
    return out


def _universe_problems(view: pd.DataFrame, codebook: Codebook, where: str) -> list[str]:
    try:
        prepared = codebook.prepare(view)
    except Exception as exc:  # noqa: BLE001 - a derived variable that cannot be computed is a data problem
        return [f"{where}: the codebook's derived variables cannot be computed from these columns: {exc}"]
    out = []
    checked: dict[str, pd.Series] = {}
    for var in codebook.variables.values():
        if var.name not in prepared.columns or var.universe == "all" or var.sensitive:
            continue
        if var.universe not in checked:
            try:
                checked[var.universe] = codebook.universe_mask(prepared, var.universe)
            except Exception as exc:  # noqa: BLE001
                out.append(f"{where}: universe {var.universe!r} cannot be evaluated: {exc}")
                checked[var.universe] = pd.Series(False, index=prepared.index)
                continue
        mask = checked[var.universe]
        if not mask.any():
            out.append(f"{where}: column {var.name!r}: its universe ({var.universe}) is empty: no respondent was "
                       "asked; check the filter variables")
        elif prepared.loc[mask, var.name].isna().all():
            out.append(f"{where}: column {var.name!r}: none of the {int(mask.sum())} respondents in its universe "
                       f"({var.universe}) has an answer: expected answers (is the column empty or mis-coded?)")
    # one line per root cause: a universe narrower than one already reported empty is not repeated
    empty, lines = [], []
    for line in out:
        if ": its universe (" in line:
            universe = line.split(": its universe (")[1].split(") is empty")[0]
            if any(e in universe for e in empty):
                continue
            empty.append(universe)
        lines.append(line)
    return lines


# --------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------
def problems(raw: pd.DataFrame, codebook: Codebook, path: str | Path, frame: pd.DataFrame | None = None,
             frame_path: str | Path | None = None) -> list[str]:
    """Every problem of ``raw`` (and ``frame``) as one line each; empty when all is well."""
    where = str(path)
    design = codebook.meta["design"]
    known = set(codebook.variables) | {WEIGHT_COLUMN}
    missing = [c for c in codebook.variables if c not in raw.columns]
    out = []
    if missing:
        out.append(f"{where}: {len(missing)} column{'s' if len(missing) > 1 else ''} of the "
                   f"{codebook.edition}-{codebook.country} codebook missing: {', '.join(missing[:10])}"
                   f"{' …' if len(missing) > 10 else ''} (file has {len(raw.columns)} columns: "
                   f"{', '.join(map(str, raw.columns[:6]))}{' …' if len(raw.columns) > 6 else ''})")
    extra = [c for c in raw.columns if c not in known]
    if extra:
        out.append(f"{where}: {len(extra)} unexpected column{'s' if len(extra) > 1 else ''} not in the "
                   f"{codebook.edition}-{codebook.country} codebook: {', '.join(map(str, extra[:10]))}"
                   f"{' …' if len(extra) > 10 else ''}: rename them to the codebook's names or remove them")
    col_lines, view = _column_problems(raw, codebook, where)
    out += col_lines
    if any(c not in raw.columns for c in (design["strata"], design["stratum_population"])) or col_lines:
        return out  # design checks need sound design columns
    out += _design_problems(view, raw, codebook, where, frame, str(frame_path) if frame_path else "(frame)")
    if not missing:
        out += _universe_problems(view, codebook, where)
    return out


def validate(raw: pd.DataFrame, codebook: Codebook, path: str | Path, frame: pd.DataFrame | None = None,
             frame_path: str | Path | None = None) -> None:
    found = problems(raw, codebook, path, frame, frame_path)
    if found:
        raise ValidationError(found)
