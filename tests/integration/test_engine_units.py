"""Units, disclosure control and the forked-kernel papermill engine."""

import json
import os
import sys
import subprocess
import nbformat
import pytest

from barometer.paths import NOTEBOOK_DIR






def _outputs(nb):
    return [[{k: v for k, v in o.items() if k != "execution_count"} for o in c.outputs]
            for c in nb.cells if c.cell_type == "code"]


def test_forked_kernel_gives_the_same_outputs_as_plain_papermill(tmp_path, dk2018):
    small = str(int(dk2018.df["municipality"].value_counts().idxmin()))
    params = {"by": "municipality", "unit": small}
    runs = {}
    for engine in ("nbclient", "barometer"):
        # papermill's command line in a fresh process, as a user runs it: the barometer
        # engine forks the process that runs papermill, which must not be a pytest
        # process full of other tests' threads
        out = tmp_path / f"{engine}.ipynb"
        r = subprocess.run([sys.executable, "-m", "papermill", str(NOTEBOOK_DIR / "unit_report.ipynb"), str(out),
                            "-r", "by", params["by"], "-r", "unit", params["unit"], "--engine", engine,
                            "--cwd", str(NOTEBOOK_DIR), "--no-progress-bar"],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-2000:]
        runs[engine] = nbformat.read(out, as_version=4)
    assert _outputs(runs["barometer"]) == _outputs(runs["nbclient"])
    text = str(_outputs(runs["barometer"]))
    # a suppressed share reads as everywhere else: the mark in the chart and table, explained by the footnote
    assert "suppressed" in text and "Ikke vist af hensyn til diskretion" in text and '<td class="num">..</td>' in text


_THREADED_RUN = r"""
import sys, threading, time, nbformat, papermill as pm
from barometer.engine import forkserver
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os\nprint('pid', os.getpid() > 0)"),
                                     nbformat.v4.new_code_cell("print('history', In[1].startswith('import os'), _i == In[1])")])
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbformat.write(nb, sys.argv[1])
stop = threading.Event()
if sys.argv[3] == "thread":
    threading.Thread(target=stop.wait, name="busy-helper", daemon=True).start()
pm.execute_notebook(sys.argv[1], sys.argv[2], engine_name="barometer", progress_bar=False, kernel_name="python3")
stop.set()
print("LAUNCH", forkserver.LAST_LAUNCH)
"""


@pytest.mark.parametrize("threads,launch", [("none", "fork"), ("thread", "spawn")])
def test_engine_forks_only_a_single_threaded_caller(tmp_path, threads, launch):
    """fork() in a multi-threaded process can copy a lock another thread holds
    and hang the kernel; the engine then starts a fresh kernel process (and
    says so) and the notebook still runs."""
    out = tmp_path / "out.ipynb"
    ipython_dir = tmp_path / "ipython"  # the user's IPython folder, history database and all
    r = subprocess.run([sys.executable, "-c", _THREADED_RUN, str(tmp_path / "in.ipynb"), str(out), threads],
                       capture_output=True, text=True, timeout=300, env=dict(os.environ, IPYTHONDIR=str(ipython_dir)))
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"LAUNCH {launch}" in r.stdout
    assert ("other threads (busy-helper)" in r.stderr) is (launch == "spawn")
    nb = nbformat.read(out, as_version=4)
    assert nb.cells[0].outputs[0]["text"] == "pid True\n"
    # the kernel's input history is there (in memory), and nothing of it in the user's database
    assert nb.cells[1].outputs[0]["text"] == "history True True\n"
    assert not list(ipython_dir.rglob("history.sqlite*"))


def test_forked_kernels_talk_over_their_own_unix_sockets():
    """Kernels of parallel reports must not race for TCP ports (jupyter_client
    picks a free port by binding and closing it; two kernels started at the
    same moment could both be handed it and one dies "Address already in use")."""
    from barometer.engine.forkserver import ForkKernelManager

    a, b = ForkKernelManager(), ForkKernelManager()
    assert a.transport == b.transport == "ipc"
    assert a.ip != b.ip and len(a.ip) < 90  # a socket path has ~107 bytes at most


_SAVES_RUN = r"""
import json, sys, nbformat, papermill as pm
import papermill.iorw as iorw
from barometer.engine import forkserver
cells = ["print('one')", "print('two')", sys.argv[3], "print('four')"]
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbformat.write(nb, sys.argv[1])
writes = []
real = iorw.write_ipynb
def counted(nb, path):
    writes.append(str(path))
    return real(nb, path)
iorw.write_ipynb = counted
import papermill.engines, papermill.execute
papermill.engines.write_ipynb = papermill.execute.write_ipynb = counted
error = ""
try:
    pm.execute_notebook(sys.argv[1], sys.argv[2], engine_name=sys.argv[4], progress_bar=False, kernel_name="python3")
except Exception as exc:
    error = type(exc).__name__
print("RESULT " + json.dumps({"writes": writes.count(sys.argv[2]), "error": error}))
"""


@pytest.mark.parametrize("third,error", [("print('three')", ""), ("1/0", "PapermillExecutionError"),
                                         ("import os; os._exit(3)", "DeadKernelError")])
def test_the_engine_writes_the_executed_notebook_once_also_when_it_fails(tmp_path, third, error):
    """papermill's own engine writes the whole notebook before and after each cell; ours
    once, at the end, with what ran, also after a failing cell or a dead kernel (a failed
    report's notebook is kept to look at)."""
    out = tmp_path / "out.ipynb"
    r = subprocess.run([sys.executable, "-c", _SAVES_RUN, str(tmp_path / "in.ipynb"), str(out), third, "barometer"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout.split("RESULT ", 1)[1])
    assert res["error"] == error
    cells = [c for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"]  # (papermill adds
    assert [o.get("text") for o in cells[0].outputs] == ["one\n"]                        # an error banner)
    assert [o.get("text") for o in cells[1].outputs] == ["two\n"]
    assert res["writes"] <= 3  # at the start, when complete and papermill's last: not one per cell
    if not error:
        assert cells[3].outputs[0]["text"] == "four\n"
    else:
        assert not cells[3].outputs  # it never ran
        if error == "PapermillExecutionError":
            assert cells[2].outputs[0]["ename"] == "ZeroDivisionError"
    plain = subprocess.run([sys.executable, "-c", _SAVES_RUN, str(tmp_path / "in2.ipynb"), str(tmp_path / "p.ipynb"),
                            "print('three')", "nbclient"], capture_output=True, text=True, timeout=300)
    if not error:  # papermill's engine for comparison: a write per cell's start and end
        assert json.loads(plain.stdout.split("RESULT ", 1)[1])["writes"] >= 8
