"""The parameters every chapter notebook takes, and their checks.

A build passes them to papermill; a notebook's :class:`~barometer.chapter.Chapter`
checks them again (a notebook can be run by hand).  Importing this module is
cheap (no pandas): the build plans with it.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError
from . import i18n
from .paths import DATA_DIR

COUNTRIES = ("dk", "no")
PARAMETERS = ("edition", "country", "lang", "data_path", "output_dir")  # what every chapter notebook takes

# The fan-out notebooks take these on top of PARAMETERS (src/barometer/engine/).
EXTRA_PARAMETERS = {"unit_report.ipynb": ("by", "unit"), "unit_index.ipynb": ("by", "estimates_path")}


class ParameterError(InputError):
    """A notebook or build parameter is missing, of the wrong type or not allowed."""


def editions() -> list[str]:
    return sorted(p.stem for p in (DATA_DIR / "report").glob("[0-9][0-9][0-9][0-9].yaml"))


def check_declared(notebook: Path) -> None:
    """The notebook's ``parameters`` cell declares exactly :data:`PARAMETERS`
    (plus its :data:`EXTRA_PARAMETERS`): an extra or misspelt one would be
    injected by papermill and silently ignored."""
    expected = set(PARAMETERS) | set(EXTRA_PARAMETERS.get(Path(notebook).name, ()))
    declared = declared_parameters(notebook)
    if declared != expected:
        extra, missing = sorted(declared - expected), sorted(expected - declared)
        raise ParameterError(f"{notebook}: the parameters cell must declare {', '.join(sorted(expected))}"
                             + (f"; unknown: {', '.join(extra)}" if extra else "")
                             + (f"; missing: {', '.join(missing)}" if missing else ""))


def declared_parameters(notebook: Path) -> set[str]:
    """The names the notebook's first cell tagged ``parameters`` assigns at its
    top level (what papermill's inspection finds, read with the standard library:
    the build checks every chapter before the notebook stack is imported)."""
    import ast
    import json

    try:
        nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ParameterError(f"{notebook}: not a readable notebook ({exc})") from None
    cell = next((c for c in nb.get("cells", []) if "parameters" in (c.get("metadata") or {}).get("tags", [])), None)
    if cell is None:
        return set()
    src = cell.get("source", "")
    try:
        tree = ast.parse("".join(src) if isinstance(src, list) else src)
    except SyntaxError as exc:
        raise ParameterError(f"{notebook}: the parameters cell is not valid Python (line {exc.lineno})") from None
    names = set()
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target if isinstance(node, ast.AnnAssign) \
            else None
        if isinstance(target, ast.Name):
            names.add(target.id)
    return names


def check_string(name: str, value) -> str:
    if not isinstance(value, str):
        raise ParameterError(f"parameter {name!r} must be a string, got {type(value).__name__}: {value!r}")
    return value


def validate_parameters(edition, country, lang, data_path="", output_dir="") -> dict:
    """Check the parameters every chapter notebook takes; return them cleaned."""
    for name, value in (("edition", edition), ("country", country), ("lang", lang),
                        ("data_path", data_path), ("output_dir", output_dir)):
        check_string(name, value)
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ParameterError(f"parameter {name!r} contains a line break or control character: {value!r}")
    if edition not in editions():
        raise ParameterError(f"unknown edition {edition!r}: choose one of {', '.join(editions())}")
    if country not in COUNTRIES:
        raise ParameterError(f"unknown country {country!r}: choose one of {', '.join(COUNTRIES)}")
    i18n.check_lang(lang)
    if data_path and not Path(data_path).exists():
        raise ParameterError(f"data file {data_path!r} does not exist")
    return {"edition": edition, "country": country, "lang": lang, "data_path": data_path, "output_dir": output_dir}
