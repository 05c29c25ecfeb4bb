"""Faults injected into real builds (``build.py`` in a subprocess, as a user runs it).

Each case asserts the exit status, a one-line message without a traceback,
that the user's files and the previous output are untouched, and that no
temporary folder or process of the build is left.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from barometer.paths import ROOT

BUILD = [sys.executable, str(ROOT / "build.py")]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def run(*args, timeout=600):
    return subprocess.run(BUILD + [str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env=ENV)


def one_line(res) -> str:
    assert "Traceback" not in res.stderr, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    return lines[0]


def tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}.") and not p.name.endswith(".lock"))


# --------------------------------------------------------------------------------------
# refusals (exit 2 before anything runs)
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", [[], ["--by", "government_level"]], ids=["edition", "fanout"])
def test_out_at_a_folder_with_user_files_is_refused_and_untouched(tmp_path, mode):
    out = tmp_path / "reports"
    (out / "photos").mkdir(parents=True)
    (out / "photos" / "a.jpg").write_bytes(b"\xff\xd8")
    (out / "notes.txt").write_text("mine")
    before = tree(out)
    res = run("--out", out, *mode)
    assert res.returncode == 2
    assert "holds files this program did not write" in one_line(res)
    assert tree(out) == before and sorted(os.listdir(tmp_path)) == ["reports"]


@pytest.mark.parametrize("mode", [[], ["--by", "government_level"]], ids=["edition", "fanout"])
@pytest.mark.parametrize("where", ["repo", "repo-parent", "data", "data-file-folder"])
def test_out_at_protected_places_is_refused(tmp_path, mode, where):
    data = tmp_path / "secure" / "real.csv"
    data.parent.mkdir()
    data.write_text("resp_id\n1\n")
    out = {"repo": ROOT, "repo-parent": ROOT.parent, "data": ROOT / "data", "data-file-folder": data.parent}[where]
    before = tree(data.parent)
    git_head = (ROOT / ".git").exists()
    res = run("--out", out, *(["--data", data] if where == "data-file-folder" else []), *mode)
    assert res.returncode == 2, res.stderr
    one_line(res)
    assert tree(data.parent) == before
    assert (ROOT / "build.py").exists() and (ROOT / ".git").exists() == git_head


def test_newline_in_the_data_path_is_an_input_error_in_fanout(tmp_path):
    res = run("--by", "government_level", "--data", str(tmp_path / "a\nb.csv"), "--out", tmp_path / "o")
    assert res.returncode == 2
    one_line(res)


# --------------------------------------------------------------------------------------
# a real previous output, then faults against it
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fan_out(tmp_path_factory):
    """A finished ``--by government_level`` build (the quickest real build)."""
    out = tmp_path_factory.mktemp("fan") / "gl"
    res = run("--by", "government_level", "--out", out, "--quiet")
    assert res.returncode == 0, res.stderr
    return out


def test_own_output_is_replaced_and_a_user_file_added_to_it_stops_the_next_build(fan_out, tmp_path):
    out = tmp_path / "gl"
    res = run("--by", "government_level", "--out", out, "--quiet")
    assert res.returncode == 0, res.stderr
    res = run("--by", "government_level", "--out", out, "--quiet", "--force")
    assert res.returncode == 0, res.stderr
    assert leftovers(tmp_path, "gl") == []
    (out / "units" / "my-notes.txt").write_text("mine")
    res = run("--by", "government_level", "--out", out, "--quiet", "--force")
    assert res.returncode == 2 and "my-notes.txt" in one_line(res)
    assert (out / "units" / "my-notes.txt").read_text() == "mine"


def test_a_second_build_into_a_locked_folder_exits_1_and_leaves_it_alone(fan_out):
    before = tree(fan_out)
    fd = os.open(fan_out.parent / f".{fan_out.name}.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, b"build test (pid 1)")
        res = run("--by", "government_level", "--out", fan_out, "--force", "--quiet")
    finally:
        os.close(fd)
    assert res.returncode == 1
    assert "is being written by" in one_line(res)
    assert tree(fan_out) == before and leftovers(fan_out.parent, fan_out.name) == []


# --------------------------------------------------------------------------------------
# killed builds
# --------------------------------------------------------------------------------------
def _descendants(pid: int) -> dict[int, float]:
    try:
        return {c.pid: c.create_time() for c in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return {}


def _alive(procs: dict[int, float]) -> list[str]:
    out = []
    for pid, created in procs.items():
        try:
            p = psutil.Process(pid)
            if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                out.append(f"{pid} {' '.join(p.cmdline())[:120]}")
        except psutil.Error:
            pass
    return out


def _kill_at(args: list, marker: str, sig: int, delay: float = 0.0) -> tuple[int, str, dict]:
    """Start a build, wait for ``marker`` on its output, send ``sig``; returns
    (exit status, everything it printed, every process it had started)."""
    proc = subprocess.Popen(BUILD + [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=ROOT, env=ENV)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    seen: dict[int, float] = {}
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None and not any(marker in ln for ln in lines):
        seen.update(_descendants(proc.pid))
        time.sleep(0.05)
    assert any(marker in ln for ln in lines), f"the build never printed {marker!r}:\n{''.join(lines)}"
    end = time.monotonic() + delay
    while time.monotonic() < end:
        seen.update(_descendants(proc.pid))
        time.sleep(0.05)
    seen.update(_descendants(proc.pid))
    proc.send_signal(sig)
    proc.wait(timeout=120)
    reader.join(timeout=10)
    return proc.returncode, "".join(lines), seen


def _no_process_left(seen: dict[int, float], within: float = 15.0) -> None:
    end = time.monotonic() + within
    while _alive(seen) and time.monotonic() < end:
        time.sleep(0.2)
    assert _alive(seen) == [], "processes of the build survived it"


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("ed") / "ed"
    res = run("--out", out)
    assert res.returncode == 0, res.stderr
    return out


@pytest.mark.slow
@pytest.mark.parametrize("sig, marker, delay, code", [
    (signal.SIGTERM, "running ", 1.5, 143),
    (signal.SIGINT, "running ", 1.5, 130),
    (signal.SIGTERM, "rendering website", 0.0, 143),
    (signal.SIGTERM, "rendering PDF", 1.0, 143),
], ids=["term-notebooks", "int-notebooks", "term-site", "term-pdf"])
def test_an_interrupted_build_leaves_the_previous_output_and_nothing_else(edition, sig, marker, delay, code):
    before = tree(edition)
    rc, printed, seen = _kill_at(["--out", edition, "--force"], marker, sig, delay)
    assert rc == code, printed
    assert "Traceback" not in printed and "interrupted" in printed.splitlines()[-1]
    assert tree(edition) == before
    assert leftovers(edition.parent, edition.name) == []
    assert seen, "the build started no worker: the kill came too late to test anything"
    _no_process_left(seen)


@pytest.mark.slow
def test_after_sigkill_no_process_survives_and_the_next_build_cleans_up(edition):
    before = tree(edition)
    rc, printed, seen = _kill_at(["--out", edition, "--force"], "running ", signal.SIGKILL, 1.5)
    assert rc == -signal.SIGKILL
    assert tree(edition) == before
    assert leftovers(edition.parent, edition.name) != []  # what a SIGKILL cannot clean up ...
    _no_process_left(seen)
    res = run("--out", edition, "--no-pdf", "--quiet")
    assert res.returncode == 0, res.stderr
    assert leftovers(edition.parent, edition.name) == []  # ... the next build does


# --------------------------------------------------------------------------------------
# full and read-only disks (a 600 kB tmpfs as the output's parent, smaller than the output; needs root)
# --------------------------------------------------------------------------------------
@pytest.fixture()
def small_fs(tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a small file system here ({res.stderr.strip() or 'not root'})")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_full_disk_is_one_line_and_leaves_nothing(small_fs):
    out = small_fs / "out"
    res = run("--by", "government_level", "--out", out, "--force", "--quiet")
    assert res.returncode == 1, res.stderr
    line = one_line(res)
    assert "no space left" in line and str(small_fs) in line
    assert sorted(p.name for p in small_fs.iterdir() if not p.name.endswith(".lock")) == []


def test_read_only_output_parent_is_one_line(small_fs):
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    res = run("--by", "government_level", "--out", small_fs / "out", "--quiet")
    assert res.returncode == 1, res.stderr
    assert "read-only file system" in one_line(res)
