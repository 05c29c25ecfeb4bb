"""Codebooks: every variable of an edition's survey file, per country.

A codebook (``data/codebook/<edition>-<country>.yaml``) names each variable
with its Danish and English label, question text, type, value labels, missing
codes and universe (a pandas query saying who was asked).  Multiple-response
questions are written once as a *group* and expanded here into one 0/1
variable per item.  *Derived* variables (e.g. ``innovative``) are computed from
the answers by :meth:`Codebook.derive`.

The file is validated against ``schemas/codebook.schema.json`` on load, so a
typo in a codebook is an error naming the file and the field, never a silent
mislabel in the report.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from typing import TYPE_CHECKING

import jsonschema

from .errors import InputError
from . import yamlio

from .paths import DATA_DIR, SCHEMA_DIR

if TYPE_CHECKING:  # pandas is imported where data are prepared: the build plans (codebook_path) without it
    import pandas as pd

LANGS = ("da", "en")


class CodebookError(InputError):
    """A codebook file is malformed or does not fit the data."""


@dataclass(frozen=True)
class Variable:
    name: str
    type: str
    label: dict
    universe: str = "all"
    question: dict | None = None
    values: dict | None = None  # code (int) -> {da, en}
    missing: tuple = ()
    range: tuple | None = None
    sensitive: bool = False
    group: str | None = None
    max_chosen: int | None = None


@dataclass(frozen=True)
class Derived:
    name: str
    label: dict
    expr: str
    missing_when: str | None = None
    universe: str | None = None


@dataclass
class Codebook:
    edition: str
    country: str
    meta: dict
    variables: dict[str, Variable]
    derived: dict[str, Derived]
    groups: dict[str, list[str]] = field(default_factory=dict)
    path: Path | None = None
    files: tuple[Path, ...] = ()

    # -- look-ups --------------------------------------------------------------
    def __getitem__(self, name: str) -> Variable:
        try:
            return self.variables[name]
        except KeyError:
            raise CodebookError(
                f"{self.path}: no variable {name!r} in the {self.edition}-{self.country} codebook"
            ) from None

    def label(self, name: str, lang: str = "da") -> str:
        if name in self.derived:
            return self.derived[name].label[lang]
        return self[name].label[lang]

    def question(self, name: str, lang: str = "da") -> str | None:
        var = self.variables.get(name)
        return var.question[lang] if var is not None and var.question else None

    @property
    def sensitive(self) -> list[str]:
        return [v.name for v in self.variables.values() if v.sensitive]

    # -- data preparation ------------------------------------------------------
    def prepare(self, df: pd.DataFrame) -> pd.DataFrame:
        """Recode missing codes to NaN, blank out answers outside each universe,
        and add derived variables.  Returns a new frame."""
        out = df.copy()
        for var in self.variables.values():
            if var.name not in out.columns:
                continue
            if var.missing:
                out[var.name] = out[var.name].where(~out[var.name].isin(var.missing))
        out = self.derive(out)
        return out

    def derive(self, df: pd.DataFrame) -> pd.DataFrame:
        import numpy as np

        for d in self.derived.values():
            value = evaluate(df, d.expr).astype("float64")
            if d.missing_when:
                value[evaluate(df, d.missing_when).fillna(False).astype(bool)] = np.nan
            df[d.name] = value
        for d in self.derived.values():
            if d.universe:
                df.loc[~self.universe_mask(df, d.universe), d.name] = np.nan
        return df

    def universe_mask(self, df: pd.DataFrame, universe: str) -> pd.Series:
        if universe == "all":
            import pandas as pd

            return pd.Series(True, index=df.index)
        return evaluate(df, universe).fillna(False).astype(bool)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def evaluate(df: pd.DataFrame, expr: str) -> pd.Series:
    """``df.eval(expr)`` on just the columns the expression names.

    pandas cleans every column name of the frame on each ``eval``; on a wide
    survey file that costs far more than the expression itself."""
    import pandas as pd

    cols = [c for c in dict.fromkeys(_NAME.findall(expr)) if c in df.columns]
    if "`" not in expr and "@" not in expr and cols:
        # pd.eval with the columns as its only resolvers: DataFrame.eval also
        # builds resolvers for the index and every column name (~7x slower)
        out = pd.eval(expr, resolvers=[{c: df[c] for c in cols}])
        if isinstance(out, pd.Series) and len(out) == len(df):
            return out
    return df[cols].eval(expr)


def _text(obj, where: str) -> dict:
    return {lang: str(obj[lang]) for lang in LANGS}


@functools.cache
def _schema() -> dict:
    return json.loads((SCHEMA_DIR / "codebook.schema.json").read_text(encoding="utf-8"))


def codebook_path(edition: str, country: str, codebook_dir: Path | None = None) -> Path:
    return (codebook_dir or DATA_DIR / "codebook") / f"{edition}-{country}.yaml"


def load_codebook(edition: str, country: str, codebook_dir: Path | None = None) -> Codebook:
    """Load and validate the codebook of one edition and country."""
    path = codebook_path(edition, country, codebook_dir)
    if not path.exists():
        available = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise CodebookError(
            f"no codebook for edition {edition}, country {country}: {path} does not exist "
            f"(available: {', '.join(available) or 'none'})"
        )
    try:
        raw = yamlio.load_file(path, what="codebook")
    except yamlio.YamlError as exc:  # too big, not YAML, aliases: one line naming the file
        raise CodebookError(str(exc)) from None
    errors = sorted(jsonschema.Draft202012Validator(_schema()).iter_errors(raw), key=lambda e: list(e.path))
    if errors:
        lines = [f"{path}: {'.'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in errors[:10]]
        raise CodebookError("codebook does not match its schema:\n" + "\n".join(lines))
    if raw["edition"] != edition or raw["country"] != country:
        raise CodebookError(f"{path}: says edition {raw['edition']}, country {raw['country']}; expected {edition}-{country}")

    files = [path]
    value_sets = {
        name: {int(code): _text(t, f"value_sets.{name}.{code}") for code, t in labels.items()}
        for name, labels in raw["value_sets"].items()
    }

    def resolve_values(spec: dict, where: str):
        if "values" in spec:
            if spec["values"] not in value_sets:
                raise CodebookError(f"{path}: {where}: unknown value set {spec['values']!r}")
            return value_sets[spec["values"]]
        if "values_file" in spec:
            vf = path.parent / spec["values_file"]
            files.append(vf)
            import pandas as pd

            table = pd.read_csv(vf, dtype={"name": str})
            return {int(r.code): {"da": r.name, "en": r.name} for r in table.itertuples()}
        return None

    variables: dict[str, Variable] = {}

    def add(var: Variable):
        if var.name in variables:
            raise CodebookError(f"{path}: variable {var.name!r} is defined twice")
        variables[var.name] = var

    for i, spec in enumerate(raw["variables"]):
        add(Variable(
            name=spec["name"], type=spec["type"], label=_text(spec["label"], ""),
            universe=spec["universe"], question=spec.get("question"),
            values=resolve_values(spec, f"variables[{i}] ({spec['name']})"),
            missing=tuple(spec.get("missing", ())), range=tuple(spec["range"]) if "range" in spec else None,
            sensitive=bool(spec.get("sensitive", False)),
        ))
    groups: dict[str, list[str]] = {}
    for g in raw.get("groups", []):
        values = resolve_values(g, f"group {g['name']}")
        groups[g["name"]] = []
        for item in g["items"]:
            add(Variable(
                name=item["name"], type="binary", label=_text(item["label"], ""),
                universe=item.get("universe", g["universe"]), question=g["question"],
                values=values, group=g["name"], max_chosen=g.get("max_chosen"),
            ))
            groups[g["name"]].append(item["name"])
    derived = {
        d["name"]: Derived(name=d["name"], label=_text(d["label"], ""), expr=d["expr"],
                           missing_when=d.get("missing_when"), universe=d.get("universe"))
        for d in raw.get("derived", [])
    }
    clash = set(derived) & set(variables)
    if clash:
        raise CodebookError(f"{path}: derived variables clash with answers: {sorted(clash)}")
    meta = {k: raw[k] for k in ("edition_number", "survey", "period", "unit", "respondent", "design")}
    return Codebook(edition=edition, country=country, meta=meta, variables=variables,
                    derived=derived, groups=groups, path=path, files=tuple(files))
