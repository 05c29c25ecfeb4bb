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


def _children(pid: int, needle: str) -> set[int]:
    """The processes whose parent is ``pid`` and whose command line holds ``needle``."""
    out = subprocess.run(["ps", "-eo", "pid=,ppid=,args="], capture_output=True, text=True).stdout
    return {int(f[0]) for f in (ln.split(None, 2) for ln in out.splitlines())
            if len(f) == 3 and f[1] == str(pid) and needle in f[2]}


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def test_warm_build_process_serves_a_headline_edit_and_restarts_for_a_code_edit(tmp_path):
    """The build process and its warm workers outlive a build: a headline edit is
    built by the same processes (and shows); an edit under src/ starts fresh ones,
    so the changed code counts; Ctrl-C ends them all."""
    root = tmp_path / "checkout"
    for d in ("data", "notebooks", "report_templates", "src"):
        shutil.copytree(ROOT / d, root / d, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copy(ROOT / "build.py", root / "build.py")  # it puts this copy's src/ first on the path
    port = _free_port()
    env = dict(os.environ, BAROMETER_ROOT=str(root), PYTHONPATH=str(root / "src"))
    proc = subprocess.Popen([sys.executable, str(root / "build.py"), "--serve", "--port", str(port), "--country", "no"],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    workers: set[int] = set()
    try:
        s = _wait(port, proc, lambda s: s["version"] >= 1)
        (host,) = _children(proc.pid, "barometer.build.previewhost")
        workers = _children(host, "barometer.engine.worker")
        assert workers  # the first build ran its chapters on warm workers, which stay

        # a figure headline in the report YAML: the same build process and workers build it
        config = root / "data" / "report" / "2018.yaml"
        text = config.read_text(encoding="utf-8")
        at = text.index("no_innovative_by_sector:")
        at = text.index('      da: "', text.index("headline:", at)) + len('      da: "')
        config.write_text(text[:at] + "Headline marker 5150 " + text[at:], encoding="utf-8")
        s = _wait(port, proc, lambda s, v=s["version"]: s["version"] > v)
        assert not s["error"] and "Headline marker 5150" in _get(f"http://127.0.0.1:{port}/")
        manifest = json.loads((root / "_build" / "2018-no-da" / "manifest.json").read_text(encoding="utf-8"))
        assert [t["notebook"] for t in manifest["tasks"] if t["cache"] == "miss"] == ["00_front.ipynb"]
        assert _children(proc.pid, "barometer.build.previewhost") == {host}
        assert _children(host, "barometer.engine.worker") == workers

        # the package's code: a fresh build process (and workers) with the changed code
        render = root / "src" / "barometer" / "build" / "render.py"
        code = render.read_text(encoding="utf-8")
        old = 'return ":root { " + " ".join('
        assert old in code
        render.write_text(code.replace(old, 'return "/* code marker 6160 */ :root { " + " ".join('), encoding="utf-8")
        s = _wait(port, proc, lambda s, v=s["version"]: s["version"] > v)
        assert not s["error"] and "code marker 6160" in _get(f"http://127.0.0.1:{port}/")
        (new_host,) = _children(proc.pid, "barometer.build.previewhost")
        assert new_host != host and not _alive(host)
        assert not any(_alive(w) for w in workers)  # the old build process's workers ended with it
        workers = _children(new_host, "barometer.engine.worker")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        rc = proc.wait(timeout=120)
    err = proc.stderr.read()
    assert rc == 130, err
    assert "Traceback" not in err
    assert not _session_processes(proc.pid)
    deadline = time.monotonic() + 20
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:  # workers run in sessions of their own
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers)
