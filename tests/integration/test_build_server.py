"""``build.py --warm``: the same build through the warm build server, which outlives one build.

Builds run in a scratch copy of the checkout (``BAROMETER_ROOT``), website only, so that a
test may change a notebook; every server a test starts is stopped at the end of the module
(and would end on its own after ``BAROMETER_WARM_IDLE`` seconds, or when the copy is gone)."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scratchroot import scratch_root

from barometer.paths import ROOT

pytestmark = pytest.mark.slow

OUT = "_build/2018-dk-da"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    r = scratch_root(tmp_path_factory, "warm")
    yield r
    _run(r, "--stop-server")


def _env(root: Path) -> dict:
    return dict(os.environ, BAROMETER_ROOT=str(root), BAROMETER_WARM_IDLE="120")


def _cmd(*args) -> list[str]:
    return [sys.executable, str(ROOT / "build.py"), *args]


def _run(root: Path, *args):
    return subprocess.run(_cmd(*args), cwd=root, env=_env(root), capture_output=True, text=True, timeout=600)


def _manifest(root: Path, out: str = OUT) -> dict:
    return json.loads((root / out / "manifest.json").read_text(encoding="utf-8"))


def _server_pid(stderr: str) -> int:
    m = re.search(r"building in the warm build server \(pid (\d+)", stderr)
    assert m, stderr
    return int(m.group(1))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, seconds: float = 20) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def _processes_of(root: Path) -> list[int]:
    """Every process whose environment names this scratch checkout (the server, its workers, their kernels)."""
    out = []
    needle = f"BAROMETER_ROOT={root}".encode() + b"\0"
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) == os.getpid():
            continue
        try:
            if needle in (p / "environ").read_bytes() + b"\0" and _alive(int(p.name)):
                out.append(int(p.name))
        except OSError:
            continue
    return out


def _wait_no_processes(root: Path, seconds: float = 30) -> None:
    end = time.monotonic() + seconds
    while _processes_of(root) and time.monotonic() < end:
        time.sleep(0.2)
    left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:200] for pid in _processes_of(root)}
    assert left == {}


def _files(folder: Path) -> dict[str, bytes]:
    skip = {"manifest.json", ".barometer-build.json"}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in skip and "notebooks" not in p.parts}


@pytest.fixture(scope="module")
def both(root):
    """The same build in-process and through the server (each into a folder of its own)."""
    here = _run(root, "--no-pdf", "--out", "_build/here")
    assert here.returncode == 0, here.stderr
    warm = _run(root, "--no-pdf", "--warm")
    assert warm.returncode == 0, warm.stderr
    return here, warm


def test_a_warm_build_publishes_the_same_bytes(both, root):
    here, warm = both
    assert "it just started" in warm.stderr  # the first build started the server
    assert warm.stdout.strip().splitlines()[-1].startswith(f"built {root / OUT} in ")
    a, b = _files(root / "_build/here"), _files(root / OUT)
    assert a.keys() == b.keys() and len(a) > 20
    assert [k for k in a if a[k] != b[k]] == []
    assert [t["key"] for t in _manifest(root, "_build/here")["tasks"]] == [t["key"] for t in _manifest(root)["tasks"]]


def test_the_server_stays_warm_between_builds_and_reruns_only_what_changed(both, root):
    _, warm = both
    pid = _server_pid(warm.stderr)
    again = _run(root, "--no-pdf", "--warm")
    assert again.returncode == 0 and "is up to date" in again.stdout
    assert _server_pid(again.stderr) == pid and "its build 2" in again.stderr
    import nbformat

    nb_path = root / "notebooks" / "02_types.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_markdown_cell("Et afsnit, der kun findes i denne test."))
    nbformat.write(nb, nb_path)
    edited = _run(root, "--no-pdf", "--warm")
    assert edited.returncode == 0, edited.stderr
    assert _server_pid(edited.stderr) == pid
    ran = [t["id"] for t in _manifest(root)["tasks"] if t["cache"] == "miss"]
    assert ran == ["types"]
    assert "Et afsnit, der kun findes i denne test." in (root / OUT / "typer.html").read_text(encoding="utf-8")


def test_bad_options_through_the_server_are_one_line_and_exit_2(both, root):
    r = _run(root, "--no-pdf", "--warm", "--edition", "1999")
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if not ln.startswith("building in the warm build server")]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "Traceback" not in r.stderr


def _start_and_wait_for_a_chapter(root: Path) -> subprocess.Popen:
    p = subprocess.Popen(_cmd("--no-pdf", "--warm", "--force"), cwd=root, env=_env(root), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    while line and not line.startswith("running "):
        line = p.stdout.readline()
    assert line, p.stderr.read()
    return p


def test_ctrl_c_in_build_py_interrupts_the_servers_build_and_publishes_nothing(both, root):
    before = _manifest(root)
    p = _start_and_wait_for_a_chapter(root)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "interrupted" in err and "nothing was published" in err and "Traceback" not in err
    pid = _server_pid(err)
    assert _wait_gone(pid), "the server went on after its build was interrupted"
    assert _manifest(root) == before  # the previous output is unchanged
    assert not [p for p in (root / "_build").iterdir() if ".tmp" in p.name or p.name.startswith(".2018") and not p.name.endswith(".lock")]
    _wait_no_processes(root)  # its workers and their kernels ended with it


def test_a_killed_client_ends_the_servers_build(both, root):
    before = _manifest(root)
    p = _start_and_wait_for_a_chapter(root)
    p.kill()
    p.wait()
    _wait_no_processes(root)
    assert _manifest(root) == before
    r = _run(root, "--no-pdf", "--warm")  # the next build starts a fresh server
    assert r.returncode == 0 and "it just started" in r.stderr, r.stderr


def test_stop_server_ends_it_and_its_workers(both, root):
    r = _run(root, "--no-pdf", "--warm")
    assert r.returncode == 0, r.stderr
    pid = _server_pid(r.stderr)
    stop = _run(root, "--stop-server")
    assert stop.returncode == 0 and f"(pid {pid}) ended" in stop.stdout
    assert _wait_gone(pid)
    _wait_no_processes(root)
    again = _run(root, "--stop-server")
    assert again.returncode == 0 and "no build server is running" in again.stdout
