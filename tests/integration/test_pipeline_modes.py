"""What both build modes (an edition, one report per unit) must do alike: scan every
output for microdata, and tell a bug in the program from a problem with the input."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from barometer.paths import ROOT
from scratchroot import scratch_root

MODES = {"edition": ["--no-pdf"], "fanout": ["--by", "government_level"]}


def _run(build_py: Path, out: Path, *args, env=None):
    return subprocess.run([sys.executable, str(build_py), "--out", str(out), "--quiet", "--jobs", "2", *args],
                          cwd=build_py.parent, capture_output=True, text=True, timeout=900,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("mode", list(MODES))
def test_a_planted_respondent_id_fails_every_build_mode_and_nothing_is_kept(tmp_path_factory, tmp_path, mode):
    from barometer import synth

    root = scratch_root(tmp_path_factory, "planted")
    rid = str(pd.read_csv(synth.ensure("2018", "dk"), usecols=["resp_id"])["resp_id"].iloc[42])
    i18n = root / "data" / "report" / "i18n.yaml"
    text = i18n.read_text(encoding="utf-8")
    i18n.write_text(text.replace("Ingen rigtige svar er vist.", f"Ingen rigtige svar er vist. Id {rid}."),
                    encoding="utf-8")
    out = tmp_path / "out" / "site"
    r = _run(ROOT / "build.py", out, *MODES[mode], "--cache-dir", str(tmp_path / "cache"),
             env={"BAROMETER_ROOT": str(root)})
    assert r.returncode == 1, r.stderr
    assert "contain respondent ids or sensitive answers" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if not p.name.endswith(".lock")] == []


@pytest.fixture(scope="module")
def buggy_checkout(tmp_path_factory):
    """A copy of the checkout whose package has a bug: every page block raises."""
    root = tmp_path_factory.mktemp("buggy")
    for d in ("src", "data", "notebooks", "report_templates"):
        shutil.copytree(ROOT / d, root / d, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info",
                                                                           ".ipynb_checkpoints"))
    shutil.copy(ROOT / "build.py", root / "build.py")
    display = root / "src" / "barometer" / "display.py"
    text = display.read_text(encoding="utf-8")
    display.write_text(re.sub(r"(def show_html\(markup: str\) -> None:\n)",
                              r'\1    raise RuntimeError("planted bug")\n', text), encoding="utf-8")
    return root


@pytest.mark.parametrize("mode", list(MODES))
def test_a_bug_in_package_code_is_an_internal_error_with_a_log_never_check_your_data(buggy_checkout, tmp_path,
                                                                                     mode):
    r = _run(buggy_checkout / "build.py", tmp_path / "out", *MODES[mode], env={"PYTHONPATH": str(buggy_checkout / "src")})
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "check-data" not in r.stderr and "your data)" in r.stderr
    assert "internal error: RuntimeError: planted bug" in r.stderr
    log = Path(re.search(r"the traceback is in (\S+?\.log)", r.stderr).group(1))
    assert "planted bug" in log.read_text(encoding="utf-8") and "display.py" in log.read_text(encoding="utf-8")
    assert not (tmp_path / "out").exists()
