"""Faults in the cache of executed notebooks, as a user meets them: real builds
(``build.py`` in a subprocess, so exit status and stderr are what a user sees)
in copies of the project (``BAROMETER_ROOT``), with the cache damaged between
builds.  Nothing wrong is published, nothing is a traceback.

The fan-out build ``--by government_level`` (3 reports + index) is the
quickest real build; the edition is built once, without the PDF."""

import html
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scratchroot import scratch_root

from barometer.paths import ROOT

pytestmark = pytest.mark.slow

CACHE = "_build/.cache/engine"
CASE = "data/content/2018/cases/safer-train-stations.yaml"  # shown by units/1 of --by government_level
CASE_TEXT = "Politi, kommuner og jernbane"


def _build(root: Path, *args, timeout=600):
    env = dict(os.environ, BAROMETER_ROOT=str(root))
    return subprocess.run([sys.executable, str(ROOT / "build.py"), "--jobs", "2", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _fanout(root: Path, out: Path, *args):
    return _build(root, "--by", "government_level", "--quiet", "--out", str(out), *args)


def _entries(cache: Path) -> dict[str, dict]:
    """meta.json of every entry, by the report or chapter it holds."""
    out = {}
    for p in cache.glob("*/*/meta.json"):
        m = json.loads(p.read_text(encoding="utf-8"))
        out[m.get("unit") or m.get("chapter") or m["id"]] = m
    return out


def _entry_dir(cache: Path, meta: dict) -> Path:
    return cache / meta["key"][:2] / meta["key"]


def _damage_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "is damaged" in line]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return scratch_root(tmp_path_factory, "cache-faults")


@pytest.fixture(scope="module")
def first(root, tmp_path_factory):
    """One fan-out build into a fresh --out: what the cache holds is then known to be right."""
    out = tmp_path_factory.mktemp("outs") / "first"
    r = _fanout(root, out)
    assert r.returncode == 0, r.stderr
    return out


def test_the_cache_is_the_checkouts_whatever_out_is(root, first):
    assert (root / CACHE / ".barometer-cache").is_file()
    assert not (first.parent / ".cache").exists()
    assert set(_entries(root / CACHE)) == {"1", "2", "3", "index"}
    uses = {r["id"]: r["uses"] for r in json.loads((first / "manifest.json").read_text())["tasks"]}
    assert CASE in uses["units/1"] and not any(u.startswith("/") for us in uses.values() for u in us)


def test_a_tampered_number_in_a_cached_estimates_file_is_not_published(root, first, tmp_path):
    truth = (first / "estimates.csv").read_text(encoding="utf-8")
    est = _entry_dir(root / CACHE, _entries(root / CACHE)["1"]) / "estimates-0.csv"
    text = est.read_text(encoding="utf-8")
    number = text.splitlines()[1].split(",")[5]  # estimate_pct of the first row
    assert number in truth
    est.write_text(text.replace(number, "99.99999", 1), encoding="utf-8")

    r = _fanout(root, tmp_path / "second")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    published = (tmp_path / "second" / "estimates.csv").read_text(encoding="utf-8")
    assert "99.99999" not in published and published == truth
    lines = _damage_lines(r.stderr)
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("warning: cache entry ") and "estimates-0.csv changed" in lines[0]
    assert "running it again" in lines[0]
    reports = {x["id"]: x["cache"] for x in json.loads((tmp_path / "second" / "manifest.json").read_text())["tasks"]}
    assert reports["units/1"] == "miss" and reports["units/2"] == reports["units/3"] == "hit"
    # the entry was replaced: the next build takes it from the cache without a word
    r = _fanout(root, tmp_path / "third")
    assert r.returncode == 0 and not _damage_lines(r.stderr), r.stderr
    assert (tmp_path / "third" / "estimates.csv").read_text(encoding="utf-8") == truth


def test_a_damaged_page_and_a_missing_file_are_run_again(root, first, tmp_path):
    entries = _entries(root / CACHE)
    page = _entry_dir(root / CACHE, entries["2"]) / "page.html"
    data = page.read_bytes()
    i = data.index(b"<body")
    page.write_bytes(data[:i] + b"<BODY" + data[i + 5:])  # one byte changed
    (_entry_dir(root / CACHE, entries["3"]) / "executed.ipynb").unlink()
    meta = _entry_dir(root / CACHE, entries["index"]) / "meta.json"
    meta.write_text(meta.read_text(encoding="utf-8")[:40], encoding="utf-8")  # truncated meta.json
    r = _fanout(root, tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    lines = _damage_lines(r.stderr)
    assert len(lines) == 3, r.stderr
    assert any("page.html changed" in x for x in lines) and any("executed.ipynb missing" in x for x in lines)
    assert any("meta.json" in x for x in lines)
    assert (tmp_path / "out" / "units" / "2.html").read_text(encoding="utf-8") == \
        (first / "units" / "2.html").read_text(encoding="utf-8")


def test_leftovers_of_killed_builds_are_removed_and_the_cache_stays_under_its_cap(root, first, tmp_path):
    cache = root / CACHE
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    key = "ab" + "0" * 62
    leftovers = [cache / "ab" / f".{key}.tmp-{dead.pid}", cache / "logs" / f"fanout-{dead.pid}"]
    for d in leftovers:
        d.mkdir(parents=True)
        (d / "half-written").write_text("x" * 1000)
        os.utime(d, (time.time() - 600, time.time() - 600))
    before = set(m["key"] for m in _entries(cache).values())
    # a build of other reports (English) with a tiny cap: the Danish entries go, the English stay
    r = _fanout(root, tmp_path / "en", "--lang", "en", "--cache-max", "1")
    assert r.returncode == 0, r.stderr
    assert not any(d.exists() for d in leftovers), "a killed build's folder was left"
    used = {x["key"] for x in json.loads((tmp_path / "en" / "manifest.json").read_text())["tasks"]}
    now = set(m["key"] for m in _entries(cache).values())
    assert now == used and not (now & before)
    # a bad size is refused before anything is built
    r = _fanout(root, tmp_path / "x", "--cache-max", "2X")
    assert r.returncode == 2 and "--cache-max" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x").exists()


def test_a_killed_builds_log_folder_is_removed_by_the_next_build(root, tmp_path):
    env = dict(os.environ, BAROMETER_ROOT=str(root))
    p = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "--by", "government_level", "--jobs", "1",
                          "--quiet", "--force", "--out", str(tmp_path / "killed")], cwd=root, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    logs = root / CACHE / "logs" / f"fanout-{p.pid}"
    deadline = time.time() + 120
    while not logs.exists() and time.time() < deadline and p.poll() is None:
        time.sleep(0.05)
    assert logs.exists(), "the build did not start its workers"
    p.send_signal(signal.SIGKILL)
    p.wait()
    time.sleep(1.1)  # the folder is older than the next build
    r = _fanout(root, tmp_path / "next")
    assert r.returncode == 0, r.stderr
    assert not logs.exists()
    assert not list((root / CACHE).glob("*/.*.tmp-*"))


def test_two_checkouts_whose_outputs_share_a_folder_publish_their_own_content(tmp_path_factory):
    a = scratch_root(tmp_path_factory, "checkout-a")
    b = scratch_root(tmp_path_factory, "checkout-b")
    case = b / CASE
    case.write_text(case.read_text(encoding="utf-8").replace(CASE_TEXT, "Checkout B's own case text"),
                    encoding="utf-8")
    outs = tmp_path_factory.mktemp("shared-parent")

    def check(out_a, out_b):
        page_a = html.unescape((out_a / "units" / "1.html").read_text(encoding="utf-8"))  # the text a reader sees
        page_b = html.unescape((out_b / "units" / "1.html").read_text(encoding="utf-8"))
        assert CASE_TEXT in page_a and "Checkout B's own case text" not in page_a
        assert "Checkout B's own case text" in page_b and CASE_TEXT not in page_b

    for root, out in ((a, outs / "a"), (b, outs / "b")):
        r = _fanout(root, out)
        assert r.returncode == 0, r.stderr
    check(outs / "a", outs / "b")
    assert (a / CACHE).is_dir() and (b / CACHE).is_dir() and not (outs / ".cache").exists()
    # one cache shared on purpose (--cache-dir): still each checkout's own content
    shared = outs / "shared-cache"
    for root, out in ((a, outs / "a2"), (b, outs / "b2"), (a, outs / "a3")):
        r = _fanout(root, out, "--cache-dir", str(shared))
        assert r.returncode == 0, r.stderr
    check(outs / "a2", outs / "b2")
    check(outs / "a3", outs / "b2")
    reports = {x["id"]: x["cache"] for x in json.loads((outs / "b2" / "manifest.json").read_text())["tasks"]}
    assert reports["units/1"] == "miss" and reports["units/2"] == "hit"  # the rest is shared: same content


def test_the_edition_build_never_publishes_a_damaged_chapter(tmp_path_factory):
    root = scratch_root(tmp_path_factory, "edition")
    out1 = tmp_path_factory.mktemp("ed") / "one"
    r = _build(root, "--no-pdf", "--quiet", "--out", str(out1))
    assert r.returncode == 0, r.stderr
    truth = (out1 / "estimates.csv").read_text(encoding="utf-8")
    entries = _entries(root / CACHE)
    front = _entry_dir(root / CACHE, entries["front"]) / "files" / "estimates" / "key_figures.csv"
    text = front.read_text(encoding="utf-8")
    number = text.splitlines()[1].split(",")[5]
    front.write_text(text.replace(number, "12.345678", 1), encoding="utf-8")
    nb = _entry_dir(root / CACHE, entries["types"]) / "executed.ipynb"
    nb.write_bytes(nb.read_bytes()[:100])  # a truncated executed notebook
    out2 = out1.parent / "two"
    r = _build(root, "--no-pdf", "--quiet", "--out", str(out2))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "NotJSONError" not in r.stderr
    assert (out2 / "estimates.csv").read_text(encoding="utf-8") == truth
    lines = _damage_lines(r.stderr)
    assert len(lines) == 2, r.stderr
    assert any("files/estimates/key_figures.csv changed" in x for x in lines)
    assert any("executed.ipynb changed" in x for x in lines)
    chapters = {c["id"]: c["cache"] for c in json.loads((out2 / "manifest.json").read_text())["tasks"]}
    assert chapters["front"] == chapters["types"] == "miss" and chapters["method"] == "hit"

    # --clean-cache removes this checkout's cache (and nothing else), and says how much it freed
    r = _build(root, "--clean-cache")
    assert r.returncode == 0 and "freed" in r.stdout, r.stderr
    assert not (root / CACHE).exists() and (out2 / "estimates.csv").is_file()
    notes = out1.parent / "not-a-cache"
    notes.mkdir()
    (notes / "notes.txt").write_text("mine")
    r = _build(root, "--clean-cache", "--cache-dir", str(notes))
    assert r.returncode == 2 and "is not a cache" in r.stderr and "Traceback" not in r.stderr
    assert (notes / "notes.txt").read_text() == "mine"


def test_a_cache_dir_that_is_a_file_or_inside_out_is_a_message(root, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    r = _fanout(root, tmp_path / "out", "--cache-dir", str(f / "sub"))
    assert r.returncode == 2 and "--cache-dir" in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = _build(root, "--no-pdf", "--out", str(tmp_path / "ed"), "--cache-dir", str(tmp_path / "ed" / "cache"))
    assert r.returncode == 2 and ("inside the output folder" in r.stderr or "holds the cache" in r.stderr) and "Traceback" not in r.stderr, r.stderr
    assert f.read_text() == "x" and not (tmp_path / "ed").exists()


SITECUSTOMIZE = '''\
import errno, os, pathlib
_under, _code = os.environ["BAROMETER_TEST_FAIL_UNDER"], int(os.environ["BAROMETER_TEST_FAIL_ERRNO"])
_real = pathlib.Path.write_bytes
def _write_bytes(self, data):
    if str(self.absolute()).startswith(_under):
        raise OSError(_code, os.strerror(_code), str(self))
    return _real(self, data)
pathlib.Path.write_bytes = _write_bytes
'''


@pytest.mark.parametrize("code, hint", [("ENOSPC", "free space"), ("EROFS", "write access")])
def test_a_full_or_read_only_cache_disk_is_one_message_and_leaves_the_cache_intact(root, tmp_path, code, hint):
    """Every write of a cached file fails (injected into the real build: its disk is full or read-only)."""
    import errno

    cache = root / CACHE
    r = _fanout(root, tmp_path / "good")  # whatever is cached is then sound
    assert r.returncode == 0, r.stderr
    before = {m["key"]: m for m in _entries(cache).values()}
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = dict(os.environ, BAROMETER_ROOT=str(root), PYTHONPATH=str(inject), BAROMETER_TEST_FAIL_UNDER=str(cache),
               BAROMETER_TEST_FAIL_ERRNO=str(getattr(errno, code)))
    r = subprocess.run([sys.executable, str(ROOT / "build.py"), "--by", "government_level", "--jobs", "2", "--quiet",
                        "--force", "--out", str(tmp_path / "out")], cwd=root, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    msg = [line for line in r.stderr.splitlines() if line.startswith("build failed:")]
    assert len(msg) == 1 and str(cache) in msg[0] and os.strerror(getattr(errno, code)) in msg[0], r.stderr
    assert hint in msg[0] and "--cache-dir" in msg[0]
    assert not list(cache.glob("*/.*.tmp-*")), "a half-written cache entry was left"
    assert not (tmp_path / "out").exists()
    # the cache is as it was: the next build uses it without a word
    r = _fanout(root, tmp_path / "after")
    assert r.returncode == 0 and not _damage_lines(r.stderr), r.stderr
    assert {m["key"] for m in _entries(cache).values()} >= set(before)
    assert (tmp_path / "after" / "estimates.csv").read_text() == (tmp_path / "good" / "estimates.csv").read_text()


def test_concurrent_builds_sharing_a_cache_each_publish_a_whole_checked_build(root, tmp_path):
    """Two --force builds at once, one cache: each replaces the other's entries while the
    other may be about to copy them; neither sees a damaged or half-written entry."""
    env = dict(os.environ, BAROMETER_ROOT=str(root))
    procs = [subprocess.Popen([sys.executable, str(ROOT / "build.py"), "--by", "government_level", "--jobs", "1",
                               "--quiet", "--force", "--out", str(tmp_path / name)], cwd=root, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("p", "q")]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    for rc, err in results:
        assert rc == 0, err
        assert "damaged" not in err and "changed while" not in err and "Traceback" not in err, err
    assert (tmp_path / "p" / "estimates.csv").read_text() == (tmp_path / "q" / "estimates.csv").read_text()
    assert not list((root / CACHE).glob("*/.*.tmp-*")) and not list((root / CACHE).glob("*/.*.old-*"))
