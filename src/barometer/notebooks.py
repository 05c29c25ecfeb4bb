"""Notebook hygiene: outputs stay out of git except the key-figure cells.

``python -m barometer.notebooks strip``    remove every output except those of
                                          cells marked ``# NBVAL_CHECK_OUTPUT``
``python -m barometer.notebooks refresh``  execute each notebook with its
                                          defaults and store the new outputs of
                                          those cells (what nbval then checks)
``python -m barometer.notebooks check``    exit 1 if a notebook keeps other
                                          outputs or lacks a parameters cell
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import nbformat

from .paths import NOTEBOOK_DIR

MARK = "NBVAL_CHECK_OUTPUT"


def is_key_cell(cell) -> bool:
    return cell.cell_type == "code" and (MARK in cell.source or "nbval-check-output" in cell.metadata.get("tags", []))


def problems(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    out = []
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(params) != 1:
        out.append(f"{path.name}: needs exactly one cell tagged 'parameters' (found {len(params)})")
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code" and c.get("outputs") and not is_key_cell(c):
            out.append(f"{path.name}: cell {i} keeps outputs but is not a key-figure cell")
    return out


def strip(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for i, c in enumerate(nb.cells, 1):
        if c.cell_type == "code":
            if not is_key_cell(c):
                c.outputs = []
            # nbval needs an execution count on a reference cell with outputs
            c.execution_count = i if (is_key_cell(c) and c.outputs) else None
            c.metadata.pop("execution", None)
    nb.metadata.pop("papermill", None)
    nbformat.write(nb, path)


def refresh(path: Path) -> None:
    import papermill as pm

    from barometer.engine.forkserver import KERNEL_ARGS

    with tempfile.TemporaryDirectory() as tmp:
        executed = Path(tmp) / path.name
        pm.execute_notebook(str(path), str(executed), kernel_name="python3", progress_bar=False, cwd=str(path.parent),
                            extra_arguments=list(KERNEL_ARGS))  # nothing into the user's IPython history
        ran = nbformat.read(executed, as_version=4)
    nb = nbformat.read(path, as_version=4)
    by_id = {c.get("id"): c for c in ran.cells}
    for c in nb.cells:
        if is_key_cell(c):
            c.outputs = [o for o in by_id[c.get("id")].outputs if not (o.output_type == "stream" and o.name == "stderr")]
    nbformat.write(nb, path)
    strip(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m barometer.notebooks", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["strip", "refresh", "check"])
    ap.add_argument("notebooks", nargs="*", type=Path)
    a = ap.parse_args(argv)
    paths = a.notebooks or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    bad = []
    for p in paths:
        if a.action == "strip":
            strip(p)
        elif a.action == "refresh":
            print(f"executing {p.name} ...", flush=True)
            refresh(p)
        bad += problems(p)
    for line in bad:
        print(line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
