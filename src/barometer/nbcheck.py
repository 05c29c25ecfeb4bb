"""How the notebooks' key-figure cells are checked (nbval, ``make test-notebooks``), and
which cell a message names.

* **One cell numbering**: "code cell N" is the N-th code cell of the notebook as
  saved, counted from 1 (JupyterLab's number after "Run all"; papermill's
  injected-parameters cell is not counted).  nbval's items (``notebooks/conftest.py``)
  and the build's error line (:func:`barometer.errors.notebook_failure`) both use it.
* **Tolerance** (:func:`same_key_figures`): the text of a key-figure cell must be the
  same apart from its numbers; a number with decimals may differ by one unit in its
  last printed decimal (``50.5 %`` against ``50.4 %``: float noise across a rounding
  boundary; ``50.3 %`` fails), ``-0.0`` equals ``0.0``, and whole numbers (the
  ``n=`` counts) must be equal.
* **Readable differences** (:func:`readable_diff`): expected and got, line by line,
  without colour codes.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
INJECTED_TAG = "injected-parameters"


def plain(text: str) -> str:
    """``text`` without terminal colour codes."""
    return _ANSI.sub("", text)


def _skeleton(text: str) -> tuple[str, list[str]]:
    text = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return _NUMBER.sub("#", text), _NUMBER.findall(text)


def same_number(expected: str, got: str) -> bool:
    a, b = Decimal(expected), Decimal(got)
    if "." not in expected or "." not in got:
        return a == b  # whole numbers (counts) exactly
    places = min(len(expected.split(".")[1]), len(got.split(".")[1]))
    return abs(a - b) <= Decimal(1).scaleb(-places)


def same_key_figures(expected: str, got: str) -> bool:
    """True when ``got`` is ``expected`` within the tolerance of the module's text."""
    (skel_a, nums_a), (skel_b, nums_b) = _skeleton(expected), _skeleton(got)
    return skel_a == skel_b and len(nums_a) == len(nums_b) and all(map(same_number, nums_a, nums_b))


def readable_diff(expected: str, got: str) -> str:
    """The lines that differ, as ``expected:`` / ``got:`` pairs (no colour codes)."""
    a, b = plain(expected).strip().splitlines(), plain(got).strip().splitlines()
    out = []
    for i in range(max(len(a), len(b))):
        left, right = (a[i] if i < len(a) else "(no line)"), (b[i] if i < len(b) else "(no line)")
        if left.rstrip() != right.rstrip() and not same_key_figures(left, right):
            out += [f"  line {i + 1} expected: {left}", f"  line {i + 1} got:      {right}"]
    return "\n".join(out) or "  (the texts differ only in their line count or spacing)"


def code_cell_number(cells: list[dict], index: int) -> int:
    """The "code cell N" of the cell at ``index`` of ``cells`` (1-based, code cells only,
    papermill's injected-parameters cell left out)."""
    n = 0
    for i, c in enumerate(cells):
        if c.get("cell_type") == "code" and INJECTED_TAG not in (c.get("metadata", {}).get("tags") or []):
            n += 1
        if i == index:
            return n
    raise IndexError(index)


def failed_code_cell(executed_nb: str, exec_count: int | None) -> int | None:
    """The "code cell N" that failed in an executed notebook's JSON text: the cell with
    an error output, else the one whose execution count is ``exec_count``; None if neither."""
    try:
        cells = json.loads(executed_nb).get("cells", [])
    except (ValueError, AttributeError):
        return None
    for want in ("error", "count"):
        for i, c in enumerate(cells):
            if c.get("cell_type") != "code":
                continue
            if want == "error" and any(o.get("output_type") == "error" for o in c.get("outputs", [])):
                return code_cell_number(cells, i)
            if want == "count" and exec_count is not None and c.get("execution_count") == exec_count:
                return code_cell_number(cells, i)
    return None
