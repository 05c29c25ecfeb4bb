"""The fan-out engine: one report per unit, cache, dependencies, failures, isolation.

Builds run in a copy of the repository's data, notebooks and templates
(``BAROMETER_ROOT``), so a test may change a content file."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from scratchroot import scratch_root

from barometer.build import FanoutConfig, main_exit
from barometer.estimates import COLUMNS
from barometer.paths import NOTEBOOK_DIR, ROOT

pytestmark = pytest.mark.slow  # builds many reports: `make test`, not `make test-fast`


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return scratch_root(tmp_path_factory)


def _build(root: Path, *args):
    env = dict(os.environ, BAROMETER_ROOT=str(root))
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, str(ROOT / "build.py"), "--by", "government_level", "--jobs", "2", *args],
                       cwd=root, env=env, capture_output=True, text=True, timeout=300)
    return r, time.perf_counter() - t0


def _manifest(root: Path) -> dict:
    return json.loads((root / "_build/2018-dk-da-by-government_level/manifest.json").read_text())


@pytest.fixture(scope="module")
def cold(root):
    r, seconds = _build(root, "--quiet")
    assert r.returncode == 0, r.stderr
    return root / "_build/2018-dk-da-by-government_level"


def test_one_page_per_unit_an_index_and_one_estimates_table(cold):
    assert (cold / "index.html").is_file() and (cold / "assets/report.css").is_file()
    assert sorted(p.name for p in (cold / "units").iterdir()) == ["1.html", "2.html", "3.html"]
    header = (cold / "estimates.csv").read_text().splitlines()[0].split(",")
    assert header[:len(COLUMNS)] == COLUMNS and header[len(COLUMNS):] == ["by", "unit"]
    rows = (cold / "estimates.csv").read_text().splitlines()[1:]
    assert len(rows) == 3 * 5 * 2  # units x key measures x (unit, nation)
    index = (cold / "index.html").read_text()
    assert 'href="units/3.html"' in index and "konfidensinterval" in index and "Syntetiske data" in index
    page = (cold / "units/3.html").read_text()
    assert "Kommune" in page and 'id="case-citizen-reporting-app"' in page and "from barometer" not in page
    assert not list(cold.parent.glob(".*.tmp-*")), "temporary folder left behind"


def test_manifest_has_key_hit_or_miss_and_time_per_report(cold):
    m = _manifest(cold.parent.parent)
    assert [r["id"] for r in m["tasks"]] == ["units/1", "units/2", "units/3", "index"]
    for r in m["tasks"]:
        assert len(r["key"]) == 64 and r["cache"] == "miss" and r["seconds"] > 0
    uses = {r["id"]: r["uses"] for r in m["tasks"]}
    assert "data/synthetic/2018/dk/respondents.csv" in uses["units/1"]
    assert "data/content/2018/cases/safer-train-stations.yaml" in uses["units/1"]
    assert not any("safer-train-stations" in u for u in uses["units/3"])


def test_unchanged_build_is_all_cached_and_fast(cold):
    before = (cold / "manifest.json").read_bytes()
    r, seconds = _build(cold.parent.parent)
    assert r.returncode == 0, r.stderr
    assert "up to date" in r.stdout
    assert (cold / "manifest.json").read_bytes() == before  # an up-to-date build writes nothing
    # how fast is measured by benchmarks/incremental.py, not asserted here


def test_changed_content_file_reruns_only_the_reports_that_use_it(cold):
    root = cold.parent.parent
    case = root / "data/content/2018/cases/safer-train-stations.yaml"
    case.write_text(case.read_text().replace("Politi, kommuner og jernbane", "Politi, kommuner og jernbanen"))
    r, _ = _build(root, "--quiet")
    assert r.returncode == 0, r.stderr
    cache = {x["id"]: x["cache"] for x in _manifest(root)["tasks"]}
    assert cache == {"units/1": "miss", "units/2": "hit", "units/3": "hit", "index": "hit"}
    assert "jernbanen" in (cold / "units/1.html").read_text()


def test_failing_report_does_not_stop_the_others_and_state_does_not_leak(tmp_path):
    """One worker runs all three reports in turn: the first sets state in its
    interpreter, the next must not see it; the second fails; the third runs."""
    nbdir = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOK_DIR, nbdir)
    nb = nbformat.read(nbdir / "unit_report.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell(
        "import builtins, os, barometer\n"
        "assert not hasattr(builtins, 'leak') and 'BAROMETER_LEAK' not in os.environ "
        "and not hasattr(barometer, 'leak'), 'state leaked from an earlier report'\n"
        "builtins.leak = os.environ['BAROMETER_LEAK'] = barometer.leak = unit\n"
        "if unit == '2':\n    raise RuntimeError('broken on purpose')"))
    nbformat.write(nb, nbdir / "unit_report.ipynb")
    out = tmp_path / "out" / "site"
    cfg = FanoutConfig(by="government_level", out_dir=out, jobs=1, quiet=True, notebook_dir=nbdir,
                       cache_dir=tmp_path / "cache")
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = main_exit(cfg)
    msg = err.getvalue()
    assert rc == 1
    assert "units/2: notebook unit_report.ipynb failed in code cell 2 (RuntimeError: broken on purpose)" in msg, msg
    assert "leaked" not in msg and "units/1:" not in msg and "units/3:" not in msg
    kept = tmp_path / "out" / ".failed" / "site" / "units" / "2.ipynb"
    assert kept.is_file() and f"executed notebook kept at {kept}" in msg
    assert not out.exists()
    metas = [json.loads(p.read_text()) for p in (tmp_path / "cache").glob("*/*/meta.json")]
    assert sorted(m["unit"] for m in metas) == ["1", "3"]

    # the next build runs only the failed report again; --force runs them all
    from barometer.build import build, run

    class Stop(Exception):
        pass

    real_lookup = run.lookup

    def lookup_then_stop(cfg, cache, tasks):
        ran.append([t.id for t in real_lookup(cfg, cache, tasks)])
        raise Stop

    for force, expected in ((False, ["units/2"]), (True, ["units/1", "units/2", "units/3"])):
        ran = []
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(run, "lookup", lookup_then_stop)
            with pytest.raises(Stop):
                build(FanoutConfig(**{**cfg.__dict__, "force": force}))
        assert ran == [expected]


def test_unknown_dimension_or_edition_exits_2(tmp_path):
    r = subprocess.run([sys.executable, "build.py", "--by", "galaxy"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "invalid choice" in r.stderr
    r = subprocess.run([sys.executable, "build.py", "--by", "region", "--edition", "1999", "--out",
                        str(tmp_path / "x")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "unknown edition '1999'" in r.stderr and not (tmp_path / "x").exists()
