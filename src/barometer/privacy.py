"""No microdata in anything the build publishes.

Two guards:

* **in the notebooks**: :func:`install_display_guard` (called by every
  :class:`~barometer.report.Chapter`) makes IPython refuse to display a data
  frame or series that has a sensitive column (ids, names, free text) or more
  rows than a published table can have; the cell fails with
  :class:`MicrodataError`, so the build stops before anything is published.
* **on the output**: :func:`scan` looks through every file of a finished
  build (pages, CSV, JSON, SVG, executed notebooks, the PDF's text) for every
  respondent id and every value of a sensitive column of the input; the build
  fails if one is found, and the leaking output is deleted, not kept.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
from .errors import BuildError

MAX_TABLE_ROWS = 200  # more rows than any published table (98 municipalities, 15 sub-sectors) has
MIN_NEEDLE = 5  # shorter sensitive values ("Ja", "12") are not distinctive enough to search for
TEXT_SUFFIXES = {".html", ".htm", ".csv", ".json", ".ipynb", ".svg", ".txt", ".md", ".js", ".xml", ".tsv"}


class MicrodataError(BuildError):
    """Microdata were about to be displayed or were found in an output file."""


# --------------------------------------------------------------------------------------
# display guard
# --------------------------------------------------------------------------------------
def check_displayable(obj, sensitive: set[str], max_rows: int = MAX_TABLE_ROWS) -> None:
    """Raise :class:`MicrodataError` if ``obj`` looks like microdata."""
    if type(obj).__name__ == "Styler" and isinstance(getattr(obj, "data", None), pd.DataFrame):
        obj = obj.data
    if isinstance(obj, pd.Series):
        cols = {obj.name} if obj.name is not None else set()
        cols |= {n for n in (obj.index.names or []) if n is not None}
    elif isinstance(obj, pd.DataFrame):
        cols = {str(c) for c in obj.columns} | {n for n in (obj.index.names or []) if n is not None}
    else:
        return
    bad = sorted(str(c) for c in cols & set(sensitive))
    if bad:
        raise MicrodataError(f"refusing to display a {type(obj).__name__} with sensitive column(s) {bad}: "
                             "ids, names and free text are never shown; aggregate first (barometer.estimates)")
    if len(obj) > max_rows:
        raise MicrodataError(f"refusing to display a {type(obj).__name__} of {len(obj)} rows (more than "
                             f"{max_rows}, the most a published table has): it looks like microdata; "
                             "aggregate first (barometer.estimates)")


def install_display_guard(sensitive, max_rows: int = MAX_TABLE_ROWS) -> bool:
    """Make the running IPython refuse to display microdata (False outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    ip = get_ipython()
    if ip is None:
        return False
    fmt = ip.display_formatter
    original = getattr(fmt, "_barometer_original_format", None) or fmt.format
    sensitive = set(sensitive) | getattr(fmt, "_barometer_sensitive", set())

    def guarded(obj, include=None, exclude=None):
        check_displayable(obj, sensitive, max_rows)
        return original(obj, include=include, exclude=exclude)

    fmt._barometer_original_format = original
    fmt._barometer_sensitive = sensitive
    fmt.format = guarded
    guard_text_repr(sensitive, max_rows)
    return True


def guard_text_repr(sensitive, max_rows: int = MAX_TABLE_ROWS) -> None:
    """``print(frame)`` and ``str(frame)`` refuse microdata too (in a notebook's kernel:
    its output is saved in the notebook).  Wraps the text forms of DataFrame and Series once."""
    sensitive = set(sensitive)
    for cls in (pd.DataFrame, pd.Series):
        original = getattr(cls, "_barometer_original_repr", None) or cls.__repr__
        cls._barometer_original_repr = original
        cls._barometer_sensitive = sensitive | getattr(cls, "_barometer_sensitive", set())

        def guarded(self, _original=original, _cls=cls):
            check_displayable(self, _cls._barometer_sensitive, max_rows)
            return _original(self)

        cls.__repr__ = guarded
        if cls is pd.DataFrame:
            cls.__str__ = guarded  # Series.__str__ is object.__str__, which calls __repr__


@contextlib.contextmanager
def text_repr_unguarded():
    """The text forms of frames as pandas made them, for code whose text never reaches a
    notebook's output (pandera formats the failing column into a message the validation
    replaces with its own one line); the guard is back afterwards."""
    saved = [(cls, name, cls.__dict__[name]) for cls in (pd.DataFrame, pd.Series)
             if getattr(cls, "_barometer_original_repr", None) is not None
             for name in ("__repr__", "__str__") if name in cls.__dict__]
    for cls, name, _ in saved:
        if name == "__repr__":
            cls.__repr__ = cls._barometer_original_repr
        else:
            delattr(cls, name)  # DataFrame's own __str__ is inherited (NDFrame), as before the guard
    try:
        yield
    finally:
        for cls, name, value in saved:
            setattr(cls, name, value)


# --------------------------------------------------------------------------------------
# output scan
# --------------------------------------------------------------------------------------
def needles_from(df: pd.DataFrame, codebook) -> set[str]:
    """Respondent ids and sensitive values of ``df`` worth searching for."""
    cols = set(codebook.sensitive) | {codebook.meta["design"]["id"]}
    out: set[str] = set()
    for c in cols:
        if c in df.columns:
            vals = df[c].dropna().astype(str).str.strip()
            out |= {v for v in vals if len(v) >= MIN_NEEDLE}
    return out


def _key(needle: str) -> str:
    tokens = re.findall(r"\w+", needle)
    return max(tokens, key=len) if tokens else needle


#: notebook outputs whose value is base64 of a binary (a picture): no text to find in them,
#: but most of an executed notebook's bytes (and, cut into words, most of its scan time)
BINARY_MIMES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})


def _strings(obj, out: list[str]) -> None:
    """Every string of parsed JSON (keys too), decoded (real newlines, æøå), except the
    base64 payloads of :data:`BINARY_MIMES`."""
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out.append(k)
            if k not in BINARY_MIMES:
                _strings(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _strings(v, out)
    elif obj is not None and not isinstance(obj, bool):
        out.append(str(obj))


def _texts(path: Path) -> list[str]:
    if path.suffix == ".pdf":
        if not shutil.which("pdftotext"):
            return []  # the PDF is made from the chapter pages, which are scanned as HTML
        r = subprocess.run(["pdftotext", "-q", str(path), "-"], capture_output=True, text=True, timeout=120)
        return [r.stdout, " ".join(r.stdout.split())]
    if path.suffix.lower() not in TEXT_SUFFIXES:
        return []
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix in (".json", ".ipynb"):
        try:
            parsed = json.loads(text)
        except ValueError:
            pass
        else:  # its strings as the reader sees them, each on its own line
            strings: list[str] = []
            _strings(parsed, strings)
            text = "\n".join(strings)
    return [text, html.unescape(text)]


#: files found clean, by the digest of (needles, suffix, bytes), kept only once
#: :func:`remember_clean` was called (a long-lived process: the preview's builds)
_CLEAN: dict = {"on": False, "seen": set()}


def remember_clean(on: bool = True) -> None:
    """Let :func:`scan` remember the files it found clean (this process's later scans with
    the same needles skip a file with the same bytes); off also forgets them."""
    _CLEAN["on"] = on
    _CLEAN["seen"].clear()


def _needles_digest(needles: set[str]) -> bytes:
    import hashlib

    return hashlib.blake2b("\0".join(sorted(needles)).encode("utf-8"), digest_size=16).digest()


def _file_digest(path: Path, needles_digest: bytes) -> bytes:
    import hashlib

    h = hashlib.blake2b(needles_digest + path.suffix.lower().encode("utf-8") + b"\0", digest_size=16)
    h.update(path.read_bytes())
    return h.digest()


def scan(folder: Path, needles: set[str]) -> list[tuple[Path, str]]:
    """Files under ``folder`` that contain one of ``needles``, with the first found."""
    by_key: dict[str, list[str]] = {}
    for n in needles:
        by_key.setdefault(_key(n), []).append(n)
    found = []
    remember = _CLEAN["on"]
    nd = _needles_digest(needles) if remember else b""
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        digest = _file_digest(p, nd) if remember else None
        if digest is not None and digest in _CLEAN["seen"]:
            continue
        for text in _texts(p):
            tokens = set(re.findall(r"\w+", text))
            hit = next((n for k in tokens & by_key.keys() for n in by_key[k]
                        if n in text and (not n.isdigit() or re.search(rf"(?<![\d.,]){n}(?![\d.,])", text))), None)
            if hit is not None:
                found.append((p, hit))
                break
        else:
            if digest is not None:
                _CLEAN["seen"].add(digest)
    return found


def check_outputs(folder: Path, needles: set[str]) -> None:
    """Raise :class:`MicrodataError` naming every output file that holds microdata."""
    leaks = scan(folder, needles)
    if leaks:
        lines = [f"{p.relative_to(folder)}: contains {v[:12]!r}…" for p, v in leaks[:10]]
        raise MicrodataError(f"{len(leaks)} output file(s) contain respondent ids or sensitive answers of the input "
                             "(never published; the output was deleted):\n" + "\n".join(lines))
