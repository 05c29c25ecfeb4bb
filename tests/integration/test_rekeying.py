"""Every option and file that can change a published number or text re-runs exactly
the tasks it affects, in both build modes, and changing it back takes every task
from the cache again (with the same estimates).  Written once for both modes.

(``--min-base`` has its own test, which also reads the pages: test_settings.py.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from barometer.paths import ROOT
from scratchroot import scratch_root

pytestmark = pytest.mark.slow

MODES = {"edition": ["--no-pdf"], "fanout": ["--by", "government_level"]}
CASE = "data/content/2018/cases/safer-train-stations.yaml"


class World:
    """A scratch checkout (data, notebooks, templates), one output folder and its own cache."""

    def __init__(self, mode: str, root: Path):
        self.mode, self.root = mode, root
        self.out, self.cache = root / "_build" / "out", root / "_build" / "test-cache"

    def build(self, *args) -> tuple[dict[str, str], pd.DataFrame, dict]:
        r = subprocess.run([sys.executable, str(ROOT / "build.py"), *MODES[self.mode], "--out", str(self.out),
                            "--cache-dir", str(self.cache), "--jobs", "2", "--quiet", *args],
                           cwd=self.root, env={**os.environ, "BAROMETER_ROOT": str(self.root)},
                           capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, r.stderr[-3000:]
        m = json.loads((self.out / "manifest.json").read_text(encoding="utf-8"))
        est = pd.read_csv(self.out / "estimates.csv", dtype={"category": str})
        return {t["id"]: t["cache"] for t in m["tasks"]}, est, m


@pytest.fixture(scope="module", params=list(MODES))
def world(request, tmp_path_factory):
    w = World(request.param, scratch_root(tmp_path_factory, f"rekey-{request.param}"))
    w.cold = w.build()
    return w


def _edit(path: Path, old: str, new: str):
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return lambda: path.write_text(text, encoding="utf-8")


def _change(name: str, w: World, tmp_path: Path):
    """(options, undo, the task ids expected to run again) for one change."""
    everything = set(w.cold[0])
    if name == "--lang":
        return ["--lang", "en"], None, everything
    if name == "--data":  # the same respondents, as the user's own file: every report reads it
        from barometer import writers

        (tmp_path / "secure").mkdir()
        return ["--data", str(writers.write_sample("2018", "dk", tmp_path / "secure" / "mine.csv"))], None, everything
    if name == "content file":  # only the tasks that read it
        users = {t["id"] for t in w.cold[2]["tasks"] if CASE in t["uses"]}
        if w.mode == "edition":  # a chapter marks its cases; the page is filled when it is rendered
            assert not users, users
        else:  # a unit report renders its related cases itself
            assert users and users != everything, users
        return [], _edit(w.root / CASE, "Politi, kommuner og jernbane", "Politi, kommuner og jernbanen"), users
    if name == "template":  # templates are in every task's key
        return [], _edit(w.root / "report_templates/site/page.html.j2", "</body>", "<!-- changed -->\n</body>"), \
            everything
    if name == "synthetic model":  # a new sample: generated in the build itself, and every report re-runs
        return [], _edit(w.root / "data/synth/2018.yaml", "seed: 2018", "seed: 2019"), everything
    raise AssertionError(name)


@pytest.mark.parametrize("name", ["--lang", "--data", "content file", "template", "synthetic model"])
def test_a_change_reruns_exactly_what_it_affects_and_back_is_all_cached(world, name, tmp_path):
    options, undo, expected = _change(name, world, tmp_path)
    try:
        changed, est, _ = world.build(*options)
        assert {i for i, c in changed.items() if c == "miss"} == expected, changed
        if name == "template":
            assert "<!-- changed -->" in (world.out / ("index.html" if world.mode == "fanout" else "metode.html")) \
                .read_text(encoding="utf-8")
        if name == "content file":
            page = "units/1.html" if world.mode == "fanout" else "samarbejde.html"
            assert "jernbanen" in (world.out / page).read_text(encoding="utf-8")
        if name == "synthetic model":
            assert not est.equals(world.cold[1]), "a new sample published the old numbers"
    finally:
        if undo:
            undo()
    back, est_back, _ = world.build()
    assert set(back.values()) == {"hit"}, back
    pd.testing.assert_frame_equal(est_back, world.cold[1])
    if name == "--lang":
        assert re.search(r'<html lang="da"', (world.out / "index.html").read_text(encoding="utf-8"))
