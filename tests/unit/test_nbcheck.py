"""Key-figure cells: tolerance, readable differences, one cell numbering (barometer.nbcheck)."""

import json

import pytest

from barometer import nbcheck
from barometer.engine.result import JobFailure
from barometer.errors import notebook_failure


@pytest.mark.parametrize("got, same", [
    ("dk innovations init_employees: 50.5 % (n=1942) p=0.0123", True),
    ("dk innovations init_employees: 50.6 % (n=1942) p=0.0123", True),    # one unit in the last decimal
    ("dk innovations init_employees: 50.7 % (n=1942) p=0.0123", False),   # past the rounding
    ("dk innovations init_employees: 50.5 % (n=1943) p=0.0123", False),   # counts exactly
    ("dk innovations init_employees: 50.5 % (n=1942) p=0.0125", False),
    ("dk innovations init_managers: 50.5 % (n=1942) p=0.0123", False),    # the words exactly
    ("dk innovations init_employees:   50.5 % (n=1942) p=0.0123  ", False),
])
def test_tolerance(got, same):
    assert nbcheck.same_key_figures("dk innovations init_employees: 50.5 % (n=1942) p=0.0123", got) is same


def test_minus_zero_and_trailing_space_are_formatting_noise():
    assert nbcheck.same_key_figures("a: -0.0 %\nb: 1.0 % ", "a: 0.0 %\nb: 1.0 %")


def test_readable_diff_names_lines_without_colour_codes():
    diff = nbcheck.readable_diff("a: 1.0 %\nb: 2.0 %", "\x1b[31ma: 1.0 %\nb: 9.0 %\x1b[0m")
    assert diff == "  line 2 expected: b: 2.0 %\n  line 2 got:      b: 9.0 %"
    assert "\x1b" not in diff


def _nb(failing_index):
    cells = [{"cell_type": "markdown", "source": "x"},
             {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": 1, "outputs": []},
             {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "execution_count": 2, "outputs": []},
             {"cell_type": "code", "metadata": {}, "execution_count": 3, "outputs": []},
             {"cell_type": "code", "metadata": {}, "execution_count": 4, "outputs": []}]
    cells[failing_index]["outputs"] = [{"output_type": "error", "ename": "E", "evalue": "v", "traceback": []}]
    return cells


def test_the_build_error_names_the_code_cell_as_saved_which_nbval_names_too(tmp_path):
    kept = tmp_path / "07.ipynb"
    kept.write_text(json.dumps({"cells": _nb(4)}), encoding="utf-8")
    msg = notebook_failure("07.ipynb", JobFailure(ename="E", evalue="v", cell=4, traceback=[]), kept)
    # papermill's execution count 4 is the third code cell of the saved notebook (no injected cell there)
    assert "failed in code cell 3 (E: v)" in msg
    saved = [c for c in _nb(4) if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    assert nbcheck.code_cell_number(saved, 3) == 3  # what notebooks/conftest.py names the nbval item
    assert nbcheck.failed_code_cell(json.dumps({"cells": _nb(3)}), None) == 2
