"""Hostile content and odd environments, injected into real builds (``build.py`` in a
subprocess, on a scratch copy of the project: ``BAROMETER_ROOT``).

Each case asserts the exit status, a one-line message, no traceback, and
that nothing was written to ``--out``."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
from scratchroot import scratch_root

from barometer.paths import ROOT

pytestmark = pytest.mark.slow

BOMB = ("id: bomb\nkind: case\nchapter: collaboration\n"
        "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi")))


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return scratch_root(tmp_path_factory, "faults")


def _build(root: Path, *args, env=None, timeout=600):
    env = dict(os.environ, BAROMETER_ROOT=str(root), **(env or {}))
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, str(ROOT / "build.py"), "--jobs", "2", *args],
                       cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    return r, time.perf_counter() - t0


def _one_line_error(r, code: int) -> str:
    assert r.returncode == code, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def _nothing_written(out: Path) -> None:
    assert not out.exists(), sorted(out.rglob("*"))[:5]
    if out.parent.exists():  # no temporary or old folders beside it
        assert not [p for p in out.parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name]


def _inputs(tmp_path: Path) -> Path:
    """A folder for input files, apart from the output's parent (a build refuses to write beside --data)."""
    d = tmp_path / "in"
    d.mkdir(exist_ok=True)
    return d


@pytest.fixture
def content_file(root):
    """A content file to write into the scratch root, removed afterwards."""
    made = []

    def write(name: str, text: str) -> Path:
        path = root / "data" / "content" / "2018" / "cases" / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        made.append(path)
        return path

    yield write
    for p in made:
        p.unlink(missing_ok=True)


def test_alias_bomb_in_content_is_refused_within_seconds(root, content_file, tmp_path):
    content_file("bomb", BOMB)
    out = tmp_path / "out" / "site"
    r, seconds = _build(root, "--no-pdf", "--out", str(out), timeout=120)
    msg = _one_line_error(r, 2)
    assert "bomb.yaml" in msg and "line 5" in msg and "alias" in msg
    assert seconds < 60  # it hung (killed after 100 s); the check itself takes milliseconds
    _nothing_written(out)


@pytest.mark.parametrize("rel, mode", [
    ("report/disclosure.yaml", "--no-pdf"),
    ("report/2018.yaml", "--by=government_level"),  # the reports read it: they failed one by one (exit 1)
    ("codebook/2018-dk.yaml", "--no-pdf"),
    ("codebook/2018-dk.yaml", "--by=government_level"),
])
def test_alias_bomb_in_a_config_file_is_refused(root, tmp_path, rel, mode):
    cfg = root / "data" / rel
    saved = cfg.read_text(encoding="utf-8")
    nested = "".join(f"  {line}\n" for line in BOMB.splitlines()[3:])  # the anchors, under one key
    cfg.write_text(saved + "\nextra:\n" + nested, encoding="utf-8")
    try:
        out = tmp_path / "out" / "site"
        r, _ = _build(root, mode, "--out", str(out), timeout=120)
        msg = _one_line_error(r, 2)
        assert cfg.name in msg and "uses the YAML alias *a" in msg
        _nothing_written(out)
    finally:
        cfg.write_text(saved, encoding="utf-8")


def test_oversized_content_file_is_refused(root, content_file, tmp_path):
    item = (root / "data" / "content" / "2018" / "cases" / "open-data-dk.yaml").read_text(encoding="utf-8")
    body = "Lang tekst. " * 100_000  # 1.2 MB
    content_file("huge", item.replace("id: open-data-dk", "id: huge") + f"\nextra: '{body}'\n")
    out = tmp_path / "out" / "site"
    r, _ = _build(root, "--no-pdf", "--out", str(out), timeout=120)
    msg = _one_line_error(r, 2)
    assert "huge.yaml" in msg and "MB a content file may have" in msg
    _nothing_written(out)


def test_overlong_case_body_is_refused(root, content_file, tmp_path):
    import yaml

    item = yaml.safe_load((root / "data" / "content" / "2018" / "cases" / "open-data-dk.yaml").read_text("utf-8"))
    item["id"] = "long-body"
    item["body"]["da"] = "Lang tekst. " * 5000  # 60,000 characters, under 1 MB
    content_file("long-body", yaml.safe_dump(item, allow_unicode=True))
    out = tmp_path / "out" / "site"
    r, _ = _build(root, "--no-pdf", "--out", str(out), timeout=120)
    msg = _one_line_error(r, 2)
    assert "long-body.yaml" in msg and "field 'body.da'" in msg and "more than the 50,000 allowed" in msg
    _nothing_written(out)


def test_strict_min_base_builds_with_every_share_suppressed(root, tmp_path):
    out = tmp_path / "out" / "strict"
    r, _ = _build(root, "--min-base", "5000", "--no-pdf", "--quiet", "--out", str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    est = pd.read_csv(out / "estimates.csv")
    shown = est[est["estimate_pct"].notna()]
    # only the method chapter's response rates (not survey answers) keep a percentage
    assert set(shown["measure"]) <= {"respondents"}, shown[["figure_id", "measure"]]
    assert est["suppressed"].sum() > 50
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["disclosure"]["min_base"] == 5000
    # the model check used unsuppressed estimates: only its counts are written
    assert m["targets"]["checked"] == m["targets"]["reproduced"] > 0 and m["targets"]["missed"] == []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_long_tmpdir_builds(root, tmp_path):
    long_tmp = tmp_path / ("t" * 90)
    long_tmp.mkdir()
    assert len(str(long_tmp)) >= 82
    out = tmp_path / "out" / "by-level"
    before = set(os.listdir(tempfile.gettempdir()))
    r, _ = _build(root, "--by", "government_level", "--quiet", "--out", str(out), "--force",
                  env={"TMPDIR": str(long_tmp)})
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr and "ZMQError" not in r.stderr
    assert (out / "index.html").is_file() and len(list((out / "units").glob("*.html"))) == 3
    # the short socket folders are removed with the workers that made them
    left = {n for n in set(os.listdir(tempfile.gettempdir())) - before if n.startswith("barometer-s")
            and not n.startswith("barometer-svg-")}
    left = {n for n in left if not _alive(int(n.split("-")[1][1:]))}  # not another build's, still running
    assert not left, left
    assert not [n for n in os.listdir(long_tmp) if n.startswith("barometer-")]


@pytest.mark.parametrize("option", ["--data", "--frame"])
def test_newline_in_a_path_is_exit_2_for_fanout(root, tmp_path, option):
    src = root / "data" / "synthetic" / "2018" / "dk" / ("respondents.csv" if option == "--data" else "frame.csv")
    if not src.exists():
        pytest.skip("synthetic sample not generated")
    odd = _inputs(tmp_path) / "a\nb.csv"
    shutil.copyfile(src, odd)  # the file exists: the reports used to fail on it one by one (exit 1)
    out = tmp_path / "out" / "by-level"
    r, _ = _build(root, "--by", "government_level", option, str(odd), "--out", str(out), timeout=120)
    msg = _one_line_error(r, 2)
    assert option in msg and "\\n" in msg and "control character" in msg
    _nothing_written(out)


@pytest.mark.parametrize("option", ["--data", "--frame"])
def test_newline_in_a_path_is_exit_2_for_the_edition(root, tmp_path, option):
    odd = _inputs(tmp_path) / "a\nb.csv"
    odd.write_text("x\n1\n")
    out = tmp_path / "out" / "site"
    r, _ = _build(root, "--no-pdf", option, str(odd), "--out", str(out), timeout=120)
    msg = _one_line_error(r, 2)  # --frame gave a message split over two lines
    assert option in msg and "\\n" in msg
    _nothing_written(out)


def test_bad_data_file_is_one_message_for_fanout(root, tmp_path):
    bad = _inputs(tmp_path) / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    out = tmp_path / "out" / "by-level"
    r, _ = _build(root, "--by", "government_level", "--data", str(bad), "--out", str(out), timeout=120)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "Traceback" not in r.stderr and "report(s) failed" not in r.stderr
    assert r.stderr.startswith("error: ") and "bad.csv" in r.stderr
    _nothing_written(out)


@pytest.mark.parametrize("option", ["--check-data", "--frame"])
def test_newline_in_a_path_is_exit_2_for_check_data(root, tmp_path, option):
    odd = _inputs(tmp_path) / "a\nb.csv"
    odd.write_text("x\n1\n")
    sample = _inputs(tmp_path) / "plain.csv"  # the paths are checked before any file is read
    sample.write_text("x\n1\n")
    args = ["--check-data", str(odd)] if option == "--check-data" else ["--check-data", str(sample), "--frame", str(odd)]
    r, _ = _build(root, *args, timeout=120)
    msg = _one_line_error(r, 2)  # --check-data said OK over two lines; --frame's error was split over two
    assert msg.startswith(f"error: {option} ") and "\\n" in msg
