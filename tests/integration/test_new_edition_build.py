"""A scaffolded edition builds end to end, --check-edition lists its open values, and a
notebook edit that breaks another edition stops the build before any notebook runs.

Each runs ``build.py`` in a copy of the project (``BAROMETER_ROOT``)."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from scratchroot import scratch_root

from barometer.paths import ROOT

pytestmark = pytest.mark.slow


def _cli(root: Path, *args, timeout=600):
    env = dict(os.environ, BAROMETER_ROOT=str(root))
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return scratch_root(tmp_path_factory, "new-edition")


@pytest.fixture(scope="module")
def scaffolded(root):
    r = _cli(root, "new-edition", "2027", "--from", "2024")
    assert r.returncode == 0, r.stderr
    return r


def test_new_edition_writes_every_file_and_refuses_to_overwrite(root, scaffolded):
    for rel in ("data/report/2027.yaml", "data/codebook/2027-dk.yaml", "data/synth/2027.yaml",
                "data/content/2027/README.md", "data/content/2027/cases"):
        assert (root / rel).exists(), rel
        assert f"wrote {rel}" in scaffolded.stdout or rel.endswith("cases")
    before = {p: p.read_bytes() for p in (root / "data").rglob("*") if p.is_file() and "synthetic" not in p.parts}
    r = _cli(root, "new-edition", "2027", "--from", "2021")
    assert r.returncode == 2 and "exists already" in r.stderr and "Traceback" not in r.stderr
    assert {p: p.read_bytes() for p in before} == before


def test_check_edition_lists_the_open_values(root, scaffolded):
    r = _cli(root, "--check-edition", "2027")
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.splitlines()
    assert lines[0].startswith("error: edition 2027 is not ready")
    copied = [ln for ln in lines if ln.startswith("copied: ")]
    for f in ("data/report/2027.yaml", "data/codebook/2027-dk.yaml", "data/synth/2027.yaml",
              "data/targets/published_targets.csv", "data/harmonisation.csv", "data/report/measures.yaml"):
        assert any(ln.startswith(f"copied: {f}:") for ln in copied), f
    assert any("2021-2023" in ln for ln in copied) and any("4. udgave" in ln for ln in copied)
    assert "Traceback" not in r.stderr
    ok = _cli(root, "--check-edition", "2024")  # the source is untouched by its copy
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stderr


def test_the_scaffolded_edition_builds_end_to_end(root, scaffolded):
    r = _cli(root, "--edition", "2027", "--no-pdf", "--jobs", "2")
    assert r.returncode == 0, r.stderr
    out = root / "_build" / "2027-dk-da"
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["parameters"]["edition"] == "2027" and m["parameters"]["synthetic"]
    assert m["targets"]["checked"] >= 3 and m["targets"]["reproduced"] == m["targets"]["checked"]
    assert (root / "data" / "synthetic" / "2027" / "dk" / "respondents.csv").is_file()  # generated from the copied model
    with (out / "estimates.csv").open(encoding="utf-8", newline="") as f:
        est = list(csv.DictReader(f))
    trend = {r["category"] for r in est if r["figure_id"].startswith("trend_")}
    assert trend == {"2018", "2021", "2024", "2027"}  # the edition comparison includes the new edition
    front = (out / "index.html").read_text(encoding="utf-8")
    assert "Innovationsbarometeret 2027" in front and "Traceback" not in front


def test_a_figure_that_another_edition_lacks_stops_the_build_at_plan_time(tmp_path_factory):
    root = scratch_root(tmp_path_factory, "lint")
    nb_path = root / "notebooks" / "07_collaboration.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    cell = nbformat.v4.new_code_cell('citizens = ch.show("citizens_by_level")')
    nb.cells.insert(4, cell)
    nbformat.write(nb, nb_path)
    r = _cli(root, "--no-pdf", timeout=300)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "running" not in r.stdout and "Traceback" not in r.stderr  # no notebook ran
    err = r.stderr
    for edition in ("2018", "2021", "2024"):
        assert f"edition {edition}: notebooks/07_collaboration.ipynb, code cell 4 (id {cell.id}), line 1" in err
        assert f"data/report/{edition}.yaml" in err
    assert 'if "citizens_by_level" in ch.figures():' in err
    assert not (root / "_build" / "2018-dk-da").exists()
