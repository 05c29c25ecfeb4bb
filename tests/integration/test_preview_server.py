"""build.py --serve: the preview serves the built site, rebuilds on a saved edit and reloads the
page, shows a failed build in the page while the last good site stays, and Ctrl-C leaves nothing."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode("utf-8")


def _state(port: int) -> dict:
    try:
        return json.loads(_get(f"http://127.0.0.1:{port}/__barometer/state"))
    except OSError:
        return {}


def _wait(port: int, proc, until, timeout=900) -> dict:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        s = _state(port)
        if s and until(s):
            return s
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.2)
    raise AssertionError(f"preview did not get there in {timeout} s: {_state(port)}")


def _edit_notebook(path: Path, cell) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(3, cell)
    nbformat.write(nb, path)


def _session_processes(sid: int) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid=,sid=,args="], capture_output=True, text=True).stdout
    return [ln for ln in out.splitlines() if ln.split()[1] == str(sid)]


def test_preview_rebuilds_reloads_shows_errors_and_stops_cleanly(tmp_path):
    root = tmp_path / "checkout"
    for d in ("data", "notebooks", "report_templates"):
        shutil.copytree(ROOT / d, root / d, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    port = _free_port()
    env = dict(os.environ, BAROMETER_ROOT=str(root), PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "--serve", "--port", str(port), "--country", "no"],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group: "Ctrl-C" reaches it and its children
    try:
        s = _wait(port, proc, lambda s: s["version"] >= 1)
        page = _get(f"http://127.0.0.1:{port}/")
        built = (root / "_build" / "2018-no-da" / "index.html").read_text(encoding="utf-8")
        assert 'id="barometer-preview"' in page and "__barometer/state" in page
        assert "barometer-preview" not in built  # the script is only in what the preview sends

        # a saved notebook edit: rebuilt (one chapter), the page has it
        _edit_notebook(root / "notebooks" / "00_front.ipynb", nbformat.v4.new_markdown_cell("Preview marker 4711"))
        s = _wait(port, proc, lambda s: s["version"] > 1)
        assert not s["error"] and "Preview marker 4711" in _get(f"http://127.0.0.1:{port}/")
        manifest = json.loads((root / "_build" / "2018-no-da" / "manifest.json").read_text(encoding="utf-8"))
        assert [n["notebook"] for n in manifest["tasks"] if n["cache"] == "miss"] == ["00_front.ipynb"]

        # a broken cell: one line in the page's state (notebook, cell, message); the last good site stays
        version = s["version"]
        _edit_notebook(root / "notebooks" / "00_front.ipynb",
                       nbformat.v4.new_code_cell("raise RuntimeError('broken on purpose')"))
        s = _wait(port, proc, lambda s: bool(s["error"]))
        assert s["version"] == version
        assert "00_front.ipynb" in s["error"] and "code cell 3" in s["error"] and "broken on purpose" in s["error"]
        assert "\n" not in s["error"]
        assert "Preview marker 4711" in _get(f"http://127.0.0.1:{port}/")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        rc = proc.wait(timeout=120)
    err = proc.stderr.read()
    assert rc == 130, err
    assert "preview stopped" in err and "Traceback" not in err
    assert not _session_processes(proc.pid)  # no worker, kernel or build left
    leftovers = [p.name for p in (root / "_build").iterdir() if ".tmp-" in p.name]
    assert not leftovers
    with pytest.raises(OSError):
        _get(f"http://127.0.0.1:{port}/")


def test_ctrl_c_during_a_build_leaves_no_temporary_folder_or_process(tmp_path):
    root = tmp_path / "checkout"
    for d in ("data", "notebooks", "report_templates"):
        shutil.copytree(ROOT / d, root / d, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    port = _free_port()
    env = dict(os.environ, BAROMETER_ROOT=str(root), PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "--serve", "--port", str(port), "--country", "no"],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    _wait(port, proc, lambda s: s["building"], timeout=120)
    time.sleep(3)  # inside the first build
    os.killpg(proc.pid, signal.SIGINT)
    rc = proc.wait(timeout=120)
    assert rc == 130, proc.stderr.read()
    assert not _session_processes(proc.pid)
    build_dir = root / "_build"
    assert not [p.name for p in build_dir.iterdir() if ".tmp-" in p.name] if build_dir.exists() else True
