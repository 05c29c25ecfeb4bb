"""One edition's build: parallel chapters, an unchanged build not redone,
only the chapters whose inputs changed run again.

Builds run in a copy of the repository's data, notebooks and templates
(``BAROMETER_ROOT``), so a test may change a content file."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scratchroot import scratch_root

from barometer.paths import ROOT

pytestmark = pytest.mark.slow

OUT = "_build/2018-dk-da"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return scratch_root(tmp_path_factory)


def _build(root: Path, *args):
    env = dict(os.environ, BAROMETER_ROOT=str(root))
    return subprocess.run([sys.executable, str(ROOT / "build.py"), "--no-pdf", "--jobs", "2", *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)


def _manifest(root: Path) -> dict:
    return json.loads((root / OUT / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cold(root):
    r = _build(root)
    assert r.returncode == 0, r.stderr
    return _manifest(root)


def test_chapters_run_in_parallel_workers_and_are_recorded(cold, root):
    chapters = cold["tasks"]
    assert len(chapters) == 7 and {c["cache"] for c in chapters} == {"miss"}
    assert all(len(c["key"]) == 64 and c["seconds"] > 0 for c in chapters)
    uses = {c["notebook"]: c["uses"] for c in chapters}
    assert "data/synthetic/2018/dk/respondents.csv" in uses["00_front.ipynb"]
    assert "data/synthetic/2018/no/respondents.csv" in uses["08_norway.ipynb"]
    # a chapter's inputs are the fact boxes it fills; its cases, quotes and tools are filled in the page
    assert "data/content/2018/factboxes/citizens.yaml" in uses["07_collaboration.ipynb"]
    assert not any("/cases/" in u or "/quotes/" in u for u in uses["07_collaboration.ipynb"])
    assert not any("content" in u for u in uses["02_types.ipynb"])
    assert len(cold["build_key"]) == 64
    # the parallel build publishes what the notebooks computed, in chapter order
    est = (root / OUT / "estimates.csv").read_text(encoding="utf-8").splitlines()
    assert est[0].startswith("figure_id,measure,country") and est[1].startswith("key_figures,")
    assert cold["targets"]["reproduced"] == cold["targets"]["checked"]


def test_unchanged_build_is_not_redone(cold, root):
    r = _build(root)
    assert r.returncode == 0, r.stderr
    assert "is up to date" in r.stdout
    assert _manifest(root)["built_at"] == cold["built_at"]  # the output was left as it was


#: a wrapper around build.py: what the parent had imported, and how many workers it had
#: started, when it began loading the data ("data"; the build then stops) and at its end
PROBE = """
import json, sys
sys.path.insert(0, {src!r})
from barometer.build import config
from barometer.engine import lifetime

HEAVY = ("pandas", "numpy", "altair", "vl_convert", "scipy", "papermill", "barometer.survey", "barometer.dataset")


class Stop(BaseException):
    pass


def probe(when):
    print("PROBE " + json.dumps({{"when": when, "heavy": [m for m in HEAVY if m in sys.modules],
                                 "workers": sum(p.poll() is None for p in lifetime._CHILDREN)}}), flush=True)


def load_input(self):
    probe("data")
    raise Stop


config.BaseConfig.load_input = load_input
from barometer.cli import main
try:
    code = main(sys.argv[1:])
except Stop:
    code = 0
probe("end")
sys.exit(code)
"""


def _probe(root: Path, tmp_path: Path, *args) -> dict:
    script = tmp_path / "probe.py"
    script.write_text(PROBE.format(src=str(ROOT / "src")), encoding="utf-8")
    env = dict(os.environ, BAROMETER_ROOT=str(root))
    r = subprocess.run([sys.executable, str(script), "--jobs", "2", *args], cwd=root, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return {p["when"]: p for p in (json.loads(line[6:]) for line in r.stdout.splitlines() if line.startswith("PROBE "))}


def test_an_unchanged_build_imports_no_heavy_library_and_starts_no_worker(cold, root, tmp_path):
    probes = _probe(root, tmp_path, "--no-pdf")
    assert "data" not in probes  # up to date: stopped before planning
    assert probes["end"]["heavy"] == [] and probes["end"]["workers"] == 0
    assert _manifest(root)["built_at"] == cold["built_at"]


@pytest.mark.parametrize("args", [["--no-pdf"], ["--by", "subsector"]], ids=["edition", "fanout"])
def test_planning_imports_no_heavy_library_and_the_workers_boot_while_the_data_load(cold, root, tmp_path, args):
    """The parent plans (report config, notebooks, content, keys) without pandas, Altair or the
    survey code; when tasks will run, their workers are already started when the data load."""
    probes = _probe(root, tmp_path, *args, "--force")
    assert probes["data"] == {"when": "data", "heavy": [], "workers": 2}
    assert _manifest(root)["built_at"] == cold["built_at"]  # stopped there: nothing published


def test_a_build_whose_chapters_are_all_cached_starts_no_worker(cold, root, tmp_path):
    probes = _probe(root, tmp_path, "--no-pdf", "--out", str(root / "_build" / "elsewhere"))
    assert probes["data"] == {"when": "data", "heavy": [], "workers": 0}


def test_changed_case_file_reruns_no_chapter_and_every_output_shows_it(cold, root):
    """A case is a mark in its chapter's notebook, filled when the page is rendered: editing it
    re-runs nothing, and the chapter page, the published notebook and the case page show the edit."""
    est_before = (root / OUT / "estimates.csv").read_text(encoding="utf-8")
    case = root / "data/content/2018/cases/safer-train-stations.yaml"
    case.write_text(case.read_text(encoding="utf-8").replace("Politi, kommuner og jernbane",
                                                             "Politi, kommuner og jernbanen"), encoding="utf-8")
    r = _build(root)
    assert r.returncode == 0, r.stderr
    cache = {c["notebook"]: c["cache"] for c in _manifest(root)["tasks"]}
    assert set(cache.values()) == {"hit"}, cache
    for page in ("cases/safer-train-stations.html", "samarbejde.html", "notebooks/07_collaboration.ipynb"):
        assert "jernbanen" in (root / OUT / page).read_text(encoding="utf-8"), page
    nb = (root / OUT / "notebooks/07_collaboration.ipynb").read_text(encoding="utf-8")
    assert "barometer-content" not in nb and "barometer-content" not in (root / OUT / "samarbejde.html").read_text(encoding="utf-8")
    import nbformat

    nbformat.validate(nbformat.reads(nb, as_version=4))  # the filled notebook is a valid notebook
    assert (root / OUT / "estimates.csv").read_text(encoding="utf-8") == est_before


def test_changed_fact_box_file_reruns_only_the_chapter_that_fills_it(cold, root):
    box = root / "data/content/2018/factboxes/citizens.yaml"
    text = box.read_text(encoding="utf-8")
    box.write_text(text + "\n# edited\n", encoding="utf-8")
    try:
        r = _build(root)
        assert r.returncode == 0, r.stderr
        cache = {c["notebook"]: c["cache"] for c in _manifest(root)["tasks"]}
        assert cache.pop("07_collaboration.ipynb") == "miss" and set(cache.values()) == {"hit"}, cache
    finally:
        box.write_text(text, encoding="utf-8")


def test_a_headline_and_a_prose_edit_in_the_report_yaml_rerun_only_the_chapters_that_read_them(cold, root):
    """Chapters are keyed on their part of data/report/2018.yaml (build/configslice.py), not the whole file."""
    cfg = root / "data/report/2018.yaml"
    text = cfg.read_text(encoding="utf-8")
    assert "bygger videre på andres idéer" in text and "Få offentlige innovationer bliver til" in text
    cfg.write_text(text.replace("bygger videre på andres idéer", "bygger videre på idéer fra andre")  # types
                   .replace("Få offentlige innovationer bliver til", "Kun få offentlige innovationer bliver til"),
                   encoding="utf-8")  # collaboration's introduction
    r = _build(root)
    assert r.returncode == 0, r.stderr
    cache = {c["notebook"]: c["cache"] for c in _manifest(root)["tasks"]}
    assert {nb for nb, c in cache.items() if c == "miss"} == {"02_types.ipynb", "07_collaboration.ipynb"}, cache
    assert "bygger videre på idéer fra andre" in (root / OUT / "typer.html").read_text(encoding="utf-8")
    assert "Kun få offentlige innovationer" in (root / OUT / "samarbejde.html").read_text(encoding="utf-8")


def test_force_runs_every_chapter_again(cold, root):
    r = _build(root, "--force", "--quiet")
    assert r.returncode == 0, r.stderr
    assert {c["cache"] for c in _manifest(root)["tasks"]} == {"miss"}
